"""Writes a DemoCity into the database: bulk_create in batches, one audit event per batch.

This is the bulk path, not the services: no per-row validation, events or
notifications, so a city of 10,000 people loads in seconds. Each batch of each
table gets one audit event ("demo.load") with its count and id range. The whole
load is one transaction: a half-loaded demo city is worse than none.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Model

from civicloop.cases.models import Case, CaseEvent, Interaction
from civicloop.catalogue.models import Department, Need, PartnerOrganisation, Service
from civicloop.core.access import Viewer
from civicloop.demo.generator import DemoCity, HouseholdBundle
from civicloop.demo.logins import DEMO_PASSWORD
from civicloop.people.keys import person_keys
from civicloop.people.models import (
    Household,
    HouseholdMembership,
    Identifier,
    Link,
    Person,
    PersonDepartment,
    PersonNeed,
    Relationship,
    SourceRecord,
)
from civicloop.places.models import Address, Area
from civicloop.staff.models import StaffMember
from civicloop.trust.audit import audit_bulk

VIEWER = Viewer.system("demo")
ACTION = "demo.load"

Advance = Callable[[str, int], None]


@dataclass
class LoadResult:
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    audit_events: int = 0


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class DemoLoader:
    """Loads one DemoCity. `advance(phase, n)` is told of progress (for a progress bar)."""

    def __init__(self, city: DemoCity, *, batch_size: int = 2000, advance: Advance | None = None):
        self.city = city
        self.batch_size = batch_size
        self.advance = advance or (lambda phase, n: None)
        self.result = LoadResult()
        self.area_ids: dict[str, int] = {}
        self.address_ids: dict[str, int] = {}
        self.department_ids: dict[str, int] = {}
        self.need_ids: dict[str, int] = {}
        self.service_ids: dict[str, int] = {}
        self.staff_ids: dict[str, int] = {}

    def load(self) -> LoadResult:
        started = time.perf_counter()
        with transaction.atomic():
            self.load_places()
            self.load_catalogue()
            self.load_staff()
            self.load_people()
        self.result.seconds = time.perf_counter() - started
        return self.result

    # -- writing ------------------------------------------------------------

    def _insert(self, model: type[Model], rows: Sequence[Model], object_type: str) -> None:
        """bulk_create in batches; each batch is audited with its count and id range."""
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
            model.objects.bulk_create(batch, batch_size=self.batch_size)
            audit_bulk(
                viewer=VIEWER,
                action=ACTION,
                object_type=object_type,
                ids=[r.pk for r in batch],
                extra={"seed": self.city.config.seed},
            )
            self.result.audit_events += 1
            self.result.counts[object_type] += len(batch)

    def _audit_upserts(self, object_type: str, ids: Iterable[int]) -> None:
        ids = list(ids)
        audit_bulk(
            viewer=VIEWER,
            action=ACTION,
            object_type=object_type,
            ids=ids,
            extra={"seed": self.city.config.seed},
        )
        self.result.audit_events += 1
        self.result.counts[object_type] += len(ids)

    # -- places, catalogue, staff ---------------------------------------------

    def load_places(self) -> None:
        ids = []
        for a in self.city.areas():
            area, _ = Area.objects.update_or_create(
                code=a.code,
                defaults={
                    "name": a.name,
                    "kind": Area.Kind.WARD,
                    "polygon": a.polygon,
                    "min_lat": a.min_lat,
                    "max_lat": a.max_lat,
                    "min_lon": a.min_lon,
                    "max_lon": a.max_lon,
                },
            )
            self.area_ids[a.code] = area.pk
            ids.append(area.pk)
        self._audit_upserts("area", ids)
        self.address_ids = dict(Address.objects.values_list("uprn", "pk"))
        pending: list[Address] = []

        def flush() -> None:
            self._insert(Address, pending, "address")
            self.address_ids.update((a.uprn, a.pk) for a in pending)
            self.advance("places", len(pending))
            pending.clear()

        for row in self.city.addresses():
            if row.uprn in self.address_ids:
                continue
            pending.append(
                Address(
                    uprn=row.uprn,
                    line1=row.line1,
                    line2=row.line2,
                    town=row.town,
                    postcode=row.postcode,
                    latitude=row.latitude,
                    longitude=row.longitude,
                    area_id=self.area_ids.get(row.area_code) if row.area_code else None,
                )
            )
            if len(pending) >= self.batch_size:
                flush()
        flush()

    def load_catalogue(self) -> None:
        ids = []
        for d in self.city.departments:
            dept, _ = Department.objects.update_or_create(
                code=d.code,
                defaults={
                    "name": d.name,
                    "description": d.description,
                    "email": d.email,
                    "phone": d.phone,
                },
            )
            self.department_ids[d.code] = dept.pk
            ids.append(dept.pk)
        self._audit_upserts("department", ids)
        ids = []
        for p in self.city.partners:
            partner, _ = PartnerOrganisation.objects.update_or_create(
                code=p.code,
                defaults={
                    "name": p.name,
                    "description": p.description,
                    "email": p.email,
                    "phone": p.phone,
                    "website": p.website,
                },
            )
            partner.departments.set([self.department_ids[c] for c in p.departments])
            ids.append(partner.pk)
        self._audit_upserts("partner", ids)
        ids = []
        for n in self.city.needs_taxonomy:
            need, _ = Need.objects.update_or_create(
                code=n.code,
                defaults={
                    "name": n.name,
                    "description": n.description,
                    "parent_id": self.need_ids[n.parent] if n.parent else None,
                },
            )
            self.need_ids[n.code] = need.pk
            ids.append(need.pk)
        self._audit_upserts("need", ids)
        ids = []
        for s in self.city.services:
            service, _ = Service.objects.update_or_create(
                code=s.code,
                defaults={
                    "name": s.name,
                    "description": s.description,
                    "department_id": self.department_ids[s.department],
                    "group": s.group,
                    "keywords": s.keywords,
                    "place_based": s.place_based,
                    "public": s.public,
                    "sensitive": s.sensitive,
                    "sla_days": s.sla_days,
                    "active": True,
                },
            )
            service.needs.set([self.need_ids[c] for c in s.needs])
            self.service_ids[s.code] = service.pk
            ids.append(service.pk)
        self._audit_upserts("service", ids)
        self.advance("catalogue", 1)

    def load_staff(self) -> None:
        User = get_user_model()
        # One hash for every demo account: hashing is deliberately slow, and they share a password.
        password = make_password(DEMO_PASSWORD)
        partner_ids = dict(PartnerOrganisation.objects.values_list("code", "pk"))
        ids = []
        for login in self.city.staff:
            first, _, last = login.display_name.partition(" ")
            user, _ = User.objects.update_or_create(
                username=login.username,
                defaults={
                    "password": password,
                    "is_staff": login.is_staff,
                    "is_superuser": login.is_superuser,
                    "is_active": True,
                    "first_name": first,
                    "last_name": last.split(" (")[0],
                    "email": f"{login.username}@riverton.example.org",
                },
            )
            staff, _ = StaffMember.objects.update_or_create(
                user=user,
                defaults={
                    "role": login.role,
                    "display_name": login.display_name,
                    "active": True,
                    "partner_id": partner_ids.get(login.partner) if login.partner else None,
                },
            )
            staff.departments.set([self.department_ids[c] for c in login.departments])
            self.staff_ids[login.username] = staff.pk
            ids.append(staff.pk)
        self._audit_upserts("staff", ids)
        self.advance("catalogue", 1)

    # -- people and everything about them -----------------------------------------

    def load_people(self) -> None:
        chunk: list[HouseholdBundle] = []
        people = 0
        for bundle in self.city.households():
            chunk.append(bundle)
            people += len(bundle.people)
            if people >= self.batch_size:
                self._write_chunk(chunk)
                chunk, people = [], 0
        if chunk:
            self._write_chunk(chunk)

    def _staff(self, username: str | None) -> int | None:
        return self.staff_ids[username] if username else None

    def _write_chunk(self, bundles: list[HouseholdBundle]) -> None:
        dept, staff = self.department_ids, self._staff
        people = [p for b in bundles for p in b.people]
        persons = [
            Person(
                given_name=p.given_name,
                middle_names=p.middle_names,
                family_name=p.family_name,
                date_of_birth=p.date_of_birth,
                email=p.email,
                phone=p.phone,
                address_id=self.address_ids[p.address_uprn],
                preferred_language=p.preferred_language,
                accessibility_needs=p.accessibility_needs,
                created_at=p.created_at,
                updated_at=p.created_at,
                **person_keys(
                    given_name=p.given_name, family_name=p.family_name, phone=p.phone, email=p.email
                ),
            )
            for p in people
        ]
        self._insert(Person, persons, "person")
        pid = {p.ref: obj.pk for p, obj in zip(people, persons, strict=True)}

        households = [
            Household(address_id=self.address_ids[b.address_uprn], created_at=_midnight(b.since))
            for b in bundles
        ]
        self._insert(Household, households, "household")
        self._insert(
            HouseholdMembership,
            [
                HouseholdMembership(household_id=h.pk, person_id=pid[m.person_ref], since=m.since)
                for b, h in zip(bundles, households, strict=True)
                for m in b.memberships
            ],
            "household_membership",
        )
        self._insert(
            Relationship,
            [
                Relationship(
                    from_person_id=pid[r.from_ref],
                    to_person_id=pid[r.to_ref],
                    kind=r.kind,
                    since=r.since,
                )
                for b in bundles
                for r in b.relationships
            ],
            "relationship",
        )
        self._insert(
            Identifier,
            [
                Identifier(
                    person_id=pid[i.person_ref],
                    scheme=i.scheme,
                    value=i.value,
                    department_id=dept[i.department],
                    created_at=self.city.now,
                )
                for b in bundles
                for i in b.identifiers
            ],
            "identifier",
        )

        source_rows = [r for b in bundles for r in b.source_records]
        records = [
            SourceRecord(
                department_id=dept[r.department],
                local_id=r.local_id,
                given_name=r.given_name,
                family_name=r.family_name,
                date_of_birth=r.date_of_birth,
                email=r.email,
                phone=r.phone,
                address_text=r.address_text,
                postcode=r.postcode,
                attributes=r.attributes,
                received_at=r.received_at,
            )
            for r in source_rows
        ]
        self._insert(SourceRecord, records, "source_record")
        self._insert(
            Link,
            [
                Link(
                    source_record_id=rec.pk,
                    person_id=pid[row.person_ref],
                    method=Link.Method.KNOWN_TRUTH,
                    match_probability=None,
                    active=True,
                    created_at=row.received_at,
                )
                for row, rec in zip(source_rows, records, strict=True)
            ],
            "link",
        )
        self._insert(
            PersonDepartment,
            [
                PersonDepartment(
                    person_id=pid[s.person_ref], department_id=dept[s.department], since=s.since
                )
                for b in bundles
                for s in b.served
            ],
            "person_department",
        )
        self._insert(
            PersonNeed,
            [
                PersonNeed(
                    person_id=pid[n.person_ref],
                    need_id=self.need_ids[n.need],
                    department_id=dept[n.department],
                    recorded_by_id=staff(n.recorded_by),
                    recorded_at=n.recorded_at,
                    status=n.status,
                    status_changed_at=n.status_changed_at,
                    note=n.note,
                )
                for b in bundles
                for n in b.needs
            ],
            "person_need",
        )

        case_rows = [c for b in bundles for c in b.cases]
        cases = [
            Case(
                reference=c.reference,
                service_id=self.service_ids[c.service],
                department_id=dept[c.department],
                person_id=pid[c.person_ref] if c.person_ref else None,
                reporter_name=c.reporter_name,
                reporter_email=c.reporter_email,
                reporter_phone=c.reporter_phone,
                description=c.description,
                status=c.status,
                priority=c.priority,
                channel=c.channel,
                assignee_id=staff(c.assignee),
                opened_at=c.opened_at,
                due_at=c.due_at,
                resolved_at=c.resolved_at,
                closed_at=c.closed_at,
                updated_at=c.updated_at,
                latitude=c.latitude,
                longitude=c.longitude,
                address_id=self.address_ids[c.address_uprn] if c.address_uprn else None,
                area_id=self.area_ids[c.area_code] if c.area_code else None,
                reopen_count=c.reopen_count,
                version=max(1, len(c.events)),
            )
            for c in case_rows
        ]
        self._insert(Case, cases, "case")
        cid = {c.reference: obj.pk for c, obj in zip(case_rows, cases, strict=True)}
        self._insert(
            CaseEvent,
            [
                CaseEvent(
                    case_id=obj.pk,
                    kind=e.kind,
                    at=e.at,
                    actor_id=staff(e.actor),
                    from_status=e.from_status,
                    to_status=e.to_status,
                    assignee_id=staff(e.assignee),
                    note=e.note,
                )
                for c, obj in zip(case_rows, cases, strict=True)
                for e in c.events
            ],
            "case_event",
        )
        self._insert(
            Interaction,
            [
                Interaction(
                    person_id=pid[i.person_ref] if i.person_ref else None,
                    case_id=cid[i.case_ref] if i.case_ref else None,
                    department_id=dept[i.department],
                    channel=i.channel,
                    direction=i.direction,
                    at=i.at,
                    actor_id=staff(i.actor),
                    summary=i.summary,
                    is_chasing=i.is_chasing,
                )
                for b in bundles
                for i in sorted(b.interactions, key=lambda x: x.at)
            ],
            "interaction",
        )
        self.advance("people", len(people))


def load_city(
    city: DemoCity, *, batch_size: int = 2000, advance: Advance | None = None
) -> LoadResult:
    """Write `city` into the default database in one transaction."""
    return DemoLoader(city, batch_size=batch_size, advance=advance).load()
