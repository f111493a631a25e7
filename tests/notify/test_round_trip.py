"""The loop end to end, without a browser: a report through the intake core, the opening
email over SMTP with a tracking link that opens the reporter's page, and the reporter's
reply read back from a Maildir as a contact on the same case."""

from __future__ import annotations

import mailbox
import re
import smtplib
from email.message import EmailMessage
from io import StringIO

import pytest
from django.core.management import call_command

from civicloop.cases.models import Interaction
from civicloop.intake.services import ReportIn, report_submit
from civicloop.notify.models import Notification
from civicloop.notify.services import notification_send
from tests.intake.intake_city import INSIDE, build_city
from tests.notify.servers import smtp_server

pytestmark = pytest.mark.django_db


def test_report_email_tracking_link_and_reply(
    smtp, settings, client, tmp_path, django_capture_on_commit_callbacks
):
    build_city()
    with django_capture_on_commit_callbacks(execute=True):
        receipt = report_submit(
            report=ReportIn(
                service_code="STR-POTHOLE",
                description="Deep hole by the bus stop",
                latitude=INSIDE[0],
                longitude=INSIDE[1],
                attributes={"where": "road"},
                first_name="Sam",
                email="sam@example.net",
                contact_consent=True,
                notify_channel="email",
            ),
            channel="web",
        )
    case = receipt.case
    [notification] = Notification.objects.filter(case=case)
    notification_send(notification_id=notification.id)

    [mail] = smtp.received
    message = mail.message
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"https://report\.riverton\.example(/portal/track/\S+\?t=\S+)", text).group(1)
    assert receipt.tracking_secret in link
    page = client.get(link)
    assert page.status_code == 200 and case.reference in page.content.decode()

    reply = EmailMessage()
    reply["From"] = "Sam <sam@example.net>"
    reply["To"] = message["Reply-To"]
    reply["Subject"] = "Re: " + message["Subject"]
    reply["Message-ID"] = "<reply-1@example.net>"
    reply["In-Reply-To"] = message["Message-ID"]
    reply.set_content(f"It is getting bigger.\n\nOn Monday, Riverton wrote:\n> {text}")
    maildir = tmp_path / "intake"
    with smtp_server(maildir=str(maildir)) as intake:
        with smtplib.SMTP("127.0.0.1", intake.port, timeout=5) as connection:
            connection.send_message(reply)
    assert len(mailbox.Maildir(str(maildir), create=False)) == 1

    call_command("read_mail", "--maildir", str(maildir), stdout=StringIO())
    contact = Interaction.objects.get(case=case, channel="email")
    assert contact.direction == "inbound"
    assert "It is getting bigger." in contact.summary
    assert receipt.tracking_secret not in contact.summary
