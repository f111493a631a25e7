"""Finding people in a loaded demo city who show what CivicLoop is for.

For tests and walkthroughs: e.g. a person served by three or more departments,
one of which holds a sensitive case that other departments must not see.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, QuerySet

from civicloop.cases.models import Case
from civicloop.people.models import Person, PersonDepartment


def people_with_cases_in_departments(
    *,
    min_departments: int = 3,
    with_sensitive: bool = True,
    sensitive_department: str = "health",
    visible_to_department: str | None = "housing",
) -> QuerySet[Person]:
    """People with cases in at least `min_departments` departments, optionally with a
    sensitive case in `sensitive_department` and served by `visible_to_department`."""
    many = (
        Case.objects.filter(person__isnull=False)
        .values("person_id")
        .annotate(departments=Count("department_id", distinct=True))
        .filter(departments__gte=min_departments)
        .values("person_id")
    )
    people = Person.objects.filter(pk__in=many)
    if with_sensitive:
        people = people.filter(
            Exists(
                Case.objects.filter(
                    person=OuterRef("pk"),
                    service__sensitive=True,
                    department__code=sensitive_department,
                )
            )
        )
    if visible_to_department:
        people = people.filter(
            Exists(
                PersonDepartment.objects.filter(
                    person=OuterRef("pk"), department__code=visible_to_department
                )
            )
        )
    return people.order_by("pk")


def person_with_cases_in_departments(
    min_departments: int = 3,
    with_sensitive: bool = True,
    visible_to_department: str | None = "housing",
    *,
    sensitive_department: str = "health",
    unique_name: bool = True,
) -> int | None:
    """The id of the first such person, preferring one whose name no one else has
    (so a search for it finds one person), or None if the demo holds none."""
    people = people_with_cases_in_departments(
        min_departments=min_departments,
        with_sensitive=with_sensitive,
        sensitive_department=sensitive_department,
        visible_to_department=visible_to_department,
    )
    if unique_name:
        namesakes = Person.objects.filter(search_name=OuterRef("search_name")).exclude(
            pk=OuterRef("pk")
        )
        found = people.filter(~Exists(namesakes)).values_list("pk", flat=True).first()
        if found is not None:
            return found
    return people.values_list("pk", flat=True).first()
