"""The 360° timeline: pages follow each other exactly, whatever ties in time and kind."""

import datetime as dt

import pytest

from civicloop.people.timeline import person_timeline
from tests import factories as f
from tests.world import build_world

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def world():
    world = build_world()
    alice, housing, employment = world.alice, world.housing, world.employment
    service = world.housing_case.service
    # Entries of every kind, several at the very same instants.
    for i in range(6):
        at = T0 + dt.timedelta(hours=i // 2)
        f.InteractionFactory(person=alice, department=housing, at=at)
        f.PersonNeedFactory(person=alice, department=housing, recorded_at=at)
        case = f.CaseFactory(person=alice, service=service, opened_at=at)
        f.CaseEventFactory(
            case=case, kind="status", from_status="new", to_status="in_progress", at=at
        )
        f.InteractionFactory(person=alice, department=employment, at=at)
    return world


def test_pages_of_any_size_add_up_to_the_whole_timeline(world):
    viewer = world.viewer(world.housing_worker)
    whole = person_timeline(viewer=viewer, person_id=world.alice.id, page_size=100)
    keys = [(e.kind, e.id) for e in whole.entries]
    assert whole.next_cursor is None and len(keys) > 25
    assert [e.sort_key for e in whole.entries] == sorted(
        (e.sort_key for e in whole.entries), reverse=True
    )
    for size in (1, 2, 5):
        seen, cursor = [], None
        while True:
            page = person_timeline(
                viewer=viewer, person_id=world.alice.id, cursor=cursor, page_size=size
            )
            seen += [(e.kind, e.id) for e in page.entries]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == keys, size


def test_a_department_filter_keeps_the_order_and_shows_only_that_department(world):
    viewer = world.viewer(world.housing_worker)
    whole = person_timeline(viewer=viewer, person_id=world.alice.id, page_size=100)
    housing = person_timeline(
        viewer=viewer, person_id=world.alice.id, department_id=world.housing.id, page_size=100
    )
    assert [e for e in whole.entries if e.department_id == world.housing.id] == housing.entries
    # Employment contacts are not the housing caseworker's to see; its cases are summaries.
    assert not [
        e for e in whole.entries if e.kind == "contact" and e.department_id != world.housing.id
    ]
    summaries = [e for e in whole.entries if e.visibility == "summary"]
    assert summaries and all(e.detail == "" and e.case_id is None for e in summaries)
    statuses = [e.title for e in whole.entries if e.kind == "case_event"]
    assert statuses and all("→" in t for t in statuses)
