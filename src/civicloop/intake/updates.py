"""Public updates on reports, both ways with a back-office system (the Open311
`servicerequestupdates` extension FixMyStreet uses).

A client application POSTs an update (status, text, its own update_id): the text becomes
the report's public status notes and the status moves the case — the back office is the
system of record for the work it does. GET lists every update since a date: those posted
and every status change made in CivicLoop (staff, or duplicates following an original).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from civicloop.cases.models import Case, CaseEvent
from civicloop.cases.services import MAX_DESCRIPTION
from civicloop.cases.workflow import Workflow, workflow_for
from civicloop.core import clock
from civicloop.core.access import NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.intake.duplicates import status_apply
from civicloop.intake.models import Open311Client, PublicUpdate
from civicloop.trust.audit import audit_record

VIEWER = Viewer.system("open311")
MAX_UPDATES = 1000
MAX_UPDATE_ID = 100
# Clocks disagree a little: an update may be stamped this far in the future.
CLOCK_SKEW = dt.timedelta(minutes=5)

# Update statuses as FixMyStreet and Open311 back offices send them, and what they mean.
STATUS_MEANING = {
    "open": "open",
    "investigating": "progress",
    "in_progress": "progress",
    "action_scheduled": "progress",
    "fixed": "resolved",
    "closed": "closed",
    "no_further_action": "closed",
    "not_councils_responsibility": "closed",
    "duplicate": "closed",
    "internal_referral": "closed",
}


@dataclass(frozen=True)
class UpdateOut:
    update_id: str
    service_request_id: str
    status: str
    updated_at: dt.datetime
    description: str
    media_url: str = ""


def _update_cases():
    """Reports a client application may update and read updates of: public services' ones."""
    return Case.objects.filter(service__public=True, service__sensitive=False)


def _target_status(workflow: Workflow, current: str, meaning: str) -> str:
    if meaning == "closed" or (meaning == "resolved" and not workflow.resolved):
        return sorted(workflow.closed)[0] if workflow.closed else current
    if meaning == "resolved":
        return sorted(workflow.resolved)[0]
    if meaning == "progress" and "in_progress" in workflow.statuses:
        return "in_progress"
    if workflow.is_open(current):
        return current
    return "in_progress" if "in_progress" in workflow.statuses else workflow.initial


def _open311_status(workflow: Workflow, status: str) -> str:
    if status in workflow.closed:
        return "closed"
    if status in workflow.resolved:
        return "fixed"
    return "in_progress" if status == "in_progress" else "open"


def request_update_post(
    *,
    client: Open311Client,
    service_request_id: str,
    status: str,
    description: str = "",
    update_id: str = "",
    updated_at: dt.datetime | None = None,
) -> PublicUpdate:
    """Record a back office's update of a report, moving its status if the update says so.

    Sending the same update_id again changes nothing and returns the first update."""
    errors: dict[str, list[str]] = {}
    status = status.strip().lower()
    if status not in STATUS_MEANING:
        errors["status"] = [
            _("Give a status: one of %(statuses)s.") % {"statuses": ", ".join(STATUS_MEANING)}
        ]
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = [
            _("Keep the description under %(n)d characters.") % {"n": MAX_DESCRIPTION}
        ]
    elif "\x00" in description:
        errors["description"] = [_("Remove the control characters from the description.")]
    if not update_id.strip() or len(update_id) > MAX_UPDATE_ID or "\x00" in update_id:
        errors["update_id"] = [
            _("Give your own id of this update, at most %(n)d characters.") % {"n": MAX_UPDATE_ID}
        ]
    now = clock.now()
    if updated_at is not None and updated_at > now + CLOCK_SKEW:
        errors["updated_datetime"] = [_("The time of an update cannot be in the future.")]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        known = PublicUpdate.objects.filter(client=client, external_id=update_id.strip()).first()
        if known is not None:
            return known
        case = (
            _update_cases()
            .select_for_update()
            .select_related("service")
            .filter(reference=service_request_id.strip())
            .first()
        )
        if case is None:
            raise NotVisible("service_request")
        workflow = workflow_for(case.service)
        to_status = _target_status(workflow, case.status, STATUS_MEANING[status])
        event = None
        from_status = case.status
        if to_status != case.status:
            event = status_apply(case, to_status, now, actor_id=None)
        case.version += 1
        case.updated_at = now
        case.save()
        update = PublicUpdate.objects.create(
            case=case,
            status=status,
            description=description.strip(),
            at=updated_at or now,
            client=client,
            external_id=update_id.strip(),
            case_event=event,
        )
        audit_record(
            viewer=VIEWER,
            action="case.public_update",
            object_type="case",
            object_ids=[case.id],
            fields=["update"] + (["status"] if event else []),
            counts={"client_id": client.id},
        )
        publish(
            DomainEvent(
                "case.update_added", "case", case.id, None, {"case_id": case.id, "public": True}
            )
        )
        if event is not None:
            publish(
                DomainEvent(
                    "case.status_changed",
                    "case",
                    case.id,
                    None,
                    {"from": from_status, "to": case.status, "person_id": case.person_id},
                )
            )
    return update


def public_updates(
    *, start: dt.datetime, end: dt.datetime, limit: int = MAX_UPDATES
) -> list[UpdateOut]:
    """Updates of public services' reports made in [start, end], oldest first: those posted
    and every status change (those not already told by a posted update)."""
    limit = max(1, min(MAX_UPDATES, limit))
    posted = (
        PublicUpdate.objects.filter(at__gte=start, at__lte=end, case__in=_update_cases())
        .select_related("case")
        .order_by("at", "id")[:limit]
    )
    told = PublicUpdate.objects.filter(case_event=OuterRef("pk"))
    changes = (
        CaseEvent.objects.filter(
            kind=CaseEvent.Kind.STATUS, at__gte=start, at__lte=end, case__in=_update_cases()
        )
        .exclude(Exists(told))
        .select_related("case__service")
        .order_by("at", "id")[:limit]
    )
    out = [
        UpdateOut(
            update_id=f"u{u.id}",
            service_request_id=u.case.reference,
            status=u.status,
            updated_at=u.at,
            description=u.description,
        )
        for u in posted
    ]
    out += [
        UpdateOut(
            update_id=f"s{e.id}",
            service_request_id=e.case.reference,
            status=_open311_status(workflow_for(e.case.service), e.to_status),
            updated_at=e.at,
            description="",
        )
        for e in changes
    ]
    out.sort(key=lambda u: (u.updated_at, u.update_id))
    return out[:limit]
