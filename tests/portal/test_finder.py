"""Finding a service: by search (name, keywords, description) or by department. Only
public, active services are offered, and a sensitive service never is."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.portal.conftest import form_data
from tests.support import assert_valid_html

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [s.name for s in response.context["results"]]


def test_home_lists_departments_that_offer_services(client, city):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert_valid_html(html)
    assert "Streets and Roads" in html and "Housing" in html
    assert "Health" not in html, "a department with only a sensitive service offers nothing"
    assert "2 services" in html  # pothole and street lights; not the private or retired ones


@pytest.mark.parametrize(
    "query, expected",
    [
        ("pothole", ["Pothole"]),  # by name; never the sensitive or the retired service
        ("tarmac", ["Pothole"]),  # by keyword
        ("flickering", ["Street light not working"]),  # by description
        ("LEAK", ["Housing repair"]),  # any case
        ("street light", ["Street light not working"]),  # every word must match
    ],
)
def test_search_finds_offered_services(client, city, query, expected):
    response = client.get(reverse("portal:service_search"), {"q": query})
    assert response.status_code == 200
    assert names(response) == expected
    assert_valid_html(response.content)


def test_search_puts_services_named_by_the_words_first(client, city):
    response = client.get(reverse("portal:service_search"), {"q": "street"})
    # "Street light" has the word in its name; the pothole service only in its description.
    assert names(response) == ["Street light not working", "Pothole"]


def test_private_sensitive_and_retired_services_are_never_found(client, city):
    for query in ("inspection", "mental", "old form"):
        response = client.get(reverse("portal:service_search"), {"q": query})
        assert names(response) == [], query


def test_an_empty_search_says_what_to_enter(client, city):
    response = client.get(reverse("portal:service_search"), {"q": "  "})
    assert response.status_code == 422
    html = response.content.decode()
    assert_valid_html(html)
    assert 'href="#id_q"' in html
    assert "Enter what you are looking for" in html
    assert "<title>Error:" in html


def test_a_search_with_no_match_says_so(client, city):
    response = client.get(reverse("portal:service_search"), {"q": "dragons"})
    assert response.status_code == 200
    assert "No service matches your search" in response.content.decode()


def test_department_page_lists_its_offered_services(client, city):
    response = client.get(reverse("portal:department", args=["streets"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pothole" in html and "Street light not working" in html
    assert "Road inspection rota" not in html and "old form" not in html


def test_a_department_offering_nothing_is_not_found(client, city):
    assert client.get(reverse("portal:department", args=["health"])).status_code == 404
    assert client.get(reverse("portal:department", args=["nowhere"])).status_code == 404


def test_service_page_explains_and_starts_a_report(client, city):
    response = client.get(reverse("portal:service", args=["PTH"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert_valid_html(html)
    assert "Report a pothole in a street, road or pavement." in html
    assert "call us on 0300 000 000" in html, "information-only attributes are shown"
    assert reverse("portal:report_start", args=["PTH"]) in html


@pytest.mark.parametrize("code", ["HLT-MENTAL", "INT-ROADS", "OLD-POTHOLE", "NOPE"])
def test_services_not_offered_have_no_page_and_cannot_be_started(client, city, code):
    assert client.get(reverse("portal:service", args=[code])).status_code == 404
    response = client.post(reverse("portal:report_start", args=[code]), form_data())
    assert response.status_code == 404
    assert "civicloop.portal.report" not in client.session
