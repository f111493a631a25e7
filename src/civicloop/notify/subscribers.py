"""Domain events that become messages to a reporter.

- `report.received` (data: case_id, tracking_secret): the report was received; the
  secret is only ever known here, so the opening message carries the full tracking link.
  A `case.opened` whose data carries a tracking_secret counts the same.
- `case.status_changed` (data: to_status or to, optionally case_event_id): a status
  message, or the closing message when the new status is a closed one.
- `case.update_added` (data: case_id, update_id, optionally text): a public update.
"""

from __future__ import annotations

from civicloop.cases.models import Case, CaseEvent, NotifyChannel
from civicloop.cases.workflow import workflow_for
from civicloop.core.events import DomainEvent, subscribe
from civicloop.notify.models import Notification
from civicloop.notify.services import notification_queue


def _case_id(event: DomainEvent) -> int | None:
    value = event.data.get("case_id")
    if value is None and event.object_type == "case":
        value = event.object_id
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def on_report_received(event: DomainEvent) -> None:
    case_id = _case_id(event)
    secret = str(event.data.get("tracking_secret") or "")
    if case_id is None or (event.name == "case.opened" and not secret):
        return
    notification_queue(
        case_id=case_id,
        kind=Notification.Kind.OPENED,
        event_key="opened",
        tracking_secret=secret,
    )


def on_status_changed(event: DomainEvent) -> None:
    case_id = _case_id(event)
    to_status = str(event.data.get("to_status") or event.data.get("to") or "")
    if case_id is None or not to_status:
        return
    case = (
        Case.objects.filter(pk=case_id, contact_consent=True)
        .exclude(notify_channel=NotifyChannel.NONE)
        .select_related("service")
        .first()
    )
    if case is None:
        return  # nobody to tell: spare the lookups below
    change_id = event.data.get("case_event_id") or (
        # The latest change to this status is the one this event reports: delivered
        # twice, the event finds the same change, so the message still goes once.
        CaseEvent.objects.filter(case_id=case_id, kind=CaseEvent.Kind.STATUS, to_status=to_status)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    closed = to_status in workflow_for(case.service).closed
    notification_queue(
        case_id=case_id,
        kind=Notification.Kind.CLOSED if closed else Notification.Kind.STATUS_CHANGED,
        event_key=f"status:{change_id}" if change_id else f"status:{to_status}:{event.at}",
        to_status=to_status,
    )


def on_update_added(event: DomainEvent) -> None:
    case_id = _case_id(event)
    if case_id is None:
        return
    update_id = event.data.get("update_id") or event.data.get("event_id")
    if update_id is None and event.object_type != "case":
        update_id = event.object_id
    notification_queue(
        case_id=case_id,
        kind=Notification.Kind.UPDATE_ADDED,
        event_key=f"update:{update_id}" if update_id else f"update:{event.at}",
        update_text=str(event.data.get("text") or "")[:4000],
    )


def subscribe_all() -> None:
    subscribe("report.received", on_report_received)
    subscribe("case.opened", on_report_received)
    subscribe("case.status_changed", on_status_changed)
    subscribe("case.update_added", on_update_added)
