"""Writing an import's checked records, the bulk path: batches, one audit event per batch,
no per-row domain events; the caller holds the transaction, so a failure writes nothing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db import connections, router
from django.db.models import Model

from civicloop.catalogue.models import Department
from civicloop.core import clock
from civicloop.core.access import Viewer
from civicloop.people import merge as merging
from civicloop.people.import_mapping import Mapping
from civicloop.people.import_outcomes import ImportReport
from civicloop.people.import_reading import Progress, _Candidate
from civicloop.people.import_values import IDENTIFIERS_KEY
from civicloop.people.keys import person_keys
from civicloop.people.models import (
    Identifier,
    Link,
    Person,
    PersonDepartment,
    PersonFieldSource,
    SourceRecord,
)
from civicloop.trust.audit import audit_bulk

VIEWER = Viewer.system("import")


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _merge_attributes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The file's attributes over the record's: keys the file does not carry are kept."""
    merged = {**old, **new}
    if IDENTIFIERS_KEY in new and isinstance(old.get(IDENTIFIERS_KEY), dict):
        merged[IDENTIFIERS_KEY] = {**old[IDENTIFIERS_KEY], **new[IDENTIFIERS_KEY]}
    return merged


def _update(records: list[SourceRecord], fields: list[str]) -> None:
    """UPDATE each record by id through executemany.

    Django's bulk_update builds one CASE per field over the whole batch, which SQLite
    evaluates for every row: 100,000 updates took two minutes, this takes seconds.
    """
    meta = SourceRecord._meta
    connection = connections[router.db_for_write(SourceRecord)]
    quote = connection.ops.quote_name
    model_fields = [meta.get_field(f) for f in fields]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in model_fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    rows = [
        [f.get_db_prep_save(getattr(r, f.attname), connection) for f in model_fields] + [r.pk]
        for r in records
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert(
    model: type[Model], fields: list[str], rows: list[tuple], constants: dict[str, Any]
) -> None:
    """INSERT rows of plain ids and text, each with the same `constants`, many a statement.

    For rows nobody needs the ids of: five or six provenance rows per new person made
    bulk_create, which prepares every value in Python, the slowest part of linking.
    """
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    fixed = tuple(meta.get_field(f).get_db_prep_save(v, connection) for f, v in constants.items())
    width = len(fields) + len(fixed)
    columns = ", ".join(quote(meta.get_field(f).column) for f in [*fields, *constants])
    one = "(" + ", ".join(["%s"] * width) + ")"
    per_statement = min(2000, (connection.features.max_query_params or 65535) // width)
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, per_statement):
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "
                + ", ".join([one] * len(chunk)),
                [value for row in chunk for value in (*row, *fixed)],
            )


def _person_of(values: dict[str, Any], now: dt.datetime) -> Person:
    given, family = values["given_name"], values["family_name"]
    email, phone = values.get("email", ""), values.get("phone", "")
    return Person(
        given_name=given,
        family_name=family,
        date_of_birth=values.get("date_of_birth"),
        email=email,
        phone=phone,
        address_id=values.get("address"),
        created_at=now,
        updated_at=now,
        **person_keys(given_name=given, family_name=family, phone=phone, email=email),
    )


class _Writer:
    """Writes checked records of one department in batches, one audit event per batch."""

    def __init__(
        self,
        *,
        department: Department,
        mapping: Mapping,
        report: ImportReport,
        batch_size: int,
        progress: Progress | None,
    ):
        self.department_id = department.pk
        self.mapping = mapping
        self.report = report
        self.batch_size = batch_size
        self.progress = progress or (lambda phase, done, total: None)
        self.now = clock.now()
        self.addresses = merging.AddressResolver()
        # People whose records this import created or changed: real-time matching re-files them.
        self.people_touched: set[int] = set()

    def write(self, candidates: list[_Candidate], *, link_new_as_people: bool) -> None:
        fields = self.mapping.record_fields
        new = {c.local_id: c for c in candidates}  # what is left once existing records are found
        updates: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        for pk, local_id, old_attributes, *old in self._existing(new, fields):
            c = new.pop(local_id)
            old_values = dict(zip(fields, old, strict=True))
            old_attributes = old_attributes if isinstance(old_attributes, dict) else {}
            attributes = _merge_attributes(old_attributes, c.attributes)
            values = {**old_values, **c.values}
            if attributes != old_attributes or any(old_values[f] != values[f] for f in fields):
                updates.append((pk, values, attributes))
        creates = list(new.values())
        self.report.unchanged = len(candidates) - len(creates) - len(updates)
        done, total = self.report.unchanged, len(candidates)
        self.progress("write", done, total)
        # Model instances are built a batch at a time: a big import holds only its rows.
        for batch in _chunks(creates, self.batch_size):
            records = [
                SourceRecord(
                    department_id=self.department_id,
                    attributes=c.attributes,
                    received_at=self.now,
                    **c.values,
                )
                for c in batch
            ]
            SourceRecord.objects.bulk_create(records)
            self._audit("create", "source_record", [r.pk for r in records])
            self.report.created += len(records)
            if link_new_as_people:
                self._link_as_people(records)
            done += len(records)
            self.progress("write", done, total)
        for batch in _chunks(updates, self.batch_size):
            records = [
                SourceRecord(
                    pk=pk,
                    attributes=attributes,
                    received_at=self.now,
                    **{f: values[f] for f in fields},
                )
                for pk, values, attributes in batch
            ]
            _update(records, [*fields, "attributes", "received_at"])
            self._audit("update", "source_record", [r.pk for r in records])
            self.people_touched.update(
                Link.objects.filter(
                    source_record_id__in=[r.pk for r in records], active=True
                ).values_list("person_id", flat=True)
            )
            self.report.updated += len(records)
            done += len(records)
            self.progress("write", done, total)

    def _existing(self, wanted: dict[str, _Candidate], fields: list[str]) -> Iterator[tuple]:
        """(pk, local_id, attributes, *fields) of the department's records in `wanted`."""
        records = SourceRecord.objects.filter(department_id=self.department_id)
        columns = ("pk", "local_id", "attributes", *fields)
        if len(wanted) * 4 >= records.count():
            # One pass over the department beats many long IN lists (PostgreSQL: 5x).
            for row in records.values_list(*columns).iterator(chunk_size=5000):
                if row[1] in wanted:
                    yield row
            return
        # Small chunks: SQLite builds may cap a statement at 999 parameters.
        for chunk in _chunks(list(wanted), 900):
            yield from records.filter(local_id__in=chunk).values_list(*columns)

    def _audit(self, operation: str, object_type: str, ids: list[int]) -> None:
        audit_bulk(
            viewer=VIEWER,
            action=f"import.{operation}",
            object_type=object_type,
            ids=ids,
            extra={"department_id": self.department_id},
        )
        self.report.audit_events += 1

    def _link_as_people(self, records: list[SourceRecord]) -> None:
        """A golden person for each new record, linked as created with it, served by the
        department; its fields and their provenance as batch linking gives a one-record
        cluster (survivorship, the address found in the gazetteer)."""
        self.addresses.preload(r.postcode for r in records)
        chosen = []
        for record in records:
            survivors = merging.survivorship([merging.RecordFields.of(record)], self.addresses)
            if "given_name" in survivors and "family_name" in survivors:
                chosen.append((record, survivors))
        self.report.records_without_person += len(records) - len(chosen)
        if not chosen:
            return
        people = [
            _person_of({k: s.value for k, s in survivors.items()}, self.now)
            for _, survivors in chosen
        ]
        Person.objects.bulk_create(people)
        self._audit("create", "person", [p.pk for p in people])
        _insert(
            PersonFieldSource,
            ["person", "field", "source_record"],
            [
                (person.pk, name, survivor.record_id)
                for person, (_, survivors) in zip(people, chosen, strict=True)
                for name, survivor in survivors.items()
            ],
            {"set_at": self.now, "method": PersonFieldSource.Method.SURVIVORSHIP.value},
        )
        pairs = [(record, person) for (record, _), person in zip(chosen, people, strict=True)]
        links = [
            Link(
                source_record_id=r.pk,
                person_id=p.pk,
                method=Link.Method.CREATED,
                created_at=self.now,
            )
            for r, p in pairs
        ]
        Link.objects.bulk_create(links)
        self._audit("create", "link", [link.pk for link in links])
        served = [
            PersonDepartment(person_id=p.pk, department_id=self.department_id, since=self.now)
            for p in people
        ]
        PersonDepartment.objects.bulk_create(served)
        self._audit("create", "person_department", [s.pk for s in served])
        identifiers = self._new_identifiers(pairs)
        if identifiers:
            Identifier.objects.bulk_create(identifiers)
            self._audit("create", "identifier", [i.pk for i in identifiers])
        self.report.people_created += len(people)
        self.people_touched.update(p.pk for p in people)
        self.report.identifiers_created += len(identifiers)

    def _new_identifiers(self, pairs: list[tuple[SourceRecord, Person]]) -> list[Identifier]:
        """Identifiers of the new people, except those a person already holds (scheme, value)."""
        wanted = [
            (scheme, value, person.pk)
            for record, person in pairs
            for scheme, value in (record.attributes.get(IDENTIFIERS_KEY) or {}).items()
        ]
        by_scheme: dict[str, set[str]] = defaultdict(set)
        for scheme, value, _ in wanted:
            by_scheme[scheme].add(value)
        held: set[tuple[str, str]] = set()
        for scheme, values in by_scheme.items():
            for chunk in _chunks(sorted(values), 900):
                found = Identifier.objects.filter(scheme=scheme, value__in=chunk)
                held.update((scheme, v) for v in found.values_list("value", flat=True))
        identifiers = []
        for scheme, value, person_id in wanted:
            if (scheme, value) in held:
                self.report.identifiers_skipped += 1
                continue
            held.add((scheme, value))
            identifiers.append(
                Identifier(
                    person_id=person_id,
                    scheme=scheme,
                    value=value,
                    department_id=self.department_id,
                    created_at=self.now,
                )
            )
        return identifiers
