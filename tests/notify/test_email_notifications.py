"""Email notifications as a reporter receives them, through a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from civicloop.cases.models import CaseEvent
from civicloop.cases.services import case_transition
from civicloop.core import clock
from civicloop.core.access import Viewer
from civicloop.core.events import DomainEvent
from civicloop.notify.models import Notification
from civicloop.notify.services import notification_queue, notification_send
from civicloop.notify.tasks import send_notification
from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.notify.conftest import SECRET, T0, received
from tests.support.html import assert_valid_html

pytestmark = pytest.mark.django_db

PERSONAL = ["Zed", "Quill", "zed.quill", "07700", "900123", "Mill Lane", "car was damaged"]


def send_all() -> list[Notification]:
    """What the task worker does with every queued notification that is due."""
    return [
        notification_send(notification_id=n.id)
        for n in Notification.objects.filter(status=Notification.Status.PENDING).order_by("id")
    ]


def staff_of(case):
    staff = f.StaffFactory(role="caseworker", departments=[case.department])
    return Viewer(
        user_id=staff.user_id,
        role="caseworker",
        department_ids=frozenset({case.department_id}),
        staff_id=staff.id,
    )


def test_a_received_report_sends_the_opening_email_with_the_tracking_link(smtp, make_case, deliver):
    case = make_case()
    deliver(received(case))

    notification = Notification.objects.get(case=case)
    assert notification.kind == "opened" and notification.channel == "email"
    task = DBTaskResult.objects.get(task_path=send_notification.module_path)
    assert task.args_kwargs["args"] == [notification.id]

    send_all()
    [mail] = smtp.received
    assert mail.rcpt_tos == ["zed.quill@example.net"]
    message = mail.message
    assert message["Subject"] == f"{case.reference} (Pothole repair): report received"
    assert message["Reply-To"] == "requests@riverton.example"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"https://report.riverton.example/portal/track/{case.reference}?t={SECRET}"
    assert "Hello Zed Quill," in text and link in text
    assert f'href="{link}"' in html and '<html lang="en">' in html
    assert_valid_html(html)
    assert "Deep hole" not in text, "the message does not repeat what was reported"

    notification.refresh_from_db()
    assert notification.status == "sent" and notification.attempts == 1
    assert notification.sent_at == T0
    assert notification.tracking_secret == "", "the secret is gone once the message is sent"
    assert notification.recipient_hash == hashlib.sha256(b"zed.quill@example.net").hexdigest()


def test_sending_is_audited_without_personal_data(smtp, make_case, deliver):
    case = make_case()
    deliver(received(case))
    send_all()
    queued = AuditEvent.objects.get(action="notification.queue")
    sent = AuditEvent.objects.get(action="notification.send")
    notification = Notification.objects.get(case=case)
    assert queued.object_ids == sent.object_ids == [notification.id, case.id]
    assert sent.outcome == "sent" and "email" in sent.fields
    for event in (queued, sent):
        recorded = str(event.__dict__)
        assert SECRET not in recorded
        assert not any(word in recorded for word in PERSONAL)


@pytest.mark.parametrize("kind", ["opened", "status_changed", "update_added", "closed"])
def test_a_subject_names_the_reference_and_the_service_only(smtp, make_case, kind):
    case = make_case()
    Notification.objects.create(
        case=case,
        kind=kind,
        channel="email",
        event_key=kind,
        to_status="in_progress",
        update_text="Crew booked for Tuesday at 12 Mill Lane",
        next_attempt_at=T0,
    )
    send_all()
    subject = smtp.received[0].message["Subject"]
    what = {
        "opened": "report received",
        "status_changed": "status changed",
        "update_added": "new update",
        "closed": "closed",
    }[kind]
    assert subject == f"{case.reference} (Pothole repair): {what}"
    assert not any(word in subject for word in PERSONAL)


def test_a_sensitive_service_is_named_nowhere_in_the_message(smtp, make_case, deliver):
    case = make_case(sensitive=True)
    deliver(received(case))
    send_all()
    message = smtp.received[0].message
    assert message["Subject"] == f"{case.reference}: report received"
    assert "Pothole" not in message.get_body(("plain",)).get_content()
    assert "Pothole" not in message.get_body(("html",)).get_content()


def test_status_changes_and_the_closing_message_follow_the_workflow(
    smtp, make_case, django_capture_on_commit_callbacks
):
    case = make_case()
    viewer = staff_of(case)
    for to_status in ("in_progress", "resolved", "closed"):
        with django_capture_on_commit_callbacks(execute=True):
            case = case_transition(
                viewer=viewer, case_id=case.id, to_status=to_status, version=case.version
            )

    kinds = Notification.objects.filter(case=case).order_by("id").values_list("kind", "to_status")
    assert list(kinds) == [
        ("status_changed", "in_progress"),
        ("status_changed", "resolved"),
        ("closed", "closed"),
    ]
    send_all()
    texts = [m.message.get_body(("plain",)).get_content() for m in smtp.received]
    assert f"Your report {case.reference} is now: In progress." in texts[0]
    assert f"Your report {case.reference} is now: Resolved." in texts[1]
    assert f"Your report {case.reference} has been closed." in texts[2]
    # Later messages cannot carry the secret (only its hash is kept): they link to the report.
    assert f"https://report.riverton.example/portal/track/{case.reference}\r\n" in texts[0]
    assert "?t=" not in "".join(texts)


def test_a_public_update_is_sent_with_its_text_which_is_then_forgotten(smtp, make_case, deliver):
    case = make_case()
    deliver(
        DomainEvent(
            "case.update_added",
            "case",
            case.id,
            None,
            {"case_id": case.id, "update_id": 7, "text": "A crew is booked for Tuesday."},
        )
    )
    [notification] = send_all()
    text = smtp.received[0].message.get_body(("plain",)).get_content()
    assert f"There is a new update on your report {case.reference}." in text
    assert "A crew is booked for Tuesday." in text
    assert notification.status == "sent" and notification.update_text == ""


def test_nobody_is_told_without_consent_or_a_channel(smtp, make_case, deliver):
    no_consent = make_case(consent=False)
    no_channel = make_case(channel="none")
    deliver(received(no_consent), received(no_channel))
    assert not Notification.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_consent_withdrawn_before_sending_cancels_the_message(smtp, make_case, deliver):
    case = make_case()
    deliver(received(case))
    case.contact_consent = False
    case.save()
    [notification] = send_all()
    assert notification.status == "cancelled" and notification.tracking_secret == ""
    assert smtp.received == []
    event = AuditEvent.objects.get(action="notification.send")
    assert event.outcome == "cancelled" and "email" not in event.fields


def test_the_linked_person_is_reached_when_the_reporter_left_no_address(smtp, make_case, deliver):
    person = f.PersonFactory(given_name="Ines", email="ines@example.org")
    case = make_case(person=person, reporter_name="", reporter_email="", reporter_phone="")
    deliver(received(case))
    send_all()
    assert smtp.received[0].rcpt_tos == ["ines@example.org"]
    assert "Hello Ines," in smtp.received[0].message.get_body(("plain",)).get_content()
    event = AuditEvent.objects.get(action="notification.send")
    assert person.id in event.object_ids and "person.email" in event.fields


def test_no_address_means_no_message_and_a_reason(smtp, make_case, deliver):
    case = make_case(reporter_email="")
    deliver(received(case))
    [notification] = send_all()
    assert notification.status == "cancelled" and notification.reason == "no email address"
    assert smtp.received == []


@pytest.mark.parametrize(
    ("language", "expected"), [("es", "es"), ("es-MX", "es"), ("xx", "en"), ("", "en")]
)
def test_messages_are_in_the_reporters_language_or_the_sites(
    smtp, make_case, deliver, language, expected
):
    case = make_case(language=language)
    deliver(received(case))
    [notification] = send_all()
    html = smtp.received[0].message.get_body(("html",)).get_content()
    assert f'<html lang="{expected}">' in html
    assert notification.language == expected


def test_a_duplicated_event_sends_one_message(smtp, make_case, deliver):
    case = make_case()
    deliver(received(case), received(case))
    deliver(received(case))
    assert Notification.objects.filter(case=case).count() == 1
    send_all()
    assert len(smtp.received) == 1


def test_a_duplicated_status_event_sends_one_message(
    smtp, make_case, deliver, django_capture_on_commit_callbacks
):
    case = make_case()
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(
            viewer=staff_of(case), case_id=case.id, to_status="in_progress", version=case.version
        )
    change = CaseEvent.objects.get(case=case, kind="status")
    # The same change reported again, as a replayed or doubly delivered event would.
    deliver(
        DomainEvent(
            "case.status_changed", "case", case.id, None, {"from": "new", "to": "in_progress"}
        ),
        DomainEvent("case.status_changed", "case", case.id, None, {"to_status": "in_progress"}),
    )
    [notification] = Notification.objects.filter(case=case)
    assert notification.event_key == f"status:{change.id}"
    send_all()
    assert len(smtp.received) == 1


def test_a_retried_or_repeated_task_never_sends_twice(smtp, make_case, deliver):
    case = make_case()
    deliver(received(case))
    notification = Notification.objects.get(case=case)
    assert send_notification.call(notification.id) == "sent"
    assert send_notification.call(notification.id) == "sent"
    notification_send(notification_id=notification.id)
    assert len(smtp.received) == 1
    assert Notification.objects.get(pk=notification.pk).attempts == 1


def test_a_failed_send_is_retried_with_backoff_then_given_up_with_the_reason(
    smtp, make_case, deliver, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_PORT = 1  # nothing listens there: the mail server cannot be reached
    settings.CIVICLOOP = {**settings.CIVICLOOP, "NOTIFY_MAX_ATTEMPTS": 3}
    case = make_case()
    deliver(received(case))
    notification = Notification.objects.get(case=case)

    def attempt(at):
        with clock.frozen_at(at), django_capture_on_commit_callbacks(execute=True):
            return notification_send(notification_id=notification.id)

    def retries():
        tasks = DBTaskResult.objects.filter(task_path=send_notification.module_path)
        return sorted(t.run_after for t in tasks if t.run_after.year < 9999)

    first = attempt(T0)
    assert first.status == "pending" and first.attempts == 1
    assert first.next_attempt_at == T0 + dt.timedelta(seconds=60)
    assert first.reason.startswith("the mail server could not be reached")
    assert first.tracking_secret == SECRET, "kept until the message is settled"
    assert retries() == [first.next_attempt_at], "a task waits for the next attempt"

    assert attempt(T0 + dt.timedelta(seconds=59)).attempts == 1, "not due yet: nothing happens"

    second = attempt(T0 + dt.timedelta(seconds=60))
    assert second.status == "pending" and second.attempts == 2
    assert second.next_attempt_at == T0 + dt.timedelta(seconds=60 + 120)

    last = attempt(T0 + dt.timedelta(seconds=180))
    assert last.status == "failed" and last.attempts == 3 and last.next_attempt_at is None
    assert last.reason.startswith("the mail server could not be reached")
    assert last.tracking_secret == ""
    assert len(retries()) == 2, "no task after giving up"
    outcomes = AuditEvent.objects.filter(action="notification.send").values_list(
        "outcome", flat=True
    )
    assert sorted(outcomes) == ["failed", "retry", "retry"]


def test_a_busy_mail_server_gets_the_message_on_the_next_attempt(smtp, make_case, deliver):
    smtp.busy = 1
    case = make_case()
    deliver(received(case))
    notification = Notification.objects.get(case=case)
    first = notification_send(notification_id=notification.id)
    assert first.status == "pending" and "451" in first.reason
    with clock.frozen_at(first.next_attempt_at):
        second = notification_send(notification_id=notification.id)
    assert second.status == "sent" and second.attempts == 2
    assert len(smtp.received) == 1


def test_a_refused_address_is_given_up_at_once_and_not_kept_in_the_reason(smtp, make_case, deliver):
    smtp.refuse.add("zed.quill@example.net")
    case = make_case()
    deliver(received(case))
    [notification] = send_all()
    assert notification.status == "failed" and notification.attempts == 1
    assert "refused the address (550)" in notification.reason
    assert "zed" not in notification.reason


def test_a_spanish_speaking_reporter_reads_spanish(smtp, make_case, deliver):
    case = make_case(language="es")
    deliver(received(case))
    send_all()
    message = smtp.received[0].message
    assert message["Subject"] == f"{case.reference} (Pothole repair): aviso recibido"
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Hola, Zed Quill:")
    assert (
        f"Hemos recibido su aviso sobre Pothole repair. Su referencia es {case.reference}." in text
    )
    assert "Siga su aviso en este enlace. No lo comparta" in text
    words = " ".join(w for w in text.split() if "://" not in w)
    for english in ("Hello", "Follow", "report", "receiving"):
        assert english not in words


def test_a_message_and_its_task_are_queued_together_or_not_at_all(make_case):
    case = make_case()
    with pytest.raises(RuntimeError), transaction.atomic():
        notification_queue(case_id=case.id, kind="opened", event_key="opened")
        assert DBTaskResult.objects.count() == 1
        raise RuntimeError("the request failed after queueing")
    assert not Notification.objects.exists() and not DBTaskResult.objects.exists()
