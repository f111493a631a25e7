"""Inbound email: replies land on their case, anything else waits for triage, nothing is
taken in twice, and robots are ignored. End to end through a real SMTP server on
loopback delivering into a Maildir that `civicloop read-mail` reads."""

from __future__ import annotations

import datetime as dt
import mailbox
import smtplib
from email.message import EmailMessage
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from civicloop.cases.models import Interaction
from civicloop.cases.services import new_reference
from civicloop.core import clock
from civicloop.core.events import subscribe, unsubscribe
from civicloop.intake.inbound_email import email_parse, html_to_text, inbound_email_receive
from civicloop.intake.models import TriageItem
from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.notify.servers import smtp_server

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
INTAKE = "requests@riverton.example"


@pytest.fixture(autouse=True)
def frozen_clock():
    with clock.frozen_at(T0):
        yield


@pytest.fixture
def case():
    return f.CaseFactory(
        reference=new_reference(),
        service=f.ServiceFactory(name="Potholes"),
        reporter_email="Ruth.Ade@example.net",
    )


def message(
    subject="A broken streetlight",
    body="The light outside the school has been off for a week.",
    *,
    sender="Ruth Ade <ruth.ade@example.net>",
    message_id="<m1@mail.example.net>",
    html=None,
    headers=None,
    attachment=None,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = INTAKE
    mail["Subject"] = subject
    mail["Date"] = "Mon, 02 Mar 2026 08:30:00 +0000"
    if message_id:
        mail["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        mail[name] = value
    if html is not None and body is None:
        mail.set_content(html, subtype="html")
    else:
        mail.set_content(body)
        if html is not None:
            mail.add_alternative(html, subtype="html")
    if attachment:
        name, data, kind = attachment
        maintype, subtype = kind.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail


def receive(mail: EmailMessage):
    return inbound_email_receive(raw=mail.as_bytes())


def test_a_reply_naming_a_case_becomes_a_contact_on_it(case, django_capture_on_commit_callbacks):
    seen = []
    subscribe("contact.logged", seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = receive(
                message(
                    subject=f"Re: {case.reference.lower()} (Potholes): status changed",
                    body="It is getting deeper, please hurry.\n\n"
                    "On Mon, 2 Mar 2026, Riverton wrote:\n> Your report is now: In progress.",
                )
            )
    finally:
        unsubscribe("contact.logged", seen.append)

    assert result.outcome == "contact" and result.case_reference == case.reference
    contact = Interaction.objects.get(case=case)
    assert (contact.channel, contact.direction) == ("email", "inbound")
    assert contact.person_id == case.person_id and contact.department_id == case.department_id
    assert contact.at == dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC), "when it was sent"
    assert "It is getting deeper, please hurry." in contact.summary
    assert "Your report is now" not in contact.summary, "the quoted message is cut off"
    item = TriageItem.objects.get(message_id="<m1@mail.example.net>")
    assert item.status == "attached" and item.case_id == case.id
    assert [e.object_id for e in seen] == [contact.id]
    audit = AuditEvent.objects.get(action="inbound_email.contact")
    assert audit.object_ids[:3] == [contact.id, item.id, case.id]
    assert "ruth" not in str(audit.__dict__).lower()


def test_a_message_naming_a_case_from_someone_else_waits_in_its_departments_triage(case):
    result = receive(
        message(subject=f"Re: {case.reference}", sender="Mallory <mallory@example.com>")
    )
    assert (result.outcome, result.case_reference) == ("triage", case.reference)
    item = TriageItem.objects.get(pk=result.triage_item_id)
    assert item.status == "open" and item.case_id == case.id
    assert item.department_id == case.department_id and item.person_id is None
    assert not Interaction.objects.exists()


def test_the_linked_persons_own_address_counts_as_the_reporters(case):
    case.reporter_email = ""
    case.save()
    person = case.person
    result = receive(message(subject=f"Re: {case.reference}", sender=person.email.upper()))
    assert result.outcome == "contact"
    assert Interaction.objects.get(case=case).person_id == person.id


def test_the_same_message_twice_adds_one_contact(case):
    mail = message(subject=f"Re: {case.reference}")
    assert receive(mail).outcome == "contact"
    again = receive(mail)
    assert again.outcome == "duplicate"
    assert Interaction.objects.filter(case=case).count() == 1
    assert TriageItem.objects.count() == 1


def test_a_message_naming_no_known_case_waits_for_triage():
    result = receive(message(subject="Re: CL-AAAA-BBBB and a broken streetlight"))
    assert result.outcome == "triage"
    item = TriageItem.objects.get(pk=result.triage_item_id)
    assert item.status == "open" and item.case_id is None
    assert (item.sender_name, item.sender_email) == ("Ruth Ade", "ruth.ade@example.net")
    assert item.subject == "Re: CL-AAAA-BBBB and a broken streetlight"
    assert item.body == "The light outside the school has been off for a week."
    assert item.received_at == dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
    assert not Interaction.objects.exists()
    audit = AuditEvent.objects.get(action="inbound_email.triage")
    assert audit.object_ids == [item.id] and "body" in audit.fields


def test_an_html_only_message_is_read_as_text():
    result = receive(
        message(
            body=None,
            html="<html><head><style>p {color: red}</style><title>x</title></head><body>"
            "<p>Bins not <b>collected</b> on Elm Road.</p><script>alert(1)</script>"
            '<ul><li>Since Tuesday</li></ul><p><a href="https://example.net/photo">photo</a>'
            "</p></body></html>",
        )
    )
    body = TriageItem.objects.get(pk=result.triage_item_id).body
    assert body == (
        "Bins not collected on Elm Road.\n\n- Since Tuesday\n\nphoto (https://example.net/photo)"
    )


def test_attachments_are_not_kept_but_the_item_says_so():
    result = receive(message(attachment=("pothole.jpg", b"\xff\xd8\xff\xe0fake", "image/jpeg")))
    body = TriageItem.objects.get(pk=result.triage_item_id).body
    assert body.startswith("The light outside the school has been off for a week.")
    assert body.endswith("[Attachments not kept: pothole.jpg (image/jpeg).]")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto-submitted (auto-replied)"),
        ({"Auto-Submitted": "auto-generated; owner-email=x@y"}, "auto-submitted (auto-generated)"),
        ({"Precedence": "auto_reply"}, "auto-reply (precedence)"),
        ({"X-Autoreply": "yes"}, "auto-reply"),
        ({"Return-Path": "<>"}, "bounce (empty return path)"),
    ],
)
def test_auto_replies_and_bounces_are_skipped_with_a_reason(headers, reason):
    result = receive(message(headers=headers))
    assert (result.outcome, result.reason) == ("skipped", reason)
    assert not TriageItem.objects.exists()
    assert AuditEvent.objects.get(action="inbound_email.skip").counts == {"reason": reason}


def test_bounces_are_skipped():
    bounce = message(sender="Mail Delivery System <MAILER-DAEMON@mail.example.net>")
    assert receive(bounce).reason == "bounce (from the mail system)"
    report = (
        b"From: mail-robot@mail.example.net\r\nTo: requests@riverton.example\r\n"
        b"Subject: Delivery Status Notification\r\nMessage-ID: <r@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n--B--\r\n"
    )
    assert inbound_email_receive(raw=report).reason == "delivery report (bounce)"
    assert not TriageItem.objects.exists()


def test_auto_submitted_no_is_a_person_writing():
    assert receive(message(headers={"Auto-Submitted": "no"})).outcome == "triage"


def test_a_message_without_message_id_is_still_taken_in_once():
    mail = message(message_id=None)
    first, second = receive(mail), receive(mail)
    assert (first.outcome, second.outcome) == ("triage", "duplicate")
    assert first.message_id.startswith("<sha256.")


def test_a_tracking_secret_quoted_back_to_us_is_not_kept(case):
    link = f"https://report.riverton.example/portal/track/{case.reference}?t=SeCrEt123"
    result = receive(message(subject=f"Re: {case.reference}", body=f"Is this right? {link}"))
    summary = Interaction.objects.get(pk=result.interaction_id).summary
    assert "SeCrEt123" not in summary
    assert summary.endswith(
        f"Is this right? https://report.riverton.example/portal/track/{case.reference}"
    )


def test_a_sent_date_in_the_future_is_not_believed():
    mail = message()
    mail.replace_header("Date", "Fri, 01 Jan 2100 00:00:00 +0000")
    result = receive(mail)
    assert TriageItem.objects.get(pk=result.triage_item_id).received_at == T0


def test_html_to_text_keeps_paragraphs_apart():
    assert html_to_text("<p>One</p><p>Two<br>Three</p>") == "One\n\nTwo\nThree"


def test_parsing_reads_encoded_headers():
    mail = message(subject="=?utf-8?q?Farola_rota_en_la_calle_Ma=C3=B1ana?=")
    assert email_parse(mail.as_bytes()).subject == "Farola rota en la calle Mañana"


# -- the command, end to end ----------------------------------------------------------------


def test_mail_sent_over_smtp_is_read_from_the_maildir_once(tmp_path, case):
    maildir = tmp_path / "Maildir"
    with smtp_server(maildir=str(maildir)) as server:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as client:
            for mail in (
                message(subject=f"Re: {case.reference}", message_id="<a@x>"),
                message(subject="Overflowing bin", message_id="<b@x>"),
                message(
                    subject="Out of office",
                    message_id="<c@x>",
                    headers={"Auto-Submitted": "auto-replied"},
                ),
            ):
                client.send_message(mail, to_addrs=[INTAKE])
    assert len(server.received) == 3

    call_command("read_mail", "--maildir", str(maildir), stdout=(out := StringIO()))
    assert f"added to case {case.reference}" in out.getvalue()
    assert "skipped: auto-submitted (auto-replied)" in out.getvalue()
    assert "read-mail: 1 added to cases, 1 for triage, 0 read before, 1 skipped" in out.getvalue()
    assert Interaction.objects.filter(case=case).count() == 1
    assert TriageItem.objects.filter(status="open").count() == 1
    box = mailbox.Maildir(str(maildir), create=False)
    assert all("S" in box.get_message(key).get_flags() for key in box.keys())

    call_command("read_mail", "--maildir", str(maildir), stdout=(again := StringIO()))
    assert "read-mail: 0 added to cases, 0 for triage, 0 read before, 0 skipped" in again.getvalue()


def test_message_files_and_an_mbox_are_read_and_reading_twice_changes_nothing(tmp_path, case):
    eml = tmp_path / "reply.eml"
    eml.write_bytes(message(subject=f"Re: {case.reference}", message_id="<f@x>").as_bytes())
    box = mailbox.mbox(str(tmp_path / "intake.mbox"))
    box.add(message(subject="Graffiti on the bridge", message_id="<g@x>"))
    box.add(message(subject=f"Re: {case.reference}", message_id="<f@x>"))
    box.flush()
    box.close()

    call_command("read_mail", str(eml), stdout=StringIO())
    call_command("read_mail", "--mbox", str(tmp_path / "intake.mbox"), stdout=(out := StringIO()))
    assert "read-mail: 0 added to cases, 1 for triage, 1 read before, 0 skipped" in out.getvalue()
    call_command("read_mail", str(eml), "--mbox", str(tmp_path / "intake.mbox"), stdout=StringIO())
    assert Interaction.objects.filter(case=case).count() == 1
    assert TriageItem.objects.count() == 2


def test_the_command_needs_a_source_and_says_what_is_wrong(tmp_path):
    with pytest.raises(CommandError, match="give message files"):
        call_command("read_mail")
    with pytest.raises(CommandError, match="is not a Maildir"):
        call_command("read_mail", "--maildir", str(tmp_path))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("read_mail", str(tmp_path / "missing.eml"))
    assert not TriageItem.objects.exists()
