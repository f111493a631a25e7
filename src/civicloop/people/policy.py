"""The access policy, in one place.

A person is *served by* a department when it holds a source record or a case
for them (PersonDepartment). Caseworkers and supervisors see the people their
departments serve; analysts see aggregates only; admins see configuration only.
Role checks come first and answer 403 whatever the object; object checks
answer 404 so that nothing about an invisible person or case leaks.
Consent (a later capability) widens `visible_department_ids` through here.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from civicloop.core.access import Forbidden, NotVisible, Viewer
from civicloop.core.sql import marks
from civicloop.people.models import Person, PersonDepartment

PERSON_ROLES = frozenset({"caseworker", "supervisor"})


def require_casework_role(viewer: Viewer) -> None:
    """Only caseworkers and supervisors ever read or write a person or a case."""
    if viewer.role not in PERSON_ROLES:
        raise Forbidden(viewer.role)


def require_supervisor(viewer: Viewer) -> None:
    if viewer.role != "supervisor":
        raise Forbidden(viewer.role)


def visible_people(viewer: Viewer) -> QuerySet[Person]:
    """The people at least one of the viewer's departments serves."""
    require_casework_role(viewer)
    if not viewer.department_ids:
        return Person.objects.none()
    return Person.objects.filter(merged_into__isnull=True).filter(
        Exists(
            PersonDepartment.objects.filter(
                person=OuterRef("pk"), department_id__in=viewer.department_ids
            )
        )
    )


def served_sql(column: str, department_ids: list[int]) -> str:
    """SQL: the person whose id is `column` is served by one of `department_ids` (one %s
    placeholder each, in that order)."""
    return (
        "EXISTS (SELECT 1 FROM people_persondepartment pd"
        f" WHERE pd.person_id = {column} AND pd.department_id IN ({marks(department_ids)}))"
    )


def visible_people_sql(viewer: Viewer, alias: str = "p") -> tuple[str, list]:
    """`visible_people` as a SQL condition on people_person aliased `alias`, for the
    reads that run on every request as plain SQL (person search, the 360° view)."""
    require_casework_role(viewer)
    own = sorted(viewer.department_ids)
    if not own:
        return "1 = 0", []
    return f"{alias}.merged_into_id IS NULL AND {served_sql(f'{alias}.id', own)}", own


def is_person_visible(viewer: Viewer, person_id: int) -> bool:
    if viewer.role not in PERSON_ROLES or not viewer.department_ids:
        return False
    # A person merged into another is seen only through the one they were merged into.
    return PersonDepartment.objects.filter(
        person_id=person_id,
        person__merged_into__isnull=True,
        department_id__in=viewer.department_ids,
    ).exists()


def require_person_visible(viewer: Viewer, person_id: int) -> None:
    require_casework_role(viewer)
    if not is_person_visible(viewer, person_id):
        raise NotVisible("person")


def own_department_q(viewer: Viewer, field: str = "department_id") -> Q:
    return Q(**{f"{field}__in": viewer.department_ids})


def case_visibility(viewer: Viewer, case) -> str:
    """'full' for the viewer's own departments' cases, 'summary' for other departments'
    non-sensitive cases of a person they can see, else 'none'."""
    if viewer.role not in PERSON_ROLES:
        return "none"
    if case.department_id in viewer.department_ids:
        return "full"
    if case.person_id and not case.service.sensitive and is_person_visible(viewer, case.person_id):
        return "summary"
    return "none"


def require_case_visible(viewer: Viewer, case_id: int) -> None:
    """A case is seen in full only by its own departments (others get a summary line in the 360° view)."""
    from civicloop.cases.models import Case

    require_casework_role(viewer)
    if not Case.objects.filter(pk=case_id, department_id__in=viewer.department_ids).exists():
        raise NotVisible("case")


def require_person_need_visible(viewer: Viewer, person_need_id: int) -> None:
    from civicloop.people.models import PersonNeed

    require_casework_role(viewer)
    if not PersonNeed.objects.filter(
        pk=person_need_id, department_id__in=viewer.department_ids
    ).exists():
        raise NotVisible("person_need")
