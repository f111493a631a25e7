"""Every staff page in a real Chromium, with JavaScript off and on: zero axe-core
violations at WCAG 2.2 AA, and the keyboard paths people rely on (skip link, error summary)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.staff.pages import all_pages
from tests.support import assert_no_axe_violations
from tests.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JS_MODES = [pytest.param(False, id="no-js"), pytest.param(True, id="js")]


@pytest.fixture
def world(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_world()


@pytest.fixture
def signed_in(browser_context_factory, live_server):
    """A page in a browser context that carries the session of the given staff member."""

    def make(staff, *, javascript: bool):
        client = Client()
        client.force_login(staff.user)
        context = browser_context_factory(java_script_enabled=javascript)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        return context.new_page()

    return make


def open_page(page, url: str, status: int = 200):
    response = page.goto(url)
    assert response is not None and response.status == status, (
        f"{url}: {response and response.status}"
    )
    return response


@pytest.mark.parametrize("javascript", JS_MODES)
def test_every_caseworker_page_has_no_axe_violations(world, signed_in, live_server, javascript):
    page = signed_in(world.housing_worker, javascript=javascript)
    for _name, path in all_pages(world):
        open_page(page, live_server.url + path)
        assert_no_axe_violations(page)


@pytest.mark.parametrize("javascript", JS_MODES)
def test_home_pages_of_analyst_admin_and_supervisor_have_no_axe_violations(
    world, signed_in, live_server, javascript
):
    for who in ("analyst", "admin", "housing_supervisor"):
        page = signed_in(getattr(world, who), javascript=javascript)
        open_page(page, live_server.url + reverse("staff:home"))
        assert_no_axe_violations(page)
    # The supervisor's case page has the assignment form instead of "Assign to me".
    open_page(page, live_server.url + reverse("staff:case_detail", args=[world.housing_case.id]))
    assert_no_axe_violations(page)


@pytest.mark.parametrize("javascript", JS_MODES)
def test_refusal_pages_have_no_axe_violations(
    world, browser_context_factory, signed_in, live_server, javascript
):
    anonymous = browser_context_factory(java_script_enabled=javascript).new_page()
    open_page(anonymous, live_server.url + reverse("staff:person_search"), status=401)
    assert_no_axe_violations(anonymous)
    page = signed_in(world.analyst, javascript=javascript)
    open_page(page, live_server.url + reverse("staff:person_search"), status=403)
    assert_no_axe_violations(page)
    page = signed_in(world.childcare_worker, javascript=javascript)
    open_page(
        page, live_server.url + reverse("staff:person_detail", args=[world.alice.id]), status=404
    )
    assert_no_axe_violations(page)


@pytest.mark.parametrize("javascript", JS_MODES)
def test_sign_in_with_the_keyboard_then_skip_to_content(
    world, browser_context_factory, live_server, javascript
):
    from tests.factories import PASSWORD

    page = browser_context_factory(java_script_enabled=javascript).new_page()
    open_page(page, live_server.url + reverse("staff:person_search"), status=401)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"
    page.fill("#id_username", "hana.housing")
    page.fill("#id_password", "wrong")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".error-summary").is_visible()
    assert_no_axe_violations(page)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + reverse("staff:person_search"))
    assert page.locator("h1").inner_text() == "Find a person"


@pytest.mark.parametrize("javascript", JS_MODES)
def test_a_failed_form_shows_an_error_summary_that_links_to_the_field(
    world, signed_in, live_server, javascript
):
    page = signed_in(world.housing_worker, javascript=javascript)
    open_page(page, live_server.url + reverse("staff:person_contact", args=[world.alice.id]))
    page.get_by_role("button", name="Log contact").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    # The summary takes focus (autofocus) so a screen reader announces it first.
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert_no_axe_violations(page)
    summary.get_by_role("link", name="Enter a summary of the contact.").click()
    assert page.evaluate("document.activeElement.id") == "id_summary"
    page.fill("#id_summary", "Asked about the repair date")
    page.get_by_label("Phone").check()
    page.get_by_label("From the citizen").check()
    page.get_by_role("button", name="Log contact").click()
    page.wait_for_load_state()
    assert page.url.startswith(
        live_server.url + reverse("staff:person_detail", args=[world.alice.id])
    )
    assert page.get_by_role("status").filter(has_text="Contact logged.").is_visible()
    assert_no_axe_violations(page)


@pytest.mark.parametrize("javascript", JS_MODES)
def test_timeline_filter_and_case_transition_work_without_reload_tricks(
    world, signed_in, live_server, javascript
):
    page = signed_in(world.housing_worker, javascript=javascript)
    open_page(page, live_server.url + reverse("staff:person_detail", args=[world.alice.id]))
    page.select_option("#id_department", label="Employment")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "Showing entries from Employment only" in page.content()
    assert_no_axe_violations(page)
    open_page(page, live_server.url + reverse("staff:case_detail", args=[world.housing_case.id]))
    page.get_by_label("In progress").check()
    page.get_by_role("button", name="Change status").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").filter(has_text="Case moved to In progress.").is_visible()
    assert_no_axe_violations(page)
