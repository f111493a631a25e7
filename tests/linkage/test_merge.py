"""Merge and unmerge: a wrong merge undone leaves every domain table exactly as it was;
rows attached after the merge go to the person staff choose; history stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.db import transaction
from tests import factories as f
from tests.world import build_world

from civicloop.cases.models import Case, Interaction
from civicloop.core import clock
from civicloop.core.access import Conflict, Forbidden, NotVisible, ValidationFailed
from civicloop.core.events import subscribe, unsubscribe
from civicloop.people import merge as merging
from civicloop.people.models import (
    HouseholdMembership,
    Link,
    Person,
    PersonDepartment,
    PersonFieldSource,
    PersonMerge,
    PersonNeed,
    Relationship,
)
from civicloop.trust.models import AuditEvent

pytestmark = pytest.mark.django_db

DOMAIN_APPS = ("people", "cases", "linkage", "catalogue")
# History of merges and of golden-field provenance: added to by a merge and its unmerge.
HISTORY = {"people.personmerge", "people.personmergechange", "people.personfieldsource"}
# Derived, not domain data: the distinct family names search looks near spellings up in.
DERIVED = {"people.familyname"}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def dump() -> dict[str, dict]:
    """Every row of every domain table (many-to-many tables too), as dicts by primary key."""
    tables: dict[str, dict] = {}
    for app in DOMAIN_APPS:
        for model in apps.get_app_config(app).get_models(include_auto_created=True):
            label = model._meta.label_lower
            if label in HISTORY | DERIVED:
                continue
            names = [f.attname for f in model._meta.concrete_fields]
            tables[label] = {row["id"]: row for row in model._default_manager.values(*names)}
    return tables


def provenance(person: Person) -> dict[str, tuple]:
    current = merging.current_provenance([person.id]).get(person.id, {})
    return {k: (v.source_record_id, v.method) for k, v in current.items()}


def record_sources(person: Person) -> dict[str, int]:
    """The record each golden field was chosen from; a field not from a record is left out."""
    return {k: v[0] for k, v in provenance(person).items() if v[0] is not None}


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def duplicate(world):
    """Alyce: a second record of Alice's, with her own case, contact, need, identifier,
    household and relationships — everything a merge has to move or leave."""
    alyce = f.PersonFactory(
        given_name="Alyce",
        family_name="Okafor",
        date_of_birth=dt.date(1985, 3, 14),
        email="",
        phone="07700 900999",
        accessibility_needs="Large print",
    )
    f.serve(alyce, world.employment, local_id="E-7", email="a.okafor@example.net")
    f.serve(alyce, world.housing, local_id="H-7")
    jobs = world.employment_case.service
    case = f.CaseFactory(service=jobs, person=alyce, description="Benefit advice")
    f.InteractionFactory(person=alyce, department=world.employment, case=case, summary="Called")
    f.PersonNeedFactory(person=alyce, need=f.NeedFactory(code="income"), department=world.housing)
    f.IdentifierFactory(person=alyce, scheme="ni", value="QQ123456C", department=world.employment)
    f.HouseholdMembershipFactory(person=alyce)  # another household, current
    f.RelationshipFactory(from_person=alyce, to_person=world.ben, kind="guardian")
    f.RelationshipFactory(from_person=world.alice, to_person=world.ben, kind="guardian")
    f.RelationshipFactory(from_person=alyce, to_person=world.alice, kind="sibling")
    f.RelationshipFactory(from_person=world.carol, to_person=alyce, kind="carer")
    return alyce


def test_a_wrong_merge_undone_leaves_every_domain_table_exactly_as_before(world, duplicate):
    viewer = world.viewer(world.housing_worker)
    before, before_sources = dump(), record_sources(world.alice)
    merge = merging.person_merge(
        viewer=viewer,
        kept_person_id=world.alice.id,
        merged_person_id=duplicate.id,
        reason="Same date of birth and surname",
    )
    during = dump()
    assert during != before
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == world.alice.id
    # Everything that was Alyce's now belongs to Alice, except what stays as history.
    assert not Case.objects.filter(person=duplicate).exists()
    assert not Interaction.objects.filter(person=duplicate).exists()
    assert not PersonNeed.objects.filter(person=duplicate).exists()
    assert not Link.objects.filter(person=duplicate, active=True).exists()
    assert Link.objects.filter(person=world.alice, active=True).count() == 3
    assert set(
        PersonDepartment.objects.filter(person=world.alice).values_list("department", flat=True)
    ) == {world.housing.id, world.employment.id, world.health.id}
    # Alice keeps her household; Alyce's membership of another one ends there.
    assert HouseholdMembership.objects.filter(person=world.alice, until__isnull=True).count() == 1
    assert HouseholdMembership.objects.get(person=duplicate).until == clock.today()
    # The two are not each other's sibling any more, and Ben has one guardian, not two.
    assert Relationship.objects.get(from_person=duplicate, to_person=world.alice).until
    assert (
        Relationship.objects.filter(to_person=world.ben, kind="guardian", until__isnull=True)
        .values_list("from_person", flat=True)
        .get()
        == world.alice.id
    )
    assert Relationship.objects.filter(from_person=world.carol, to_person=world.alice).exists()
    # Survivorship filled what Alice lacked and kept what she had.
    alice = Person.objects.get(pk=world.alice.id)
    assert alice.given_name == "Alice"
    assert alice.accessibility_needs == "Large print"
    assert alice.version == world.alice.version + 1

    merging.person_unmerge(viewer=viewer, merge_id=merge.id, assignments={})
    after = dump()
    for table in before:
        assert after[table] == before[table], table
    assert record_sources(world.alice) == before_sources
    # Only history was added.
    merge.refresh_from_db()
    assert merge.unmerged_at is not None and merge.changes.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="person.").values_list("action", flat=True)
    )
    assert actions == ["person.merge", "person.unmerge"]


def test_rows_attached_after_the_merge_go_to_the_person_staff_choose(world, duplicate):
    viewer = world.viewer(world.housing_worker)
    before = dump()
    merge = merging.person_merge(
        viewer=viewer, kept_person_id=world.alice.id, merged_person_id=duplicate.id, reason="Dup"
    )
    repairs = world.housing_case.service
    new_case = f.CaseFactory(service=repairs, person=world.alice, description="Leak")
    new_contact = f.InteractionFactory(person=world.alice, department=world.housing)
    new_need = f.PersonNeedFactory(
        person=world.alice, need=f.NeedFactory(code="housing"), department=world.childcare
    )

    plan = merging.person_unmerge_plan(viewer=viewer, merge_id=merge.id)
    keys = {item.key for item in plan.attached}
    assert keys == {
        f"cases.case.person:{new_case.id}",
        f"cases.interaction.person:{new_contact.id}",
        f"people.personneed.person:{new_need.id}",
    }
    merging.person_unmerge(
        viewer=viewer,
        merge_id=merge.id,
        assignments={
            f"cases.case.person:{new_case.id}": duplicate.id,
            f"people.personneed.person:{new_need.id}": duplicate.id,
        },
    )
    new_case.refresh_from_db()
    new_contact.refresh_from_db()
    new_need.refresh_from_db()
    assert new_case.person_id == duplicate.id
    assert new_need.person_id == duplicate.id
    assert new_contact.person_id == world.alice.id  # by default, the person kept
    # The department of a row given to Alyce serves her, so its staff can still see her.
    assert PersonDepartment.objects.filter(person=duplicate, department=world.childcare).exists()
    # Everything else is exactly as before the merge.
    after = dump()
    added = {
        "cases.case": {new_case.id},
        "cases.interaction": {new_contact.id},
        "people.personneed": {new_need.id},
    }
    added_served = {
        pk
        for pk, row in after["people.persondepartment"].items()
        if pk not in before["people.persondepartment"]
    }
    assert {
        (r["person_id"], r["department_id"])
        for pk, r in after["people.persondepartment"].items()
        if pk in added_served
    } == {(duplicate.id, world.childcare.id)}
    added["people.persondepartment"] = added_served
    for table, rows in before.items():
        kept_after = {pk: r for pk, r in after[table].items() if pk not in added.get(table, ())}
        assert kept_after == rows, table
    merge.refresh_from_db()
    assert merge.assignments[f"cases.interaction.person:{new_contact.id}"] == world.alice.id


def test_an_edit_made_after_the_merge_is_kept_by_the_unmerge(world, duplicate):
    from civicloop.people.services import person_update

    viewer = world.viewer(world.housing_worker)
    merge = merging.person_merge(
        viewer=viewer, kept_person_id=world.alice.id, merged_person_id=duplicate.id, reason="Dup"
    )
    alice = Person.objects.get(pk=world.alice.id)
    person_update(
        viewer=viewer,
        person_id=alice.id,
        version=alice.version,
        changes={"phone": "020 7946 0000"},
    )
    merging.person_unmerge(viewer=viewer, merge_id=merge.id, assignments={})
    alice.refresh_from_db()
    assert alice.phone == "020 7946 0000"
    assert alice.accessibility_needs == ""  # put back: not touched since the merge


def test_survivorship_fills_empty_fields_from_records_with_provenance(world):
    viewer = world.viewer(world.housing_worker)
    kept = f.PersonFactory(given_name="Dan", family_name="Byrne", email="", phone="")
    other = f.PersonFactory(given_name="Daniel", family_name="Byrne", email="", phone="")
    address = f.AddressFactory(line1="12 High Street", postcode="RV1 2AB")
    old = clock.now() - dt.timedelta(days=400)
    first = f.serve(kept, world.housing, email="dan@old.example", received_at=old)
    newer = f.serve(
        other,
        world.housing,
        email="dan@new.example",
        phone="07700 900555",
        address_text="12 HIGH ST, Riverton",
        postcode="RV12AB",
    )
    merge = merging.person_merge(
        viewer=viewer, kept_person_id=kept.id, merged_person_id=other.id, reason="Same man"
    )
    kept.refresh_from_db()
    assert kept.given_name == "Dan"  # entered, so kept
    assert kept.email == "dan@new.example"  # most recent
    assert kept.email_key == "dan@new.example"
    assert kept.phone == "07700 900555"
    assert kept.address_id == address.id
    sources = provenance(kept)
    assert sources["email"] == (newer.id, "merge")
    assert sources["address"] == (newer.id, "merge")
    assert first.id != newer.id
    merging.person_unmerge(viewer=viewer, merge_id=merge.id, assignments={})
    kept.refresh_from_db()
    assert (kept.email, kept.phone, kept.address_id) == ("", "", None)
    assert provenance(kept)["email"] == (None, "unmerge")


def test_survivorship_prefers_frequent_names_and_recent_contacts():
    now = clock.now()
    records = [
        merging.RecordFields(1, now - dt.timedelta(days=30), "Jon", "SMITH", None, "a@x.org"),
        merging.RecordFields(2, now - dt.timedelta(days=20), "John", "Smith", None, "b@x.org"),
        merging.RecordFields(3, now - dt.timedelta(days=10), "John", "Smith", None, ""),
        merging.RecordFields(4, now - dt.timedelta(days=5), "John", "smith", None, "B@X.org"),
    ]
    survivors = merging.survivorship(records)
    assert survivors["given_name"].value == "John"
    assert survivors["family_name"].value == "Smith"
    assert survivors["email"].value == "B@X.org" and survivors["email"].record_id == 4
    assert merging.survivorship(list(reversed(records))) == survivors


def test_merge_moves_rows_of_every_table_with_a_foreign_key_to_person():
    keys = {relation.key for relation in merging.person_relations()}
    assert {
        "cases.case.person",
        "cases.interaction.person",
        "people.link.person",
        "people.persondepartment.person",
        "people.personneed.person",
        "people.identifier.person",
        "people.householdmembership.person",
        "people.relationship.from_person",
        "people.relationship.to_person",
        "people.person.merged_into",
    } <= keys
    assert not any(k.startswith(("people.personmerge", "people.personfieldsource")) for k in keys)


def test_a_later_merge_must_be_undone_first(world, duplicate):
    viewer = world.viewer(world.housing_worker)
    first = merging.person_merge(
        viewer=viewer, kept_person_id=world.alice.id, merged_person_id=duplicate.id, reason="Dup"
    )
    third = f.PersonFactory(given_name="Alicia", family_name="Okafor")
    f.serve(third, world.housing)
    second = merging.person_merge(
        viewer=viewer, kept_person_id=world.alice.id, merged_person_id=third.id, reason="Dup"
    )
    with pytest.raises(Conflict):
        merging.person_unmerge(viewer=viewer, merge_id=first.id, assignments={})
    assert merging.person_unmerge_plan(viewer=viewer, merge_id=first.id).blocked_by == second
    merging.person_unmerge(viewer=viewer, merge_id=second.id, assignments={})
    merging.person_unmerge(viewer=viewer, merge_id=first.id, assignments={})
    with pytest.raises(Conflict):
        merging.person_unmerge(viewer=viewer, merge_id=first.id, assignments={})


def test_a_merged_person_cannot_be_merged_again(world, duplicate):
    viewer = world.viewer(world.housing_worker)
    merging.person_merge(
        viewer=viewer, kept_person_id=world.alice.id, merged_person_id=duplicate.id, reason="Dup"
    )
    with pytest.raises(Conflict), transaction.atomic():
        merging.merge_people(
            kept_person_id=world.ben.id, merged_person_id=duplicate.id, method="staff"
        )
    # Through the service, a merged person is not even there to merge (once hidden by policy).
    with pytest.raises((Conflict, NotVisible)):
        merging.person_merge(
            viewer=viewer, kept_person_id=world.ben.id, merged_person_id=duplicate.id, reason="x"
        )


def test_who_may_merge_and_unmerge(world, duplicate):
    with pytest.raises(Forbidden):
        merging.person_merge(
            viewer=world.viewer(world.analyst),
            kept_person_id=world.alice.id,
            merged_person_id=duplicate.id,
            reason="Dup",
        )
    # Employment serves Alice and Alyce, childcare neither: it may not merge them.
    with pytest.raises(NotVisible):
        merging.person_merge(
            viewer=world.viewer(world.childcare_worker),
            kept_person_id=world.alice.id,
            merged_person_id=duplicate.id,
            reason="Dup",
        )
    with pytest.raises(ValidationFailed):
        merging.person_merge(
            viewer=world.viewer(world.employment_worker),
            kept_person_id=world.alice.id,
            merged_person_id=duplicate.id,
            reason="  ",
        )
    merge = merging.person_merge(
        viewer=world.viewer(world.employment_worker),
        kept_person_id=world.alice.id,
        merged_person_id=duplicate.id,
        reason="Dup",
    )
    with pytest.raises(NotVisible):
        merging.person_unmerge(
            viewer=world.viewer(world.childcare_worker), merge_id=merge.id, assignments={}
        )
    with pytest.raises(ValidationFailed):
        merging.person_unmerge(
            viewer=world.viewer(world.employment_worker),
            merge_id=merge.id,
            assignments={"cases.case.person:999999": duplicate.id},
        )


def test_domain_events_go_out_after_commit(world, duplicate, django_capture_on_commit_callbacks):
    seen = []
    subscribe("person.merged", seen.append)
    subscribe("person.unmerged", seen.append)
    try:
        viewer = world.viewer(world.housing_worker)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            merge = merging.person_merge(
                viewer=viewer,
                kept_person_id=world.alice.id,
                merged_person_id=duplicate.id,
                reason="Dup",
            )
        assert seen == [] and len(callbacks) == 1
        callbacks[0]()
        with django_capture_on_commit_callbacks(execute=True):
            merging.person_unmerge(viewer=viewer, merge_id=merge.id, assignments={})
    finally:
        unsubscribe("person.merged", seen.append)
        unsubscribe("person.unmerged", seen.append)
    assert [(e.name, e.object_id, e.data["merge_id"]) for e in seen] == [
        ("person.merged", world.alice.id, merge.id),
        ("person.unmerged", world.alice.id, merge.id),
    ]


def test_the_merge_is_recorded_with_history(world, duplicate):
    viewer = world.viewer(world.housing_worker)
    merge = merging.person_merge(
        viewer=viewer, kept_person_id=world.alice.id, merged_person_id=duplicate.id, reason="Dup"
    )
    assert PersonMerge.objects.get() == merge
    assert merge.merged_by_id == world.housing_worker.id
    moved = merge.changes.filter(model="cases.case", field="person_id")
    assert [(c.before, c.after) for c in moved] == [(duplicate.id, world.alice.id)]
    assert merge.rows_before["cases.case.person"]["kept"]
    assert PersonFieldSource.objects.filter(merge=merge, person=world.alice).exists()
    event = AuditEvent.objects.get(action="person.merge")
    assert event.object_ids == [merge.id, world.alice.id, duplicate.id]
    assert "Dup" not in str(event.counts) + str(event.fields)


def test_a_merged_person_is_hidden_from_search_and_the_360_view(world, duplicate):
    from civicloop.people import selectors

    viewer = world.viewer(world.housing_worker)
    merging.person_merge(
        viewer=viewer, kept_person_id=world.alice.id, merged_person_id=duplicate.id, reason="Dup"
    )
    found = selectors.person_search(
        viewer=viewer, criteria=selectors.PersonSearchCriteria(name="Okafor")
    )
    assert duplicate.id not in {p.id for p in found.items}
    assert world.alice.id in {p.id for p in found.items}
    with pytest.raises(NotVisible):
        selectors.person_360(viewer=viewer, person_id=duplicate.id)
    assert merging.person_survivor_id(viewer=viewer, person_id=duplicate.id) == world.alice.id
