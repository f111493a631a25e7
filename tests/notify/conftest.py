"""Fixtures for notifications: a case whose reporter asked to be told, a real SMTP server
and a real SMS gateway on loopback, and domain events delivered as after a commit."""

from __future__ import annotations

import datetime as dt

import pytest

from civicloop.cases.services import new_reference
from civicloop.core import clock
from civicloop.core.events import DomainEvent, publish
from tests import factories as f
from tests.notify.servers import sms_gateway, smtp_server

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SECRET = "s3cret-Tr4cking-Token_abc"


@pytest.fixture(autouse=True)
def frozen_clock():
    with clock.frozen_at(T0):
        yield


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, and Django's SMTP backend pointed at it."""
    with smtp_server() as inbox:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = inbox.port
        settings.EMAIL_TIMEOUT = 5
        settings.DEFAULT_FROM_EMAIL = "Riverton <no-reply@riverton.example>"
        settings.CIVICLOOP = {
            **settings.CIVICLOOP,
            "INTAKE_EMAIL": "requests@riverton.example",
            "PUBLIC_BASE_URL": "https://report.riverton.example",
        }
        yield inbox


@pytest.fixture
def gateway(settings):
    """A Twilio-compatible SMS gateway on loopback, configured as the SMS provider."""
    with sms_gateway() as server:
        settings.CIVICLOOP = {
            **settings.CIVICLOOP,
            "PUBLIC_BASE_URL": "https://report.riverton.example",
            "SMS": {
                "PROVIDER": "twilio",
                "URL": server.url,
                "ACCOUNT": "AC0123",
                "TOKEN": "gateway-token",
                "FROM": "+447700900999",
                "DEFAULT_COUNTRY_CODE": "44",
                "TIMEOUT": 5,
            },
        }
        yield server


@pytest.fixture
def make_case(db):
    """A case reported by someone who asked to be told by `channel` (email by default)."""

    def make(channel="email", consent=True, language="", sensitive=False, **fields):
        service = f.ServiceFactory(name="Pothole repair", sensitive=sensitive)
        values = {
            "reference": new_reference(),
            "service": service,
            "person": None,
            "description": "Deep hole outside 12 Mill Lane, my car was damaged",
            "reporter_name": "Zed Quill",
            "reporter_email": "zed.quill@example.net",
            "reporter_phone": "07700 900123",
            "reporter_language": language,
            "contact_consent": consent,
            "notify_channel": channel,
            **fields,
        }
        return f.CaseFactory(**values)

    return make


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Publish domain events and deliver them as a commit would (subscribers run)."""

    def send(*events: DomainEvent) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            for event in events:
                publish(event)

    return send


def received(case, secret=SECRET) -> DomainEvent:
    """The event the intake core publishes when a report arrives."""
    return DomainEvent(
        "report.received", "case", case.id, None, {"case_id": case.id, "tracking_secret": secret}
    )
