"""The new staff pages in a real Chromium, with JavaScript off and on: the possible-duplicates
queue and its decisions, the duplicate section of a case page with its error state, the
queue of handled triage items, and the admin's Open311 key pages (issue, revoke after
confirming). Zero axe-core violations (WCAG 2.2 AA) on every page and error state."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from civicloop.core import clock
from civicloop.intake.duplicates import possible_duplicate_dismiss
from civicloop.intake.models import Open311Client, PossibleDuplicate, TriageItem
from tests import factories as f
from tests.support import assert_no_axe_violations, assert_valid_html
from tests.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JS_MODES = [pytest.param(False, id="no-js"), pytest.param(True, id="js")]


@pytest.fixture
def world(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = build_world()
    repairs = world.housing_case.service
    world.newer = f.CaseFactory(service=repairs, person=None, description="Damp upstairs again")
    world.other = f.CaseFactory(service=repairs, person=None, description="Leaking gutter")
    world.pair = PossibleDuplicate.objects.create(
        case=world.newer, candidate=world.housing_case, distance_m=12.0
    )
    world.second_pair = PossibleDuplicate.objects.create(
        case=world.other, candidate=world.housing_case, distance_m=40.0
    )
    TriageItem.objects.create(
        message_id="<done@example.org>",
        sender_email="dora@example.org",
        subject="Thanks for fixing it",
        department=world.housing,
        status=TriageItem.Status.CLOSED,
        closed_reason="no_action",
        handled_by=world.housing_worker,
        handled_at=clock.now(),
    )
    return world


def signed_in_page(browser_context_factory, live_server, staff, javascript: bool):
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


def checked(response, page, status: int = 200) -> None:
    assert response is not None and response.status == status, (page.url, response.status)
    assert_valid_html(response.text())
    assert_no_axe_violations(page)


def go(page, url: str, status: int = 200) -> None:
    checked(page.goto(url), page, status)


def press(page, name: str, status: int = 200, *, nth: int = 0) -> None:
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=name).nth(nth).click()
    checked(navigation.value, page, status)


@pytest.mark.parametrize("javascript", JS_MODES)
def test_duplicates_queue_case_page_and_handled_triage(
    world, browser_context_factory, live_server, javascript
):
    base = live_server.url
    page = signed_in_page(browser_context_factory, live_server, world.housing_worker, javascript)
    go(page, base + reverse("staff:home"))
    with page.expect_navigation():
        page.get_by_role("link", name="Possible duplicates").click()
    assert page.get_by_text("Damp upstairs again").is_visible()
    assert_no_axe_violations(page)

    # The newest pair first: the gutter. Someone else says it is not the same problem
    # while the page is open, so this decision comes second and is told so.
    possible_duplicate_dismiss(
        viewer=world.viewer(world.housing_supervisor), pair_id=world.second_pair.id
    )
    press(page, "Not the same problem", 409)
    assert page.locator(".error-summary").filter(has_text="already decided").is_visible()
    assert page.get_by_text("Leaking gutter").count() == 0
    press(page, "Same problem — mark as duplicate")
    assert page.get_by_role("status").filter(has_text="is now a duplicate of").is_visible()
    assert page.get_by_text("No possible duplicates are waiting for review.").is_visible()
    world.newer.refresh_from_db()
    assert world.newer.duplicate_of_id == world.housing_case.id

    # From a case page: an unknown reference, then the right one, from the keyboard.
    go(page, base + reverse("staff:case_detail", args=[world.other.id]))
    page.fill("#id_duplicate-reference", "CL-NOPE-NOPE")
    press(page, "Mark as duplicate", 422)
    summary = page.locator(".error-summary")
    summary.get_by_role("link", name="No case of your departments").click()
    assert page.evaluate("document.activeElement.id") == "id_duplicate-reference"
    page.fill("#id_duplicate-reference", world.housing_case.reference)
    page.keyboard.press("Enter")
    page.wait_for_url("**#duplicates")
    assert page.get_by_text("This case is now a duplicate of").is_visible()
    assert_no_axe_violations(page)

    # The earlier case's page lists no open pair any more.
    go(page, base + reverse("staff:case_detail", args=[world.housing_case.id]))
    assert page.get_by_text("No open report nearby").is_visible()

    go(page, base + reverse("staff:triage_queue") + "?state=handled")
    assert page.locator("table").get_by_text("Hana Housing").is_visible()
    assert page.get_by_text("No action needed (for example a thank-you)").is_visible()


@pytest.mark.parametrize("javascript", JS_MODES)
def test_the_admin_issues_and_revokes_an_open311_key(
    world, browser_context_factory, live_server, javascript
):
    base = live_server.url
    page = signed_in_page(browser_context_factory, live_server, world.admin, javascript)
    go(page, base + reverse("staff:home"))
    with page.expect_navigation():
        page.get_by_role("link", name="Open311 client keys").click()
    assert page.get_by_text("No client application has a key yet.").is_visible()
    assert_no_axe_violations(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Issue a key for a new application").click()
    assert_no_axe_violations(page)
    press(page, "Issue the key", 422)
    page.locator(".error-summary").get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_name"
    page.fill("#id_name", "Riverton FixMyStreet")
    press(page, "Issue the key")
    key = page.input_value("#open311-key")
    assert key.startswith("o311_")
    client = Open311Client.objects.get()
    assert client.key_prefix == key[:10]

    with page.expect_navigation():
        page.get_by_role("link", name="Back to the client applications").click()
    assert_no_axe_violations(page)
    assert page.get_by_text(key).count() == 0
    with page.expect_navigation():
        page.get_by_role("link", name="Revoke the key of Riverton FixMyStreet").click()
    assert_no_axe_violations(page)
    client.refresh_from_db()
    assert client.active
    press(page, "Yes, revoke the key")
    assert page.get_by_role("status").filter(has_text="is revoked").is_visible()
    client.refresh_from_db()
    assert not client.active
