"""The 360° timeline: one stream of everything the viewer may see of a person.

Entries come from several tables, each read newest first through its
(person, time) index and merged; a keyset cursor (time, kind rank, id) pages
through the merged stream exactly, without offsets.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext as _

from civicloop.cases.models import CaseEvent, Channel, Interaction
from civicloop.cases.workflow import status_label
from civicloop.core.access import ValidationFailed, Viewer
from civicloop.core.sql import aware, marks
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


def person_timeline(
    *,
    viewer: Viewer,
    person_id: int,
    department_id: int | None = None,
    cursor: str | None = None,
    page_size: int = 25,
) -> TimelinePage:
    """The viewer's page of a person's timeline. The caller has checked visibility.

    Contacts and needs of the viewer's departments; cases of their departments in full and
    other departments' as summary lines, never sensitive ones; their cases' history. Each
    stream is read newest first through its (person, time) index, `page_size + 1` rows,
    all in one statement: a 360° view is read on every request, and the ORM's cost per
    query is most of its time.
    """
    position = decode_cursor(cursor) if cursor else None
    own = sorted(viewer.department_ids)
    if not own:
        return TimelinePage(entries=[], next_cursor=None)
    n = page_size
    branches: list[str] = []
    params: list = []
    for kind, sql, time_column, id_column, dept_column in _STREAMS:
        where, where_params = [], []
        if department_id is not None:
            where.append(f"{dept_column} = %s")
            where_params.append(department_id)
        if position is not None:
            condition, condition_params = _after(kind, position, time_column, id_column)
            where.append(condition)
            where_params += condition_params
        own_marks = marks(own)
        branches.append(
            "SELECT * FROM ("
            + sql.format(own=own_marks)
            + "".join(f" AND {w}" for w in where)
            + f" ORDER BY {time_column} DESC, {id_column} DESC LIMIT %s) AS {kind}_page"
        )
        params += _stream_params(kind, person_id, own) + where_params + [n + 1]
    with connection.cursor() as cur:
        cur.execute(" UNION ALL ".join(branches), params)
        rows = cur.fetchall()
    entries = sorted((_entry(row, own) for row in rows), key=lambda e: e.sort_key, reverse=True)
    page = entries[:n]
    has_more = len(entries) > n
    return TimelinePage(
        entries=page, next_cursor=encode_cursor(page[-1]) if has_more and page else None
    )


# Every stream gives the same columns: kind, id, at, department id and name, label (the
# service or need), code (contact channel, event kind), detail, case id and reference,
# status, other (contact direction, event's previous status), closed at, flag (chasing).
_NULL_TIME = "CAST(NULL AS TIMESTAMP)"
_STREAMS = [
    (
        "contact",
        "SELECT 'contact' AS kind, i.id, i.at, i.department_id, d.name, CAST(NULL AS VARCHAR(200)),"
        " i.channel, i.summary, i.case_id, CAST(NULL AS VARCHAR(30)), CAST(NULL AS VARCHAR(30)),"
        f" i.direction, {_NULL_TIME}, i.is_chasing"
        " FROM cases_interaction i JOIN catalogue_department d ON d.id = i.department_id"
        " WHERE i.person_id = %s AND i.department_id IN ({own})",
        "i.at",
        "i.id",
        "i.department_id",
    ),
    (
        "case",
        "SELECT 'case' AS kind, c.id, c.opened_at, c.department_id, d.name, s.name,"
        " CAST(NULL AS VARCHAR(20)), c.description, c.id, c.reference, c.status,"
        " CAST(NULL AS VARCHAR(30)), COALESCE(c.closed_at, c.resolved_at), CAST(NULL AS BOOLEAN)"
        " FROM cases_case c JOIN catalogue_service s ON s.id = c.service_id"
        " JOIN catalogue_department d ON d.id = c.department_id"
        " WHERE c.person_id = %s AND (c.department_id IN ({own}) OR s.sensitive = %s)",
        "c.opened_at",
        "c.id",
        "c.department_id",
    ),
    (
        "case_event",
        "SELECT 'case_event' AS kind, e.id, e.at, c.department_id, d.name, s.name, e.kind,"
        " e.note, e.case_id, c.reference, e.to_status, e.from_status, {null_time},"
        " CAST(NULL AS BOOLEAN)"
        " FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id"
        " JOIN catalogue_service s ON s.id = c.service_id"
        " JOIN catalogue_department d ON d.id = c.department_id"
        " WHERE c.person_id = %s AND c.department_id IN ({own}) AND e.kind <> 'opened'",
        "e.at",
        "e.id",
        "c.department_id",
    ),
    (
        "need",
        "SELECT 'need' AS kind, pn.id, pn.recorded_at, pn.department_id, d.name, nd.name,"
        " CAST(NULL AS VARCHAR(20)), pn.note, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(30)),"
        f" pn.status, CAST(NULL AS VARCHAR(30)), {_NULL_TIME}, CAST(NULL AS BOOLEAN)"
        " FROM people_personneed pn JOIN catalogue_need nd ON nd.id = pn.need_id"
        " JOIN catalogue_department d ON d.id = pn.department_id"
        " WHERE pn.person_id = %s AND pn.department_id IN ({own})",
        "pn.recorded_at",
        "pn.id",
        "pn.department_id",
    ),
]
_STREAMS = [
    (kind, sql.replace("{null_time}", _NULL_TIME), time_column, id_column, dept_column)
    for kind, sql, time_column, id_column, dept_column in _STREAMS
]


def _stream_params(kind: str, person_id: int, own: list[int]) -> list:
    if kind == "case":
        return [person_id, *own, False]
    return [person_id, *own]


def _after(
    kind: str, cursor: tuple[dt.datetime, int, int], time_column: str, id_column: str
) -> tuple[str, list]:
    """Rows strictly after the cursor in (time desc, rank desc, id desc) order."""
    at, rank, ident = cursor
    at_value = connection.ops.adapt_datetimefield_value(at)
    mine = RANK[kind]
    if mine < rank:
        return f"{time_column} <= %s", [at_value]
    if mine > rank:
        return f"{time_column} < %s", [at_value]
    return (
        f"({time_column} < %s OR ({time_column} = %s AND {id_column} < %s))",
        [at_value, at_value, ident],
    )


def _entry(row: tuple, own: list[int]) -> TimelineEntry:
    (kind, ident, at, dept_id, dept_name, label, code, detail, case_id, reference, status,
     other, closed_at, flag) = row  # fmt: skip
    at = aware(at)
    if kind == "contact":
        return TimelineEntry(
            at=at,
            kind=kind,
            id=ident,
            department_id=dept_id,
            department_name=dept_name,
            title=_("%(channel)s contact (%(direction)s)")
            % {
                "channel": _choice_label(Channel, code),
                "direction": _choice_label(Interaction.Direction, other).lower(),
            },
            detail=detail,
            case_id=case_id,
            extra={"chasing": bool(flag)},
        )
    if kind == "case":
        full = dept_id in own
        return TimelineEntry(
            at=at,
            kind=kind,
            id=ident,
            department_id=dept_id,
            department_name=dept_name,
            title=label,
            detail=detail if full else "",
            visibility="full" if full else "summary",
            case_id=ident if full else None,
            case_reference=reference if full else "",
            status=status_label(status),
            extra={"closed_at": aware(closed_at)},
        )
    if kind == "case_event":
        if code == CaseEvent.Kind.STATUS:
            title = _("%(service)s: %(from)s → %(to)s") % {
                "service": label,
                "from": status_label(other),
                "to": status_label(status),
            }
        else:
            title = _("%(service)s: %(kind)s") % {
                "service": label,
                "kind": _choice_label(CaseEvent.Kind, code),
            }
        return TimelineEntry(
            at=at,
            kind=kind,
            id=ident,
            department_id=dept_id,
            department_name=dept_name,
            title=title,
            detail=detail,
            case_id=case_id,
            case_reference=reference,
        )
    return TimelineEntry(
        at=at,
        kind="need",
        id=ident,
        department_id=dept_id,
        department_name=dept_name,
        title=_("Need recorded: %(need)s") % {"need": label},
        detail=detail,
        status=_choice_label(PersonNeed.Status, status),
    )


def _choice_label(choices, value: str | None) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""
