"""Real-time matching at intake: the index keys mirror batch blocking, the index follows
people as they are created and merged, and staff see matches only as the policy allows."""

from __future__ import annotations

import datetime as dt
import itertools
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from tests.world import build_world

from civicloop.linkage.matching import matchindex_rebuild, person_match_candidates
from civicloop.linkage.model import default_blocking_rules
from civicloop.linkage.models import MatchKey
from civicloop.linkage.realtime import (
    MemoryIndex,
    default_model,
    match_record,
    probe_keys,
    standardised,
    stored_keys,
)
from civicloop.people.merge import person_merge
from civicloop.people.models import Person
from civicloop.people.services import person_create
from civicloop.trust.models import AuditEvent

RECORDS = [
    {"given_name": "Alice", "family_name": "Okafor", "date_of_birth": "1985-03-14"},
    {"given_name": "Ally", "family_name": "Okafor", "date_of_birth": "1985-14-03"},
    {"given_name": "Alice", "family_name": "Okafur", "date_of_birth": "1985-03-04"},
    {"given_name": "Alice", "family_name": "Okafor", "date_of_birth": "1985-04-03"},
    {"given_name": "Bob", "family_name": "Smith", "email": "alice.okafor@example.org"},
    {"given_name": "Alicia", "family_name": "Okafor", "phone": "07700 900123"},
    {
        "given_name": "A",
        "family_name": "Okafor",
        "phone": "+44 7700 900123",
        "date_of_birth": "1985-01-01",
    },
    {
        "given_name": "Alice",
        "family_name": "Okafor",
        "email": "alice.okafor@example.org",
        "postcode": "RV1 3NH",
        "date_of_birth": "1985-03-14",
    },
    {
        "given_name": "Alice",
        "family_name": "Jones",
        "postcode": "rv13nh",
        "date_of_birth": "1985-03-14",
    },
]


def test_a_new_record_meets_exactly_the_records_batch_blocking_would_compare_it_with():
    rules = default_blocking_rules()
    std = [standardised(r) for r in RECORDS]
    for new, held in itertools.permutations(std, 2):
        admitted = any(rule.admits(new, held) for rule in rules)
        meets = bool(probe_keys(rules, new) & stored_keys(rules, held))
        assert meets == admitted, (new["given"], new["dob"], held["given"], held["dob"])


def test_the_best_record_of_a_person_is_their_score_and_others_are_not_candidates():
    model = default_model()
    index = MemoryIndex(model.blocking_rules)
    index.put(1, [RECORDS[0], RECORDS[4]])
    index.put(2, [{"given_name": "Zed", "family_name": "Zulu", "date_of_birth": "1950-01-01"}])
    found = match_record(model, RECORDS[7], index)
    assert [c.person_id for c in found] == [1]
    labels = {c.comparison: c.label for c in found[0].contributions}
    assert labels["date_of_birth"] == "Same date of birth"
    assert found[0].is_match
    index.remove(1)
    assert match_record(model, RECORDS[7], index) == []


@pytest.mark.django_db
def test_the_index_follows_people_as_they_are_created_and_merged(
    django_capture_on_commit_callbacks,
):
    world = build_world()
    viewer = world.viewer(world.housing_worker)
    with django_capture_on_commit_callbacks(execute=True):
        first = person_create(
            viewer=viewer,
            given_name="Dana",
            family_name="Mwangi",
            date_of_birth=dt.date(1990, 5, 6),
            email="dana@example.org",
        )
    assert MatchKey.objects.filter(person=first, kind="email", value="dana@example.org").exists()
    with django_capture_on_commit_callbacks(execute=True):
        second = person_create(
            viewer=viewer,
            given_name="Dana",
            family_name="Mwangi",
            date_of_birth=dt.date(1990, 5, 6),
        )
    found = person_match_candidates(
        viewer=viewer,
        record={"given_name": "Dana", "family_name": "Mwangi", "date_of_birth": "1990-05-06"},
    )
    assert {c.person.id for c in found} == {first.id, second.id}
    with django_capture_on_commit_callbacks(execute=True):
        person_merge(
            viewer=viewer, kept_person_id=first.id, merged_person_id=second.id, reason="Twice"
        )
    assert not MatchKey.objects.filter(person=second).exists()
    found = person_match_candidates(
        viewer=viewer,
        record={"given_name": "Dana", "family_name": "Mwangi", "date_of_birth": "1990-05-06"},
    )
    assert [c.person.id for c in found] == [first.id]


@pytest.fixture
def world(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = build_world()
    matchindex_rebuild()
    return world


ALICE = {"given_name": "Alice", "family_name": "Okafor", "date_of_birth": "1985-03-14"}


def test_staff_of_a_department_serving_the_person_see_who_and_why(world):
    found = person_match_candidates(viewer=world.viewer(world.housing_worker), record=ALICE)
    assert found[0].person == world.alice and found[0].is_match
    assert any(r.label == "Same date of birth" for r in found[0].reasons)
    event = AuditEvent.objects.filter(action="person.match").latest("id")
    assert event.object_ids == [world.alice.id]
    assert "Alice" not in str(event.__dict__)


def test_other_departments_learn_only_that_a_match_is_held_elsewhere(world):
    found = person_match_candidates(viewer=world.viewer(world.childcare_worker), record=ALICE)
    assert found and found[0].held_elsewhere and found[0].reasons == ()
    event = AuditEvent.objects.filter(action="person.match").latest("id")
    assert event.object_ids == [] and event.counts["held_elsewhere"] == len(found)


def test_the_api_lists_candidates_with_probability_and_reasons(world):
    client = Client()
    client.force_login(world.housing_worker.user)
    response = client.get("/api/v1/people/matches", ALICE)
    assert response.status_code == 200, response.content
    first = response.json()["items"][0]
    assert first["person"]["id"] == world.alice.id and first["match_probability"] > 0.95
    assert {r["comparison"] for r in first["reasons"]} >= {"given_name", "date_of_birth"}
    client.force_login(world.childcare_worker.user)
    hidden = client.get("/api/v1/people/matches", ALICE).json()["items"][0]
    assert hidden["person"] is None and hidden["held_elsewhere"] and hidden["reasons"] == []
    client.force_login(world.analyst.user)
    assert client.get("/api/v1/people/matches", ALICE).status_code == 403


def test_adding_someone_already_held_asks_first_then_uses_them_or_adds_anyway(world):
    client = Client()
    client.force_login(world.housing_worker.user)
    url = reverse("staff:person_create")
    fields = {"given_name": "Alice", "family_name": "Okafor", "date_of_birth": "14/03/1985"}
    before = Person.objects.count()
    asked = client.post(url, fields)
    page = asked.content.decode()
    assert asked.status_code == 200 and "Is this one of these people?" in page
    assert f'value="{world.alice.id}"' in page and "Same date of birth" in page
    assert Person.objects.count() == before
    unanswered = client.post(url, fields | {"step": "matches"})
    assert (
        unanswered.status_code == 422
        and "Choose one of these people" in unanswered.content.decode()
    )
    used = client.post(url, fields | {"step": "matches", "match": world.alice.id})
    assert used.status_code == 302 and used.url == reverse(
        "staff:person_detail", kwargs={"person_id": world.alice.id}
    )
    assert Person.objects.count() == before
    added = client.post(url, fields | {"step": "matches", "match": "new"})
    assert added.status_code == 302 and Person.objects.count() == before + 1


def test_a_person_of_another_department_cannot_be_chosen_by_id(world):
    client = Client()
    client.force_login(world.childcare_worker.user)
    fields = {"given_name": "Alice", "family_name": "Okafor", "date_of_birth": "14/03/1985"}
    page = client.post(reverse("staff:person_create"), fields).content.decode()
    assert "held by another department" in page and "Okafor, born" not in page
    chosen = client.post(reverse("staff:person_create"), fields | {"match": world.alice.id})
    assert chosen.status_code == 404


def test_the_rebuild_command_files_every_active_person(world):
    MatchKey.objects.all().delete()
    out = StringIO()
    call_command("match_index", "rebuild", stdout=out)
    people = set(MatchKey.objects.values_list("person_id", flat=True))
    assert people == set(
        Person.objects.filter(merged_into__isnull=True).values_list("id", flat=True)
    )
    assert f"{MatchKey.objects.count()} keys written" in out.getvalue()
