"""Background jobs of the notify app."""

from __future__ import annotations

from django_tasks import task

from civicloop.notify.services import notification_send


@task()
def send_notification(notification_id: int) -> str:
    """Send one queued notification if it is due and nobody else has; return its status.

    Enqueued once when the notification is queued and again after each failed attempt
    (to run after its backoff); a duplicate run does nothing."""
    return notification_send(notification_id=notification_id).status
