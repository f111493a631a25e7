"""The triage queue in a real Chromium, with JavaScript off and on: every page and every
error state has zero axe-core violations, and each action works from the keyboard's forms."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from civicloop.intake.models import TriageItem
from tests import factories as f
from tests.support import assert_no_axe_violations
from tests.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JS_MODES = [pytest.param(False, id="no-js"), pytest.param(True, id="js")]


@pytest.fixture
def world(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = build_world()
    f.ServiceFactory(code="HSG-ADVICE", name="Housing advice", department=world.housing)
    f.NeedFactory(code="income", name="Income")
    world.unrouted = TriageItem.objects.create(
        message_id="<b1@example.org>",
        sender_email="dora@example.org",
        sender_name="Dora Mensah",
        subject="Bins not collected",
        body="Nobody came on Tuesday.\nOr the week before.",
    )
    world.for_housing = TriageItem.objects.create(
        message_id="<b2@example.org>",
        sender_email="alice.okafor@example.org",
        subject="Mould in flat",
        body="The mould is back in the bedroom.",
        department=world.housing,
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


def go(page, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, url


def submit(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


@pytest.mark.parametrize("javascript", JS_MODES)
def test_queue_detail_and_case_from_email_pages_have_no_axe_violations(
    world, browser_context_factory, live_server, javascript
):
    page = signed_in_page(browser_context_factory, live_server, world.housing_worker, javascript)
    base = live_server.url
    go(page, base + reverse("staff:triage_queue"))
    assert page.get_by_role("link", name="Bins not collected").is_visible()
    assert_no_axe_violations(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Mould in flat").click()
    assert page.get_by_text("The mould is back in the bedroom.").is_visible()
    assert_no_axe_violations(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Open a case from this email").click()
    assert page.input_value("#id_email") == "alice.okafor@example.org"
    assert_no_axe_violations(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Add a new person").click()
    assert page.input_value("#id_description") == "The mould is back in the bedroom."
    assert_no_axe_violations(page)


@pytest.mark.parametrize("javascript", JS_MODES)
def test_attach_errors_then_route_and_close(
    world, browser_context_factory, live_server, javascript
):
    page = signed_in_page(browser_context_factory, live_server, world.housing_worker, javascript)
    base = live_server.url
    go(page, base + reverse("staff:triage_detail", args=[world.for_housing.id]))
    page.fill("#id_attach-reference", "CL-NOPE-NOPE")
    submit(page, "Add to case")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert_no_axe_violations(page)
    summary.get_by_role("link", name="No case of your departments").click()
    assert page.evaluate("document.activeElement.id") == "id_attach-reference"
    page.fill("#id_attach-reference", world.housing_case.reference)
    submit(page, "Add to case")
    assert page.url.startswith(base + reverse("staff:case_detail", args=[world.housing_case.id]))
    assert page.get_by_role("status").filter(has_text="added to this case").is_visible()
    assert page.locator("table").filter(has_text="The mould is back").is_visible()

    go(page, base + reverse("staff:triage_detail", args=[world.unrouted.id]))
    page.select_option("#id_route-department", label="Health")
    submit(page, "Route")
    assert page.get_by_role("status").filter(has_text="routed to Health").is_visible()
    assert page.get_by_role("link", name="Bins not collected").count() == 0
    assert_no_axe_violations(page)

    health = signed_in_page(browser_context_factory, live_server, world.health_worker, javascript)
    go(health, base + reverse("staff:triage_detail", args=[world.unrouted.id]))
    submit(health, "Close the message")
    assert health.locator(".error-summary").is_visible()
    assert_no_axe_violations(health)
    health.get_by_label("Spam or junk mail").check()
    submit(health, "Close the message")
    assert health.get_by_role("status").filter(has_text="closed without a case").is_visible()
    world.unrouted.refresh_from_db()
    assert world.unrouted.status == TriageItem.Status.CLOSED
