"""Duplicate reports: staff mark one a duplicate of another, and it follows the original's
status from then on, telling its own reporter through case.status_changed."""

from __future__ import annotations

import pytest

from civicloop.cases.models import Case
from civicloop.cases.services import case_transition
from civicloop.core.access import Forbidden, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import subscribe, unsubscribe
from civicloop.intake.services import ReportIn, case_mark_duplicate, report_submit
from civicloop.trust.models import AuditEvent
from tests.intake.intake_city import build_city

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return build_city()


@pytest.fixture
def status_events():
    seen = []

    def record(event):
        seen.append(event)

    subscribe("case.status_changed", record)
    yield seen
    unsubscribe("case.status_changed", record)


def pothole(address_id: str) -> Case:
    return report_submit(
        report=ReportIn(
            service_code="STR-POTHOLE", address_id=address_id, attributes={"where": "road"}
        ),
        channel="web",
    ).case


def test_a_duplicate_follows_its_original(city, status_events, django_capture_on_commit_callbacks):
    original, copy, another = pothole("1001"), pothole("1002"), pothole("1001")
    viewer = city.viewer(city.caseworker)
    case_transition(viewer=viewer, case_id=original.id, to_status="in_progress", version=None)
    with django_capture_on_commit_callbacks(execute=True):
        case_mark_duplicate(viewer=viewer, case_id=copy.id, original_id=original.id)
    copy.refresh_from_db()
    assert copy.duplicate_of_id == original.id and copy.status == "in_progress"
    assert [e.object_id for e in status_events] == [copy.id]
    audit = AuditEvent.objects.get(action="case.mark_duplicate")
    assert audit.object_ids[:2] == [copy.id, original.id]
    # A duplicate of the duplicate points at the original itself.
    with django_capture_on_commit_callbacks(execute=True):
        case_mark_duplicate(viewer=viewer, case_id=another.id, original_id=copy.id)
    another.refresh_from_db()
    assert another.duplicate_of_id == original.id
    status_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(viewer=viewer, case_id=original.id, to_status="resolved", version=None)
    for case in (copy, another):
        case.refresh_from_db()
        assert case.status == "resolved" and case.resolved_at is not None
    # Each reporter hears of it: one status change for the original, one for each duplicate.
    assert sorted(e.object_id for e in status_events) == sorted([original.id, copy.id, another.id])
    follow = [e for e in status_events if e.object_id == copy.id][0]
    assert follow.data["follows"] == original.id and follow.data["to"] == "resolved"


def test_a_case_cannot_duplicate_itself_or_its_own_duplicate(
    city, django_capture_on_commit_callbacks
):
    original, copy = pothole("1001"), pothole("1002")
    viewer = city.viewer(city.caseworker)
    with pytest.raises(ValidationFailed):
        case_mark_duplicate(viewer=viewer, case_id=original.id, original_id=original.id)
    with django_capture_on_commit_callbacks(execute=True):
        case_mark_duplicate(viewer=viewer, case_id=copy.id, original_id=original.id)
    with pytest.raises(ValidationFailed):
        case_mark_duplicate(viewer=viewer, case_id=original.id, original_id=copy.id)
    assert Case.objects.get(pk=original.id).duplicate_of_id is None


def test_only_the_cases_department_may_mark_it(city):
    original, copy = pothole("1001"), pothole("1002")
    with pytest.raises(NotVisible):
        case_mark_duplicate(
            viewer=city.viewer(city.other_worker), case_id=copy.id, original_id=original.id
        )
    with pytest.raises(Forbidden):
        case_mark_duplicate(
            viewer=Viewer(user_id=None, role="analyst"), case_id=copy.id, original_id=original.id
        )
    assert Case.objects.get(pk=copy.id).duplicate_of_id is None
