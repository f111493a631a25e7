"""Counts for the staff home pages. Counts are not personal data, but who asked for
them still is a fact worth keeping, so each read is audited like any other."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q

from civicloop.cases.models import Case
from civicloop.cases.workflow import DEFAULT, status_label
from civicloop.catalogue.models import Department
from civicloop.core import clock
from civicloop.core.access import Forbidden, Viewer
from civicloop.people import policy
from civicloop.trust.audit import audit_record

DONE_STATUSES = ("resolved", "closed")
AGGREGATE_ROLES = frozenset({"analyst", "supervisor"})


@dataclass(frozen=True)
class DepartmentOpenCases:
    department_name: str
    by_status: list[tuple[str, int]]  # (status label, count), in workflow order
    total: int


def open_cases_by_department(*, viewer: Viewer) -> list[DepartmentOpenCases]:
    """Open cases of every department, counted by status: aggregates only, never a case."""
    if viewer.role not in AGGREGATE_ROLES:
        raise Forbidden(viewer.role)
    order = {s: i for i, s in enumerate(DEFAULT.statuses)}
    with transaction.atomic():
        rows = (
            Case.objects.exclude(status__in=DONE_STATUSES)
            .values("department_id", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        counts: dict[int, dict[str, int]] = {}
        for row in rows:
            counts.setdefault(row["department_id"], {})[row["status"]] = row["n"]
        names = dict(Department.objects.filter(id__in=counts).values_list("id", "name"))
        result = [
            DepartmentOpenCases(
                department_name=names[dept_id],
                by_status=[
                    (status_label(s), n)
                    for s, n in sorted(statuses.items(), key=lambda i: order.get(i[0], 99))
                ],
                total=sum(statuses.values()),
            )
            for dept_id, statuses in counts.items()
        ]
        audit_record(
            viewer=viewer,
            action="stats.read",
            object_type="case",
            fields=["open_by_department_status"],
            counts={"departments": len(result)},
        )
    return sorted(result, key=lambda r: (-r.total, r.department_name))


@dataclass(frozen=True)
class QueueSummary:
    department_id: int
    department_name: str
    open: int
    overdue: int
    unassigned: int
    mine: int


def queue_summaries(*, viewer: Viewer) -> list[QueueSummary]:
    """For each of the viewer's departments: how many open cases, overdue, unassigned, theirs."""
    policy.require_casework_role(viewer)
    now = clock.now()
    open_cases = Q(cases__isnull=False) & ~Q(cases__status__in=DONE_STATUSES)
    with transaction.atomic():
        departments = (
            Department.objects.filter(id__in=viewer.department_ids)
            .annotate(
                n_open=Count("cases", filter=open_cases),
                n_overdue=Count("cases", filter=open_cases & Q(cases__due_at__lt=now)),
                n_unassigned=Count("cases", filter=open_cases & Q(cases__assignee__isnull=True)),
                n_mine=Count("cases", filter=open_cases & Q(cases__assignee_id=viewer.staff_id)),
            )
            .order_by("name")
        )
        result = [
            QueueSummary(d.id, d.name, d.n_open, d.n_overdue, d.n_unassigned, d.n_mine)
            for d in departments
        ]
        audit_record(
            viewer=viewer,
            action="stats.read",
            object_type="case",
            fields=["queue_summary"],
            object_ids=[],
            counts={"departments": len(result)},
        )
    return result
