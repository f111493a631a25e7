"""The newcomer's path, end to end in a real browser with JavaScript off: an empty
database, the demo city, a printed demo login, a search, and the 360° view."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from civicloop.catalogue.models import Service
from civicloop.demo.showcase import person_with_cases_in_departments
from civicloop.people.models import Person
from tests.support import assert_no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_newcomer_finds_a_person_and_sees_what_every_department_does(
    live_server, page_no_js, settings
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert not Person.objects.exists()
    out = StringIO()
    call_command("demo", people=400, seed=11, stdout=out)
    printed = out.getvalue()
    password = re.search(r"password for all: (\S+?)\)", printed).group(1)
    assert re.search(r"\bhousing\.caseworker\b", printed)

    person_id = person_with_cases_in_departments(
        min_departments=3, with_sensitive=True, visible_to_department="housing"
    )
    person = Person.objects.get(pk=person_id)
    departments = set(person.cases.values_list("department__code", flat=True))
    assert len(departments) >= 3 and "housing" in departments and "health" in departments

    page = page_no_js
    response = page.goto(live_server.url + "/")
    assert response.status == 401  # the sign-in form, not someone's data
    page.get_by_label("Username").fill("housing.caseworker")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name=re.compile("Find a person")).first.click()
    page.get_by_label("Name").fill(f"{person.given_name} {person.family_name}")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile(re.escape(person.family_name))).first.click()
    assert page.url.rstrip("/").endswith(f"/people/{person_id}")
    assert person.family_name in page.get_by_role("heading", level=1).inner_text()

    own = page.get_by_role("table", name="Cases held by your departments")
    own_departments = {t.strip() for t in own.locator("tbody tr td:nth-child(3)").all_inner_texts()}
    assert own_departments == {"Housing"}
    assert own.locator("tbody tr th a").count() >= 1  # full cases link to their detail

    summary = page.get_by_role("table", name="Cases held by other departments, in summary")
    summary_departments = {t.strip() for t in summary.locator("tbody tr th").all_inner_texts()}
    assert len(summary_departments) >= 2 and "Housing" not in summary_departments
    assert summary.locator("a").count() == 0  # summary lines: no links, no references

    text = page.locator("main").inner_text()
    for name in Service.objects.filter(sensitive=True).values_list("name", flat=True):
        assert name not in text, f"sensitive service {name!r} shown to housing"
    for case in person.cases.exclude(department__code="housing"):
        assert case.reference not in text
        if case.description:
            assert case.description[:40] not in text
    assert_no_axe_violations(page)
