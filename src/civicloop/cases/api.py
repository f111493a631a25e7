"""Cases and contacts for the staff API: the queue, opening, detail, transitions,
assignment, notes, and logging interactions. Reads through cases.selectors,
writes through cases.services; both apply the access policy and audit."""

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from civicloop.cases.models import Channel, Interaction, Priority
from civicloop.cases.selectors import CaseDetail, CaseFilters, case_detail, case_list
from civicloop.cases.services import (
    MAX_DESCRIPTION,
    MAX_SUMMARY,
    case_add_note,
    case_assign,
    case_open,
    case_transition,
    interaction_log,
)
from civicloop.cases.workflow import status_label
from civicloop.catalogue.api import DepartmentRef, ServiceRef, StatusOption
from civicloop.core.idempotency import idempotent, renamed_errors
from civicloop.core.pagination import MAX_PAGE_SIZE
from civicloop.staff.api_auth import casework_auth

router = Router(tags=["cases"], auth=casework_auth())

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
PageNumber = Annotated[int, Field(ge=1, le=1_000_000)]


class Body(Schema):
    """A request body: a misspelt field is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


# --- Schemas -----------------------------------------------------------------------------------


class StaffRef(Schema):
    id: int
    display_name: str


class PersonRef(Schema):
    id: int
    given_name: str
    family_name: str


class CaseSummaryOut(Schema):
    id: int
    reference: str
    status: str
    status_label: str
    priority: Priority
    channel: Channel
    service: ServiceRef
    department: DepartmentRef
    person: PersonRef | None
    assignee: StaffRef | None
    opened_at: dt.datetime
    due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    updated_at: dt.datetime
    version: int = Field(
        description="Send it back with a transition or assignment: a stale one is refused (409)."
    )

    @staticmethod
    def resolve_status_label(case) -> str:
        return status_label(case.status)


class CaseOut(CaseSummaryOut):
    description: str
    reporter_name: str
    reporter_email: str
    reporter_phone: str
    latitude: float | None
    longitude: float | None
    address_id: int | None
    area_id: int | None
    reopen_count: int


class CasePageOut(Schema):
    items: list[CaseSummaryOut]
    page: int
    page_size: int
    total: int
    pages: int


class CaseEventOut(Schema):
    id: int
    case_id: int
    kind: str
    at: dt.datetime
    actor: StaffRef | None
    from_status: str
    to_status: str
    assignee: StaffRef | None
    note: str


class InteractionOut(Schema):
    id: int
    person_id: int | None
    case_id: int | None
    department_id: int
    channel: Channel
    direction: Interaction.Direction
    at: dt.datetime
    actor: StaffRef | None
    summary: str
    is_chasing: bool


class CaseDetailOut(CaseOut):
    overdue: bool
    allowed_transitions: list[StatusOption]
    events: list[CaseEventOut]
    contacts: list[InteractionOut]
    assignable: list[StaffRef] = Field(description="Staff this case may be assigned to.")


class CaseFilterIn(Schema):
    department_id: Id | None = None
    status: str = Field(
        "",
        max_length=30,
        description='A status, or "open" for every status not resolved or closed.',
    )
    assignee: str = Field(
        "",
        pattern=r"^(me|unassigned|[0-9]{1,18})?$",
        description='"me", "unassigned", or a staff member\'s id.',
    )
    service_id: Id | None = None
    person_id: Id | None = None
    overdue: bool = False
    reference: str = Field("", max_length=30)
    page: PageNumber = 1
    page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)


class CaseOpenIn(Body):
    service_id: Id
    person_id: Id | None = Field(
        None, description="Leave out for an anonymous reporter or a place-based report."
    )
    description: str = Field("", max_length=MAX_DESCRIPTION)
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.PHONE
    reporter_name: str = Field("", max_length=200)
    reporter_email: str = Field("", max_length=254)
    reporter_phone: str = Field("", max_length=40)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    address_id: Id | None = None


class TransitionIn(Body):
    to_status: str = Field(max_length=30)
    version: int
    note: str = Field("", max_length=MAX_SUMMARY)


class AssignIn(Body):
    assignee_id: Id | None = Field(description="A staff member's id, or null to unassign.")
    version: int


class NoteIn(Body):
    note: str = Field(max_length=MAX_SUMMARY)


class InteractionIn(Body):
    person_id: Id | None = None
    case_id: Id | None = None
    channel: Channel
    direction: Interaction.Direction = Interaction.Direction.INBOUND
    summary: str = Field(max_length=MAX_SUMMARY)
    is_chasing: bool = Field(
        False, description="The citizen is chasing progress on something already asked."
    )
    department_id: Id | None = Field(
        None, description="Without a case: the department you act for."
    )
    at: dt.datetime | None = Field(
        None, description="When it happened, if not now (ISO 8601 with offset)."
    )


def _case_out(case) -> CaseOut:
    return CaseOut.model_validate(case)


# --- Reads -------------------------------------------------------------------------------------


@router.get(
    "/cases", response=CasePageOut, summary="List your departments' cases, soonest due first"
)
def case_index(request: HttpRequest, query: Query[CaseFilterIn]):
    filters = CaseFilters(
        department_id=query.department_id,
        status=query.status.strip(),
        assignee=query.assignee,
        service_id=query.service_id,
        person_id=query.person_id,
        overdue=query.overdue,
        reference=query.reference.strip(),
    )
    with renamed_errors({"department": "department_id"}):
        page = case_list(
            viewer=request.auth, filters=filters, page=query.page, page_size=query.page_size
        )
    return {
        "items": page.items,
        "page": page.page,
        "page_size": page.page_size,
        "total": page.total,
        "pages": page.pages,
    }


class _CaseRead:
    """A case and what its CaseDetail adds, read as one object by CaseDetailOut."""

    def __init__(self, detail: CaseDetail):
        self._case = detail.case
        self.overdue = detail.overdue
        self.allowed_transitions = [
            {"status": s, "label": status_label(s)} for s in detail.allowed_transitions
        ]
        self.events = detail.events
        self.contacts = detail.contacts
        self.assignable = detail.assignable

    def __getattr__(self, name: str):
        return getattr(self._case, name)


@router.get(
    "/cases/{case_id}", response=CaseDetailOut, summary="A case with its history and contacts"
)
def case_read(request: HttpRequest, case_id: Id):
    return _CaseRead(case_detail(viewer=request.auth, case_id=case_id))


# --- Writes ------------------------------------------------------------------------------------


@router.post("/cases", response={201: CaseOut}, summary="Open a case")
@idempotent(error_fields={"service": "service_id", "person": "person_id", "address": "address_id"})
def case_create(request: HttpRequest, payload: CaseOpenIn):
    case = case_open(viewer=request.auth, **payload.model_dump())
    return Status(201, _case_out(case))


@router.post(
    "/cases/{case_id}/transition", response=CaseOut, summary="Move a case to another status"
)
@idempotent(error_fields={"status": "to_status"})
def case_move(request: HttpRequest, case_id: Id, payload: TransitionIn):
    case = case_transition(
        viewer=request.auth,
        case_id=case_id,
        to_status=payload.to_status,
        version=payload.version,
        note=payload.note,
    )
    return _case_out(case)


@router.post("/cases/{case_id}/assign", response=CaseOut, summary="Assign a case (or unassign it)")
@idempotent(error_fields={"assignee": "assignee_id"})
def case_give(request: HttpRequest, case_id: Id, payload: AssignIn):
    case = case_assign(
        viewer=request.auth,
        case_id=case_id,
        assignee_id=payload.assignee_id,
        version=payload.version,
    )
    return _case_out(case)


@router.post("/cases/{case_id}/notes", response={201: CaseEventOut}, summary="Add a note to a case")
@idempotent
def case_note_add(request: HttpRequest, case_id: Id, payload: NoteIn):
    event = case_add_note(viewer=request.auth, case_id=case_id, note=payload.note)
    return Status(201, CaseEventOut.model_validate(event))


@router.post(
    "/interactions",
    response={201: InteractionOut},
    tags=["interactions"],
    summary="Log a contact with a citizen",
)
@idempotent(error_fields={"person": "person_id", "case": "case_id", "department": "department_id"})
def interaction_add(request: HttpRequest, payload: InteractionIn):
    interaction = interaction_log(viewer=request.auth, **payload.model_dump())
    return Status(201, InteractionOut.model_validate(interaction))
