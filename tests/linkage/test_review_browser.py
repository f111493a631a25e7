"""The review pages in a real Chromium, JavaScript off and on: zero axe-core violations at
WCAG 2.2 AA, and a reviewer can fix a missing choice and confirm a match."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from tests import factories as f
from tests.support import assert_no_axe_violations
from tests.world import build_world

from civicloop.linkage.models import ReviewItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JS_MODES = [pytest.param(False, id="no-js"), pytest.param(True, id="js")]


@pytest.fixture
def world(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_world()


@pytest.fixture
def item(world):
    alyce = f.PersonFactory(
        given_name="Alyce", family_name="Okafor", date_of_birth=dt.date(1985, 3, 14)
    )
    record = f.serve(alyce, world.employment, local_id="E-9", address_text="4 Mill Lane")
    return ReviewItem.objects.create(
        source_record_l=world.alice.links.get().source_record,
        source_record_r=record,
        person_ids=[world.alice.id, alyce.id],
        match_probability=0.74,
        match_weight=1.5,
        explanation={
            "match_weight": 1.5,
            "prior_weight": -13.0,
            "contributions": [
                {"comparison": "given_name", "label": "Similar spelling", "weight": 2.5},
                {"comparison": "family_name", "label": "Exact match", "weight": 7.0},
                {"comparison": "date_of_birth", "label": "Exact match", "weight": 8.5},
                {"comparison": "email", "label": "Different", "weight": -3.5},
            ],
        },
    )


@pytest.fixture
def signed_in(browser_context_factory, live_server):
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
    assert response is not None and response.status == status, (url, response and response.status)


@pytest.mark.parametrize("javascript", JS_MODES)
def test_review_pages_have_no_axe_violations(world, item, signed_in, live_server, javascript):
    page = signed_in(world.housing_worker, javascript=javascript)
    open_page(page, live_server.url + reverse("linkage:review_list"))
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Alice Okafor and Alyce Okafor: review this pair").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Are these the same person?"
    assert page.get_by_role("img", name="How each field moved the match weight").is_visible()
    assert_no_axe_violations(page)
    # Refusals look like every other staff page's.
    other = signed_in(world.childcare_worker, javascript=javascript)
    open_page(other, live_server.url + reverse("linkage:review_detail", args=[item.id]), 404)
    assert_no_axe_violations(other)


@pytest.mark.parametrize("javascript", JS_MODES)
def test_a_reviewer_fixes_a_missing_choice_then_confirms(
    world, item, signed_in, live_server, javascript
):
    page = signed_in(world.housing_worker, javascript=javascript)
    open_page(page, live_server.url + reverse("linkage:review_detail", args=[item.id]))
    page.get_by_role("button", name="Save decision").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert_no_axe_violations(page)
    summary.get_by_role("link", name="Choose whether these are the same person.").click()
    assert page.evaluate("document.activeElement.id") == "id_decision_0"
    page.get_by_label("Yes, they are the same person").check()
    page.get_by_role("button", name="Save decision").click()
    page.wait_for_load_state()
    assert page.url == live_server.url + reverse("linkage:review_list")
    status = page.get_by_role("status").filter(has_text="Their records are now together.")
    assert status.is_visible()
    assert_no_axe_violations(page)
    item.refresh_from_db()
    assert item.status == "confirmed"


@pytest.mark.parametrize("javascript", JS_MODES)
def test_undoing_a_merge_has_no_axe_violations(world, item, signed_in, live_server, javascript):
    from civicloop.people.models import PersonMerge

    page = signed_in(world.housing_worker, javascript=javascript)
    open_page(page, live_server.url + reverse("linkage:review_detail", args=[item.id]))
    page.get_by_label("Yes, they are the same person").check()
    page.get_by_role("button", name="Save decision").click()
    page.wait_for_load_state()
    merge = PersonMerge.objects.get()
    f.CaseFactory(service=world.housing_case.service, person=world.alice, reference="CL-NEW")
    open_page(page, live_server.url + reverse("linkage:merge_undo", args=[merge.id]))
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Undo the merge").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    assert_no_axe_violations(page)
    page.get_by_label("Alyce Okafor (merged in)").check()
    page.get_by_label("Why are these two different people?").fill("Different mothers")
    page.get_by_role("button", name="Undo the merge").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").filter(has_text="Merge undone").is_visible()
    merge.refresh_from_db()
    assert merge.unmerged_at is not None
