"""Possible duplicates: a new report near an open one of the same service waits for staff
to decide. Confirming makes it a duplicate of the earlier one (it then follows its status);
dismissing leaves both as they were. Either decision is recorded with who made it, once."""

from __future__ import annotations

import pytest

from civicloop.cases.models import Case
from civicloop.cases.services import case_transition
from civicloop.core.access import Conflict, Forbidden, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import subscribe, unsubscribe
from civicloop.intake.duplicates import (
    case_mark_duplicate,
    case_mark_duplicate_of_reference,
    possible_duplicate_confirm,
    possible_duplicate_dismiss,
    possible_duplicates_of_case,
    possible_duplicates_open,
)
from civicloop.intake.models import PossibleDuplicate
from civicloop.intake.services import ReportIn, report_submit
from civicloop.trust.models import AuditEvent
from tests.intake.intake_city import build_city

pytestmark = pytest.mark.django_db

OPEN, CONFIRMED, DISMISSED = PossibleDuplicate.Resolution


@pytest.fixture
def city():
    return build_city()


@pytest.fixture
def status_events():
    seen = []
    subscribe("case.status_changed", seen.append)
    yield seen
    unsubscribe("case.status_changed", seen.append)


def report(service_code: str = "STR-POTHOLE", address_id: str = "1001") -> Case:
    attributes = {"where": "road"} if service_code == "STR-POTHOLE" else {}
    return report_submit(
        report=ReportIn(service_code=service_code, address_id=address_id, attributes=attributes),
        channel="web",
    ).case


@pytest.fixture
def pair(city):
    """An open pothole report and a newer one 25 metres away: an open pair."""
    earlier = report(address_id="1001")
    newer = report(address_id="1002")
    return PossibleDuplicate.objects.get(case=newer, candidate=earlier)


def snapshot(*cases: Case) -> list[tuple]:
    return [
        Case.objects.filter(pk=c.pk).values_list("status", "duplicate_of_id", "version").get()
        for c in cases
    ]


def test_the_queue_lists_the_open_pairs_of_the_viewers_departments_newest_first(city, pair):
    third = report(address_id="1002")  # near both: two more pairs
    viewer = city.viewer(city.caseworker)
    before = AuditEvent.objects.count()
    page = possible_duplicates_open(viewer=viewer)
    assert [p.case_id for p in page.items] == [third.id, third.id, pair.case_id]
    assert page.total == 3
    assert page.items[2].candidate.service.code == "STR-POTHOLE"
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert event.action == "possible_duplicate.list"
    # Every case shown, read in one event (the third report is near both others).
    assert set(event.object_ids) == {pair.case_id, pair.candidate_id, third.id}
    assert possible_duplicates_open(viewer=city.viewer(city.other_worker)).items == []
    with pytest.raises(Forbidden):
        possible_duplicates_open(viewer=Viewer(user_id=None, role="analyst"))


def test_confirming_makes_the_newer_report_follow_the_earlier_one(
    city, pair, status_events, django_capture_on_commit_callbacks
):
    viewer = city.viewer(city.caseworker)
    case_transition(viewer=viewer, case_id=pair.candidate_id, to_status="in_progress", version=None)
    before = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        case = possible_duplicate_confirm(viewer=viewer, pair_id=pair.id)
    assert case.id == pair.case_id and case.duplicate_of.id == pair.candidate_id
    newer = Case.objects.get(pk=pair.case_id)
    assert (newer.duplicate_of_id, newer.status) == (pair.candidate_id, "in_progress")
    pair.refresh_from_db()
    assert pair.resolution == CONFIRMED and pair.resolved_by == city.caseworker
    assert pair.resolved_at is not None
    # The newer report's reporter hears of its new status.
    assert [e.object_id for e in status_events] == [newer.id]
    # One event for the request: the decision and the marking.
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert event.action == "possible_duplicate.confirm"
    assert {pair.id, pair.case_id, pair.candidate_id} <= set(event.object_ids)
    assert event.counts["case.mark_duplicate"] == 1
    assert possible_duplicates_open(viewer=viewer).items == []


def test_a_pair_is_decided_once(city, pair):
    viewer = city.viewer(city.caseworker)
    possible_duplicate_dismiss(viewer=viewer, pair_id=pair.id)
    unchanged = snapshot(pair.case, pair.candidate)
    before = AuditEvent.objects.count()
    with pytest.raises(Conflict, match="not the same problem"):
        possible_duplicate_confirm(viewer=viewer, pair_id=pair.id)
    with pytest.raises(Conflict):
        possible_duplicate_dismiss(viewer=viewer, pair_id=pair.id)
    assert snapshot(pair.case, pair.candidate) == unchanged
    assert PossibleDuplicate.objects.get(pk=pair.id).resolution == DISMISSED
    assert AuditEvent.objects.count() == before


def test_dismissing_leaves_both_reports_as_they_were(city, pair):
    viewer = city.viewer(city.caseworker)
    unchanged = snapshot(pair.case, pair.candidate)
    before = AuditEvent.objects.count()
    possible_duplicate_dismiss(viewer=viewer, pair_id=pair.id)
    pair.refresh_from_db()
    assert pair.resolution == DISMISSED and pair.resolved_by == city.caseworker
    assert pair.resolved_at is not None
    assert snapshot(pair.case, pair.candidate) == unchanged
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert event.action == "possible_duplicate.dismiss"
    assert event.object_ids == [pair.id, pair.case_id, pair.candidate_id]


def test_another_departments_pair_is_not_found_and_stays_open(city, pair):
    outsider = city.viewer(city.other_worker)
    for decide in (possible_duplicate_confirm, possible_duplicate_dismiss):
        with pytest.raises(NotVisible):
            decide(viewer=outsider, pair_id=pair.id)
    with pytest.raises(NotVisible):
        possible_duplicate_dismiss(viewer=city.viewer(city.caseworker), pair_id=pair.id + 999)
    assert PossibleDuplicate.objects.get(pk=pair.id).resolution == OPEN
    assert Case.objects.get(pk=pair.case_id).duplicate_of_id is None


def test_confirming_a_pair_the_other_way_round_is_refused_and_changes_nothing(city, pair):
    viewer = city.viewer(city.caseworker)
    # The earlier report became a duplicate of the newer one meanwhile, as the portal does
    # when its reporter says so (no pair is decided that way).
    Case.objects.filter(pk=pair.candidate_id).update(duplicate_of_id=pair.case_id)
    unchanged = snapshot(pair.case, pair.candidate)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed, match="already a duplicate of this one"):
        possible_duplicate_confirm(viewer=viewer, pair_id=pair.id)
    assert snapshot(pair.case, pair.candidate) == unchanged
    assert PossibleDuplicate.objects.get(pk=pair.id).resolution == OPEN
    assert AuditEvent.objects.count() == before


def test_marking_by_hand_decides_the_pair_either_way_round(city, pair):
    viewer = city.viewer(city.caseworker)
    case_mark_duplicate(viewer=viewer, case_id=pair.case_id, original_id=pair.candidate_id)
    pair.refresh_from_db()
    assert (pair.resolution, pair.resolved_by) == (CONFIRMED, city.caseworker)


def test_a_case_of_another_service_cannot_be_the_original(city, pair):
    light = report(service_code="STR-LIGHT")
    viewer = city.viewer(city.caseworker)
    unchanged = snapshot(pair.case, light)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed, match="another service"):
        case_mark_duplicate(viewer=viewer, case_id=pair.case_id, original_id=light.id)
    assert snapshot(pair.case, light) == unchanged
    assert AuditEvent.objects.count() == before
    assert PossibleDuplicate.objects.get(pk=pair.id).resolution == OPEN


def test_the_pairs_of_one_case_are_listed_from_either_side(city, pair):
    viewer = city.viewer(city.caseworker)
    [seen_from_newer] = possible_duplicates_of_case(viewer=viewer, case_id=pair.case_id)
    [seen_from_earlier] = possible_duplicates_of_case(viewer=viewer, case_id=pair.candidate_id)
    assert seen_from_newer.other.id == pair.candidate_id
    assert seen_from_earlier.other.id == pair.case_id
    assert seen_from_newer.distance_m == pytest.approx(pair.distance_m)
    possible_duplicate_dismiss(viewer=viewer, pair_id=pair.id)
    assert possible_duplicates_of_case(viewer=viewer, case_id=pair.case_id) == []
    assert (
        possible_duplicates_of_case(viewer=city.viewer(city.other_worker), case_id=pair.case_id)
        == []
    )


@pytest.mark.parametrize(
    "reference, message",
    [
        ("", "Enter the reference"),
        ("CL-NOPE-NOPE", "No case of your departments"),
        ("jobs", "No case of your departments"),  # exists, but another department's
        ("self", "cannot be a duplicate of itself"),
        ("light", "another service"),
    ],
)
def test_marking_by_reference_refuses_a_case_it_cannot_follow(city, pair, reference, message):
    jobs = report_submit(
        report=ReportIn(service_code="EMP-JOBS", description="Help with my CV"), channel="web"
    ).case
    light = report(service_code="STR-LIGHT")
    reference = {"jobs": jobs.reference, "self": pair.case.reference, "light": light.reference}.get(
        reference, reference
    )
    cases = (pair.case, pair.candidate, jobs, light)
    unchanged = snapshot(*cases)
    with pytest.raises(ValidationFailed, match=message) as refused:
        case_mark_duplicate_of_reference(
            viewer=city.viewer(city.caseworker), case_id=pair.case_id, reference=reference
        )
    assert list(refused.value.errors) == ["reference"]
    assert snapshot(*cases) == unchanged


def test_marking_by_reference(city, pair):
    viewer = city.viewer(city.caseworker)
    case = case_mark_duplicate_of_reference(
        viewer=viewer, case_id=pair.case_id, reference=f"  {pair.candidate.reference.lower()} "
    )
    assert case.duplicate_of_id == pair.candidate_id
    with pytest.raises(NotVisible):
        case_mark_duplicate_of_reference(
            viewer=city.viewer(city.other_worker),
            case_id=pair.candidate_id,
            reference="CL-NOPE-NOPE",
        )
