"""People for the staff API: search, the 360° record, timeline, household, edits and needs.

Every read goes through people.selectors (access policy and audit); every write
through people.services. Names travel only in request bodies and search
parameters, never in paths.
"""

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, field_validator

from civicloop.catalogue.api import DepartmentRef, NeedRef
from civicloop.core.access import ValidationFailed
from civicloop.core.idempotency import idempotent, renamed_errors
from civicloop.core.pagination import MAX_PAGE_SIZE
from civicloop.people.api_selectors import person_household_read, person_timeline_page
from civicloop.people.selectors import PersonSearchCriteria, person_360, person_search
from civicloop.people.services import need_record, need_set_status, person_create, person_update
from civicloop.people.timeline import decode_cursor
from civicloop.places.api import AddressOut
from civicloop.staff.api_auth import casework_auth

router = Router(tags=["people"], auth=casework_auth())

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
PageNumber = Annotated[int, Field(ge=1, le=1_000_000)]


class Body(Schema):
    """A request body: a misspelt field is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


CURSOR_MESSAGE = "This page link is not valid. Start again from the first page."
EMAIL_MESSAGE = "Enter an email address like name@example.org."


def _check_email(value: str | None) -> str | None:
    if value:
        try:
            validate_email(value.strip())
        except DjangoValidationError:
            raise ValueError(EMAIL_MESSAGE) from None
        return value.strip()
    return value


# --- Schemas -----------------------------------------------------------------------------------


class PersonSummaryOut(Schema):
    id: int
    given_name: str
    middle_names: str
    family_name: str
    date_of_birth: dt.date | None
    address: AddressOut | None


class PersonOut(PersonSummaryOut):
    email: str
    phone: str
    preferred_language: str
    accessibility_needs: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = Field(
        description="Send it back with a change: a stale version is refused (409)."
    )


class PersonPageOut(Schema):
    items: list[PersonSummaryOut]
    page: int
    page_size: int
    total: int = Field(description="Matches counted; with `total_capped`, there are more.")
    total_capped: bool = Field(
        description="True when more people match than `total`: a search stops counting at "
        "a configured limit (200 by default) or at the end of the page asked for, if "
        "further. Narrow the search to see every match."
    )
    pages: int = Field(description="Pages of `total`; with `total_capped`, there are more.")


class PersonSearchIn(Schema):
    name: str = Field(
        "", max_length=200, description="Given and/or family name; typos and sound-alikes match."
    )
    date_of_birth: dt.date | None = Field(None, description="ISO 8601 date, e.g. 1985-03-14.")
    identifier: str = Field("", max_length=100)
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    page: PageNumber = 1
    page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)


class ProvenanceOut(Schema):
    department_name: str
    local_id: str
    method: str
    match_probability: float | None
    linked_at: dt.datetime
    fields: dict[str, Any]


class IdentifierOut(Schema):
    id: int
    scheme: str
    value: str
    department_id: int | None


class PersonNeedOut(Schema):
    id: int = Field(
        description="The id of this person's need: PATCH /needs/{id} changes its status."
    )
    person_id: int
    need: NeedRef
    department: DepartmentRef
    status: str
    recorded_at: dt.datetime
    status_changed_at: dt.datetime
    recorded_by_id: int | None
    note: str


class CaseLineOut(Schema):
    visibility: Literal["full", "summary"]
    case_id: int | None = Field(description="Only for cases of your own departments.")
    reference: str
    department_name: str
    service_name: str
    status: str
    status_label: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    due_at: dt.datetime | None

    @staticmethod
    def resolve_visibility(line) -> str:
        return "full" if line.full else "summary"


class RelatedPersonOut(Schema):
    person_id: int | None = Field(description="Only for people your departments serve too.")
    label: str
    date_of_birth: dt.date | None
    relationship: str


class TimelineEntryOut(Schema):
    at: dt.datetime
    kind: Literal["case", "case_event", "contact", "need"]
    id: int | None = Field(
        description="The case, event, contact or need id; none on summary lines."
    )
    visibility: Literal["full", "summary"]
    department_id: int
    department_name: str
    title: str
    detail: str
    case_id: int | None
    case_reference: str
    status: str
    chasing: bool | None = Field(description="For contacts: the citizen was chasing progress.")
    closed_at: dt.datetime | None = Field(description="For cases: when it was resolved or closed.")

    @staticmethod
    def resolve_id(entry) -> int | None:
        return entry.id if entry.visibility == "full" else None

    @staticmethod
    def resolve_chasing(entry) -> bool | None:
        return entry.extra.get("chasing")

    @staticmethod
    def resolve_closed_at(entry) -> dt.datetime | None:
        return entry.extra.get("closed_at")


class TimelinePageOut(Schema):
    entries: list[TimelineEntryOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last."
    )


class PersonDetailOut(Schema):
    person: PersonOut
    provenance: list[ProvenanceOut]
    identifiers: list[IdentifierOut]
    needs: list[PersonNeedOut]
    cases: list[CaseLineOut]
    household: list[RelatedPersonOut]
    relationships: list[RelatedPersonOut]
    departments: list[DepartmentRef] = Field(
        description="Departments you may filter the timeline by."
    )
    timeline: TimelinePageOut


class HouseholdOut(Schema):
    household: list[RelatedPersonOut]
    relationships: list[RelatedPersonOut]


class PersonCreateIn(Body):
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    middle_names: str = Field("", max_length=200)
    date_of_birth: dt.date | None = None
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    preferred_language: str = Field("en", min_length=2, max_length=10)
    accessibility_needs: str = Field("", max_length=500)
    department_id: Id | None = Field(
        None, description="The department you act for; needed if you have several."
    )
    local_id: str = Field(
        "", max_length=100, description="Your department's own id for the person, if any."
    )

    _email = field_validator("email")(_check_email)


class PersonChangeIn(Body):
    version: int = Field(description="The version you read; a stale one is refused (409).")
    given_name: str | None = Field(None, max_length=100)
    middle_names: str | None = Field(None, max_length=200)
    family_name: str | None = Field(None, max_length=100)
    date_of_birth: dt.date | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    preferred_language: str | None = Field(None, min_length=2, max_length=10)
    accessibility_needs: str | None = Field(None, max_length=500)

    _email = field_validator("email")(_check_email)


class NeedRecordIn(Body):
    need_id: Id
    department_id: Id | None = Field(
        None, description="The department you act for; needed if you have several."
    )
    note: str = Field("", max_length=4000)


class NeedStatusIn(Body):
    status: Literal["open", "met", "unmet"]


def _cursor(cursor: str | None) -> str | None:
    """A cursor as the timeline gave it; a forged one is a 422, not a database error."""
    if not cursor:
        return None
    _, _, ident = decode_cursor(cursor)
    if not 0 <= ident < 2**63:
        raise ValidationFailed({"cursor": CURSOR_MESSAGE})
    return cursor


# --- Reads -------------------------------------------------------------------------------------


@router.get("/people", response=PersonPageOut, summary="Find people your departments serve")
def person_find(request: HttpRequest, query: Query[PersonSearchIn]):
    criteria = PersonSearchCriteria(
        name=query.name.strip(),
        date_of_birth=query.date_of_birth,
        identifier=query.identifier.strip(),
        phone=query.phone.strip(),
        email=query.email.strip(),
    )
    page = person_search(
        viewer=request.auth, criteria=criteria, page=query.page, page_size=query.page_size
    )
    return {
        "items": page.items,
        "page": page.page,
        "page_size": page.page_size,
        "total": page.total,
        "total_capped": page.total_capped,
        "pages": page.pages,
    }


class MatchQueryIn(Schema):
    given_name: str = Field("", max_length=100)
    family_name: str = Field("", max_length=100)
    date_of_birth: dt.date | None = Field(None, description="ISO 8601 date, e.g. 1985-03-14.")
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    postcode: str = Field("", max_length=20)


class MatchReasonOut(Schema):
    comparison: str
    label: str
    weight: float = Field(description="Contribution to the match weight, in bits (log2).")


class MatchCandidateOut(Schema):
    person: PersonSummaryOut | None = Field(
        description="Only for people your departments serve; otherwise held_elsewhere."
    )
    held_elsewhere: bool
    match_probability: float
    is_match: bool = Field(description="At or above the merge threshold of batch linking.")
    needs_review: bool
    reasons: list[MatchReasonOut]


class MatchListOut(Schema):
    items: list[MatchCandidateOut]


@router.get(
    "/people/matches",
    response=MatchListOut,
    summary="Who a person about to be added may already be",
)
def person_matches(request: HttpRequest, query: Query[MatchQueryIn]):
    # Imported on first use: the matcher loads Polars, which no other endpoint needs.
    from civicloop.linkage.matching import person_match_candidates

    record = {
        "given_name": query.given_name.strip(),
        "family_name": query.family_name.strip(),
        "date_of_birth": query.date_of_birth,
        "email": query.email.strip(),
        "phone": query.phone.strip(),
        "postcode": query.postcode.strip(),
    }
    found = person_match_candidates(viewer=request.auth, record=record)
    return {
        "items": [
            {
                "person": c.person,
                "held_elsewhere": c.held_elsewhere,
                "match_probability": c.match_probability,
                "is_match": c.is_match,
                "needs_review": c.needs_review,
                "reasons": [r._asdict() for r in c.reasons],
            }
            for c in found
        ]
    }


@router.get("/people/{person_id}", response=PersonDetailOut, summary="A person's 360° record")
def person_detail(
    request: HttpRequest,
    person_id: Id,
    department_id: Id | None = None,
    page_size: int | None = Query(None, ge=1, le=MAX_PAGE_SIZE),
):
    with renamed_errors({"department": "department_id"}):
        view = person_360(
            viewer=request.auth,
            person_id=person_id,
            department_id=department_id,
            page_size=page_size,
        )
    return view


@router.get(
    "/people/{person_id}/timeline",
    response=TimelinePageOut,
    summary="A page of a person's timeline",
)
def person_timeline_read(
    request: HttpRequest,
    person_id: Id,
    cursor: str | None = Query(None, max_length=200),
    department_id: Id | None = None,
    page_size: int | None = Query(None, ge=1, le=MAX_PAGE_SIZE),
):
    return person_timeline_page(
        viewer=request.auth,
        person_id=person_id,
        department_id=department_id,
        cursor=_cursor(cursor),
        page_size=page_size,
    )


@router.get(
    "/people/{person_id}/household",
    response=HouseholdOut,
    summary="A person's household and relationships",
)
def person_household_detail(request: HttpRequest, person_id: Id):
    return person_household_read(viewer=request.auth, person_id=person_id)


# --- Writes ------------------------------------------------------------------------------------


@router.post("/people", response={201: PersonOut}, summary="Create a person")
@idempotent(error_fields={"department": "department_id"})
def person_add(request: HttpRequest, payload: PersonCreateIn):
    person = person_create(viewer=request.auth, **payload.model_dump())
    return Status(201, PersonOut.model_validate(person))


@router.patch("/people/{person_id}", response=PersonOut, summary="Change a person's golden record")
@idempotent
def person_change(request: HttpRequest, person_id: Id, payload: PersonChangeIn):
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    # Text fields are never null in the record: null clears them.
    changes = {k: ("" if v is None and k != "date_of_birth" else v) for k, v in changes.items()}
    person = person_update(
        viewer=request.auth, person_id=person_id, version=version, changes=changes
    )
    return PersonOut.model_validate(person)


@router.post(
    "/people/{person_id}/needs", response={201: PersonNeedOut}, summary="Record a need of a person"
)
@idempotent(error_fields={"need": "need_id", "department": "department_id"})
def person_need_add(request: HttpRequest, person_id: Id, payload: NeedRecordIn):
    person_need = need_record(
        viewer=request.auth,
        person_id=person_id,
        need_id=payload.need_id,
        department_id=payload.department_id,
        note=payload.note,
    )
    return Status(201, PersonNeedOut.model_validate(person_need))


@router.patch(
    "/needs/{person_need_id}",
    response=PersonNeedOut,
    summary="Mark a person's need open, met or unmet (the id of the person's need, not of the taxonomy)",
)
@idempotent
def person_need_status(request: HttpRequest, person_need_id: Id, payload: NeedStatusIn):
    person_need = need_set_status(
        viewer=request.auth, person_need_id=person_need_id, status=payload.status
    )
    return PersonNeedOut.model_validate(person_need)
