"""Every public form is protected: CSRF, a honeypot people never see, a minimum time to
fill it in, and a rate limit per client; each refusal changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from civicloop.cases.models import Case
from civicloop.portal import guard
from civicloop.portal.draft import SESSION_KEY
from tests.portal.conftest import Citizen, form_data, step_url

pytestmark = pytest.mark.django_db


def test_a_filled_honeypot_is_refused(client, city):
    citizen = Citizen(client)
    citizen.report_pothole(city)
    before = dict(client.session[SESSION_KEY])
    response = citizen.answer(step_url("description"), description="Buy now", website="http://spam")
    assert response.status_code == 422
    assert "We could not accept this form" in response.content.decode()
    assert dict(client.session[SESSION_KEY]) == before
    response = client.post(reverse("portal:report_check"), form_data(website="x"))
    assert response.status_code == 422
    assert Case.objects.count() == 0


def test_a_form_sent_back_too_fast_is_refused(client, city, settings):
    citizen = Citizen(client)
    citizen.report_pothole(city)
    settings.CIVICLOOP = {**settings.CIVICLOOP, "PORTAL_MIN_FORM_SECONDS": 30}
    response = citizen.send()
    assert response.status_code == 422
    html = response.content.decode()
    assert "quicker than we expected" in html
    assert Case.objects.count() == 0
    assert guard.STARTED_FIELD in html, "a fresh timer comes with the page, to try again"


def test_a_form_without_its_timer_is_refused(client, city):
    Citizen(client).report_pothole(city)
    response = client.post(reverse("portal:report_check"), {"website": ""})
    assert response.status_code == 422
    assert "This page has expired" in response.content.decode()
    forged = client.post(reverse("portal:report_check"), {"form_started": "1700000000"})
    assert forged.status_code == 422
    assert Case.objects.count() == 0


def test_csrf_is_checked_on_every_portal_form(city):
    client = Client(enforce_csrf_checks=True)
    for url in (
        reverse("portal:report_start", args=["PTH"]),
        step_url("description"),
        reverse("portal:report_check"),
        reverse("portal:track_update", args=["CL-0000-0000"]),
        reverse("portal:set_language"),
    ):
        assert client.post(url, form_data()).status_code == 403, url
    assert Case.objects.count() == 0


def test_too_many_posts_from_one_client_are_paused(client, city, settings):
    settings.CIVICLOOP = {
        **settings.CIVICLOOP,
        "RATE_LIMITS": {"default": "1000/minute", "portal.form": "3/minute"},
    }
    citizen = Citizen(client)
    for _ in range(3):
        assert citizen.start(city.pothole).status_code == 302
    response = citizen.start(city.pothole)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many requests" in response.content.decode()
    # Someone else, from another address, is not held up.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert Citizen(other).start(city.pothole).status_code == 302


def test_sending_reports_has_its_own_limit(client, city, settings):
    settings.CIVICLOOP = {
        **settings.CIVICLOOP,
        "RATE_LIMITS": {"default": "1000/minute", "portal.submit": "1/hour"},
    }
    citizen = Citizen(client)
    citizen.report_pothole(city)
    assert citizen.send().status_code == 302
    citizen.report_pothole(city, same_as="no")  # the first one is now an open report nearby
    assert citizen.send().status_code == 429
    assert Case.objects.count() == 1
