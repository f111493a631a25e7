"""The access policy as a caseworker would notice it in the 360° view and search."""

import pytest

from civicloop.core.access import Forbidden, NotVisible
from civicloop.people.selectors import PersonSearchCriteria, person_360, person_search
from civicloop.trust.models import AuditEvent
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def test_housing_caseworker_sees_own_cases_in_full_others_as_summary_and_no_sensitive(world):
    view = person_360(viewer=world.viewer(world.housing_worker), person_id=world.alice.id)
    by_dept = {line.department_name: line for line in view.cases}
    assert by_dept["Housing"].full and by_dept["Housing"].reference == world.housing_case.reference
    assert not by_dept["Employment"].full and by_dept["Employment"].reference == ""
    assert by_dept["Employment"].case_id is None
    assert "Health" not in by_dept
    texts = " ".join(e.title + e.detail for e in view.timeline.entries)
    assert "Damp in the bedroom" in texts and "Called about damp" in texts
    assert "Looking for evening work" not in texts and "CV workshop" not in texts
    assert "Confidential" not in texts and "Clinic" not in texts
    assert [n.note for n in view.needs] == ["Overcrowded flat"]
    assert [p.department_name for p in view.provenance] == ["Housing"]


def test_household_members_named_only_when_served_by_viewer(world):
    view = person_360(viewer=world.viewer(world.housing_worker), person_id=world.alice.id)
    labels = sorted(m.label for m in view.household)
    assert labels == ["Another household member", "Ben Okafor"]
    assert all(m.person_id in (None, world.ben.id) for m in view.household)


def test_health_caseworker_sees_the_sensitive_case_in_full(world):
    view = person_360(viewer=world.viewer(world.health_worker), person_id=world.alice.id)
    full = [c for c in view.cases if c.full]
    assert [c.service_name for c in full] == ["Mental health support"]


def test_caseworker_of_a_department_not_serving_the_person_gets_not_found(world):
    with pytest.raises(NotVisible):
        person_360(viewer=world.viewer(world.childcare_worker), person_id=world.alice.id)
    page = person_search(
        viewer=world.viewer(world.childcare_worker), criteria=PersonSearchCriteria(name="Okafor")
    )
    assert [p.id for p in page.items] == [world.ben.id]


@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_analyst_and_admin_never_see_a_person(world, who):
    viewer = world.viewer(getattr(world, who))
    with pytest.raises(Forbidden):
        person_360(viewer=viewer, person_id=world.alice.id)
    with pytest.raises(Forbidden):
        person_search(viewer=viewer, criteria=PersonSearchCriteria(name="Okafor"))


def test_search_finds_typos_and_is_audited_without_values(world):
    viewer = world.viewer(world.housing_worker)
    for query in ["Alice Okafor", "okafor", "Alise Okafor", "ALICE OKAFFOR"]:
        page = person_search(viewer=viewer, criteria=PersonSearchCriteria(name=query))
        assert page.items and page.items[0].id == world.alice.id, query
    page = person_search(viewer=viewer, criteria=PersonSearchCriteria(phone="+44 7700 900123"))
    assert [p.id for p in page.items] == [world.alice.id]
    page = person_search(viewer=viewer, criteria=PersonSearchCriteria(identifier="T-0001"))
    assert [p.id for p in page.items] == [world.alice.id]
    event = AuditEvent.objects.filter(action="person.search").latest("id")
    assert event.fields == ["identifier"] and event.object_ids == [world.alice.id]
    assert "T-0001" not in str(event.__dict__)


def test_360_read_writes_one_audit_event(world):
    before = AuditEvent.objects.count()
    person_360(viewer=world.viewer(world.housing_worker), person_id=world.alice.id)
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [(e.action, e.object_ids) for e in events] == [("person.read", [world.alice.id])]


def test_timeline_pages_cover_everything_once(world):
    from tests import factories as f

    for i in range(30):
        f.InteractionFactory(person=world.alice, department=world.housing, summary=f"Follow-up {i}")
    viewer = world.viewer(world.housing_worker)
    seen, cursor = [], None
    while True:
        view = person_360(viewer=viewer, person_id=world.alice.id, cursor=cursor, page_size=7)
        seen.extend((e.kind, e.id) for e in view.timeline.entries)
        cursor = view.timeline.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    contacts = [s for s in seen if s[0] == "contact"]
    assert len(contacts) == 31


def test_search_falls_back_to_near_spellings_only_when_nothing_matches(world):
    viewer = world.viewer(world.housing_worker)
    page = person_search(viewer=viewer, criteria=PersonSearchCriteria(name="Alice Okabor"))
    assert page.items and page.items[0].id == world.alice.id
    page = person_search(viewer=viewer, criteria=PersonSearchCriteria(name="Zebedee Quartermain"))
    assert page.total == 0 and page.items == []
