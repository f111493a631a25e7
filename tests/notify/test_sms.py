"""Text messages through a Twilio-compatible gateway: a real HTTP server on loopback."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from civicloop.notify.errors import SendFailed
from civicloop.notify.models import Notification
from civicloop.notify.services import notification_send
from civicloop.notify.sms import LoggingSmsProvider, e164, sms_provider
from tests.notify.conftest import SECRET, received

pytestmark = pytest.mark.django_db


def send_all() -> list[Notification]:
    return [
        notification_send(notification_id=n.id)
        for n in Notification.objects.filter(status="pending").order_by("id")
    ]


def test_a_received_report_is_texted_through_the_gateway(gateway, make_case, deliver):
    case = make_case(channel="sms")
    deliver(received(case))
    [notification] = send_all()

    [request] = gateway.requests
    assert request.path == "/2010-04-01/Accounts/AC0123/Messages.json"
    assert request.credentials == ("AC0123", "gateway-token")
    assert request.form["To"] == "+447700900123"
    assert request.form["From"] == "+447700900999"
    body = request.form["Body"]
    assert body.startswith("City of Riverton: We have received your report about Pothole repair.")
    assert f"https://report.riverton.example/portal/track/{case.reference}?t={SECRET}" in body
    assert "Zed" not in body and "Mill Lane" not in body
    assert notification.status == "sent" and notification.provider_message_id.startswith("SM")
    assert notification.tracking_secret == ""


def test_a_busy_gateway_is_tried_again_and_a_refusal_is_final(gateway, make_case, deliver):
    gateway.answers += [(503, {"message": "Service unavailable"})]
    gateway.answers += [(400, {"message": "The 'To' number +447700900123 is not valid"})]
    busy = make_case(channel="sms")
    deliver(received(busy))
    [first] = send_all()
    assert (
        first.status == "pending"
        and first.reason == "SMS gateway answered 503: Service unavailable"
    )

    refused = make_case(channel="sms")
    deliver(received(refused))
    [second] = [n for n in send_all() if n.case_id == refused.id]
    assert second.status == "failed" and second.attempts == 1
    assert second.reason == "SMS gateway answered 400: The 'To' number [number] is not valid"


def test_an_unreachable_gateway_is_tried_again(settings, make_case, deliver):
    settings.CIVICLOOP = {
        **settings.CIVICLOOP,
        "SMS": {
            "PROVIDER": "twilio",
            "URL": "http://127.0.0.1:1",
            "ACCOUNT": "AC1",
            "TOKEN": "t",
            "FROM": "+447700900999",
            "DEFAULT_COUNTRY_CODE": "44",
            "TIMEOUT": 2,
        },
    }
    case = make_case(channel="sms")
    deliver(received(case))
    [notification] = send_all()
    assert notification.status == "pending"
    assert notification.reason.startswith("SMS gateway unreachable")


def test_a_number_that_cannot_take_texts_is_not_retried(gateway, make_case, deliver):
    case = make_case(channel="sms", reporter_phone="12")
    deliver(received(case))
    [notification] = send_all()
    assert notification.status == "failed"
    assert notification.reason == "the phone number cannot receive text messages"
    assert gateway.requests == []


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("07700 900123", "+447700900123"),
        ("+44 7700-900123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("+1 202 555 0143", "+12025550143"),
    ],
)
def test_numbers_are_written_in_international_form(phone, expected):
    assert e164(phone, "44") == expected


@pytest.mark.parametrize("phone", ["", "12345", "call me", "07700 900123 ext 4"])
def test_unusable_numbers_are_refused(phone):
    with pytest.raises(SendFailed) as failure:
        e164(phone, "44")
    assert failure.value.permanent


def test_the_logging_provider_writes_the_message_to_the_log(caplog):
    with caplog.at_level(logging.WARNING, logger="civicloop.notify.sms"):
        message_id = LoggingSmsProvider().send(to="+447700900123", body="Report CL-1 received")
    assert message_id.startswith("log-")
    assert "Report CL-1 received" in caplog.text
    assert "7700900" not in caplog.text, "only the last digits of the number are logged"


def test_a_half_configured_gateway_is_refused(settings):
    settings.CIVICLOOP = {**settings.CIVICLOOP, "SMS": {"PROVIDER": "twilio", "URL": "http://x"}}
    with pytest.raises(ImproperlyConfigured):
        sms_provider()
    settings.CIVICLOOP = {**settings.CIVICLOOP, "SMS": {"PROVIDER": "carrier-pigeon"}}
    with pytest.raises(ImproperlyConfigured):
        sms_provider()
