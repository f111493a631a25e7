"""The demo's staff logins: one password for every account, printed by `civicloop demo`.

Tests, the README and browser checks refer to these, never to literals of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from civicloop.demo.catalogue import DEPARTMENTS

DEMO_PASSWORD = "riverton-demo-2026"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    role: str  # a staff.models.Role value
    display_name: str
    departments: tuple[str, ...] = ()
    partner: str = ""
    is_staff: bool = False  # may use /admin/
    is_superuser: bool = False


_CASEWORKERS = {
    "housing": "Priya Shah",
    "health": "Tom Okafor",
    "social-care": "Megan Doyle",
    "employment": "Kwame Mensah",
    "childcare": "Lucy Fernandes",
    "transport": "Arjun Mehta",
    "streets": "Gary Whitfield",
}
_SUPERVISORS = {
    "housing": "Helen Marshall",
    "health": "Sanjay Rao",
    "social-care": "Aoife Byrne",
    "employment": "Daniel Nowak",
    "childcare": "Fatima Rahman",
    "transport": "Claire Ashworth",
    "streets": "Marcus Boateng",
}

DEMO_USERS: tuple[DemoLogin, ...] = (
    *(
        login
        for d in DEPARTMENTS
        for login in (
            DemoLogin(f"{d.code}.caseworker", "caseworker", _CASEWORKERS[d.code], (d.code,)),
            DemoLogin(f"{d.code}.supervisor", "supervisor", _SUPERVISORS[d.code], (d.code,)),
        )
    ),
    DemoLogin("analyst", "analyst", "Ana Lister"),
    DemoLogin("admin", "admin", "Ada Minter", is_staff=True, is_superuser=True),
    DemoLogin(
        "partner", "partner", "Rosa Pereira (Riverton Food Bank)", partner="riverton-food-bank"
    ),
)

DEMO_USERS_BY_NAME = {u.username: u for u in DEMO_USERS}


def caseworker(department: str) -> str:
    return f"{department}.caseworker"


def supervisor(department: str) -> str:
    return f"{department}.supervisor"
