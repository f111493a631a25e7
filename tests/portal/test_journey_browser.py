"""The issue's journey in a real Chromium with JavaScript off: a citizen reports a pothole
in the portal, receives the email (caught by a real SMTP server on loopback, sent by the
task worker through Django's SMTP backend), opens its tracking link, sees the status a
caseworker gave the report, says it is not fixed and reopens it."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from civicloop.cases.models import Case, CaseEvent
from civicloop.cases.services import case_transition
from civicloop.core.access import Viewer
from tests.notify.servers import smtp_server
from tests.portal.conftest import build_city
from tests.support import assert_no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def run_task_worker() -> None:
    """What `civicloop serve` runs beside the web server: here, until the queue is empty."""
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def submit(page) -> None:
    with page.expect_navigation():
        page.locator("main button[type=submit]").last.click()


def test_a_citizen_reports_a_pothole_follows_it_by_email_and_reopens_it(
    transactional_db, live_server, page_no_js, settings
):
    city = build_city()
    with smtp_server() as inbox:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = inbox.port
        settings.EMAIL_TIMEOUT = 5
        settings.CIVICLOOP = {**settings.CIVICLOOP, "PUBLIC_BASE_URL": live_server.url}
        page = page_no_js

        # Find the service and report the pothole, one question per page.
        page.goto(live_server.url + "/portal/")
        page.fill("#id_q", "pothole")
        submit(page)
        with page.expect_navigation():
            page.get_by_role("link", name="Pothole", exact=True).click()
        submit(page)  # Start now
        page.fill("#id_address", "12 High Street")
        submit(page)
        assert "12 High Street, Riverton, RV1 1AB" in page.content()
        page.get_by_label("12 High Street, Riverton, RV1 1AB").check()
        submit(page)
        page.get_by_label("Deeper than a hand").check()
        submit(page)
        page.fill("#id_description", "A deep pothole in the cycle lane by the bus stop.")
        submit(page)
        submit(page)  # no photo
        page.get_by_label("Yes, by email").check()
        submit(page)
        page.fill("#id_name", "Sam Reporter")
        page.fill("#id_email", "sam@example.net")
        submit(page)
        assert page.locator("h1").inner_text() == "Check your answers before sending your report"
        submit(page)
        assert "Report sent" in page.locator("h1").inner_text()
        case = Case.objects.get()
        assert case.reference in page.locator(".panel").inner_text()

        # The email arrives, with the tracking link.
        run_task_worker()
        [mail] = inbox.received
        assert mail.rcpt_tos == ["sam@example.net"]
        message = mail.message
        assert case.reference in message["Subject"]
        text = message.get_body(("plain",)).get_content()
        link = re.search(rf"{re.escape(live_server.url)}/portal/track/\S+\?t=\S+", text).group(0)

        # A caseworker resolves it.
        worker = Viewer(
            user_id=city.worker.user_id,
            role="caseworker",
            department_ids=frozenset({city.streets.id}),
            staff_id=city.worker.id,
        )
        case_transition(viewer=worker, case_id=case.id, to_status="resolved", version=None)

        # The citizen follows the link, sees the change, and says it is not fixed.
        response = page.goto(link)
        assert response.status == 200
        assert f"Your report {case.reference}" in page.locator("h1").inner_text()
        assert "Resolved" in page.locator(".summary-list").inner_text()
        assert_no_axe_violations(page)
        page.get_by_label("No, it is not fixed").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Send answer").click()
        page.fill("#id_reason", "The hole is still there; nothing was done.")
        submit(page)
        assert "Your report has been reopened" in page.locator(".notification").inner_text()
        assert "In progress" in page.locator(".summary-list").inner_text()

        case.refresh_from_db()
        assert case.status == "in_progress" and case.reopen_count == 1
        reopening = CaseEvent.objects.filter(case=case, kind="status").latest("id")
        assert reopening.from_status == "resolved" and reopening.actor is None

        # And the reporter is told of each change of status.
        run_task_worker()
        subjects = [m.message["Subject"] for m in inbox.received]
        assert len(subjects) == 3, subjects
        assert all(case.reference in s for s in subjects)
