"""The plain rows the demo generator yields: no Django, so any writer can take them.

Rows refer to each other by stable strings (a person's ref "P000123", a case's
reference, a department's code, a username, an address's uprn), never by
database ids; writers map those to ids as they insert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(slots=True)
class CaseEventRow:
    kind: str  # opened, status, assigned, note
    at: dt.datetime
    actor: str | None = None  # a demo username
    from_status: str = ""
    to_status: str = ""
    assignee: str | None = None
    note: str = ""


@dataclass(slots=True)
class InteractionRow:
    person_ref: str | None
    case_ref: str | None
    department: str
    channel: str
    direction: str  # inbound, outbound
    at: dt.datetime
    actor: str | None
    summary: str
    is_chasing: bool = False


@dataclass(slots=True)
class CaseRow:
    reference: str
    service: str
    department: str
    person_ref: str | None
    description: str
    priority: str
    channel: str
    opened_at: dt.datetime
    status: str = "new"
    reporter_name: str = ""
    reporter_email: str = ""
    reporter_phone: str = ""
    assignee: str | None = None
    due_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    address_uprn: str | None = None
    area_code: str | None = None
    reopen_count: int = 0
    events: list[CaseEventRow] = field(default_factory=list)
    # Generator-only: how far past its SLA the case ran (0 if on time), for chasing.
    slowness: float = 0.0


@dataclass(slots=True)
class PersonRow:
    ref: str
    given_name: str
    middle_names: str
    family_name: str
    sex: str
    date_of_birth: dt.date
    email: str
    phone: str
    address_uprn: str
    preferred_language: str = "en"
    accessibility_needs: str = ""
    created_at: dt.datetime | None = None
    former_family_name: str = ""  # truth for the 'changed surname' error; not a Person field


@dataclass(slots=True)
class MembershipRow:
    person_ref: str
    since: dt.date


@dataclass(slots=True)
class RelationshipRow:
    from_ref: str
    to_ref: str
    kind: str  # a people.Relationship.Kind value
    since: dt.date | None


@dataclass(slots=True)
class IdentifierRow:
    person_ref: str
    scheme: str
    value: str
    department: str


@dataclass(slots=True)
class SourceRecordRow:
    person_ref: str
    department: str
    local_id: str
    given_name: str
    family_name: str
    date_of_birth: dt.date | None
    email: str
    phone: str
    address_text: str
    postcode: str
    received_at: dt.datetime
    attributes: dict


@dataclass(slots=True)
class ServedRow:
    person_ref: str
    department: str
    since: dt.datetime


@dataclass(slots=True)
class PersonNeedRow:
    person_ref: str
    need: str
    department: str
    recorded_by: str | None
    recorded_at: dt.datetime
    status: str  # open, met, unmet
    status_changed_at: dt.datetime
    note: str = ""


@dataclass(slots=True)
class HouseholdBundle:
    """One household and everything about its members; refs only point inside the bundle."""

    ref: str
    address_uprn: str
    since: dt.date
    people: list[PersonRow] = field(default_factory=list)
    memberships: list[MembershipRow] = field(default_factory=list)
    relationships: list[RelationshipRow] = field(default_factory=list)
    identifiers: list[IdentifierRow] = field(default_factory=list)
    source_records: list[SourceRecordRow] = field(default_factory=list)
    served: list[ServedRow] = field(default_factory=list)
    needs: list[PersonNeedRow] = field(default_factory=list)
    cases: list[CaseRow] = field(default_factory=list)  # with their events
    interactions: list[InteractionRow] = field(default_factory=list)
