"""The pure demo generator: determinism, realistic errors, households, skew. No database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections import Counter, defaultdict
from functools import cache

import pytest

from civicloop.demo.catalogue import DEFAULT_TRANSITIONS, DEPARTMENTS, SERVICES
from civicloop.demo.generator import DemoCity, DemoConfig
from civicloop.demo.names import NICKNAMES
from civicloop.demo.noise import _ABBREVIATIONS, swap_day_month
from civicloop.people.keys import email_key, fold, phone_key

NOW = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)


@cache
def city(seed: int = 42, people: int = 300) -> tuple[DemoCity, tuple]:
    c = DemoCity(DemoConfig(now=NOW, seed=seed, people=people))
    return c, tuple(c.households())


def as_data(bundles) -> list[dict]:
    return [dataclasses.asdict(b) for b in bundles]


def test_same_seed_same_city_and_a_new_seed_a_new_one():
    first = as_data(DemoCity(DemoConfig(now=NOW, seed=5, people=250)).households())
    again = as_data(DemoCity(DemoConfig(now=NOW, seed=5, people=250)).households())
    other = as_data(DemoCity(DemoConfig(now=NOW, seed=6, people=250)).households())
    assert first == again
    assert first != other


def test_the_stream_starts_afresh_and_gives_exactly_the_people_asked_for():
    c = DemoCity(DemoConfig(now=NOW, seed=9, people=137))
    one = as_data(c.households())
    two = as_data(c.households())
    assert one == two
    assert sum(len(b["people"]) for b in one) == 137
    refs = [p["ref"] for b in one for p in b["people"]]
    assert len(set(refs)) == 137


def test_households_share_surname_address_and_home_phone():
    _, bundles = city()
    shared = 0
    for b in bundles:
        assert len({p.family_name for p in b.people}) == 1
        assert {p.address_uprn for p in b.people} == {b.address_uprn}
        assert len({p.phone for p in b.people}) == 1
        shared += len(b.people) > 1
    assert shared > len(bundles) / 2


def test_twins_juniors_couples_and_singles_exist():
    _, bundles = city()
    twins = juniors = couples = singles = 0
    for b in bundles:
        people = b.people
        singles += len(people) == 1
        couples += any(r.kind == "partner" for r in b.relationships)
        for i, a in enumerate(people):
            for other in people[i + 1 :]:
                if a.date_of_birth == other.date_of_birth:
                    assert a.given_name != other.given_name  # twins have their own names
                    twins += 1
                gap = abs((a.date_of_birth - other.date_of_birth).days) / 365.25
                if a.given_name == other.given_name and 24 <= gap <= 36:
                    juniors += 1
    assert twins >= 2 and juniors >= 2 and couples >= 10 and singles >= 10


def test_relationships_point_inside_the_household_and_parents_are_older():
    _, bundles = city()
    kinds = Counter()
    for b in bundles:
        members = {p.ref: p for p in b.people}
        for r in b.relationships:
            kinds[r.kind] += 1
            assert r.from_ref in members and r.to_ref in members and r.from_ref != r.to_ref
            if r.kind in ("parent", "guardian"):
                assert members[r.from_ref].date_of_birth < members[r.to_ref].date_of_birth
    assert {"partner", "parent", "sibling", "guardian"} <= set(kinds)


def _normal_address(text: str) -> str:
    text = fold(text)
    for long, short in _ABBREVIATIONS.items():
        text = text.replace(fold(short) + " ", fold(long) + " ").replace(
            fold(short) + " riverton", fold(long) + " riverton"
        )
    return text


def test_source_records_carry_the_stated_error_rates():
    """Measured against the golden record, not read from the generator's own flags."""
    c, bundles = city(seed=11, people=2000)
    golden = {p.ref: p for b in bundles for p in b.people}
    measured = Counter()
    with_both_contacts = 0
    records = [r for b in bundles for r in b.source_records]
    for r in records:
        p = golden[r.attributes["demo_person_ref"]]
        if r.given_name in NICKNAMES.get(p.given_name, ()):
            measured["nickname"] += 1
        elif fold(r.given_name) != fold(p.given_name):
            measured["given_typo"] += 1
        if fold(r.family_name) == fold(p.former_family_name):
            measured["changed_family"] += 1
        elif fold(r.family_name) != fold(p.family_name):
            measured["family_typo"] += 1
        if r.date_of_birth != p.date_of_birth:
            assert r.date_of_birth == swap_day_month(p.date_of_birth)
            measured["dob_swap"] += 1
        home = c.gazetteer.address(c.gazetteer.uprn_index(p.address_uprn))
        if _normal_address(r.address_text) != _normal_address(home.text()):
            measured["moved"] += 1
        if p.email and p.phone:
            with_both_contacts += 1
            if not email_key(r.email) or not phone_key(r.phone):
                measured["missing_contact"] += 1
            else:
                assert email_key(r.email) == email_key(p.email) and phone_key(r.phone) == phone_key(
                    p.phone
                )
    rates = {k: v / len(records) for k, v in measured.items()}
    rates["missing_contact"] = measured["missing_contact"] / with_both_contacts
    expected = {
        "given_typo": 0.15,
        "family_typo": 0.10,
        "nickname": 0.08,
        "dob_swap": 0.06,
        "moved": 0.20,
        "missing_contact": 0.25,
        "changed_family": 0.05,
    }
    assert len(records) > 1800, rates
    for name, rate in expected.items():
        n = with_both_contacts if name == "missing_contact" else len(records)
        four_sd = (
            4 * (rate * (1 - rate) / n) ** 0.5
        )  # binomial noise, so a seed change cannot fail it
        assert rates[name] == pytest.approx(rate, abs=four_sd), name


def test_every_record_names_its_true_person_and_local_ids_are_unique():
    _, bundles = city()
    refs = {p.ref for b in bundles for p in b.people}
    seen = set()
    for b in bundles:
        for r in b.source_records:
            assert r.attributes["demo_person_ref"] in refs
            assert (r.department, r.local_id) not in seen
            seen.add((r.department, r.local_id))


def test_case_histories_walk_the_workflow_and_stop_at_now():
    _, bundles = city()
    services = {s.code: s for s in SERVICES}
    for b in bundles:
        for case in b.cases:
            assert case.events[0].kind == "opened" and case.events[0].at == case.opened_at
            status = "new"
            for e in case.events:
                assert e.at <= NOW
                if e.kind == "status":
                    assert e.from_status == status and e.to_status in DEFAULT_TRANSITIONS[status]
                    status = e.to_status
            assert status == case.status
            assert services[case.service].department == case.department
            assert case.due_at >= case.opened_at + dt.timedelta(
                days=services[case.service].sla_days
            )


def test_needs_co_occur_the_way_deprivation_makes_them():
    _, bundles = city(seed=11, people=2000)
    needs = defaultdict(set)
    for b in bundles:
        for n in b.needs:
            needs[n.person_ref].add(n.need)
    housing = [s for s in needs.values() if s & {"housing", "homelessness", "housing-conditions"}]
    others = [
        s for s in needs.values() if not s & {"housing", "homelessness", "housing-conditions"}
    ]

    def share(group):
        return sum(
            bool(s & {"employment", "skills", "income", "debt", "childcare"}) for s in group
        ) / len(group)

    assert share(housing) > share(others) + 0.15


def test_contacts_are_skewed_most_a_few_some_hundreds():
    c = DemoCity(DemoConfig(now=NOW, seed=3, people=3000, contact_skew=1.2))
    per_person = Counter()
    for b in c.households():
        for i in b.interactions:
            if i.person_ref:
                per_person[i.person_ref] += 1
    counts = sorted(per_person.values())
    assert statistics.median(counts) <= 5
    assert counts[-1] >= 100


def test_chasing_concentrates_on_slow_and_reopened_cases():
    _, bundles = city(seed=11, people=2000)
    chasing = Counter(i.case_ref for b in bundles for i in b.interactions if i.is_chasing)
    cases = [c for b in bundles for c in b.cases]
    slow = [chasing[c.reference] for c in cases if c.reopen_count or c.slowness > 0.5]
    prompt = [chasing[c.reference] for c in cases if not c.reopen_count and c.slowness == 0]
    assert statistics.mean(slow) > 3 * statistics.mean(prompt)


def test_place_based_reports_have_a_location_and_only_they_are_anonymous():
    _, bundles = city()
    services = {s.code: s for s in SERVICES}
    anonymous = 0
    for b in bundles:
        for case in b.cases:
            if services[case.service].place_based:
                assert case.latitude is not None and case.longitude is not None and case.area_code
            if case.person_ref is None:
                anonymous += 1
                assert services[case.service].place_based
    assert anonymous > 0


def test_catalogue_has_the_departments_and_flags_the_issue_names():
    assert {d.code for d in DEPARTMENTS} >= {
        "housing",
        "health",
        "social-care",
        "employment",
        "childcare",
        "transport",
        "streets",
    }
    by_code = {s.code: s for s in SERVICES}
    for code in ("STR-POTHOLE", "STR-STREETLIGHT", "STR-FLYTIP", "STR-GRAFFITI"):
        assert by_code[code].place_based
    for s in SERVICES:
        if s.sensitive:
            assert not s.public
    sensitive = {s.code for s in SERVICES if s.sensitive}
    assert {"SOC-CHILD-PROTECT", "SOC-DOMESTIC-ABUSE", "HLT-MENTAL"} <= sensitive
    for d in DEPARTMENTS:
        assert sum(s.department == d.code for s in SERVICES) >= 3


def test_phone_visits_and_letters_happen_in_riverton_office_hours():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/London")
    _, bundles = city()
    staffed = [c.opened_at for b in bundles for c in b.cases if c.channel in ("phone", "in_person")]
    staffed += [
        i.at for b in bundles for i in b.interactions if i.is_chasing and i.channel == "phone"
    ]
    assert len(staffed) > 50
    for at in staffed:
        local = at.astimezone(zone)
        assert local.weekday() < 5 and dt.time(8, 30) <= local.time() <= dt.time(17, 30), local
