"""Who is asking: the viewer that every selector and service is given.

A Viewer is built once per request (or job) from the signed-in user; selectors
apply the access policy to it (see people/policy.py). Errors map to HTTP codes:
NotVisible -> 404, Forbidden -> 403, Conflict -> 409.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


class AccessError(Exception):
    pass


class NotVisible(AccessError):
    """Outside what the viewer may see: reported as 'not found' so nothing leaks."""


class Forbidden(AccessError):
    """The viewer may see the thing but their role may not take this action."""


class Conflict(Exception):
    """A change based on a stale version, or an action the current state does not allow."""


class ValidationFailed(Exception):
    """Input that breaks a rule; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]] | dict[str, str]):
        self.errors = {k: ([v] if isinstance(v, str) else list(v)) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in self.errors.items()))


CASEWORK_ROLES = frozenset({"caseworker", "supervisor"})


@dataclass(frozen=True)
class Viewer:
    user_id: int | None
    role: str
    department_ids: frozenset[int] = field(default_factory=frozenset)
    staff_id: int | None = None
    purpose: str = "casework"

    @property
    def does_casework(self) -> bool:
        return self.role in CASEWORK_ROLES

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @classmethod
    def system(cls, purpose: str = "system") -> Viewer:
        """The system itself (demo loader, imports, background jobs)."""
        return cls(user_id=None, role="system", purpose=purpose)


def viewer_for_user(user, *, purpose: str = "casework") -> Viewer | None:
    """The Viewer of a signed-in user, or None if they are not an active staff member."""
    if user is None or not user.is_authenticated:
        return None
    staff = getattr(user, "staff", None)
    if staff is None or not staff.active:
        return None
    dept_ids = frozenset(staff.departments.values_list("id", flat=True))
    return Viewer(
        user_id=user.id,
        role=staff.role,
        department_ids=dept_ids,
        staff_id=staff.id,
        purpose=purpose,
    )


ROLE_DENIED_MESSAGE = _("Your role does not allow this action.")
