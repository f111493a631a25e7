"""Writes of notifications: queue a message once per case, event and channel; send it
once, retrying with backoff and giving up after CIVICLOOP["NOTIFY_MAX_ATTEMPTS"].

Sending claims the row first (pending -> sending, in one conditional UPDATE), so two
workers, a retried task or a duplicated one can never both send it. A worker that dies
between claiming and recording leaves the row 'sending': it is not sent again, because
whether the first attempt reached the reporter is unknown (at most once, by design).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, transaction
from django.db.models import F

from civicloop.cases.models import Case, NotifyChannel
from civicloop.core import clock
from civicloop.core.access import Viewer
from civicloop.notify.errors import SendFailed, mask_personal
from civicloop.notify.messages import Message, message_render
from civicloop.notify.models import Notification
from civicloop.notify.selectors import ReporterContact, case_reporter_contact
from civicloop.notify.sms import e164, sms_provider
from civicloop.trust.audit import audit_record

logger = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=6)


def _viewer() -> Viewer:
    return Viewer.system("notify")


def notification_queue(
    *,
    case_id: int,
    kind: str,
    event_key: str,
    to_status: str = "",
    tracking_secret: str = "",
    update_text: str = "",
) -> Notification | None:
    """Queue a message about a case on the channel its reporter chose, if they agreed to
    be contacted. The same case, event and channel again queues nothing (returns None)."""
    if kind not in Notification.Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    with transaction.atomic():
        case = Case.objects.filter(pk=case_id).values("contact_consent", "notify_channel").first()
        if case is None or not case["contact_consent"]:
            return None
        if case["notify_channel"] not in (NotifyChannel.EMAIL, NotifyChannel.SMS):
            return None
        now = clock.now()
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    case_id=case_id,
                    kind=kind,
                    channel=case["notify_channel"],
                    event_key=event_key[:100],
                    to_status=to_status,
                    tracking_secret=tracking_secret,
                    update_text=update_text,
                    next_attempt_at=now,
                    created_at=now,
                )
        except IntegrityError:
            return None  # this event was already queued for this case and channel
        audit_record(
            viewer=_viewer(),
            action="notification.queue",
            object_type="notification",
            object_ids=[notification.id, case_id],
            fields=["kind", "channel"]
            + (["tracking_secret"] if tracking_secret else [])
            + (["update_text"] if update_text else []),
        )
        _enqueue(notification.id)
    return notification


def _enqueue(notification_id: int, run_after: dt.datetime | None = None) -> None:
    """Enqueue the send task with the row: in the same transaction on the database backend
    (the job exists if and only if the row does), after the commit on any other (a worker
    must not look for a row not yet committed)."""
    from django_tasks_db import DatabaseBackend

    from civicloop.notify.tasks import send_notification

    task = send_notification.using(run_after=run_after) if run_after else send_notification
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(notification_id)
    else:
        transaction.on_commit(lambda: task.enqueue(notification_id))


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next attempt: the base delay, doubled after each failed attempt."""
    base = float(settings.CIVICLOOP.get("NOTIFY_RETRY_SECONDS", 60))
    return min(dt.timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def notification_send(*, notification_id: int) -> Notification:
    """Send a due, pending notification once; a notification already sent, given up,
    claimed by another worker or not yet due is returned unchanged."""
    now = clock.now()
    claimed = Notification.objects.filter(
        pk=notification_id,
        status=Notification.Status.PENDING,
        next_attempt_at__lte=now,
    ).update(status=Notification.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now)
    notification = Notification.objects.get(pk=notification_id)
    if not claimed:
        return notification
    contact = None
    try:
        contact = case_reporter_contact(viewer=_viewer(), case_id=notification.case_id)
        cancelled = _why_not(notification, contact)
        if cancelled:
            return _settle(notification, contact, Notification.Status.CANCELLED, reason=cancelled)
        message = message_render(notification=notification, contact=contact)
        provider_id = _deliver(notification, contact, message)
    except SendFailed as failure:
        return _failed(notification, contact, failure)
    except Exception as error:  # a bug or bad configuration must not leave the row claimed
        logger.exception("notification %s could not be sent", notification_id)
        return _failed(notification, contact, SendFailed(f"{type(error).__name__}: {error}"))
    return _settle(notification, contact, Notification.Status.SENT, provider_message_id=provider_id)


def _why_not(notification: Notification, contact: ReporterContact) -> str:
    if not contact.consent:
        return "the reporter no longer wants to be contacted"
    if contact.channel != notification.channel:
        return "the reporter chose another channel"
    if not contact.address:
        return f"no {'email address' if notification.channel == 'email' else 'phone number'}"
    return ""


def _deliver(notification: Notification, contact: ReporterContact, message: Message) -> str:
    if notification.channel == Notification.Channel.SMS:
        country = str(settings.CIVICLOOP.get("SMS", {}).get("DEFAULT_COUNTRY_CODE", ""))
        return sms_provider().send(to=e164(contact.address, country), body=message.text)
    intake = settings.CIVICLOOP.get("INTAKE_EMAIL", "")
    message_id = make_msgid(idstring=f"notification-{notification.id}", domain=str(DNS_NAME))
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[contact.address],
        reply_to=[intake] if intake else None,
        # Out-of-office robots should not answer, and our intake skips what they send anyway.
        headers={
            "Message-ID": message_id,
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    email.attach_alternative(message.html, "text/html")
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        raise SendFailed(
            f"the mail server refused the address ({', '.join(map(str, codes))})",
            permanent=all(500 <= code < 600 for code in codes),
        ) from None
    except smtplib.SMTPAuthenticationError as error:
        raise SendFailed(f"the mail server refused our login ({error.smtp_code})") from None
    except smtplib.SMTPResponseException as error:
        text = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else error.smtp_error
        )
        raise SendFailed(
            f"the mail server answered {error.smtp_code}: {text}",
            permanent=500 <= error.smtp_code < 600,
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        raise SendFailed(f"the mail server could not be reached: {error}") from None
    return message_id


def _failed(
    notification: Notification, contact: ReporterContact | None, failure: SendFailed
) -> Notification:
    max_attempts = int(settings.CIVICLOOP.get("NOTIFY_MAX_ATTEMPTS", 5))
    if failure.permanent or notification.attempts >= max_attempts:
        return _settle(notification, contact, Notification.Status.FAILED, reason=failure.reason)
    with transaction.atomic():
        notification.status = Notification.Status.PENDING
        notification.next_attempt_at = clock.now() + backoff(notification.attempts)
        notification.reason = failure.reason
        notification.save(update_fields=["status", "next_attempt_at", "reason"])
        _audit_attempt(notification, contact, outcome="retry")
        _enqueue(notification.id, run_after=notification.next_attempt_at)
    return notification


def _settle(
    notification: Notification,
    contact: ReporterContact | None,
    status: str,
    *,
    reason: str = "",
    provider_message_id: str = "",
) -> Notification:
    """Record the end of a notification and blank what it held of the reporter's."""
    with transaction.atomic():
        notification.status = status
        notification.reason = mask_personal(reason)
        notification.next_attempt_at = None
        notification.tracking_secret = ""
        notification.update_text = ""
        if status == Notification.Status.SENT:
            assert contact is not None  # a message went, so its contact was read
            notification.sent_at = clock.now()
            notification.provider_message_id = provider_message_id[:200]
            notification.recipient_hash = recipient_hash(contact.address)
            notification.language = contact.language
        notification.save()
        _audit_attempt(notification, contact, outcome=status)
    return notification


def recipient_hash(address: str) -> str:
    """SHA-256 of an address as sent to, so a later question 'was this address told?'
    can be answered without keeping the address."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def _audit_attempt(
    notification: Notification, contact: ReporterContact | None, *, outcome: str
) -> None:
    # One event per attempt records both the read of the contact details and their use.
    fields = ["contact_consent", "notify_channel"]
    if contact is not None and contact.consent:
        address = "email" if notification.channel == Notification.Channel.EMAIL else "phone"
        fields += ["name", address] + (["person." + address] if contact.person_id else [])
    audit_record(
        viewer=_viewer(),
        action="notification.send",
        object_type="notification",
        object_ids=[notification.id, notification.case_id]
        + ([contact.person_id] if contact and contact.person_id else []),
        fields=fields,
        outcome=outcome,
        counts={"attempt": notification.attempts},
    )
