"""The demo city as loaded into the database: consistency a user of the demo relies on.

One small city is loaded once for the module, inside a transaction that is rolled
back at the end, so the tests stay fast and leave the database as they found it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.test import override_settings

from civicloop.cases.models import Case, CaseEvent, Interaction
from civicloop.cases.workflow import DEFAULT
from civicloop.catalogue.models import Department, Need, PartnerOrganisation, Service
from civicloop.core import clock
from civicloop.demo.generator import DemoCity, DemoConfig
from civicloop.demo.loader import LoadResult, load_city
from civicloop.demo.logins import DEMO_PASSWORD, DEMO_USERS
from civicloop.demo.showcase import (
    people_with_cases_in_departments,
    person_with_cases_in_departments,
)
from civicloop.people.keys import person_keys
from civicloop.people.models import (
    Household,
    HouseholdMembership,
    Link,
    Person,
    PersonDepartment,
    PersonNeed,
    Relationship,
    SourceRecord,
)
from civicloop.places.geometry import point_in_polygon
from civicloop.places.models import Address
from civicloop.staff.models import StaffMember
from civicloop.trust.models import AuditEvent

NOW = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)
PEOPLE = 400
BATCH = 150
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Loaded:
    city: DemoCity
    result: LoadResult


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        with transaction.atomic():
            city = DemoCity(DemoConfig(now=NOW, seed=7, people=PEOPLE))
            with clock.frozen_at(NOW):
                result = load_city(city, batch_size=BATCH)
            yield Loaded(city, result)
            transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_catalogue_departments_partners_needs_services(demo):
    codes = set(Department.objects.values_list("code", flat=True))
    assert codes >= {
        "housing",
        "health",
        "social-care",
        "employment",
        "childcare",
        "transport",
        "streets",
    }
    assert PartnerOrganisation.objects.count() >= 3
    assert (
        Need.objects.filter(
            code__in=[
                "housing",
                "income",
                "employment",
                "childcare",
                "transport",
                "health",
                "safety",
                "food",
                "social-isolation",
            ]
        ).count()
        == 9
    )
    assert not Service.objects.filter(sensitive=True, public=True).exists()
    assert Service.objects.get(code="STR-POTHOLE").place_based
    assert Service.objects.get(code="HLT-MENTAL").sensitive
    assert Service.objects.filter(needs__code="housing").exists()


def test_people_match_the_generator_and_carry_their_search_keys(demo):
    assert Person.objects.count() == PEOPLE
    generated = [p for b in demo.city.households() for p in b.people]
    loaded = list(Person.objects.order_by("pk"))
    assert [(p.given_name, p.family_name, p.date_of_birth) for p in generated] == [
        (p.given_name, p.family_name, p.date_of_birth) for p in loaded
    ]
    for p in loaded:
        keys = person_keys(
            given_name=p.given_name, family_name=p.family_name, phone=p.phone, email=p.email
        )
        assert {k: getattr(p, k) for k in keys} == keys


def test_households_share_surname_address_and_phone(demo):
    assert Household.objects.count() > PEOPLE / 4
    for household in Household.objects.prefetch_related("memberships__person"):
        people = [m.person for m in household.memberships.all()]
        assert len({p.family_name for p in people}) == 1
        assert {p.address_id for p in people} == {household.address_id}
        assert len({p.phone for p in people}) == 1
    assert HouseholdMembership.objects.filter(until__isnull=True).count() == PEOPLE
    assert set(Relationship.objects.values_list("kind", flat=True)) >= {
        "partner",
        "parent",
        "sibling",
    }


def test_addresses_lie_in_their_ward(demo):
    for address in Address.objects.select_related("area")[:300]:
        assert address.area is not None
        assert point_in_polygon(address.longitude, address.latitude, address.area.polygon)


def test_every_source_record_is_linked_to_its_true_person(demo):
    records = SourceRecord.objects.count()
    assert records >= PEOPLE / 2
    links = Link.objects.filter(active=True, method=Link.Method.KNOWN_TRUTH, match_probability=None)
    assert links.count() == records
    person_of_ref = {}
    for ref, person_id in links.values_list(
        "source_record__attributes__demo_person_ref", "person_id"
    ):
        assert person_of_ref.setdefault(ref, person_id) == person_id
    assert len(set(person_of_ref.values())) == len(person_of_ref)


def test_person_departments_are_exactly_records_and_cases(demo):
    expected = defaultdict(set)
    for person_id, dept in Link.objects.filter(active=True).values_list(
        "person_id", "source_record__department_id"
    ):
        expected[person_id].add(dept)
    for person_id, dept in Case.objects.filter(person__isnull=False).values_list(
        "person_id", "department_id"
    ):
        expected[person_id].add(dept)
    actual = defaultdict(set)
    for person_id, dept in PersonDepartment.objects.values_list("person_id", "department_id"):
        actual[person_id].add(dept)
    assert actual == expected


def test_case_events_are_a_valid_path_of_the_default_workflow(demo):
    events = defaultdict(list)
    for e in CaseEvent.objects.order_by("at", "pk"):
        events[e.case_id].append(e)
    cases = list(Case.objects.select_related("service"))
    assert len(cases) > PEOPLE / 2
    for case in cases:
        history = events[case.pk]
        assert history[0].kind == CaseEvent.Kind.OPENED and history[0].at == case.opened_at
        status, reopened, resolved_at, closed_at = DEFAULT.initial, 0, None, None
        for e in history[1:]:
            assert e.at <= NOW
            if e.kind == CaseEvent.Kind.STATUS:
                assert e.from_status == status and DEFAULT.can_move(status, e.to_status), (
                    case.reference
                )
                reopened += DEFAULT.is_reopening(status, e.to_status)
                resolved_at = (
                    e.at
                    if e.to_status == "resolved"
                    else (None if e.to_status == "in_progress" else resolved_at)
                )
                closed_at = e.at if e.to_status == "closed" else closed_at
                status = e.to_status
            elif e.kind == CaseEvent.Kind.ASSIGNED:
                assert e.assignee_id is not None
        assert case.status == status and case.reopen_count == reopened
        assert case.resolved_at == resolved_at and case.closed_at == closed_at
        assert case.department_id == case.service.department_id
        assert case.due_at >= case.opened_at + dt.timedelta(days=case.service.sla_days)
        assert case.updated_at == history[-1].at
    statuses = Counter(c.status for c in cases)
    assert set(statuses) >= {"in_progress", "resolved", "closed"}
    assert any(c.reopen_count for c in cases)


def test_references_unique_and_assignees_work_in_the_case_department(demo):
    assert Case.objects.values("reference").distinct().count() == Case.objects.count()
    assert all(r.startswith("CL-") for r in Case.objects.values_list("reference", flat=True))
    for case in Case.objects.filter(assignee__isnull=False).select_related("assignee"):
        assert case.assignee.departments.filter(pk=case.department_id).exists()


def test_place_based_and_anonymous_reports(demo):
    place_based = Case.objects.filter(service__place_based=True)
    assert place_based.exists()
    assert not place_based.filter(latitude__isnull=True).exists()
    assert not place_based.filter(area__isnull=True).exists()
    anonymous = Case.objects.filter(person__isnull=True)
    assert anonymous.exists()
    assert not anonymous.filter(service__place_based=False).exists()


def test_contacts_cover_channels_directions_and_chasing(demo):
    assert set(Interaction.objects.values_list("channel", flat=True)) >= {
        "phone",
        "in_person",
        "email",
        "letter",
        "web",
        "sms",
    }
    assert set(Interaction.objects.values_list("direction", flat=True)) == {"inbound", "outbound"}
    chasing = Interaction.objects.filter(is_chasing=True)
    assert chasing.exists()
    assert not chasing.filter(case__isnull=True).exists()
    assert not chasing.filter(at__lt=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).exists()


def test_needs_recorded_by_departments_with_every_status(demo):
    assert set(PersonNeed.objects.values_list("status", flat=True)) == {"open", "met", "unmet"}
    served = set(PersonDepartment.objects.values_list("person_id", "department_id"))
    for pair in PersonNeed.objects.values_list("person_id", "department_id"):
        assert pair in served


def test_showcase_person_has_cases_in_three_departments_one_sensitive(demo):
    person_id = person_with_cases_in_departments(
        min_departments=3, with_sensitive=True, visible_to_department="housing"
    )
    assert person_id is not None
    cases = Case.objects.filter(person_id=person_id)
    assert cases.values("department").distinct().count() >= 3
    assert cases.filter(service__sensitive=True, department__code="health").exists()
    assert PersonDepartment.objects.filter(person_id=person_id, department__code="housing").exists()
    person = Person.objects.get(pk=person_id)
    assert Person.objects.filter(search_name=person.search_name).count() == 1


def test_at_least_five_percent_of_people_have_cases_in_three_departments(demo):
    many = (
        Case.objects.filter(person__isnull=False)
        .values("person_id")
        .annotate(n=Count("department", distinct=True))
        .filter(n__gte=3)
        .count()
    )
    assert many >= 0.05 * PEOPLE
    assert people_with_cases_in_departments(visible_to_department=None).count() >= 3


def test_every_batch_has_one_audit_event_with_its_count_and_id_range(demo):
    events = AuditEvent.objects.filter(action="demo.load")
    assert events.count() == demo.result.audit_events
    assert not events.exclude(actor_role="system").exists()
    by_type = defaultdict(list)
    for e in events:
        by_type[e.object_type].append(e.counts)
    tables = {
        "person": Person,
        "case": Case,
        "case_event": CaseEvent,
        "interaction": Interaction,
        "source_record": SourceRecord,
        "link": Link,
        "address": Address,
    }
    for object_type, model in tables.items():
        batches = by_type[object_type]
        assert sum(b["count"] for b in batches) == model.objects.count(), object_type
        assert all(b["count"] <= BATCH for b in batches)
        for b in batches:
            assert (
                model.objects.filter(pk__gte=b["min_id"], pk__lte=b["max_id"]).count() == b["count"]
            )
    assert len(by_type["case_event"]) > 1
    assert all(e.object_ids == [] for e in events)


def test_demo_logins_exist_with_the_demo_password(demo):
    User = get_user_model()
    for login in DEMO_USERS:
        user = User.objects.get(username=login.username)
        assert user.check_password(DEMO_PASSWORD)
        staff = StaffMember.objects.get(user=user)
        assert staff.role == login.role
        assert set(staff.departments.values_list("code", flat=True)) == set(login.departments)
    assert User.objects.get(username="admin").is_superuser
    assert StaffMember.objects.get(user__username="partner").partner is not None
    for dept in Department.objects.all():
        roles = set(StaffMember.objects.filter(departments=dept).values_list("role", flat=True))
        assert roles == {"caseworker", "supervisor"}
