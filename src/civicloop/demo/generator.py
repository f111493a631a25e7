"""The demo city generator: households, people, departments' records, needs, cases, contacts.

Pure Python, no Django: it yields plain rows, so the ORM loader (demo/loader.py)
and a bulk benchmark writer (PostgreSQL COPY) can both stream it. Deterministic:
household k is drawn from its own random.Random seeded by (seed, k), so the same
seed and `now` give the same city however the stream is consumed.

Every source record keeps the truth in attributes["demo_person_ref"] (and the
errors drawn in attributes["demo_errors"]) so identity resolution can be scored.
Those keys are the answer sheet: a matcher must not read them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from civicloop.demo import texts
from civicloop.demo.catalogue import (
    DEPARTMENTS,
    DEPARTMENTS_BY_CODE,
    NEED_SERVICES,
    NEEDS,
    PARTNERS,
    SERVICES,
    SERVICES_BY_CODE,
    STREET_SERVICES,
)
from civicloop.demo.gazetteer import AddressRow, AreaRow, Gazetteer, locate
from civicloop.demo.households import (
    EMAIL_DOMAINS,
    HOUSEHOLD_KINDS,
    LANGUAGES,
    YEAR,
    HouseholdDraft,
    HouseholdMaker,
    Member,
    ascii_name,
)
from civicloop.demo.lifecycle import (
    DAY,
    OFFICE_CHANNELS,
    case_contacts,
    chasing_contact,
    office_hours,
    walk,
    weighted,
)
from civicloop.demo.logins import DEMO_USERS, caseworker
from civicloop.demo.noise import ErrorRates, RecordNoise, address_style, email_style, phone_style
from civicloop.demo.rows import (
    CaseEventRow,
    CaseRow,
    HouseholdBundle,
    IdentifierRow,
    InteractionRow,
    MembershipRow,
    PersonNeedRow,
    PersonRow,
    RelationshipRow,
    ServedRow,
    SourceRecordRow,
)

__all__ = [
    "CaseEventRow",
    "CaseRow",
    "DemoCity",
    "DemoConfig",
    "ErrorRates",
    "HouseholdBundle",
    "IdentifierRow",
    "InteractionRow",
    "MembershipRow",
    "PersonNeedRow",
    "PersonRow",
    "RelationshipRow",
    "ServedRow",
    "SourceRecordRow",
]


# National Insurance prefixes in use; the demo spreads people over them by index.
_NI_PREFIXES = "JA JB JC JE JG JH JJ JK JL JM JN JP JR JS JT JW".split()


@dataclass(frozen=True, slots=True)
class DemoConfig:
    now: dt.datetime
    seed: int = 42
    people: int = 5000
    months: int = 18
    # Contacts per person follow a Pareto law: most people a few, some hundreds.
    contacts_per_person: float = 4.0
    contact_skew: float = 1.3  # the Pareto shape; lower means a heavier tail
    max_contacts_per_person: int = 1000
    error_rates: ErrorRates = field(default_factory=ErrorRates)


class DemoCity:
    """A deterministic city of `config.people` people, streamed one household at a time."""

    def __init__(self, config: DemoConfig):
        self.config = config
        self.now = config.now.replace(microsecond=0)
        self.today = self.now.date()
        self.window_start = self.now - dt.timedelta(days=config.months * YEAR / 12)
        # Room for every household plus empty homes to move from.
        self.gazetteer = Gazetteer(seed=config.seed, size=int(config.people / 1.9) + 60)
        self.noise = RecordNoise(config.error_rates)
        self.departments = DEPARTMENTS
        self.partners = PARTNERS
        self.needs_taxonomy = NEEDS
        self.services = SERVICES
        self.staff = DEMO_USERS

    # -- places -------------------------------------------------------------

    def areas(self) -> list[AreaRow]:
        return self.gazetteer.wards

    def addresses(self) -> Iterator[AddressRow]:
        return self.gazetteer.addresses()

    # -- the stream ---------------------------------------------------------

    def households(self) -> Iterator[HouseholdBundle]:
        """Households until exactly `config.people` people; starts afresh on every call."""
        self._people = HouseholdMaker(today=self.today)
        self._case_no = 0
        self._local_no = {d.code: 0 for d in DEPARTMENTS}
        size = self.gazetteer.size
        # An affine walk over the gazetteer gives each household its own home.
        step = 7919 if size % 7919 else 7907
        k = 0
        while self._people.person_no < self.config.people:
            rng = random.Random(f"{self.config.seed}:{k}")
            uprn = self.gazetteer.address((k * step + 11) % size).uprn
            yield self._household(rng, k, uprn, self.config.people - self._people.person_no)
            k += 1

    def _household(self, rng: random.Random, k: int, uprn: str, room: int) -> HouseholdBundle:
        kind = weighted(rng, HOUSEHOLD_KINDS)
        hh = HouseholdDraft(
            kind=kind,
            deprivation=rng.betavariate(1.3, 3.2),
            tenant=False,
            previous_uprn=self.gazetteer.address(rng.randrange(self.gazetteer.size)).uprn,
        )
        hh.tenant = rng.random() < 0.06 + 0.55 * hh.deprivation
        family = self._people.surname(rng)
        phone = (
            f"01632 {rng.randint(0, 999999):06d}"
            if rng.random() < 0.6
            else f"07700 {rng.randint(900000, 999999)}"
        )
        language = weighted(rng, LANGUAGES)
        bundle = HouseholdBundle(ref=f"H{k:06d}", address_uprn=uprn, since=self.today)
        relationships = self._people.compose(rng, hh, family, phone, uprn, language, room)
        oldest_adult = max(m.age for m in hh.members)
        years_here = rng.uniform(0.3, min(25.0, max(0.5, oldest_adult - 18)))
        bundle.since = self.today - dt.timedelta(days=int(years_here * YEAR))
        for m in hh.members:
            bundle.people.append(m.person)
            bundle.memberships.append(
                MembershipRow(m.person.ref, max(bundle.since, m.person.date_of_birth))
            )
        bundle.relationships = relationships
        for m in hh.members:
            self._needs_and_cases(rng, hh, m, bundle)
        self._street_reports(rng, hh, bundle)
        for m in hh.members:
            self._records(rng, hh, m, bundle)
            self._contacts(rng, m, bundle)
        for case in bundle.cases:
            if case.person_ref is None:
                bundle.interactions.extend(
                    case_contacts(rng, case, SERVICES_BY_CODE[case.service], self.now)
                )
        return bundle

    # -- needs and cases ----------------------------------------------------

    def _window_time(self, rng: random.Random) -> dt.datetime:
        span = (self.now - self.window_start).total_seconds()
        return self.window_start + dt.timedelta(seconds=int(span * rng.random()))

    def _needs_and_cases(
        self, rng: random.Random, hh: HouseholdDraft, m: Member, bundle: HouseholdBundle
    ) -> None:
        z = hh.deprivation
        age = m.age
        needs: list[str] = []
        has_young_children = any(o.age < 12 for o in hh.members)
        if m.adult:
            housing = rng.random() < 0.02 + 0.42 * z + (0.08 if hh.tenant else 0)
            if housing:
                needs.append(
                    weighted(
                        rng,
                        (("housing", 0.45), ("homelessness", 0.2), ("housing-conditions", 0.35)),
                    )
                )
            if hh.tenant and not housing and rng.random() < 0.25:
                needs.append("housing-conditions")
            boost = 0.3 if housing else 0.0
            if age < 67 and rng.random() < 0.03 + 0.35 * z + boost:
                needs.append(weighted(rng, (("employment", 0.7), ("skills", 0.3))))
            income = rng.random() < 0.03 + 0.35 * z + boost
            if income:
                needs.append(weighted(rng, (("income", 0.65), ("debt", 0.35))))
            if has_young_children and rng.random() < 0.1 + 0.35 * z + boost:
                needs.append("childcare")
            if rng.random() < 0.05 + 0.3 * z + 0.1 * housing + 0.004 * max(0, age - 50):
                needs.append(
                    weighted(
                        rng, (("health", 0.35), ("mental-health", 0.45), ("substance-use", 0.2))
                    )
                )
            if rng.random() < (0.3 if age >= 66 else 0.02 + 0.08 * z):
                needs.append(weighted(rng, (("transport", 0.6), ("mobility", 0.4))))
            if hh.kind in ("couple", "family", "lone_parent") and rng.random() < 0.01 + 0.07 * z:
                needs.append("domestic-abuse")
            if rng.random() < 0.01 + 0.2 * z + (0.2 if income else 0) + 0.1 * housing:
                needs.append("food")
            if rng.random() < 0.02 + 0.05 * z + (0.2 if hh.kind == "single" and age >= 70 else 0):
                needs.append("social-isolation")
            if rng.random() < (0.22 if age >= 75 else 0.01):
                needs.append("care")
        else:
            if rng.random() < 0.004 + 0.05 * z:
                needs.append("child-protection")
        m.needs = needs

        for need in needs:
            options = NEED_SERVICES[need]
            first = SERVICES_BY_CODE[weighted(rng, options)]
            dept = first.department
            case = None
            if rng.random() < 0.82:
                case = self._person_case(rng, m, first, hh)
                if rng.random() < 0.2:
                    second = SERVICES_BY_CODE[weighted(rng, options)]
                    self._person_case(rng, m, second, hh)
            recorded = case.opened_at if case else self._window_time(rng)
            if case is None:
                status = weighted(rng, (("open", 0.5), ("unmet", 0.3), ("met", 0.2)))
                changed = (
                    recorded
                    if status == "open"
                    else min(self.now, recorded + rng.uniform(5, 90) * DAY)
                )
            elif case.status in ("resolved", "closed") and case.resolved_at is not None:
                status = "met" if rng.random() < 0.85 else "unmet"
                changed = case.resolved_at
            elif case.status == "closed" and case.closed_at is not None:
                status, changed = "unmet", case.closed_at
            else:
                status, changed = "open", recorded
            by = (
                (case.assignee if case and case.assignee else caseworker(dept))
                if rng.random() < 0.9
                else None
            )
            bundle.needs.append(
                PersonNeedRow(m.person.ref, need, dept, by, recorded, status, changed)
            )
            m.departments.setdefault(dept, recorded)
            m.departments[dept] = min(m.departments[dept], recorded)

        # Routine requests that meet no recorded need.
        if m.adult and m is hh.members[0] and hh.tenant and rng.random() < 0.35:
            self._person_case(rng, m, SERVICES_BY_CODE["HSG-REPAIR"], hh)
        if m.adult and rng.random() < 0.04:
            self._person_case(rng, m, SERVICES_BY_CODE["TRN-PERMIT"], hh)
        if age >= 66 and "transport" not in needs and rng.random() < 0.15:
            self._person_case(rng, m, SERVICES_BY_CODE["TRN-BUSPASS"], hh)
        if age <= 2 and rng.random() < 0.6:
            self._person_case(rng, m, SERVICES_BY_CODE["HLT-VISITING"], hh)
        if 2 <= age <= 10 and rng.random() < 0.03:
            self._person_case(rng, m, SERVICES_BY_CODE["CHC-SEN"], hh)
        for case in m.cases:
            m.departments[case.department] = min(
                m.departments.get(case.department, case.opened_at), case.opened_at
            )
        bundle.cases.extend(m.cases)

    def _new_case(
        self,
        rng: random.Random,
        service,
        person_ref: str | None,
        opened_at: dt.datetime,
        street: str,
    ) -> CaseRow:
        self._case_no += 1
        roll = rng.random()
        if roll < service.urgent_share:
            priority = "urgent"
        elif roll < service.urgent_share + 0.12:
            priority = "high"
        elif roll < service.urgent_share + 0.22:
            priority = "low"
        else:
            priority = "normal"
        case = CaseRow(
            reference=f"CL-{self._case_no:06d}",
            service=service.code,
            department=service.department,
            person_ref=person_ref,
            description=texts.fill(rng, rng.choice(service.templates), street=street),
            priority=priority,
            channel=weighted(rng, service.channels),
            opened_at=opened_at,
        )
        if case.channel in OFFICE_CHANNELS:
            case.opened_at = office_hours(
                rng, opened_at, not_before=self.window_start, not_after=self.now
            )
        walk(rng, case, service, self.now)
        return case

    def _person_case(self, rng: random.Random, m: Member, service, hh: HouseholdDraft) -> CaseRow:
        addr = self.gazetteer.address(self.gazetteer.uprn_index(m.person.address_uprn))
        case = self._new_case(rng, service, m.person.ref, self._window_time(rng), _street(addr))
        if service.place_based:
            self._place(rng, case, addr)
        m.cases.append(case)
        return case

    def _place(self, rng: random.Random, case: CaseRow, near: AddressRow) -> None:
        lat = round(near.latitude + rng.uniform(-0.0004, 0.0004), 6)
        lon = round(near.longitude + rng.uniform(-0.0006, 0.0006), 6)
        case.latitude, case.longitude = lat, lon
        case.address_uprn = near.uprn if rng.random() < 0.7 else None
        case.area_code = locate(lon, lat, self.gazetteer.wards)

    def _street_reports(
        self, rng: random.Random, hh: HouseholdDraft, bundle: HouseholdBundle
    ) -> None:
        """Potholes, lights, fly-tipping: by a member, or by an anonymous passer-by near this home."""
        count = 0 if rng.random() < 0.72 else weighted(rng, (("1", 0.7), ("2", 0.2), ("3", 0.1)))
        adults = [m for m in hh.members if m.adult]
        home = self.gazetteer.address(self.gazetteer.uprn_index(bundle.address_uprn))
        for _ in range(int(count)):
            service = (
                SERVICES_BY_CODE["HLT-FOOD-HYGIENE"]
                if rng.random() < 0.05
                else rng.choice(STREET_SERVICES)
            )
            if rng.random() < 0.6:
                idx = self.gazetteer.uprn_index(home.uprn) + rng.randint(-15, 15)
                near = self.gazetteer.address(min(max(idx, 0), self.gazetteer.size - 1))
            else:
                near = self.gazetteer.address(rng.randrange(self.gazetteer.size))
            reporter = rng.choice(adults) if adults and rng.random() < 0.5 else None
            case = self._new_case(
                rng,
                service,
                reporter.person.ref if reporter else None,
                self._window_time(rng),
                _street(near),
            )
            self._place(rng, case, near)
            if reporter is not None:
                reporter.cases.append(case)
                reporter.departments[case.department] = min(
                    reporter.departments.get(case.department, case.opened_at), case.opened_at
                )
            else:
                self._anonymous(rng, case)
            bundle.cases.append(case)

    def _anonymous(self, rng: random.Random, case: CaseRow) -> None:
        given_sex = rng.choice("MF")
        style = rng.random()
        if style < 0.5:
            given = self._people.given(rng, given_sex)
            family = self._people.surname(rng)
            case.reporter_name = f"{given} {family}"
            case.reporter_email = (
                f"{ascii_name(given)}.{ascii_name(family)}@{rng.choice(EMAIL_DOMAINS)}"
            )
            if rng.random() < 0.4:
                case.reporter_phone = f"07700 {rng.randint(900000, 999999)}"
        elif style < 0.8:
            case.reporter_email = f"reporter{rng.randint(1, 99999)}@{rng.choice(EMAIL_DOMAINS)}"

    # -- departments' records -----------------------------------------------

    def _records(
        self, rng: random.Random, hh: HouseholdDraft, m: Member, bundle: HouseholdBundle
    ) -> None:
        p = m.person
        first_seen = dict(m.departments)
        if hh.tenant and m.adult:
            first_seen.setdefault("housing", self._before(rng, self.window_start, years=12))
        if rng.random() < 0.15:
            first_seen.setdefault("health", self._before(rng, self.window_start, years=15))
        if m.age >= 66 and rng.random() < 0.4:
            first_seen.setdefault("transport", self._before(rng, self.window_start, years=10))
        created = self.now
        for dept in sorted(first_seen):
            first = min(first_seen[dept], self.now) - rng.uniform(0, 400) * DAY
            copies = 2 if rng.random() < self.config.error_rates.duplicate_record else 1
            for copy in range(copies):
                received = first if copy == 0 else min(first + rng.uniform(1, 600) * DAY, self.now)
                bundle.source_records.append(self._record(rng, hh, p, dept, received))
            bundle.served.append(ServedRow(p.ref, dept, first))
            created = min(created, first)
        p.created_at = created
        self._identifiers(m, first_seen, bundle)

    def _before(self, rng: random.Random, when: dt.datetime, *, years: float) -> dt.datetime:
        return when - dt.timedelta(days=rng.uniform(0, years * YEAR))

    def _record(
        self, rng: random.Random, hh: HouseholdDraft, p: PersonRow, dept: str, received: dt.datetime
    ) -> SourceRecordRow:
        self._local_no[dept] += 1
        errors: list[str] = []
        noise = self.noise
        given = noise.given_name(rng, p.given_name, errors)
        family = noise.family_name(rng, p.family_name, p.former_family_name, errors)
        dob = noise.date_of_birth(rng, p.date_of_birth, errors)
        uprn = hh.previous_uprn if noise.moved(rng, errors) else p.address_uprn
        addr = self.gazetteer.address(self.gazetteer.uprn_index(uprn))
        email, phone = noise.contacts(rng, p.email, p.phone, errors)
        if dept == "housing" and rng.random() < 0.3:
            family = family.upper()
        attributes: dict = {"demo_person_ref": p.ref, "demo_errors": errors}
        if p.middle_names and rng.random() < 0.5:
            attributes["middle_names"] = p.middle_names if rng.random() < 0.6 else p.middle_names[0]
        if dept == "health":
            nhs = nhs_number(int(p.ref[1:]))
            if nhs and rng.random() < 0.9:
                attributes["nhs_number"] = nhs
        if dept == "employment" and p.date_of_birth.year <= self.today.year - 16:
            attributes["ni_number"] = ni_number(int(p.ref[1:]))
        return SourceRecordRow(
            person_ref=p.ref,
            department=dept,
            local_id=f"{DEPARTMENTS_BY_CODE[dept].record_prefix}-{self._local_no[dept]:07d}",
            given_name=given,
            family_name=family,
            date_of_birth=dob,
            email=email_style(rng, email),
            phone=phone_style(rng, phone) if phone else "",
            address_text=address_style(rng, addr.text()),
            postcode=addr.postcode,
            received_at=received,
            attributes=attributes,
        )

    def _identifiers(
        self, m: Member, departments: dict[str, dt.datetime], bundle: HouseholdBundle
    ) -> None:
        index = int(m.person.ref[1:])
        if "health" in departments:
            nhs = nhs_number(index)
            if nhs:
                bundle.identifiers.append(IdentifierRow(m.person.ref, "nhs", nhs, "health"))
        if "employment" in departments and m.age >= 16:
            bundle.identifiers.append(
                IdentifierRow(m.person.ref, "ni", ni_number(index), "employment")
            )

    # -- contacts -----------------------------------------------------------

    def _contacts(self, rng: random.Random, m: Member, bundle: HouseholdBundle) -> None:
        rows: list[InteractionRow] = []
        for case in m.cases:
            rows.extend(case_contacts(rng, case, SERVICES_BY_CODE[case.service], self.now))
        budget = self._contact_budget(rng)
        extra = max(0, budget - len(rows))
        departments = sorted(m.departments) or [rng.choice(DEPARTMENTS).code]
        weights = [1 + 3 * min(c.slowness, 4.0) + 3 * c.reopen_count for c in m.cases]
        for _ in range(extra):
            if m.cases and rng.random() < 0.6:
                case = rng.choices(m.cases, weights=weights, k=1)[0]
                rows.append(chasing_contact(rng, case, case.department, self.now))
            else:
                rows.append(self._general_contact(rng, m.person.ref, rng.choice(departments)))
        bundle.interactions.extend(rows)

    def _contact_budget(self, rng: random.Random) -> int:
        shape = self.config.contact_skew
        mean = self.config.contacts_per_person
        scale = mean * (shape - 1) / shape
        draw = scale / (1.0 - rng.random()) ** (1.0 / shape)
        return min(int(draw), self.config.max_contacts_per_person)

    def _general_contact(self, rng: random.Random, person_ref: str, dept: str) -> InteractionRow:
        service = rng.choice([s for s in SERVICES if s.department == dept])
        at = self._window_time(rng)
        if rng.random() < 0.75:
            channel = weighted(
                rng,
                (
                    ("phone", 0.45),
                    ("email", 0.2),
                    ("web", 0.15),
                    ("in_person", 0.15),
                    ("letter", 0.05),
                ),
            )
            summary = rng.choice(texts.GENERAL_INBOUND).format(service=service.name.lower())
            direction = "inbound"
        else:
            channel = weighted(
                rng, (("phone", 0.35), ("letter", 0.3), ("email", 0.2), ("sms", 0.15))
            )
            summary = rng.choice(texts.GENERAL_OUTBOUND).format(service=service.name.lower())
            direction = "outbound"
        actor = (
            caseworker(dept)
            if channel in ("phone", "in_person") or direction == "outbound"
            else None
        )
        if channel in OFFICE_CHANNELS or direction == "outbound":
            at = office_hours(rng, at, not_before=self.window_start, not_after=self.now)
        return InteractionRow(person_ref, None, dept, channel, direction, at, actor, summary)


def _street(addr: AddressRow) -> str:
    line = addr.line2 or addr.line1
    return line.split(" ", 1)[1] if " " in line and line.split(" ", 1)[0].isdigit() else line


def nhs_number(index: int) -> str:
    """A test-range (999...) NHS number with a valid modulus-11 check digit, or '' if none exists."""
    if index >= 1_000_000:
        return ""
    body = f"999{index:06d}"
    total = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return ""
    return body + str(check)


def ni_number(index: int) -> str:
    prefix = _NI_PREFIXES[(index // 1_000_000) % len(_NI_PREFIXES)]
    return f"{prefix}{index % 1_000_000:06d}{'ABCD'[index % 4]}"
