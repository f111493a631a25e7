"""Reads of cases: the department queue and the case detail, through the access policy."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from civicloop.cases.models import Case, CaseEvent, Interaction
from civicloop.cases.workflow import DEFAULT, Workflow, workflow_for
from civicloop.catalogue.models import Service
from civicloop.core import clock
from civicloop.core.access import NotVisible, ValidationFailed, Viewer
from civicloop.core.pagination import Page, clamp_page
from civicloop.people import policy
from civicloop.staff.models import StaffMember
from civicloop.trust.audit import audit_record


def known_statuses() -> set[str]:
    """Every status of the default workflow and of any service's own workflow."""
    statuses = set(DEFAULT.statuses)
    for definition in Service.objects.exclude(workflow=None).values_list("workflow", flat=True):
        statuses.update((definition or {}).get("statuses", ()))
    return statuses


@dataclass(frozen=True)
class CaseFilters:
    department_id: int | None = None
    status: str = ""  # a status, or "open" for every status not resolved/closed
    assignee: str = ""  # "", "me", "unassigned", or a staff id
    service_id: int | None = None
    person_id: int | None = None
    overdue: bool = False
    reference: str = ""

    def used_fields(self) -> list[str]:
        return [
            f
            for f in (
                "department_id",
                "status",
                "assignee",
                "service_id",
                "person_id",
                "overdue",
                "reference",
            )
            if getattr(self, f)
        ]


def case_list(
    *, viewer: Viewer, filters: CaseFilters, page: int | None = 1, page_size: int | None = None
) -> Page[Case]:
    """Cases of the viewer's departments, soonest due first."""
    policy.require_casework_role(viewer)
    page, size = clamp_page(page, page_size, settings.CIVICLOOP["SEARCH_PAGE_SIZE"])
    qs = Case.objects.filter(department_id__in=viewer.department_ids)
    if filters.department_id is not None:
        if filters.department_id not in viewer.department_ids:
            raise ValidationFailed({"department": _("Choose one of your departments.")})
        qs = qs.filter(department_id=filters.department_id)
    if filters.status == "open":
        qs = qs.exclude(status__in=["resolved", "closed"])
    elif filters.status:
        if filters.status not in known_statuses():
            raise ValidationFailed({"status": _("Choose a status from the list.")})
        qs = qs.filter(status=filters.status)
    if filters.assignee == "me":
        qs = qs.filter(assignee_id=viewer.staff_id)
    elif filters.assignee == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee:
        try:
            qs = qs.filter(assignee_id=int(filters.assignee))
        except ValueError:
            raise ValidationFailed({"assignee": _("Choose someone from the list.")}) from None
    if filters.service_id is not None:
        qs = qs.filter(service_id=filters.service_id)
    if filters.person_id is not None:
        qs = qs.filter(person_id=filters.person_id)
    if filters.overdue:
        qs = qs.filter(due_at__lt=clock.now()).exclude(status__in=["resolved", "closed"])
    if filters.reference:
        qs = qs.filter(reference__iexact=filters.reference.strip())
    qs = qs.select_related("service", "department", "person", "assignee").order_by(
        F("due_at").asc(nulls_last=True), "opened_at", "id"
    )
    with transaction.atomic():
        total = qs.count()
        start = (page - 1) * size
        items = list(qs[start : start + size])
        audit_record(
            viewer=viewer,
            action="case.list",
            object_type="case",
            object_ids=[c.id for c in items],
            fields=filters.used_fields(),
            counts={"total": total, "page": page},
        )
    return Page(items=items, page=page, page_size=size, total=total)


@dataclass(frozen=True)
class CaseDetail:
    case: Case
    workflow: Workflow
    allowed_transitions: tuple[str, ...]
    events: list[CaseEvent]
    contacts: list[Interaction]
    assignable: list[StaffMember]
    overdue: bool


def case_detail(*, viewer: Viewer, case_id: int) -> CaseDetail:
    """A case of the viewer's own departments in full, with its history and contacts."""
    policy.require_casework_role(viewer)
    with transaction.atomic():
        case = (
            Case.objects.filter(pk=case_id, department_id__in=viewer.department_ids)
            .select_related("service", "department", "person", "assignee", "address", "area")
            .first()
        )
        if case is None:
            raise NotVisible("case")
        events = list(case.events.select_related("actor", "assignee").order_by("at", "id"))
        contacts = list(case.interactions.select_related("actor").order_by("-at", "-id")[:200])
        assignable = list(
            StaffMember.objects.filter(
                departments=case.department_id, active=True, role__in=["caseworker", "supervisor"]
            ).order_by("display_name")
        )
        audit_record(
            viewer=viewer,
            action="case.read",
            object_type="case",
            object_ids=[case.id] + ([case.person_id] if case.person_id else []),
            fields=["case", "events", "contacts"],
        )
    workflow = workflow_for(case.service)
    overdue = bool(case.due_at and workflow.is_open(case.status) and case.due_at < clock.now())
    return CaseDetail(
        case=case,
        workflow=workflow,
        allowed_transitions=workflow.allowed_from(case.status),
        events=events,
        contacts=contacts,
        assignable=assignable,
        overdue=overdue,
    )


@dataclass(frozen=True)
class CaseActions:
    allowed_transitions: tuple[str, ...]
    assignable: list[StaffMember]


def case_actions(*, viewer: Viewer, case_id: int) -> CaseActions:
    """What may be done to a case, for validating a form before the write.

    Not audited itself: it is only called on the way to a write service, whose
    own audit event records the request (one event per request).
    """
    policy.require_case_visible(viewer, case_id)
    case = Case.objects.select_related("service").get(pk=case_id)
    assignable = list(
        StaffMember.objects.filter(
            departments=case.department_id, active=True, role__in=["caseworker", "supervisor"]
        ).order_by("display_name")
    )
    return CaseActions(
        allowed_transitions=workflow_for(case.service).allowed_from(case.status),
        assignable=assignable,
    )
