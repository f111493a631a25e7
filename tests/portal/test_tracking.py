"""Following a report: with the secret of its tracking link the reporter sees their own
view and may add an update, say it was fixed or reopen it; with the reference alone anyone
sees only the public page, which never shows the reporter's name, email or phone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicloop.cases.models import Case, CaseEvent, Interaction
from civicloop.cases.services import case_transition
from civicloop.core.access import Viewer
from civicloop.intake.services import ReportIn, report_submit
from civicloop.trust.models import AuditEvent
from tests.portal.conftest import form_data
from tests.support import assert_valid_html

pytestmark = pytest.mark.django_db

PERSONAL = ["Sam Reporter", "sam@example.net", "07700 900 321", "900 321"]


def make_report(city, service=None, **fields):
    service = service or city.pothole
    values = {
        "service_code": service.code,
        "description": "A deep hole by the bus stop.",
        "first_name": "Sam",
        "last_name": "Reporter",
        "email": "sam@example.net",
        "phone": "07700 900 321",
        "notify_channel": "email",
        "contact_consent": True,
        **fields,
    }
    if service.place_based:
        values.setdefault("address_id", city.high_street[1].uprn)
        values.setdefault("attributes", {"depth": "deep"})
    return report_submit(report=ReportIn(**values), channel="web")


def staff_viewer(city) -> Viewer:
    return Viewer(
        user_id=city.worker.user_id,
        role="caseworker",
        department_ids=frozenset({city.streets.id}),
        staff_id=city.worker.id,
    )


def track(reference, secret=None, name="portal:track"):
    url = reverse(name, args=[reference])
    return f"{url}?t={secret}" if secret is not None else url


def assert_no_personal_data(html: str) -> None:
    for value in PERSONAL:
        assert value not in html, value


def test_the_reporter_sees_their_own_view_with_the_secret(client, city):
    receipt = make_report(city)
    before = AuditEvent.objects.filter(action="case.track").count()
    response = client.get(track(receipt.case.reference, receipt.tracking_secret))
    assert response.status_code == 200
    html = response.content.decode()
    assert_valid_html(html)
    assert f"Your report {receipt.case.reference}" in html
    assert "Add an update" in html
    assert "Is it fixed?" not in html, "an open report is not asked about"
    assert_no_personal_data(html)
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["Referrer-Policy"] == "same-origin"
    assert AuditEvent.objects.filter(action="case.track").count() == before + 1


def test_without_the_secret_anyone_sees_only_the_public_page(client, city):
    receipt = make_report(city)
    for url in (
        track(receipt.case.reference),
        reverse("portal:report_detail", args=[receipt.case.reference]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert_valid_html(html)
        assert f"Report {receipt.case.reference}" in html and "Add an update" not in html
        assert "A deep hole by the bus stop." in html and "12 High Street" in html
        assert_no_personal_data(html)


def test_a_wrong_secret_shows_the_public_page_and_says_the_link_does_not_work(client, city):
    receipt = make_report(city)
    response = client.get(track(receipt.case.reference, "not-the-secret"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "This link does not work" in html and "Add an update" not in html
    # Another report's secret is not this report's secret.
    other = make_report(city, address_id=city.high_street[0].uprn)
    html = client.get(track(receipt.case.reference, other.tracking_secret)).content.decode()
    assert "This link does not work" in html


def test_a_report_that_is_not_public_is_seen_only_with_its_secret(client, city):
    receipt = make_report(city, service=city.repair)
    reference = receipt.case.reference
    assert client.get(track(reference)).status_code == 404
    assert client.get(reverse("portal:report_detail", args=[reference])).status_code == 404
    assert client.get(track(reference, "wrong")).status_code == 404
    response = client.get(track(reference, receipt.tracking_secret))
    assert response.status_code == 200
    assert_no_personal_data(response.content.decode())


def test_the_reporter_adds_an_update_for_the_team(client, city):
    receipt = make_report(city)
    url = reverse("portal:track_update", args=[receipt.case.reference])
    response = client.post(
        url, form_data(t=receipt.tracking_secret, update="It is getting bigger.")
    )
    assert response.status_code == 302
    assert response["Location"] == track(receipt.case.reference, receipt.tracking_secret)
    contact = Interaction.objects.get(case=receipt.case)
    assert contact.summary == "It is getting bigger." and contact.channel == "web"
    assert contact.direction == "inbound" and contact.actor is None
    event = AuditEvent.objects.get(action="contact.log")
    assert event.actor_role == "reporter" and event.object_ids == [contact.id, receipt.case.id]
    assert "bigger" not in str(event.fields) + str(event.counts)
    page = client.get(response["Location"]).content.decode()
    assert "Your update has been sent" in page
    assert "It is getting bigger." not in client.get(track(receipt.case.reference)).content.decode()


def test_an_update_needs_the_secret_and_some_words(client, city):
    receipt = make_report(city)
    url = reverse("portal:track_update", args=[receipt.case.reference])
    assert client.post(url, form_data(t="guess", update="Hello")).status_code == 404
    assert client.post(url, form_data(update="Hello")).status_code == 404
    response = client.post(url, form_data(t=receipt.tracking_secret, update="  "))
    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#id_update"' in html and "Enter your update." in html
    assert Interaction.objects.count() == 0


def test_the_reporter_says_it_is_not_fixed_and_reopens_it(client, city):
    receipt = make_report(city)
    case = receipt.case
    case_transition(viewer=staff_viewer(city), case_id=case.id, to_status="resolved", version=None)
    page = client.get(track(case.reference, receipt.tracking_secret))
    html = page.content.decode()
    assert "Resolved" in html and "Is it fixed?" in html

    response = client.post(
        reverse("portal:track_fixed", args=[case.reference]),
        form_data(t=receipt.tracking_secret, fixed="no"),
    )
    reopen_url = track(case.reference, receipt.tracking_secret, "portal:track_reopen")
    assert response.status_code == 302 and response["Location"] == reopen_url
    page = client.get(reopen_url)
    assert page.status_code == 200
    assert_valid_html(page.content)
    missing = client.post(reopen_url, form_data(t=receipt.tracking_secret, reason=""))
    assert missing.status_code == 422
    assert 'href="#id_reason"' in missing.content.decode()

    response = client.post(
        reverse("portal:track_reopen", args=[case.reference]),
        form_data(t=receipt.tracking_secret, reason="Still a hole; the patch washed out."),
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_progress" and case.reopen_count == 1
    assert case.resolved_at is None
    change = CaseEvent.objects.filter(case=case, kind="status").latest("id")
    assert (change.from_status, change.to_status) == ("resolved", "in_progress")
    assert change.actor is None and change.note == "Still a hole; the patch washed out."
    audit = AuditEvent.objects.filter(action="case.transition", actor_role="reporter").get()
    assert audit.object_ids == [case.id]
    html = client.get(response["Location"]).content.decode()
    assert "Your report has been reopened" in html and "In progress" in html


def test_the_reporter_confirms_it_is_fixed(client, city):
    receipt = make_report(city)
    case = receipt.case
    case_transition(viewer=staff_viewer(city), case_id=case.id, to_status="closed", version=None)
    response = client.post(
        reverse("portal:track_fixed", args=[case.reference]),
        form_data(t=receipt.tracking_secret, fixed="yes"),
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "closed"
    contact = Interaction.objects.get(case=case)
    assert contact.summary == "The reporter confirmed the problem is fixed."
    refused = client.post(
        reverse("portal:track_fixed", args=[case.reference]),
        form_data(t=receipt.tracking_secret),
    )
    assert refused.status_code == 422
    assert 'href="#id_fixed_0"' in refused.content.decode()


def test_an_open_report_cannot_be_reopened(client, city):
    receipt = make_report(city)
    reopen_url = track(receipt.case.reference, receipt.tracking_secret, "portal:track_reopen")
    response = client.post(reopen_url, form_data(t=receipt.tracking_secret, reason="Again"))
    assert response.status_code == 302
    assert Case.objects.get().reopen_count == 0
    response = client.post(
        reverse("portal:track_fixed", args=[receipt.case.reference]),
        form_data(t=receipt.tracking_secret, fixed="yes"),
    )
    assert response.status_code == 422
    assert "still open" in response.content.decode()


def test_finding_a_report_by_its_reference(client, city):
    receipt = make_report(city)
    reference = receipt.case.reference
    page = client.get(reverse("portal:track_find"))
    assert page.status_code == 200
    assert_valid_html(page.content)
    typed = reference.lower().replace("-", " ")
    response = client.get(reverse("portal:track_find"), {"reference": typed})
    assert response["Location"] == reverse("portal:report_detail", args=[reference])
    response = client.get(reverse("portal:track_find"), {"reference": "CL-0000-0000"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#id_reference"' in html and "We could not find a public report" in html
