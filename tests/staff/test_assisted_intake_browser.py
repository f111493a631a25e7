"""A phone call taken in a real Chromium with JavaScript off: sign in, look the caller up, add
them, fix what the error summary points at, open the case; then a caller who is already
known is offered by the duplicate check. Zero axe-core violations on every page on the way."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicloop.cases.models import Case
from civicloop.linkage.matching import matchindex_rebuild
from civicloop.people.models import Person
from tests import factories as f
from tests.factories import PASSWORD
from tests.support import assert_no_axe_violations
from tests.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = build_world()
    world.advice = f.ServiceFactory(
        code="HSG-ADVICE", name="Housing advice", department=world.housing
    )
    f.NeedFactory(code="income", name="Income")
    matchindex_rebuild()
    return world


def sign_in(page, live_server, staff, path: str) -> None:
    response = page.goto(live_server.url + path)
    assert response.status == 401
    page.fill("#id_username", staff.user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == live_server.url + path


def submit(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_a_phone_call_from_start_to_case_without_javascript(world, page_no_js, live_server):
    page = page_no_js
    sign_in(page, live_server, world.housing_worker, reverse("staff:home"))
    with page.expect_navigation():
        page.get_by_role("link", name="Phone and in-person intake").click()
    assert page.locator("h1").inner_text() == "Phone or in-person intake"
    assert_no_axe_violations(page)

    # Nobody of that name is known: add them, starting from what was searched.
    page.fill("#id_name", "Zebedee Quill")
    submit(page, "Search")
    assert page.get_by_role("status").inner_text().startswith("No one your departments serve")
    assert_no_axe_violations(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Add a new person").click()
    assert page.input_value("#id_given_name") == "Zebedee"
    assert page.input_value("#id_family_name") == "Quill"
    assert_no_axe_violations(page)

    # A first try with gaps: the error summary takes focus and leads to each field.
    page.fill("#id_date_of_birth", "02/02/1990")
    submit(page, "Open case")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.title().startswith("Error:")
    assert_no_axe_violations(page)
    link = summary.get_by_role("link", name="Choose a service from the list.")
    link.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_service"
    assert Person.objects.filter(family_name="Quill").count() == 0

    page.select_option("#id_service", label="Housing advice")
    page.select_option("#id_need", label="Income")
    page.fill("#id_description", "Behind on rent after losing shifts")
    page.get_by_label("Phone", exact=True).check()
    page.fill("#id_summary", "Rang about arrears; budgeting form sent")
    submit(page, "Open case")
    case = Case.objects.get(person__family_name="Quill")
    assert page.url == live_server.url + reverse("staff:case_detail", args=[case.id])
    notice = page.get_by_role("status").inner_text()
    assert f"Case {case.reference} opened for Zebedee Quill." in notice
    assert "Contact logged." in notice
    assert page.locator("table").filter(has_text="Rang about arrears").is_visible()
    assert_no_axe_violations(page)


def test_a_known_caller_is_offered_instead_of_a_duplicate(world, page_no_js, live_server):
    page = page_no_js
    sign_in(page, live_server, world.housing_worker, reverse("staff:intake") + "?new=1")
    page.fill("#id_given_name", "Alice")
    page.fill("#id_family_name", "Okafor")
    page.fill("#id_date_of_birth", "14/03/1985")
    page.select_option("#id_service", label="Housing advice")
    page.select_option("#id_need", label="Income")
    page.fill("#id_description", "Asking about help with bills")
    page.get_by_label("In person").check()
    page.fill("#id_summary", "Came to the desk")
    people = Person.objects.count()
    submit(page, "Open case")
    assert page.get_by_role("heading", name="Is this one of these people?").is_visible()
    assert page.input_value("#id_description") == "Asking about help with bills"
    assert_no_axe_violations(page)

    # Continuing without an answer is caught, and the summary links to the choice.
    submit(page, "Open case")
    page.locator(".error-summary").get_by_role("link", name="Choose one of these people").click()
    assert_no_axe_violations(page)
    page.locator(f"#match-{world.alice.id}").check()
    submit(page, "Open case")
    case = Case.objects.latest("id")
    assert case.person == world.alice and case.channel == "in_person"
    assert Person.objects.count() == people
    assert page.get_by_role("status").filter(has_text="opened for Alice Okafor").is_visible()
