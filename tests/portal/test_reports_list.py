"""The public list of recent reports: newest first, by service and area, a page at a time,
and never a reporter's name, email or phone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from civicloop.core import clock
from tests import factories as f
from tests.support import assert_valid_html

pytestmark = pytest.mark.django_db


def public_case(city, service=None, *, area=None, days_ago=0, **fields):
    area = area or city.ward
    return f.CaseFactory(
        service=service or city.pothole,
        person=None,
        area=area,
        latitude=51.5,
        longitude=-0.1,
        opened_at=clock.now() - dt.timedelta(days=days_ago),
        reporter_name="Private Person",
        reporter_email="private@example.net",
        reporter_phone="07700 900 777",
        **fields,
    )


def references(response) -> list[str]:
    return [r.reference for r in response.context["reports"]]


def test_recent_reports_newest_first_without_personal_data(client, city):
    older = public_case(city, days_ago=3, description="Older hole")
    newer = public_case(city, city.lights, days_ago=1, description="Lamp out")
    f.CaseFactory(service=city.repair, description="A private repair request")
    response = client.get(reverse("portal:reports"))
    assert response.status_code == 200
    html = response.content.decode()
    assert_valid_html(html)
    assert references(response) == [newer.reference, older.reference]
    assert "A private repair request" not in html, "only reports about places are public"
    for value in ("Private Person", "private@example.net", "07700 900 777"):
        assert value not in html


def test_filter_by_service_and_area(client, city):
    elsewhere = f.AreaFactory(code="W02", name="Hilltop")
    hole = public_case(city)
    lamp = public_case(city, city.lights)
    far_hole = public_case(city, area=elsewhere)
    by_service = client.get(reverse("portal:reports"), {"service": "PTH"})
    assert set(references(by_service)) == {hole.reference, far_hole.reference}
    by_area = client.get(reverse("portal:reports"), {"area": "W02"})
    assert references(by_area) == [far_hole.reference]
    both = client.get(reverse("portal:reports"), {"service": "LGT", "area": "W01"})
    assert references(both) == [lamp.reference]


def test_an_unknown_filter_is_refused_with_a_linked_error(client, city):
    response = client.get(reverse("portal:reports"), {"service": "HLT-MENTAL"})
    assert response.status_code == 422
    html = response.content.decode()
    assert_valid_html(html)
    assert 'href="#id_service"' in html and "Choose a service from the list." in html


def test_reports_come_a_page_at_a_time(client, city, settings):
    settings.CIVICLOOP = {**settings.CIVICLOOP, "PORTAL_PAGE_SIZE": 2}
    cases = [public_case(city, days_ago=n) for n in range(5)]
    first = client.get(reverse("portal:reports"), {"service": "PTH"})
    assert references(first) == [c.reference for c in cases[:2]]
    assert first.context["next_url"] and not first.context["previous_url"]
    third = client.get(reverse("portal:reports"), {"service": "PTH", "page": "3"})
    assert references(third) == [cases[4].reference]
    assert third.context["previous_url"] and not third.context["next_url"]
    assert "service=PTH" in third.context["previous_url"], "the filter is kept"
