"""Case histories and the contacts around them, for the demo generator.

A case walks the default workflow (see catalogue.DEFAULT_TRANSITIONS) from the
time it was opened; whatever would happen after 'now' is cut off, so the case's
status, dates and events always agree. Pure Python, no Django.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from civicloop.demo import texts
from civicloop.demo.catalogue import ServiceRow
from civicloop.demo.logins import caseworker, supervisor
from civicloop.demo.rows import CaseEventRow, CaseRow, InteractionRow

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


def weighted(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    values = [o[0] for o in options]
    return rng.choices(values, weights=[o[1] for o in options], k=1)[0]


def _minutes(rng: random.Random, lo: int, hi: int) -> dt.timedelta:
    return dt.timedelta(minutes=rng.randint(lo, hi))


def walk(rng: random.Random, case: CaseRow, service: ServiceRow, now: dt.datetime) -> None:
    """Give `case` a history from opened_at, cut at `now`, and set its status and dates to match."""
    dept = service.department
    worker, boss = caseworker(dept), supervisor(dept)
    sla = max(service.sla_days, 1)
    staffed = case.channel in ("phone", "in_person")
    events = [
        CaseEventRow("opened", case.opened_at, actor=worker if staffed else None, to_status="new")
    ]
    factor = rng.lognormvariate(-0.35, 0.75)
    if case.priority == "urgent":
        factor *= 0.5
    elif rng.random() < 0.06:
        factor *= rng.uniform(3, 8)  # stuck: waiting on another team, a contractor, a decision
    span = max(sla * factor * DAY, 2 * HOUR)
    t0 = case.opened_at
    waits: list[tuple[dt.datetime, dt.datetime]] = []
    if rng.random() < 0.04:
        events.append(
            CaseEventRow(
                "status",
                t0 + _minutes(rng, 30, 2880),
                actor=boss,
                from_status="new",
                to_status="closed",
                note=rng.choice(texts.DUPLICATE_CLOSES),
            )
        )
    else:
        triage = t0 + span * rng.uniform(0.02, 0.15)
        owner = worker
        if rng.random() < 0.75:
            owner = worker if rng.random() < 0.85 or case.priority != "urgent" else boss
            events.append(CaseEventRow("assigned", triage, actor=boss, assignee=owner))
        started = triage + _minutes(rng, 1, 90)
        events.append(
            CaseEventRow("status", started, actor=owner, from_status="new", to_status="in_progress")
        )
        end = max(t0 + span, started + HOUR)
        if rng.random() < (0.05 if service.place_based else 0.3):
            start = started + (end - started) * rng.uniform(0.15, 0.6)
            length = rng.uniform(2, 21) * DAY
            events.append(
                CaseEventRow(
                    "status",
                    start,
                    actor=owner,
                    from_status="in_progress",
                    to_status="waiting_on_citizen",
                    note=rng.choice(texts.WAITING_ASK),
                )
            )
            events.append(
                CaseEventRow(
                    "status",
                    start + length,
                    actor=owner,
                    from_status="waiting_on_citizen",
                    to_status="in_progress",
                    note=rng.choice(texts.WAITING_REPLY),
                )
            )
            waits.append((start, start + length))
            end += length
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            at = started + (end - started) * rng.uniform(0.05, 0.95)
            events.append(CaseEventRow("note", at, actor=owner, note=rng.choice(texts.CASE_NOTES)))
        done = texts.STREET_RESOLUTIONS if service.place_based else texts.RESOLUTIONS
        events.append(
            CaseEventRow(
                "status",
                end,
                actor=owner,
                from_status="in_progress",
                to_status="resolved",
                note=rng.choice(done),
            )
        )
        reopen_chance = 0.09
        while rng.random() < reopen_chance:
            back = end + rng.uniform(1, 25) * DAY
            events.append(
                CaseEventRow(
                    "status",
                    back,
                    actor=owner,
                    from_status="resolved",
                    to_status="in_progress",
                    note=rng.choice(texts.REOPEN_NOTES),
                )
            )
            end = back + sla * rng.uniform(0.3, 1.5) * DAY
            events.append(
                CaseEventRow(
                    "status",
                    end,
                    actor=owner,
                    from_status="in_progress",
                    to_status="resolved",
                    note=rng.choice(done),
                )
            )
            reopen_chance = 0.2
        events.append(
            CaseEventRow(
                "status",
                end + rng.uniform(3, 28) * DAY,
                actor=None,
                from_status="resolved",
                to_status="closed",
                note=rng.choice(texts.CLOSE_NOTES),
            )
        )
    events.sort(key=lambda e: e.at)
    kept = [e for e in events if e.at <= now]
    case.events = kept
    status = "new"
    assignee = None
    resolved_at = closed_at = None
    reopens = 0
    for e in kept:
        if e.kind == "assigned":
            assignee = e.assignee
        elif e.kind == "status":
            status = e.to_status
            if e.to_status == "resolved":
                resolved_at = e.at
            elif e.to_status == "in_progress" and e.from_status == "resolved":
                reopens += 1
                resolved_at = None
            elif e.to_status == "closed":
                closed_at = e.at
    paused = sum(((min(b, now) - a) for a, b in waits if a <= now), dt.timedelta())
    case.status = status
    case.assignee = assignee
    case.resolved_at = resolved_at
    case.closed_at = closed_at
    case.reopen_count = reopens
    case.due_at = t0 + sla * DAY + paused
    case.updated_at = kept[-1].at
    finished = resolved_at or closed_at or now
    case.slowness = max(0.0, (finished - case.due_at) / (sla * DAY))


def case_contacts(
    rng: random.Random, case: CaseRow, service: ServiceRow, now: dt.datetime
) -> list[InteractionRow]:
    """The contacts a case's own history implies: the request, the asks and replies, the outcome, the chasing."""
    dept = service.department
    worker = caseworker(dept)
    staffed = case.channel in ("phone", "in_person")
    verb = texts.OPENING_VERB.get(case.channel, "Asked to")
    what = "report" if service.place_based else "ask for"
    rows = [
        InteractionRow(
            case.person_ref,
            case.reference,
            dept,
            case.channel,
            "inbound",
            case.opened_at,
            worker if staffed else None,
            f"{verb} {what} {service.name.lower()}.",
        )
    ]
    for e in case.events:
        if e.kind != "status":
            continue
        if e.to_status == "waiting_on_citizen":
            rows.append(
                InteractionRow(
                    case.person_ref,
                    case.reference,
                    dept,
                    rng.choice(("email", "letter", "phone")),
                    "outbound",
                    e.at + _minutes(rng, 1, 30),
                    e.actor,
                    e.note,
                )
            )
        elif e.from_status == "waiting_on_citizen":
            rows.append(
                InteractionRow(
                    case.person_ref,
                    case.reference,
                    dept,
                    rng.choice(("email", "in_person", "web")),
                    "inbound",
                    e.at - _minutes(rng, 5, 600),
                    None,
                    e.note,
                )
            )
        elif e.from_status == "resolved" and e.to_status == "in_progress":
            rows.append(
                InteractionRow(
                    case.person_ref,
                    case.reference,
                    dept,
                    rng.choice(("phone", "email", "web")),
                    "inbound",
                    e.at - _minutes(rng, 5, 600),
                    None,
                    "Reported the problem again.",
                )
            )
        elif e.to_status == "resolved" and rng.random() < 0.7:
            rows.append(
                InteractionRow(
                    case.person_ref,
                    case.reference,
                    dept,
                    rng.choice(("sms", "email", "letter")),
                    "outbound",
                    e.at + _minutes(rng, 1, 240),
                    e.actor,
                    rng.choice(texts.RESOLVED_TELL),
                )
            )
    expected = 0.15 + 1.4 * min(case.slowness, 4.0) + 1.5 * case.reopen_count
    for _ in range(_poisson(rng, expected)):
        rows.append(chasing_contact(rng, case, dept, now))
    return [r for r in rows if r.at <= now]


# Channels that need someone at the council: they happen in office hours.
OFFICE_CHANNELS = frozenset({"phone", "in_person", "letter"})
ZONE = ZoneInfo("Europe/London")


def office_hours(
    rng: random.Random, at: dt.datetime, *, not_before: dt.datetime, not_after: dt.datetime
) -> dt.datetime:
    """A time in working hours (Mon-Fri 08:30-17:30 in Riverton) on `at`'s day or the
    nearest working day after it (before it, if after is too late) within the bounds."""
    day = at.astimezone(ZONE).date()
    for step in (1, -1):
        d = day
        for _ in range(7):
            if d.weekday() < 5:
                opening = dt.datetime.combine(d, dt.time(8, 30), ZONE)
                candidate = (opening + dt.timedelta(minutes=rng.randint(0, 540))).astimezone(dt.UTC)
                if not_before <= candidate <= not_after:
                    return candidate
            d += dt.timedelta(days=step)
    return at


def chasing_contact(
    rng: random.Random, case: CaseRow, dept: str, now: dt.datetime
) -> InteractionRow:
    start = case.opened_at + DAY
    end = max(start + HOUR, min(case.resolved_at or case.closed_at or now, now))
    at = start + (end - start) * rng.random()
    channel = weighted(rng, (("phone", 0.6), ("email", 0.22), ("in_person", 0.1), ("web", 0.08)))
    actor = caseworker(dept) if channel in ("phone", "in_person") else None
    if channel in OFFICE_CHANNELS:
        at = office_hours(rng, at, not_before=case.opened_at, not_after=now)
    return InteractionRow(
        case.person_ref,
        case.reference,
        dept,
        channel,
        "inbound",
        min(at, now),
        actor,
        rng.choice(texts.CHASING),
        is_chasing=True,
    )


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small rates used here.
    limit = pow(2.718281828459045, -min(lam, 30.0))
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
