"""Phone and in-person intake: find or add the person, record the need, open the case and log
the call in one submit, all or nothing, leaving one audit event."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from civicloop.cases import services as case_services
from civicloop.cases.models import Case, Interaction
from civicloop.core.access import ValidationFailed
from civicloop.linkage.matching import matchindex_rebuild
from civicloop.people.models import Link, Person, PersonDepartment, PersonNeed, SourceRecord
from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.staff.html import assert_valid_page, page_title

pytestmark = pytest.mark.django_db

URL = reverse("staff:intake")


@pytest.fixture
def intake_world(world):
    """The test city with a catalogue fit for a phone call, and its match index filed."""
    world.advice = f.ServiceFactory(
        code="HSG-ADVICE", name="Housing advice", department=world.housing, sla_days=10
    )
    world.pothole = f.ServiceFactory(
        code="HSG-POTHOLE", name="Estate pothole", department=world.housing, place_based=True
    )
    world.income = f.NeedFactory(code="income", name="Income")
    world.housing_need = f.NeedFactory(code="housing", name="Housing")
    matchindex_rebuild()
    return world


def call(world, **overrides) -> dict:
    """The form as a caseworker fills it in for a phone call."""
    return {
        "service": world.advice.id,
        "need": world.income.id,
        "description": "Behind on rent after losing shifts",
        "priority": "normal",
        "channel": "phone",
        "summary": "Rang about rent arrears; sending a budgeting form",
        **overrides,
    }


def new_person(**overrides) -> dict:
    return {
        "given_name": "Zebedee",
        "family_name": "Quill",
        "date_of_birth": "02/02/1990",
        "email": "zeb@example.org",
        "phone": "",
        **overrides,
    }


def counts() -> tuple[int, ...]:
    return (
        Person.objects.count(),
        PersonNeed.objects.count(),
        Case.objects.count(),
        Interaction.objects.count(),
        SourceRecord.objects.count(),
    )


def events_since(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("id")[before:])


def test_the_page_starts_by_finding_the_person(intake_world, client_for):
    response = client_for(intake_world.housing_worker).get(URL)
    html = assert_valid_page(response)
    assert response.status_code == 200
    assert page_title(html).startswith("Phone or in-person intake")
    assert 'id="id_name"' in html and "Add a new person" in html
    assert 'name="summary"' not in html  # no form before the person is known


def test_search_then_choose_a_person_shows_the_form_for_them(intake_world, client_for):
    world = intake_world
    client = client_for(world.housing_worker)
    html = assert_valid_page(client.get(URL, {"name": "Okafor"}))
    assert "Alice" in html and "Carol" not in html  # Carol is health's alone
    choose = re.search(rf'href="([^"]*person={world.alice.id})"', html).group(1)
    response = client.get(choose.replace("&amp;", "&"))
    html = assert_valid_page(response)
    assert "Alice" in html and f'name="person" value="{world.alice.id}"' in html
    # Only the department's own services that need no location are offered.
    assert "Housing advice" in html and "Job search support" not in html
    assert "Estate pothole" not in html


def test_a_phone_call_about_someone_known_opens_the_case_in_one_step(intake_world, client_for):
    world = intake_world
    client = client_for(world.housing_worker)
    before_events = AuditEvent.objects.count()
    response = client.post(URL, call(world, person=world.alice.id))
    case = Case.objects.latest("id")
    assert response.status_code == 302
    assert response.url == reverse("staff:case_detail", args=[case.id])
    assert (case.person, case.service, case.channel) == (world.alice, world.advice, "phone")
    assert case.description == "Behind on rent after losing shifts"
    need = PersonNeed.objects.get(person=world.alice, need=world.income)
    assert need.department == world.housing and need.recorded_by == world.housing_worker
    contact = case.interactions.get()
    assert (contact.channel, contact.direction, contact.person) == ("phone", "inbound", world.alice)
    assert contact.summary.startswith("Rang about rent arrears")
    [event] = events_since(before_events)
    assert event.action == "intake.assisted"
    assert event.counts["case.open"] == 1 and event.counts["need.record"] == 1
    assert event.counts["contact.log"] == 1
    assert case.id in event.object_ids and world.alice.id in event.object_ids
    assert "Behind" not in str(event.__dict__) and "Alice" not in str(event.__dict__)
    page = client.get(response.url).content.decode()
    assert f"Case {case.reference} opened for Alice Okafor." in page


def test_a_need_already_open_with_the_department_is_not_recorded_twice(intake_world, client_for):
    world = intake_world
    client = client_for(world.housing_worker)
    open_needs = PersonNeed.objects.filter(person=world.alice, need=world.housing_need).count()
    response = client.post(URL, call(world, person=world.alice.id, need=world.housing_need.id))
    assert response.status_code == 302
    assert (
        PersonNeed.objects.filter(person=world.alice, need=world.housing_need).count() == open_needs
    )
    assert "was already open" in client.get(response.url).content.decode()


def test_someone_new_is_added_with_the_departments_own_record(intake_world, client_for):
    world = intake_world
    client = client_for(world.housing_worker)
    before = Person.objects.count()
    response = client.post(URL, call(world) | new_person())
    assert response.status_code == 302
    person = Person.objects.get(given_name="Zebedee", family_name="Quill")
    assert Person.objects.count() == before + 1 and person.email == "zeb@example.org"
    record = person.links.get().source_record
    assert record.department == world.housing
    case = Case.objects.get(person=person)
    assert case.interactions.count() == 1 and person.needs.count() == 1
    assert PersonDepartment.objects.filter(person=person, department=world.housing).exists()


def test_someone_already_known_is_offered_before_a_duplicate_is_added(intake_world, client_for):
    world = intake_world
    client = client_for(world.housing_worker)
    alice = new_person(given_name="Alice", family_name="Okafor", date_of_birth="14/03/1985")
    before, before_events = counts(), AuditEvent.objects.count()
    asked = client.post(URL, call(world) | alice)
    html = assert_valid_page(asked)
    assert asked.status_code == 200 and "Is this one of these people?" in html
    assert f'value="{world.alice.id}"' in html and "Same date of birth" in html
    # The rest of the form is kept, and nothing is written yet.
    assert "Behind on rent after losing shifts" in html
    assert counts() == before
    assert [e.action for e in events_since(before_events)] == ["person.match"]
    unanswered = client.post(URL, call(world) | alice | {"step": "matches"})
    assert unanswered.status_code == 422
    assert '<a href="#match-choice">Choose one of these people' in unanswered.content.decode()
    used = client.post(URL, call(world) | alice | {"step": "matches", "match": world.alice.id})
    assert used.status_code == 302
    assert Person.objects.count() == before[0]
    assert Case.objects.latest("id").person == world.alice
    # Housing already holds its own record of Alice: no second one.
    assert SourceRecord.objects.count() == before[4]


def test_adding_anyway_creates_a_new_person(intake_world, client_for):
    world = intake_world
    client = client_for(world.housing_worker)
    alice = new_person(given_name="Alice", family_name="Okafor", date_of_birth="14/03/1985")
    before = Person.objects.count()
    response = client.post(URL, call(world) | alice | {"step": "matches", "match": "new"})
    assert response.status_code == 302 and Person.objects.count() == before + 1


def test_a_person_the_department_does_not_serve_yet_becomes_served(intake_world, client_for):
    """Ben is known to childcare; a caseworker of childcare and employment opens an
    employment case for him. Chosen from search, the case alone links employment to him;
    found by the duplicate check, the details he gave become employment's own record."""
    world = intake_world
    worker = f.StaffFactory(
        role="caseworker", departments=[world.childcare, world.employment], display_name="Dual"
    )
    jobs = world.employment_case.service
    client = client_for(worker)
    assert not PersonDepartment.objects.filter(person=world.ben, department=world.employment)
    response = client.post(URL, call(world, service=jobs.id, person=world.ben.id))
    assert response.status_code == 302
    assert PersonDepartment.objects.filter(person=world.ben, department=world.employment).exists()
    assert not Link.objects.filter(
        person=world.ben, source_record__department=world.employment
    ).exists()

    carol_worker = f.StaffFactory(
        role="caseworker", departments=[world.health, world.employment], display_name="Duo"
    )
    carol = new_person(
        given_name="Carol", family_name="Okafor", date_of_birth="02/01/1983", phone="07700 900555"
    )
    carol_client = client_for(carol_worker)
    response = carol_client.post(
        URL, call(world, service=jobs.id) | carol | {"step": "matches", "match": world.carol.id}
    )
    assert response.status_code == 302
    link = Link.objects.get(person=world.carol, source_record__department=world.employment)
    assert link.method == Link.Method.MANUAL and link.confirmed_by == carol_worker
    assert link.source_record.phone == "07700 900555"
    assert world.carol.needs.filter(department=world.employment).count() == 1
    assert "now holds its own record" in carol_client.get(response.url).content.decode()


def test_missing_answers_are_listed_at_the_top_and_nothing_is_written(intake_world, client_for):
    world = intake_world
    before = counts()
    response = client_for(world.housing_worker).post(URL, {"person": "", "priority": "normal"})
    assert response.status_code == 422
    html = assert_valid_page(response)
    for anchor in (
        "id_given_name",
        "id_family_name",
        "id_service",
        "id_need",
        "id_description",
        "id_channel_0",
        "id_summary",
    ):
        assert f'<a href="#{anchor}">' in html, anchor
        assert f'id="{anchor}"' in html, anchor
    assert page_title(html).startswith("Error:")
    assert counts() == before


def test_bad_values_are_refused_with_the_field_named(intake_world, client_for):
    world = intake_world
    client = client_for(world.housing_worker)
    before = counts()
    for overrides, anchor in [
        ({"service": world.pothole.id}, "#id_service"),
        ({"service": world.employment_case.service_id}, "#id_service"),
        ({"channel": "email"}, "#id_channel_0"),
        ({"description": "x" * 4001}, "#id_description"),
        ({"date_of_birth": "01/01/2999"}, "#id_date_of_birth"),
        ({"email": "not-an-address"}, "#id_email"),
    ]:
        data = call(world) | new_person(**{k: v for k, v in overrides.items() if k in PERSON})
        data |= {k: v for k, v in overrides.items() if k not in PERSON}
        data |= {"match": "new"}
        response = client.post(URL, data)
        assert response.status_code == 422, overrides
        assert f'<a href="{anchor}">' in response.content.decode(), overrides
    assert counts() == before


PERSON = {"given_name", "family_name", "date_of_birth", "email", "phone"}


def test_if_the_case_cannot_be_opened_no_person_or_need_is_kept(
    intake_world, client_for, monkeypatch
):
    world = intake_world

    def refuse(**kwargs):
        raise ValidationFailed({"service": "This service stopped taking cases a moment ago."})

    # The person and the need are written before the case: the refusal must undo them.
    monkeypatch.setattr(case_services, "case_open", refuse)
    before, before_events = counts(), AuditEvent.objects.count()
    response = client_for(world.housing_worker).post(URL, call(world) | new_person(match="new"))
    assert response.status_code == 422
    assert "stopped taking cases" in response.content.decode()
    assert counts() == before
    assert not any(
        e.action.startswith(("person.create", "need.", "intake.assisted"))
        for e in events_since(before_events)
    )


def test_a_person_the_departments_do_not_serve_cannot_be_chosen(intake_world, client_for):
    world = intake_world
    client = client_for(world.housing_worker)
    before = counts()
    assert client.get(URL, {"person": world.carol.id}).status_code == 404
    assert client.post(URL, call(world, person=world.carol.id)).status_code == 404
    assert counts() == before


def test_only_caseworkers_and_supervisors_take_calls(intake_world, client_for, client):
    world = intake_world
    assert client.get(URL).status_code == 401
    for who in ("analyst", "admin"):
        assert client_for(getattr(world, who)).get(URL).status_code == 403
        assert client_for(getattr(world, who)).post(URL, call(world)).status_code == 403
    supervisor = client_for(world.housing_supervisor)
    assert supervisor.post(URL, call(world, person=world.alice.id)).status_code == 302


def test_each_intake_request_leaves_one_audit_event(intake_world, client_for):
    world = intake_world
    client = client_for(world.housing_worker)
    requests = [
        ("get", {"name": "Okafor"}),
        ("get", {"person": world.alice.id}),
        ("post", call(world, person=world.alice.id)),
        ("post", call(world) | new_person()),
        ("post", call(world, summary="") | {"person": world.alice.id}),
    ]
    for method, data in requests:
        before = AuditEvent.objects.count()
        response = getattr(client, method)(URL, data)
        assert response.status_code in (200, 302, 422), (data, response.status_code)
        actions = [e.action for e in events_since(before)]
        assert len(actions) == 1, (method, data, actions)


def test_a_new_person_starts_from_what_was_searched(intake_world, client_for):
    response = client_for(intake_world.housing_worker).get(
        URL, {"new": "1", "name": "Zebedee Quill", "date_of_birth": "02/02/1990"}
    )
    html = assert_valid_page(response)
    assert re.search(r'name="given_name" value="Zebedee"', html)
    assert re.search(r'name="family_name" value="Quill"', html)
    assert re.search(r'name="date_of_birth" value="02/02/1990"', html)


def test_audit_as_one_writes_one_event_for_a_block_and_none_for_a_failed_one(world):
    from civicloop.trust.audit import audit_as_one, audit_record

    viewer = world.viewer(world.housing_worker)
    before = AuditEvent.objects.count()
    with audit_as_one(viewer=viewer, action="test.both", object_type="case"):
        audit_record(viewer=viewer, action="a.read", object_type="person", object_ids=[7])
        audit_record(viewer=viewer, action="b.write", object_type="case", object_ids=[7, 8])
    [event] = events_since(before)
    assert (event.action, event.object_ids) == ("test.both", [7, 7, 8])
    assert event.counts == {"a.read": 1, "b.write": 1}
    with audit_as_one(viewer=viewer, action="test.one"):
        audit_record(viewer=viewer, action="a.read", object_type="person", fields=["name"])
    assert AuditEvent.objects.latest("id").action == "a.read"  # a lone event is kept as is
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed), audit_as_one(viewer=viewer, action="test.fail"):
        audit_record(viewer=viewer, action="b.write", object_ids=[9])
        raise ValidationFailed({"x": "no"})
    assert AuditEvent.objects.count() == before
