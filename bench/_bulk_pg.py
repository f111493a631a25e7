"""Bulk-load a DemoCity into PostgreSQL with COPY: the benchmark's fast path.

The same rows as civicloop.demo.loader (same generator, same search keys, same
links and audit events), but written with psycopg 3 `cursor.copy` and ids
assigned here, so no model instances are built. One transaction per chunk of
households; one audit event ("demo.load", ids as a range) per table per chunk,
written in that transaction, as the ORM loader does per batch.

Only for an empty people schema in a scratch database: it assumes it is the
only writer while it runs.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction

from civicloop.cases.models import Case, CaseEvent, Interaction, NotifyChannel
from civicloop.core.access import Viewer
from civicloop.demo.generator import DemoCity, HouseholdBundle
from civicloop.demo.loader import DemoLoader
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
from civicloop.trust.audit import audit_bulk

VIEWER = Viewer.system("demo")
ACTION = "demo.load"

# Per table: the model and the attributes written, in COPY order. Every NOT NULL
# column without a database default must be here (checked before loading).
TABLES: dict[str, tuple[type, tuple[str, ...]]] = {
    "address": (
        Address,
        ("id", "uprn", "line1", "line2", "town", "postcode", "latitude", "longitude", "area_id"),
    ),
    "person": (
        Person,
        (
            "id",
            "given_name",
            "middle_names",
            "family_name",
            "date_of_birth",
            "email",
            "phone",
            "address_id",
            "preferred_language",
            "accessibility_needs",
            "search_name",
            "family_key",
            "family_phonetic",
            "given_phonetic",
            "phone_key",
            "email_key",
            "created_at",
            "updated_at",
            "version",
        ),
    ),
    "household": (Household, ("id", "address_id", "created_at")),
    "household_membership": (HouseholdMembership, ("id", "household_id", "person_id", "since")),
    "relationship": (Relationship, ("id", "from_person_id", "to_person_id", "kind", "since")),
    "identifier": (
        Identifier,
        ("id", "person_id", "scheme", "value", "department_id", "created_at"),
    ),
    "source_record": (
        SourceRecord,
        (
            "id",
            "department_id",
            "local_id",
            "given_name",
            "family_name",
            "date_of_birth",
            "email",
            "phone",
            "address_text",
            "postcode",
            "attributes",
            "received_at",
        ),
    ),
    "link": (
        Link,
        (
            "id",
            "source_record_id",
            "person_id",
            "method",
            "match_probability",
            "active",
            "created_at",
        ),
    ),
    "person_department": (PersonDepartment, ("id", "person_id", "department_id", "since")),
    "person_need": (
        PersonNeed,
        (
            "id",
            "person_id",
            "need_id",
            "department_id",
            "recorded_by_id",
            "recorded_at",
            "status",
            "status_changed_at",
            "note",
        ),
    ),
    "case": (
        Case,
        (
            "id",
            "reference",
            "service_id",
            "department_id",
            "person_id",
            "reporter_name",
            "reporter_email",
            "reporter_phone",
            "description",
            "status",
            "priority",
            "channel",
            "assignee_id",
            "opened_at",
            "due_at",
            "resolved_at",
            "closed_at",
            "updated_at",
            "latitude",
            "longitude",
            "address_id",
            "area_id",
            "reopen_count",
            "version",
            "attributes",
            "media_url",
            "identity_review",
            "reporter_language",
            "contact_consent",
            "notify_channel",
            "tracking_token_hash",
        ),
    ),
    "case_event": (
        CaseEvent,
        (
            "id",
            "case_id",
            "kind",
            "at",
            "actor_id",
            "from_status",
            "to_status",
            "assignee_id",
            "note",
        ),
    ),
    "interaction": (
        Interaction,
        (
            "id",
            "person_id",
            "case_id",
            "department_id",
            "channel",
            "direction",
            "at",
            "actor_id",
            "summary",
            "is_chasing",
        ),
    ),
}
PEOPLE_TABLES = [name for name in TABLES if name != "address"]

Advance = Callable[[str, int], None]


def db_table(name: str) -> str:
    return TABLES[name][0]._meta.db_table


def _copy_sql(name: str) -> str:
    model, attrs = TABLES[name]
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(a).column) for a in attrs)
    return f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"


def check_columns() -> None:
    """Refuse to load if a model gained a required column this writer does not fill."""
    with connection.cursor() as cur:
        for model, attrs in TABLES.values():
            written = {model._meta.get_field(a).column for a in attrs}
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
                [model._meta.db_table],
            )
            missing = {r[0] for r in cur.fetchall()} - written
            if missing:
                raise SystemExit(
                    f"bulk loader: {model._meta.db_table} has required columns it does not write: "
                    f"{sorted(missing)}; update bench/_bulk_pg.py"
                )


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@dataclass
class BulkResult:
    counts: Counter = field(default_factory=Counter)
    audit_events: int = 0
    seconds: float = 0.0
    phase_seconds: dict[str, float] = field(default_factory=dict)


class BulkLoader:
    """COPY one DemoCity into an empty database; `advance(phase, n)` drives a progress bar."""

    def __init__(
        self, city: DemoCity, *, chunk_people: int = 20_000, advance: Advance | None = None
    ):
        self.city = city
        self.chunk_people = chunk_people
        self.advance = advance or (lambda phase, n: None)
        self.result = BulkResult()
        # The ORM loader upserts the catalogue and staff (a few hundred rows) and keeps their ids.
        self.orm = DemoLoader(city)
        self.next_id: dict[str, int] = {}
        self.generate_seconds = 0.0
        # In the writer thread, overlapping generation: building rows and streaming them; commits,
        # where the deferred foreign-key checks run.
        self.copy_seconds = 0.0
        self.commit_seconds = 0.0

    # -- plumbing -------------------------------------------------------------------------------

    def _ids(self, name: str, n: int) -> range:
        start = self.next_id[name]
        self.next_id[name] = start + n
        return range(start, start + n)

    def _copy(self, name: str, rows: Iterable[tuple], ids: range) -> None:
        """COPY `rows` into table `name` and audit the batch (count and id range) in the same transaction."""
        if not len(ids):
            return
        t = time.perf_counter()
        with connection.cursor() as cur:
            with cur.cursor.copy(_copy_sql(name)) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        self.copy_seconds += time.perf_counter() - t
        audit_bulk(
            viewer=VIEWER,
            action=ACTION,
            object_type=name,
            ids=[ids.start, ids.stop - 1],
            extra={"seed": self.city.config.seed, "count": len(ids)},
        )
        self.result.audit_events += 1
        self.result.counts[name] += len(ids)

    def _start_ids(self) -> None:
        with connection.cursor() as cur:
            for name in TABLES:
                cur.execute(
                    f"SELECT coalesce(max(id), 0) + 1 FROM {connection.ops.quote_name(db_table(name))}"
                )
                self.next_id[name] = cur.fetchone()[0]

    def _reset_sequences(self) -> None:
        """Identity columns do not see ids written explicitly: move them past the last one."""
        with connection.cursor() as cur:
            for name in TABLES:
                table = db_table(name)
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    f"greatest(coalesce(max(id), 0), 1), max(id) IS NOT NULL) FROM {connection.ops.quote_name(table)}",
                    [table],
                )

    # -- phases ---------------------------------------------------------------------------------

    def load(self) -> BulkResult:
        check_columns()
        started = time.perf_counter()
        with connection.cursor() as cur:
            # A scratch database: a crash may lose the last chunk, which is then loaded again from scratch.
            cur.execute("SET synchronous_commit = off")
        self._start_ids()
        t = time.perf_counter()
        with transaction.atomic():
            self.load_places()
        self.result.phase_seconds["places"] = time.perf_counter() - t
        t = time.perf_counter()
        with transaction.atomic():
            self.orm.load_catalogue()
            self.orm.load_staff()
        self.result.phase_seconds["catalogue"] = time.perf_counter() - t
        t = time.perf_counter()
        self.load_people()
        self._reset_sequences()
        self.result.phase_seconds["people"] = time.perf_counter() - t
        self.result.phase_seconds["generating (main thread)"] = self.generate_seconds
        self.result.phase_seconds["COPY (writer thread)"] = self.copy_seconds
        self.result.phase_seconds["commits (writer thread)"] = self.commit_seconds
        self.result.seconds = time.perf_counter() - started
        self.result.audit_events += self.orm.result.audit_events
        self.result.counts.update(self.orm.result.counts)
        return self.result

    def load_places(self) -> None:
        orm = self.orm
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
            orm.area_ids[a.code] = area.pk
            ids.append(area.pk)
        orm._audit_upserts("area", ids)
        orm.address_ids = dict(Address.objects.values_list("uprn", "pk"))
        batch: list = []

        def flush() -> None:
            ids = self._ids("address", len(batch))
            rows = [
                (
                    i,
                    a.uprn,
                    a.line1,
                    a.line2,
                    a.town,
                    a.postcode,
                    a.latitude,
                    a.longitude,
                    orm.area_ids.get(a.area_code) if a.area_code else None,
                )
                for i, a in zip(ids, batch, strict=True)
            ]
            self._copy("address", rows, ids)
            orm.address_ids.update((a.uprn, i) for i, a in zip(ids, batch, strict=True))
            self.advance("places", len(batch))
            batch.clear()

        for row in self.city.addresses():
            if row.uprn in orm.address_ids:
                continue
            batch.append(row)
            if len(batch) >= 50_000:
                flush()
        if batch:
            flush()

    def load_people(self) -> None:
        """Generate in this thread, write in another: the writer's waits on the server (COPY, and the
        deferred foreign-key checks at each commit) overlap with generating the next chunk."""
        chunks: queue.Queue = queue.Queue(maxsize=2)
        failure: list[BaseException] = []

        def writer() -> None:
            try:
                with connection.cursor() as cur:
                    cur.execute("SET synchronous_commit = off")
                while (chunk := chunks.get()) is not None:
                    if not failure:
                        self._write_chunk(chunk)
            except BaseException as exc:  # handed to the generating thread, which raises it
                failure.append(exc)
                while chunks.get() is not None:
                    pass
            finally:
                connection.close()

        thread = threading.Thread(target=writer, name="copy-writer")
        thread.start()
        try:
            chunk: list[HouseholdBundle] = []
            people = 0
            households = self.city.households()
            while not failure:
                t = time.perf_counter()
                bundle = next(households, None)
                self.generate_seconds += time.perf_counter() - t
                if bundle is None:
                    break
                chunk.append(bundle)
                people += len(bundle.people)
                if people >= self.chunk_people:
                    chunks.put(chunk)
                    chunk, people = [], 0
            if chunk and not failure:
                chunks.put(chunk)
        finally:
            chunks.put(None)
            thread.join()
        if failure:
            raise failure[0]

    # -- one chunk of households ----------------------------------------------------------------

    def _write_chunk(self, bundles: list[HouseholdBundle]) -> None:
        people = [p for b in bundles for p in b.people]
        with transaction.atomic():
            self._copy_chunk(bundles, people)
            t = time.perf_counter()
        self.commit_seconds += time.perf_counter() - t
        self.advance("people", len(people))

    def _copy_chunk(self, bundles: list[HouseholdBundle], people: list) -> None:
        orm = self.orm
        dept, need_ids, service_ids = orm.department_ids, orm.need_ids, orm.service_ids
        address_ids, area_ids, staff_ids = orm.address_ids, orm.area_ids, orm.staff_ids
        now = self.city.now

        def staff(username: str | None) -> int | None:
            return staff_ids[username] if username else None

        ids = self._ids("person", len(people))
        pid = {p.ref: i for p, i in zip(people, ids, strict=True)}

        def person_rows():
            for i, p in zip(ids, people, strict=True):
                k = person_keys(
                    given_name=p.given_name, family_name=p.family_name, phone=p.phone, email=p.email
                )
                yield (
                    i,
                    p.given_name,
                    p.middle_names,
                    p.family_name,
                    p.date_of_birth,
                    p.email,
                    p.phone,
                    address_ids[p.address_uprn],
                    p.preferred_language,
                    p.accessibility_needs,
                    k["search_name"],
                    k["family_key"],
                    k["family_phonetic"],
                    k["given_phonetic"],
                    k["phone_key"],
                    k["email_key"],
                    p.created_at,
                    p.created_at,
                    1,
                )

        self._copy("person", person_rows(), ids)

        hh_ids = self._ids("household", len(bundles))
        self._copy(
            "household",
            (
                (h, address_ids[b.address_uprn], _midnight(b.since))
                for h, b in zip(hh_ids, bundles, strict=True)
            ),
            hh_ids,
        )
        members = [(h, m) for h, b in zip(hh_ids, bundles, strict=True) for m in b.memberships]
        ids = self._ids("household_membership", len(members))
        self._copy(
            "household_membership",
            ((i, h, pid[m.person_ref], m.since) for i, (h, m) in zip(ids, members, strict=True)),
            ids,
        )
        rels = [r for b in bundles for r in b.relationships]
        ids = self._ids("relationship", len(rels))
        self._copy(
            "relationship",
            (
                (i, pid[r.from_ref], pid[r.to_ref], r.kind, r.since)
                for i, r in zip(ids, rels, strict=True)
            ),
            ids,
        )
        idents = [x for b in bundles for x in b.identifiers]
        ids = self._ids("identifier", len(idents))
        self._copy(
            "identifier",
            (
                (i, pid[x.person_ref], x.scheme, x.value, dept[x.department], now)
                for i, x in zip(ids, idents, strict=True)
            ),
            ids,
        )

        records = [r for b in bundles for r in b.source_records]
        rec_ids = self._ids("source_record", len(records))
        self._copy(
            "source_record",
            (
                (
                    i,
                    dept[r.department],
                    r.local_id,
                    r.given_name,
                    r.family_name,
                    r.date_of_birth,
                    r.email,
                    r.phone,
                    r.address_text,
                    r.postcode,
                    json.dumps(r.attributes),
                    r.received_at,
                )
                for i, r in zip(rec_ids, records, strict=True)
            ),
            rec_ids,
        )
        ids = self._ids("link", len(records))
        self._copy(
            "link",
            (
                (
                    i,
                    rec,
                    pid[r.person_ref],
                    Link.Method.KNOWN_TRUTH.value,
                    None,
                    True,
                    r.received_at,
                )
                for i, rec, r in zip(ids, rec_ids, records, strict=True)
            ),
            ids,
        )
        served = [s for b in bundles for s in b.served]
        ids = self._ids("person_department", len(served))
        self._copy(
            "person_department",
            (
                (i, pid[s.person_ref], dept[s.department], s.since)
                for i, s in zip(ids, served, strict=True)
            ),
            ids,
        )
        needs = [n for b in bundles for n in b.needs]
        ids = self._ids("person_need", len(needs))
        self._copy(
            "person_need",
            (
                (
                    i,
                    pid[n.person_ref],
                    need_ids[n.need],
                    dept[n.department],
                    staff(n.recorded_by),
                    n.recorded_at,
                    n.status,
                    n.status_changed_at,
                    n.note,
                )
                for i, n in zip(ids, needs, strict=True)
            ),
            ids,
        )

        cases = [c for b in bundles for c in b.cases]
        case_ids = self._ids("case", len(cases))
        cid = {c.reference: i for c, i in zip(cases, case_ids, strict=True)}
        self._copy(
            "case",
            (
                (
                    i,
                    c.reference,
                    service_ids[c.service],
                    dept[c.department],
                    pid[c.person_ref] if c.person_ref else None,
                    c.reporter_name,
                    c.reporter_email,
                    c.reporter_phone,
                    c.description,
                    c.status,
                    c.priority,
                    c.channel,
                    staff(c.assignee),
                    c.opened_at,
                    c.due_at,
                    c.resolved_at,
                    c.closed_at,
                    c.updated_at,
                    c.latitude,
                    c.longitude,
                    address_ids[c.address_uprn] if c.address_uprn else None,
                    area_ids[c.area_code] if c.area_code else None,
                    c.reopen_count,
                    max(1, len(c.events)),
                    "{}",  # attributes: the demo's services ask no questions of their own
                    "",
                    False,
                    "",
                    False,
                    NotifyChannel.NONE.value,
                    "",
                )
                for i, c in zip(case_ids, cases, strict=True)
            ),
            case_ids,
        )
        events = [(ci, e) for ci, c in zip(case_ids, cases, strict=True) for e in c.events]
        ids = self._ids("case_event", len(events))
        self._copy(
            "case_event",
            (
                (
                    i,
                    ci,
                    e.kind,
                    e.at,
                    staff(e.actor),
                    e.from_status,
                    e.to_status,
                    staff(e.assignee),
                    e.note,
                )
                for i, (ci, e) in zip(ids, events, strict=True)
            ),
            ids,
        )
        contacts = [x for b in bundles for x in sorted(b.interactions, key=lambda x: x.at)]
        ids = self._ids("interaction", len(contacts))
        self._copy(
            "interaction",
            (
                (
                    i,
                    pid[x.person_ref] if x.person_ref else None,
                    cid[x.case_ref] if x.case_ref else None,
                    dept[x.department],
                    x.channel,
                    x.direction,
                    x.at,
                    staff(x.actor),
                    x.summary,
                    x.is_chasing,
                )
                for i, x in zip(ids, contacts, strict=True)
            ),
            ids,
        )


# -- what pg_restore builds after the data: secondary indexes, then foreign keys --------------------


@dataclass(frozen=True)
class Deferred:
    kind: str  # "index" or "foreign key"
    name: str
    table: str
    definition: str  # CREATE INDEX …, or the constraint's definition


def deferrable(tables: Iterable[str]) -> list[Deferred]:
    """The indexes backing no constraint, and the foreign keys, of `tables`: indexes first."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT i.indexname, i.tablename, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) "
            "ORDER BY i.tablename, i.indexname",
            [list(tables)],
        )
        found = [Deferred("index", *row) for row in cur.fetchall()]
        cur.execute(
            "SELECT c.conname, r.relname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace "
            "WHERE c.contype = 'f' AND n.nspname = 'public' AND r.relname = ANY(%s) ORDER BY r.relname, c.conname",
            [list(tables)],
        )
        found += [Deferred("foreign key", *row) for row in cur.fetchall()]
    return found


def drop_deferred(items: list[Deferred]) -> None:
    q = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cur:
        for item in items:
            if item.kind == "index":
                cur.execute(f"DROP INDEX IF EXISTS {q(item.name)}")
            else:
                cur.execute(f"ALTER TABLE {q(item.table)} DROP CONSTRAINT IF EXISTS {q(item.name)}")


def create_deferred(items: list[Deferred], advance: Advance | None = None) -> None:
    """Build the indexes, then add (and so validate, one join each) the foreign keys."""
    q = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SELECT conname FROM pg_constraint WHERE contype = 'f'")
        present = {r[0] for r in cur.fetchall()}
        for item in items:
            if item.kind == "index":
                cur.execute(
                    item.definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
                )
            elif item.name not in present:
                cur.execute(
                    f"ALTER TABLE {q(item.table)} ADD CONSTRAINT {q(item.name)} {item.definition}"
                )
            if advance:
                advance("indexes", 1)
