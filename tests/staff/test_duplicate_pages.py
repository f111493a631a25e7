"""The possible-duplicates queue and marking a duplicate from a case's page: who sees which
pairs, both decisions, and bad input that is refused with a clear error and changes nothing;
every request audited once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from civicloop.cases.models import Case
from civicloop.intake.models import PossibleDuplicate
from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.staff.html import assert_valid_page

pytestmark = pytest.mark.django_db

QUEUE = reverse("staff:duplicate_queue")
OPEN, CONFIRMED, DISMISSED = PossibleDuplicate.Resolution


def confirm_url(pair) -> str:
    return reverse("staff:duplicate_confirm", args=[pair.id])


def dismiss_url(pair) -> str:
    return reverse("staff:duplicate_dismiss", args=[pair.id])


def mark_url(case) -> str:
    return reverse("staff:case_mark_duplicate", args=[case.id])


def case_url(case) -> str:
    return reverse("staff:case_detail", args=[case.id])


@pytest.fixture
def pair(world):
    """A new repair report 12 metres from the housing case: an open pair."""
    repairs = world.housing_case.service
    world.newer = f.CaseFactory(service=repairs, person=None, description="Damp upstairs again")
    return PossibleDuplicate.objects.create(
        case=world.newer, candidate=world.housing_case, distance_m=12.4
    )


def state(*cases) -> list[tuple]:
    return [
        Case.objects.filter(pk=c.pk).values_list("status", "duplicate_of_id", "version").get()
        for c in cases
    ]


def one_new_event(before: int) -> AuditEvent:
    [event] = AuditEvent.objects.order_by("id")[before:]
    return event


def test_the_queue_shows_both_reports_side_by_side(world, pair, client_for):
    before = AuditEvent.objects.count()
    html = assert_valid_page(client_for(world.housing_worker).get(QUEUE))
    newer, earlier = world.newer, world.housing_case
    assert f"{newer.reference} and {earlier.reference}, 12 metres apart" in html
    assert "Damp upstairs again" in html and "Damp in the bedroom" in html
    assert html.count("Housing repair") >= 2
    assert case_url(newer) in html and case_url(earlier) in html
    assert "Same problem — mark as duplicate" in html and "Not the same problem" in html
    assert confirm_url(pair) in html and dismiss_url(pair) in html
    # The reporter's own details are not shown.
    assert "Alice" not in html
    event = one_new_event(before)
    assert event.action == "possible_duplicate.list"
    assert set(event.object_ids) == {newer.id, earlier.id}


def test_the_queue_is_newest_first_and_paginated(world, pair, client_for, settings):
    settings.CIVICLOOP = {**settings.CIVICLOOP, "SEARCH_PAGE_SIZE": 2}
    repairs = world.housing_case.service
    for n in range(2):
        PossibleDuplicate.objects.create(
            case=f.CaseFactory(service=repairs, person=None, description=f"Newer report {n}"),
            candidate=world.housing_case,
            distance_m=30.0 + n,
        )
    client = client_for(world.housing_worker)
    first = client.get(QUEUE).content.decode()
    assert first.index("Newer report 1") < first.index("Newer report 0")
    assert "Damp upstairs again" not in first and 'rel="next"' in first
    second = assert_valid_page(client.get(QUEUE, {"page": "2"}))
    assert "Damp upstairs again" in second and "Newer report" not in second


def test_other_departments_roles_and_visitors_do_not_see_the_pair(world, pair, client_for):
    unchanged = state(world.newer, world.housing_case)
    html = client_for(world.childcare_worker).get(QUEUE).content.decode()
    assert "Damp upstairs again" not in html
    assert "No possible duplicates are waiting for review." in html
    for who in ("analyst", "admin"):
        assert client_for(getattr(world, who)).get(QUEUE).status_code == 403
    assert Client().get(QUEUE).status_code == 401
    for url in (confirm_url(pair), dismiss_url(pair)):
        assert client_for(world.childcare_worker).post(url).status_code == 404
        assert client_for(world.analyst).post(url).status_code == 403
        assert client_for(world.housing_worker).get(url).status_code == 405
    assert PossibleDuplicate.objects.get(pk=pair.id).resolution == OPEN
    assert state(world.newer, world.housing_case) == unchanged


def test_same_problem_marks_the_newer_report_a_duplicate(world, pair, client_for):
    client = client_for(world.housing_worker)
    before = AuditEvent.objects.count()
    response = client.post(confirm_url(pair))
    assert response.status_code == 302 and response.url == QUEUE
    event = one_new_event(before)
    assert event.action == "possible_duplicate.confirm"
    assert {pair.id, world.newer.id, world.housing_case.id} <= set(event.object_ids)
    world.newer.refresh_from_db()
    assert world.newer.duplicate_of_id == world.housing_case.id
    pair.refresh_from_db()
    assert (pair.resolution, pair.resolved_by) == (CONFIRMED, world.housing_worker)
    html = client.get(QUEUE).content.decode()
    assert f"Case {world.newer.reference} is now a duplicate of {world.housing_case.reference}" in (
        html
    )
    assert "Damp upstairs again" not in html


def test_not_the_same_problem_leaves_both_reports_as_they_were(world, pair, client_for):
    client = client_for(world.housing_supervisor)
    unchanged = state(world.newer, world.housing_case)
    before = AuditEvent.objects.count()
    response = client.post(dismiss_url(pair))
    assert response.status_code == 302 and response.url == QUEUE
    assert one_new_event(before).action == "possible_duplicate.dismiss"
    assert state(world.newer, world.housing_case) == unchanged
    pair.refresh_from_db()
    assert (pair.resolution, pair.resolved_by) == (DISMISSED, world.housing_supervisor)
    assert "stay separate" in client.get(QUEUE).content.decode()


def test_a_pair_already_decided_is_a_conflict_that_changes_nothing(world, pair, client_for):
    client = client_for(world.housing_worker)
    client.post(dismiss_url(pair))
    unchanged = state(world.newer, world.housing_case)
    response = client.post(confirm_url(pair))
    assert response.status_code == 409
    html = assert_valid_page(response)
    assert "error-summary" in html and "already decided" in html
    assert state(world.newer, world.housing_case) == unchanged
    assert PossibleDuplicate.objects.get(pk=pair.id).resolution == DISMISSED


def test_the_case_page_lists_open_pairs_and_links_to_the_queue(world, pair, client_for):
    client = client_for(world.housing_worker)
    before = AuditEvent.objects.count()
    html = assert_valid_page(client.get(case_url(world.housing_case)))
    # One read, one event: the case and the reports it may repeat.
    event = one_new_event(before)
    assert event.action == "case.read" and world.newer.id in event.object_ids
    assert "A report nearby may be about the same problem" in html
    assert f'href="{case_url(world.newer)}">{world.newer.reference}</a>' in html
    assert "12 metres away" in html and f'href="{QUEUE}"' in html
    client.post(dismiss_url(pair))
    html = client.get(case_url(world.housing_case)).content.decode()
    assert "No open report nearby" in html


def test_marking_a_duplicate_from_the_case_page(world, pair, client_for):
    client = client_for(world.housing_worker)
    before = AuditEvent.objects.count()
    response = client.post(
        mark_url(world.newer), {"duplicate-reference": world.housing_case.reference.lower()}
    )
    assert response.status_code == 302
    assert response.url == case_url(world.newer) + "#duplicates"
    assert one_new_event(before).action == "case.mark_duplicate"
    world.newer.refresh_from_db()
    assert world.newer.duplicate_of_id == world.housing_case.id
    assert PossibleDuplicate.objects.get(pk=pair.id).resolution == CONFIRMED
    html = assert_valid_page(client.get(case_url(world.newer)))
    assert "This case is now a duplicate of" in html
    assert f'is a duplicate of <a href="{case_url(world.housing_case)}">' in html


@pytest.mark.parametrize(
    "reference, message",
    [
        ("", "Enter the reference of the original case."),
        ("CL-NOPE-NOPE", "No case of your departments has the reference CL-NOPE-NOPE."),
        ("employment", "No case of your departments has the reference"),
        ("itself", "A case cannot be a duplicate of itself."),
        ("other service", "is about another service (Housing advice)"),
    ],
)
def test_marking_refuses_a_case_it_cannot_follow(world, pair, client_for, reference, message):
    advice = f.CaseFactory(
        service=f.ServiceFactory(
            code="HSG-ADVICE", name="Housing advice", department=world.housing
        ),
        person=None,
    )
    reference = {
        "employment": world.employment_case.reference,
        "itself": world.newer.reference,
        "other service": advice.reference,
    }.get(reference, reference)
    cases = (world.newer, world.housing_case, world.employment_case, advice)
    unchanged = state(*cases)
    response = client_for(world.housing_worker).post(
        mark_url(world.newer), {"duplicate-reference": reference}
    )
    assert response.status_code == 422
    html = assert_valid_page(response)
    assert '<a href="#id_duplicate-reference">' in html and message in html
    assert state(*cases) == unchanged
    assert PossibleDuplicate.objects.get(pk=pair.id).resolution == OPEN


def test_marking_a_case_of_another_department_is_not_found(world, pair, client_for):
    unchanged = state(world.newer)
    for data in ({}, {"duplicate-reference": world.housing_case.reference}):
        response = client_for(world.childcare_worker).post(mark_url(world.newer), data)
        assert response.status_code == 404
    assert client_for(world.analyst).post(mark_url(world.newer), {}).status_code == 403
    assert state(world.newer) == unchanged


def test_the_navigation_links_to_the_queue_for_casework_roles(world, client_for):
    home = reverse("staff:home")
    assert f'href="{QUEUE}"' in client_for(world.housing_worker).get(home).content.decode()
    assert f'href="{QUEUE}"' not in client_for(world.analyst).get(home).content.decode()
