"""The 360° timeline: one stream of everything the viewer may see of a person.

Entries come from several tables, each read newest first through its
(person, time) index and merged; a keyset cursor (time, kind rank, id) pages
through the merged stream exactly, without offsets.
"""

from __future__ import annotations

import base64
import datetime as dt
import heapq
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from civicloop.cases.models import Case, CaseEvent, Interaction
from civicloop.cases.workflow import status_label
from civicloop.core.access import ValidationFailed, Viewer
from civicloop.people.models import PersonNeed

# Order of kinds among entries at the same instant (higher first).
RANK = {"case_event": 4, "contact": 3, "need": 2, "case": 1}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str  # case, case_event, contact, need
    id: int
    department_id: int
    department_name: str
    title: str
    detail: str = ""
    visibility: str = "full"  # full or summary
    case_id: int | None = None
    case_reference: str = ""
    status: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple:
        return (self.at, RANK[self.kind], self.id)


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


def encode_cursor(entry: TimelineEntry) -> str:
    raw = f"{entry.at.isoformat()}|{RANK[entry.kind]}|{entry.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, rank, ident = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        at = dt.datetime.fromisoformat(at_text)
        rank_value, ident_value = int(rank), int(ident)
        if at.tzinfo is None or rank_value not in RANK.values() or not 0 < ident_value < 2**63:
            raise ValueError
        return at, rank_value, ident_value
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            {"cursor": _("This page link is not valid. Start again from the first page.")}
        ) from None


def _after_cursor(
    qs: QuerySet, kind: str, cursor: tuple[dt.datetime, int, int] | None, time_field: str
) -> QuerySet:
    """Rows strictly after the cursor in (time desc, rank desc, id desc) order."""
    if cursor is None:
        return qs
    at, rank, ident = cursor
    mine = RANK[kind]
    if mine < rank:
        return qs.filter(**{f"{time_field}__lte": at})
    if mine > rank:
        return qs.filter(**{f"{time_field}__lt": at})
    return qs.filter(Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, "id__lt": ident}))


# Only the columns an entry shows: a 360° view builds a page per request, and Django's
# cost grows with every column it selects and converts.
CONTACT_FIELDS = (
    "id", "at", "channel", "direction", "summary", "case_id", "is_chasing",
    "department_id", "department__name",
)  # fmt: skip
CASE_FIELDS = (
    "id", "opened_at", "closed_at", "resolved_at", "reference", "status", "description",
    "department_id", "department__name", "service_id", "service__name",
)  # fmt: skip
EVENT_FIELDS = (
    "id", "at", "kind", "from_status", "to_status", "note", "case_id", "case__reference",
    "case__department_id", "case__department__name", "case__service_id", "case__service__name",
)  # fmt: skip
NEED_FIELDS = (
    "id", "recorded_at", "status", "note", "department_id", "department__name",
    "need_id", "need__name",
)  # fmt: skip


def person_timeline(
    *,
    viewer: Viewer,
    person_id: int,
    department_id: int | None = None,
    cursor: str | None = None,
    page_size: int = 25,
) -> TimelinePage:
    """The viewer's page of a person's timeline. The caller has checked visibility."""
    position = decode_cursor(cursor) if cursor else None
    own = viewer.department_ids
    n = page_size

    def dept_filter(qs: QuerySet, field_name: str = "department_id") -> QuerySet:
        return qs.filter(**{field_name: department_id}) if department_id is not None else qs

    streams: list[list[TimelineEntry]] = []

    contacts = dept_filter(Interaction.objects.filter(person_id=person_id, department_id__in=own))
    contacts = (
        _after_cursor(contacts, "contact", position, "at")
        .select_related("department")
        .only(*CONTACT_FIELDS)
    )
    streams.append(
        [
            TimelineEntry(
                at=i.at,
                kind="contact",
                id=i.id,
                department_id=i.department_id,
                department_name=i.department.name,
                title=_("%(channel)s contact (%(direction)s)")
                % {
                    "channel": i.get_channel_display(),
                    "direction": i.get_direction_display().lower(),
                },
                detail=i.summary,
                case_id=i.case_id,
                extra={"chasing": i.is_chasing},
            )
            for i in contacts.order_by("-at", "-id")[: n + 1]
        ]
    )

    # Cases: own departments' in full; other departments' as summary lines, never sensitive ones.
    cases = Case.objects.filter(person_id=person_id).filter(
        Q(department_id__in=own) | Q(service__sensitive=False)
    )
    cases = (
        _after_cursor(dept_filter(cases), "case", position, "opened_at")
        .select_related("service", "department")
        .only(*CASE_FIELDS)
    )
    case_entries = []
    for c in cases.order_by("-opened_at", "-id")[: n + 1]:
        full = c.department_id in own
        case_entries.append(
            TimelineEntry(
                at=c.opened_at,
                kind="case",
                id=c.id,
                department_id=c.department_id,
                department_name=c.department.name,
                title=c.service.name,
                detail=c.description if full else "",
                visibility="full" if full else "summary",
                case_id=c.id if full else None,
                case_reference=c.reference if full else "",
                status=status_label(c.status),
                extra={"closed_at": c.closed_at or c.resolved_at},
            )
        )
    streams.append(case_entries)

    events = CaseEvent.objects.filter(
        case__person_id=person_id, case__department_id__in=own
    ).exclude(kind="opened")
    events = _after_cursor(dept_filter(events, "case__department_id"), "case_event", position, "at")
    events = events.select_related("case__department", "case__service").only(*EVENT_FIELDS)
    event_entries = []
    for e in events.order_by("-at", "-id")[: n + 1]:
        if e.kind == CaseEvent.Kind.STATUS:
            title = _("%(service)s: %(from)s → %(to)s") % {
                "service": e.case.service.name,
                "from": status_label(e.from_status),
                "to": status_label(e.to_status),
            }
        else:
            title = _("%(service)s: %(kind)s") % {
                "service": e.case.service.name,
                "kind": e.get_kind_display(),
            }
        event_entries.append(
            TimelineEntry(
                at=e.at,
                kind="case_event",
                id=e.id,
                department_id=e.case.department_id,
                department_name=e.case.department.name,
                title=title,
                detail=e.note,
                case_id=e.case_id,
                case_reference=e.case.reference,
            )
        )
    streams.append(event_entries)

    needs = dept_filter(PersonNeed.objects.filter(person_id=person_id, department_id__in=own))
    needs = (
        _after_cursor(needs, "need", position, "recorded_at")
        .select_related("need", "department")
        .only(*NEED_FIELDS)
    )
    streams.append(
        [
            TimelineEntry(
                at=pn.recorded_at,
                kind="need",
                id=pn.id,
                department_id=pn.department_id,
                department_name=pn.department.name,
                title=_("Need recorded: %(need)s") % {"need": pn.need.name},
                detail=pn.note,
                status=pn.get_status_display(),
            )
            for pn in needs.order_by("-recorded_at", "-id")[: n + 1]
        ]
    )

    merged = list(heapq.merge(*streams, key=lambda e: e.sort_key, reverse=True))
    page = merged[:n]
    has_more = len(merged) > n
    return TimelinePage(
        entries=page, next_cursor=encode_cursor(page[-1]) if has_more and page else None
    )
