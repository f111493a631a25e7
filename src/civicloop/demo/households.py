"""Households of the demo city: who lives together, with names, ages and relationships.

Everyone in a household shares its surname, address and home phone. Kinds:
single people, couples, families (some twins, some children named after a
parent), lone parents, parents with an adult "junior" of the same name,
grandparents as guardians, and adult siblings. Pure Python, no Django.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Collection
from dataclasses import dataclass, field

from civicloop.demo import texts
from civicloop.demo.lifecycle import weighted
from civicloop.demo.names import (
    FEMALE_GIVEN,
    FEMALE_WEIGHTS,
    MALE_GIVEN,
    MALE_WEIGHTS,
    SURNAME_WEIGHTS,
    SURNAMES,
)
from civicloop.demo.rows import CaseRow, PersonRow, RelationshipRow
from civicloop.people.keys import fold

YEAR = 365.25

HOUSEHOLD_KINDS = (
    ("single", 0.29),
    ("couple", 0.20),
    ("family", 0.24),
    ("lone_parent", 0.11),
    ("junior", 0.05),
    ("kinship", 0.04),
    ("siblings", 0.07),
)
LANGUAGES = (("en", 0.9), ("es", 0.05), ("pl", 0.03), ("ur", 0.02))
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass(slots=True)
class Member:
    """A person while their household is drawn, with what the generator still needs to know."""

    person: PersonRow
    age: int
    adult: bool
    needs: list[str] = field(default_factory=list)
    departments: dict[str, dt.datetime] = field(default_factory=dict)  # dept -> first contact
    cases: list[CaseRow] = field(default_factory=list)


@dataclass(slots=True)
class HouseholdDraft:
    kind: str
    deprivation: float  # 0..1: drives needs, and so their co-occurrence
    tenant: bool  # a council tenant: housing holds a record of every adult
    previous_uprn: str
    members: list[Member] = field(default_factory=list)


class HouseholdMaker:
    """Draws the members of households; numbers people P000001, P000002, ... in order."""

    def __init__(self, *, today: dt.date):
        self.today = today
        self.person_no = 0

    def surname(self, rng: random.Random) -> str:
        return rng.choices(SURNAMES, cum_weights=SURNAME_WEIGHTS, k=1)[0]

    def given(self, rng: random.Random, sex: str, avoid: Collection[str] = frozenset()) -> str:
        names, cum = (MALE_GIVEN, MALE_WEIGHTS) if sex == "M" else (FEMALE_GIVEN, FEMALE_WEIGHTS)
        for _ in range(20):
            name = rng.choices(names, cum_weights=cum, k=1)[0]
            if name not in avoid:
                return name
        return name

    def _dob(self, rng: random.Random, age: int) -> dt.date:
        return self.today - dt.timedelta(days=int(age * YEAR) + rng.randint(1, 364))

    def _person(
        self,
        rng,
        hh,
        *,
        sex,
        age,
        family,
        phone,
        uprn,
        language,
        given=None,
        avoid=frozenset(),
        dob=None,
    ) -> Member:
        self.person_no += 1
        given = given or self.given(rng, sex, set(avoid))
        dob = dob or self._dob(rng, age)
        middle = self.given(rng, sex, {given}) if rng.random() < 0.4 else ""
        email = ""
        if age >= 16 and rng.random() < 0.85:
            local = weighted(rng, (("dot", 0.5), ("initial", 0.3), ("year", 0.2)))
            g, f = ascii_name(given), ascii_name(family)
            local = {
                "dot": f"{g}.{f}",
                "initial": f"{g[0]}{f}",
                "year": f"{g}{dob.year % 100:02d}",
            }[local]
            email = f"{local}{rng.randint(1, 99) if rng.random() < 0.4 else ''}@{rng.choice(EMAIL_DOMAINS)}"
        access = (
            rng.choice(texts.ACCESSIBILITY)
            if rng.random() < (0.03 + (0.08 if age >= 75 else 0))
            else ""
        )
        person = PersonRow(
            ref=f"P{self.person_no:06d}",
            given_name=given,
            middle_names=middle,
            family_name=family,
            sex=sex,
            date_of_birth=dob,
            email=email,
            phone=phone,
            address_uprn=uprn,
            preferred_language=language,
            accessibility_needs=access,
            former_family_name=self.surname(rng),
        )
        if person.former_family_name == family:
            person.former_family_name = self.surname(rng)
        member = Member(person, age=age, adult=age >= 18)
        hh.members.append(member)
        return member

    def compose(self, rng, hh, family, phone, uprn, language, room) -> list[RelationshipRow]:
        """Members and their relationships for the household's kind, at most `room` people."""
        rels: list[RelationshipRow] = []
        common = {"family": family, "phone": phone, "uprn": uprn, "language": language}

        def add(**kw) -> Member | None:
            if len(hh.members) >= room:
                return None
            return self._person(rng, hh, **common, **kw)

        def add_first(**kw) -> Member:
            # Every household has room for one at least (`room` >= 1): its first member fits.
            return self._person(rng, hh, **common, **kw)

        def couple(age_lo: int, age_hi: int) -> tuple[Member, Member | None]:
            age = rng.randint(age_lo, age_hi)
            first_sex = rng.choice("MF")
            first = add_first(sex=first_sex, age=age)
            same_sex = rng.random() < 0.06
            other = add(
                sex=first_sex if same_sex else ("F" if first_sex == "M" else "M"),
                age=max(18, age + rng.randint(-6, 6)),
            )
            if other is not None:
                met = max(first.person.date_of_birth, other.person.date_of_birth) + dt.timedelta(
                    days=int(20 * YEAR)
                )
                since = met + dt.timedelta(days=rng.randint(0, max(1, (self.today - met).days)))
                rels.append(
                    RelationshipRow(
                        first.person.ref, other.person.ref, "partner", min(since, self.today)
                    )
                )
            return first, other

        def children(
            parents: list[Member], count: int, max_age: int, twins_chance: float
        ) -> list[Member]:
            kids: list[Member] = []
            youngest_parent = min(p.age for p in parents)
            names_used = {p.person.given_name for p in parents}
            twins_left = count >= 2 and rng.random() < twins_chance
            i = 0
            while i < count:
                age = rng.randint(0, max(0, min(max_age, youngest_parent - 18)))
                sex = rng.choice("MF")
                named_after = [
                    p for p in parents if p.person.sex == sex and 25 <= p.age - age <= 35
                ]
                if named_after and rng.random() < 0.08:
                    kid = add(sex=sex, age=age, given=named_after[0].person.given_name)
                else:
                    kid = add(sex=sex, age=age, avoid=names_used)
                if kid is None:
                    break
                names_used.add(kid.person.given_name)
                kids.append(kid)
                i += 1
                if twins_left and i < count:
                    twins_left = False
                    twin = add(
                        sex=rng.choice("MF"),
                        age=age,
                        avoid=names_used,
                        dob=kid.person.date_of_birth,
                    )
                    if twin is None:
                        break
                    names_used.add(twin.person.given_name)
                    kids.append(twin)
                    i += 1
            for p in parents:
                for kid in kids:
                    rels.append(
                        RelationshipRow(
                            p.person.ref, kid.person.ref, "parent", kid.person.date_of_birth
                        )
                    )
            for a_i, a in enumerate(kids):
                for b in kids[a_i + 1 :]:
                    rels.append(
                        RelationshipRow(
                            a.person.ref,
                            b.person.ref,
                            "sibling",
                            max(a.person.date_of_birth, b.person.date_of_birth),
                        )
                    )
            return kids

        kind = hh.kind
        if kind == "single":
            band = weighted(rng, (("young", 0.35), ("mid", 0.35), ("old", 0.3)))
            lo, hi = {"young": (18, 34), "mid": (35, 64), "old": (65, 96)}[band]
            add(sex=rng.choice("MF"), age=rng.randint(lo, hi))
        elif kind == "couple":
            couple(20, 92)
        elif kind == "family":
            first, other = couple(24, 56)
            parents = [p for p in (first, other) if p]
            children(
                parents,
                int(weighted(rng, (("1", 0.38), ("2", 0.38), ("3", 0.17), ("4", 0.07)))),
                17,
                0.12,
            )
        elif kind == "lone_parent":
            parent = add_first(sex="F" if rng.random() < 0.85 else "M", age=rng.randint(19, 52))
            children([parent], int(weighted(rng, (("1", 0.5), ("2", 0.35), ("3", 0.15)))), 17, 0.1)
        elif kind == "junior":
            age = rng.randint(50, 86)
            sex = rng.choice("MF")
            parent = add_first(sex=sex, age=age)
            parents = [parent]
            if rng.random() < 0.55:
                other = add(sex="F" if sex == "M" else "M", age=max(45, age + rng.randint(-5, 5)))
                if other is not None:
                    rels.append(
                        RelationshipRow(parent.person.ref, other.person.ref, "partner", None)
                    )
                    parents.append(other)
            gap = rng.randint(25, 35)
            junior_dob = parent.person.date_of_birth + dt.timedelta(
                days=int(gap * YEAR) + rng.randint(-120, 120)
            )
            junior_age = int((self.today - junior_dob).days / YEAR)
            if junior_age >= 18 and junior_dob < self.today:
                junior = add(
                    sex=sex, age=junior_age, given=parent.person.given_name, dob=junior_dob
                )
                if junior is not None:
                    for p in parents:
                        rels.append(
                            RelationshipRow(p.person.ref, junior.person.ref, "parent", junior_dob)
                        )
        elif kind == "kinship":
            grandparent = add_first(sex=rng.choice("MF"), age=rng.randint(55, 80))
            for _ in range(rng.choice((1, 1, 2))):
                child = add(sex=rng.choice("MF"), age=rng.randint(2, 16))
                if child is None:
                    break
                since = child.person.date_of_birth + dt.timedelta(
                    days=rng.randint(30, max(31, child.age * 365))
                )
                rels.append(
                    RelationshipRow(
                        grandparent.person.ref, child.person.ref, "guardian", min(since, self.today)
                    )
                )
        else:  # adult siblings sharing a home
            base = rng.randint(20, 50)
            first = add_first(sex=rng.choice("MF"), age=base)
            sibs = [first]
            twin = rng.random() < 0.15
            for _ in range(rng.choice((1, 1, 2))):
                if twin:
                    sib = add(
                        sex=rng.choice("MF"),
                        age=base,
                        avoid={first.person.given_name},
                        dob=first.person.date_of_birth,
                    )
                    twin = False
                else:
                    sib = add(
                        sex=rng.choice("MF"),
                        age=max(18, base + rng.randint(-8, 8)),
                        avoid={s.person.given_name for s in sibs},
                    )
                if sib is None:
                    break
                sibs.append(sib)
            for a_i, a in enumerate(sibs):
                for b in sibs[a_i + 1 :]:
                    rels.append(
                        RelationshipRow(
                            a.person.ref,
                            b.person.ref,
                            "sibling",
                            max(a.person.date_of_birth, b.person.date_of_birth),
                        )
                    )
        return rels


def ascii_name(name: str) -> str:
    return fold(name).replace(" ", "")
