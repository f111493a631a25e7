"""Merging a duplicate person into another, undoing it exactly, and the survivorship rule.

A merge moves every row that points at the merged person to the kept one. The rows are
found through Person's reverse relations, so tables that other apps add later follow
without a change here; only history tables stay where they are. Each field of each row
the merge changes is recorded as a PersonMergeChange (before, after), and the rows that
pointed at either person just before are listed on the PersonMerge. Unmerge puts every
recorded field back unless it has been changed again since, and gives each row attached
to either person after the merge to the person staff choose (by default the kept one).
Nothing is deleted: the merged person stays, with `merged_into` set until unmerged.

Survivorship picks each golden field from the departments' records: names and date of
birth by the most frequent value (typos are rare, so the true value recurs), contacts and
address by the most recent (people move and change numbers). A value entered by staff or
loaded as it was is never overwritten by the rule, only filled in when empty.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from civicloop.core import clock
from civicloop.core.access import Conflict, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.people import keys, policy
from civicloop.people.models import (
    HouseholdMembership,
    Link,
    Person,
    PersonDepartment,
    PersonFieldSource,
    PersonMerge,
    PersonMergeChange,
    Relationship,
    SourceRecord,
)
from civicloop.people.services import department_serves
from civicloop.places.models import Address
from civicloop.trust.audit import audit_record

# Tables that record history about people: they describe what happened to a person and
# must stay with the person they were written about, whatever merges follow.
HISTORY_MODELS = frozenset({"people.personmerge", "people.personfieldsource"})

# Rows of these relations are never handed out at unmerge: they are derived from the others.
DERIVED_RELATIONS = frozenset({"people.persondepartment.person"})

GOLDEN_FIELDS = ("given_name", "family_name", "date_of_birth", "email", "phone", "address")
MOST_FREQUENT_FIELDS = frozenset({"given_name", "family_name", "date_of_birth"})
# Golden fields with no counterpart in a department's record: filled from the merged person.
PERSON_ONLY_FIELDS = ("middle_names", "accessibility_needs")
KEY_FIELDS = ("search_name", "family_key", "family_phonetic", "given_phonetic")
KEY_FIELDS += ("phone_key", "email_key")


# -- values in JSON ---------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A field value as it is kept in a PersonMergeChange."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def from_json(model: type[models.Model], attname: str, value: Any) -> Any:
    if value is None:
        return None
    return model._meta.get_field(attname).to_python(value)


# -- relations to Person ----------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRelation:
    """A foreign key to Person on some model: `cases.case.person`."""

    model: type[models.Model]
    field: models.ForeignKey

    @property
    def key(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field.name}"

    @property
    def attname(self) -> str:
        return self.field.attname

    def rows(self, person_id: int) -> models.QuerySet:
        return self.model._default_manager.filter(**{self.attname: person_id})


def person_relations() -> list[PersonRelation]:
    """Every foreign key to Person outside the history tables, hidden ones included."""
    relations = []
    for rel in Person._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        if rel.related_model._meta.label_lower in HISTORY_MODELS:
            continue
        relations.append(PersonRelation(rel.related_model, rel.field))
    return sorted(relations, key=lambda r: r.key)


# -- survivorship -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFields:
    """What survivorship reads of a department's record."""

    record_id: int
    received_at: dt.datetime
    given_name: str = ""
    family_name: str = ""
    date_of_birth: dt.date | None = None
    email: str = ""
    phone: str = ""
    address_text: str = ""
    postcode: str = ""

    @classmethod
    def of(cls, record: SourceRecord) -> RecordFields:
        return cls(
            record_id=record.id,
            received_at=record.received_at,
            given_name=record.given_name,
            family_name=record.family_name,
            date_of_birth=record.date_of_birth,
            email=record.email,
            phone=record.phone,
            address_text=record.address_text,
            postcode=record.postcode,
        )


@dataclass(frozen=True)
class Survivor:
    value: Any  # for "address", the id of the gazetteer Address
    record_id: int


def _postcode_key(postcode: str) -> str:
    return "".join((postcode or "").upper().split())


class AddressResolver:
    """Finds the gazetteer address a department's address text names, within its postcode.

    Tokens of the folded text are matched from the start until one address of the postcode
    is left ("12 high st" finds "12 High Street"); no match or a tie gives None.
    """

    def __init__(self) -> None:
        self._by_postcode: dict[str, list[tuple[int, list[str]]]] = {}

    def preload(self, postcodes: Iterable[str]) -> None:
        """Read the addresses of these postcodes in a few queries rather than one each."""
        codes = {_postcode_key(p) for p in postcodes} - set(self._by_postcode) - {""}
        forms = sorted({form for code in codes for form in (code, self._spaced(code))})
        for code in codes:
            self._by_postcode[code] = []
        for start in range(0, len(forms), 500):
            for address in Address.objects.filter(postcode__in=forms[start : start + 500]):
                self._add(address)

    @staticmethod
    def _spaced(code: str) -> str:
        """'RV34AB' as the gazetteer writes it, 'RV3 4AB'."""
        return f"{code[:-3]} {code[-3:]}" if len(code) > 3 else code

    def _add(self, address: Address) -> None:
        text = ", ".join(p for p in (address.line1, address.line2, address.town) if p)
        entry = (address.id, keys.fold(text).split())
        bucket = self._by_postcode.setdefault(_postcode_key(address.postcode), [])
        if entry not in bucket:
            bucket.append(entry)

    def resolve(self, address_text: str, postcode: str) -> int | None:
        code = _postcode_key(postcode)
        tokens = keys.fold(address_text).split()
        if not code or not tokens:
            return None
        if code not in self._by_postcode:
            self.preload([postcode])
        candidates = self._by_postcode.get(code, [])
        for n in range(1, len(tokens) + 1):
            candidates = [c for c in candidates if c[1][:n] == tokens[:n]]
            if len(candidates) <= 1:
                break
        if len(candidates) == 1:
            return candidates[0][0]
        exact = [c for c in candidates if c[1] == tokens]
        return exact[0][0] if len(exact) == 1 else None


def _candidates(record: RecordFields, name: str, resolver: AddressResolver | None):
    """(comparison key, value) of one field of a record, or None when empty."""
    if name in ("given_name", "family_name"):
        raw = getattr(record, name).strip()
        return (keys.fold(raw), raw) if keys.fold(raw) else None
    if name == "date_of_birth":
        return (record.date_of_birth, record.date_of_birth) if record.date_of_birth else None
    if name == "email":
        raw = record.email.strip()
        return (keys.email_key(raw), raw) if raw else None
    if name == "phone":
        raw = record.phone.strip()
        return (keys.phone_key(raw), raw) if keys.phone_key(raw) else None
    if name == "address" and resolver is not None:
        address_id = resolver.resolve(record.address_text, record.postcode)
        return (address_id, address_id) if address_id else None
    return None


def _mixed_case(value: Any) -> bool:
    """'Okafor' reads better than 'OKAFOR', which housing clerks often type."""
    return not isinstance(value, str) or value != value.upper()


def survivorship(
    records: Sequence[RecordFields], resolver: AddressResolver | None = None
) -> dict[str, Survivor]:
    """The value of each golden field the records agree on, and the record it comes from.

    Names and date of birth: the most frequent value (folded), then the most recent.
    Email, phone and address: the most recent, then the most frequent. Ties go to the
    lower record id, so the answer never depends on the order the records came in.
    """
    survivors: dict[str, Survivor] = {}
    for name in GOLDEN_FIELDS:
        groups: dict[Any, list[tuple[Any, RecordFields]]] = defaultdict(list)
        for record in records:
            found = _candidates(record, name, resolver)
            if found is not None:
                groups[found[0]].append((found[1], record))
        if not groups:
            continue

        def group_rank(item, name=name):
            _key, members = item
            latest = max(m[1].received_at for m in members)
            first_id = min(m[1].record_id for m in members)
            if name in MOST_FREQUENT_FIELDS:
                return (-len(members), -latest.timestamp(), first_id)
            return (-latest.timestamp(), -len(members), first_id)

        _key, members = min(groups.items(), key=group_rank)
        raw_counts = Counter(value for value, _record in members)

        def member_rank(member, raw_counts=raw_counts):
            value, record = member
            return (
                not _mixed_case(value),
                -raw_counts[value],
                -record.received_at.timestamp(),
                record.record_id,
            )

        value, record = min(members, key=member_rank)
        survivors[name] = Survivor(value=value, record_id=record.record_id)
    return survivors


def _attname(name: str) -> str:
    return "address_id" if name == "address" else name


def _empty(value: Any) -> bool:
    return value is None or value == ""


@dataclass(frozen=True)
class GoldenChange:
    name: str  # golden field: "given_name", "address"
    before: Any
    after: Any
    record_id: int | None


def golden_changes(
    person: Person,
    survivors: dict[str, Survivor],
    provenance: dict[str, PersonFieldSource],
    *,
    fallback: Person | None = None,
) -> list[GoldenChange]:
    """What the survivorship rule changes in a golden record.

    A field is set from the records when it is empty or its current value was itself
    chosen from a record (its provenance names one); a value staff entered, or one loaded
    as it was, is kept. With `fallback` (the merged person), fields still empty are filled
    from its golden record.
    """
    changes = []
    for name in GOLDEN_FIELDS:
        current = getattr(person, _attname(name))
        source = provenance.get(name)
        from_record = source is not None and source.source_record_id is not None
        survivor = survivors.get(name)
        if survivor is not None and (_empty(current) or from_record):
            if survivor.value != current:
                changes.append(GoldenChange(name, current, survivor.value, survivor.record_id))
        elif fallback is not None and _empty(current):
            other = getattr(fallback, _attname(name))
            if not _empty(other):
                changes.append(GoldenChange(name, current, other, None))
    if fallback is not None:
        for name in PERSON_ONLY_FIELDS:
            current, other = getattr(person, name), getattr(fallback, name)
            if _empty(current) and not _empty(other):
                changes.append(GoldenChange(name, current, other, None))
    return changes


def current_provenance(person_ids: Iterable[int]) -> dict[int, dict[str, PersonFieldSource]]:
    """The newest PersonFieldSource of each field of each person."""
    found: dict[int, dict[str, PersonFieldSource]] = defaultdict(dict)
    ids = list(person_ids)
    for start in range(0, len(ids), 500):
        rows = PersonFieldSource.objects.filter(person_id__in=ids[start : start + 500]).order_by(
            "person_id", "field", "set_at", "id"
        )
        for row in rows:
            found[row.person_id][row.field] = row
    return found


def apply_golden_changes(person: Person, changes: Sequence[GoldenChange]) -> dict[str, Any]:
    """Set the changed fields on `person` (in memory) with its search keys, version and time.

    Returns {attname: new value} of every field that changed, keys included.
    """
    if not changes:
        return {}
    before = {f: getattr(person, f) for f in KEY_FIELDS}
    updates: dict[str, Any] = {}
    for change in changes:
        setattr(person, _attname(change.name), change.after)
        updates[_attname(change.name)] = change.after
    for key, value in keys.person_keys(
        given_name=person.given_name,
        family_name=person.family_name,
        phone=person.phone,
        email=person.email,
    ).items():
        setattr(person, key, value)
        if before[key] != value:
            updates[key] = value
    person.version += 1
    person.updated_at = clock.now()
    updates["version"] = person.version
    updates["updated_at"] = person.updated_at
    return updates


# -- merge ------------------------------------------------------------------------------------


@dataclass
class _MergeWork:
    merge: PersonMerge
    changes: list[PersonMergeChange] = field(default_factory=list)
    moved: Counter = field(default_factory=Counter)

    def record(self, model, object_id, attname: str, before: Any, after: Any) -> None:
        self.changes.append(
            PersonMergeChange(
                merge=self.merge,
                model=model._meta.label_lower,
                object_id=str(object_id),
                field=attname,
                before=to_json(before),
                after=to_json(after),
            )
        )


def _lock_people(person_ids: Sequence[int]) -> dict[int, Person]:
    people = {p.id: p for p in Person.objects.select_for_update().filter(pk__in=person_ids)}
    if len(people) != len(set(person_ids)):
        raise NotVisible("person")
    return people


def _rows_before(relations: list[PersonRelation], kept_id: int, merged_id: int) -> dict:
    rows: dict[str, dict[str, list]] = {}
    for relation in relations:
        entry = {}
        for side, person_id in (("kept", kept_id), ("merged", merged_id)):
            pks = sorted(
                to_json(pk) for pk in relation.rows(person_id).values_list("pk", flat=True)
            )
            if pks:
                entry[side] = pks
        if entry:
            rows[relation.key] = entry
    return rows


def _fate(relation: PersonRelation, row, kept: Person, context: dict) -> tuple[str, dict]:
    """What the merge does to one row of the merged person: ("move", {}), ("leave", {}) or
    ("leave", {field: value}) to close it where it is.

    Moving must not break a table's rules: a department serving both stays as it was;
    the kept person keeps their current household; a relationship between the two ends.
    """
    key, today = relation.key, clock.today()
    if key == "people.link.person":
        return ("move", {}) if row.active else ("leave", {})
    if key == "people.persondepartment.person":
        return ("leave", {}) if row.department_id in context["kept_departments"] else ("move", {})
    if key == "people.householdmembership.person":
        if row.until is None and context["kept_has_household"]:
            return ("leave", {"until": today})
        return ("move", {})
    if key in ("people.relationship.from_person", "people.relationship.to_person"):
        outgoing = key.endswith("from_person")
        other = row.to_person_id if outgoing else row.from_person_id
        same_as_kept = (row.kind, outgoing, other) in context["kept_relationships"]
        if row.until is None and (other == kept.id or same_as_kept):
            return ("leave", {"until": today})
        return ("leave", {}) if other == kept.id else ("move", {})
    return ("move", {})


def _merge_context(kept: Person) -> dict:
    current = Relationship.objects.filter(until__isnull=True)
    return {
        "kept_departments": set(
            PersonDepartment.objects.filter(person=kept).values_list("department_id", flat=True)
        ),
        "kept_has_household": HouseholdMembership.objects.filter(
            person=kept, until__isnull=True
        ).exists(),
        "kept_relationships": {
            (kind, True, other)
            for kind, other in current.filter(from_person=kept).values_list("kind", "to_person_id")
        }
        | {
            (kind, False, other)
            for kind, other in current.filter(to_person=kept).values_list("kind", "from_person_id")
        },
    }


def _update_rows(model, updates: dict[Any, dict[str, Any]]) -> None:
    """Apply {pk: {attname: value}} with one UPDATE per distinct set of values."""
    grouped: dict[str, tuple[dict, list]] = {}
    for pk, values in updates.items():
        signature = json.dumps({k: to_json(v) for k, v in sorted(values.items())}, default=str)
        grouped.setdefault(signature, (values, []))[1].append(pk)
    for values, pks in grouped.values():
        for start in range(0, len(pks), 500):
            model._default_manager.filter(pk__in=pks[start : start + 500]).update(**values)


@dataclass(frozen=True)
class MergeOutcome:
    merge: PersonMerge
    moved: dict[str, int]  # rows moved to the kept person, by relation ("cases.case.person")


def merge_people(
    *,
    kept_person_id: int,
    merged_person_id: int,
    method: str,
    reason: str = "",
    merged_by_id: int | None = None,
    resolver: AddressResolver | None = None,
) -> MergeOutcome:
    """Merge without access checks, audit or events: for services that do their own.

    Call inside a transaction. Moves the merged person's rows, applies survivorship to the
    kept golden record over every record now linked to it, and records every change.
    """
    if kept_person_id == merged_person_id:
        raise ValidationFailed({"merged_person": _("Choose two different people to merge.")})
    people = _lock_people([kept_person_id, merged_person_id])
    kept, merged = people[kept_person_id], people[merged_person_id]
    if kept.merged_into_id or merged.merged_into_id:
        raise Conflict(_("One of these people has already been merged into someone else."))
    relations = person_relations()
    merge = PersonMerge.objects.create(
        kept_person=kept,
        merged_person=merged,
        method=method,
        reason=reason,
        merged_by_id=merged_by_id,
        merged_at=clock.now(),
        rows_before=_rows_before(relations, kept.id, merged.id),
    )
    work = _MergeWork(merge)
    context = _merge_context(kept)
    for relation in relations:
        updates: dict[Any, dict[str, Any]] = {}
        for row in relation.rows(merged.id):
            if relation.model is Person and row.pk == merged.id:
                continue
            fate, closing = _fate(relation, row, kept, context)
            values = dict(closing)
            if fate == "move":
                values[relation.attname] = kept.id
            for attname, value in values.items():
                work.record(relation.model, row.pk, attname, getattr(row, attname), value)
            if values:
                updates[row.pk] = values
                work.moved[relation.key] += fate == "move"
        _update_rows(relation.model, updates)

    work.record(Person, merged.id, "merged_into_id", None, kept.id)
    Person.objects.filter(pk=merged.id).update(merged_into_id=kept.id)
    merged.merged_into_id = kept.id

    records = [
        RecordFields.of(link.source_record)
        for link in Link.objects.filter(person_id=kept.id, active=True).select_related(
            "source_record"
        )
    ]
    provenance = current_provenance([kept.id])[kept.id]
    changes = golden_changes(
        kept, survivorship(records, resolver or AddressResolver()), provenance, fallback=merged
    )
    before = {attname: getattr(kept, attname) for attname in _person_attnames()}
    updates = apply_golden_changes(kept, changes)
    for attname, value in updates.items():
        work.record(Person, kept.id, attname, before[attname], value)
    if updates:
        Person.objects.filter(pk=kept.id).update(**updates)
    now = clock.now()
    PersonFieldSource.objects.bulk_create(
        PersonFieldSource(
            person=kept,
            field=change.name,
            source_record_id=change.record_id,
            set_at=now,
            method=PersonFieldSource.Method.MERGE,
            merge=merge,
        )
        for change in changes
    )
    PersonMergeChange.objects.bulk_create(work.changes, batch_size=1000)
    return MergeOutcome(merge=merge, moved=dict(work.moved))


def _person_attnames() -> list[str]:
    return [f.attname for f in Person._meta.concrete_fields]


def _require_merge_allowed(viewer: Viewer, person_ids: Iterable[int]) -> None:
    policy.require_casework_role(viewer)
    for person_id in person_ids:
        if not policy.is_person_visible(viewer, person_id):
            raise NotVisible("person")


def _merge_event(merge: PersonMerge, viewer: Viewer) -> DomainEvent:
    return DomainEvent(
        "person.merged",
        "person",
        merge.kept_person_id,
        viewer.user_id,
        {"merge_id": merge.id, "merged_person_id": merge.merged_person_id},
    )


def person_merge(
    *, viewer: Viewer, kept_person_id: int, merged_person_id: int, reason: str
) -> PersonMerge:
    """Merge a duplicate into the person kept. Staff must see both people and say why."""
    _require_merge_allowed(viewer, [kept_person_id, merged_person_id])
    if not (reason or "").strip():
        raise ValidationFailed({"reason": _("Say why these are the same person.")})
    with transaction.atomic():
        outcome = merge_people(
            kept_person_id=kept_person_id,
            merged_person_id=merged_person_id,
            method=PersonMerge.Method.STAFF,
            reason=reason.strip(),
            merged_by_id=viewer.staff_id,
        )
        merge = outcome.merge
        audit_record(
            viewer=viewer,
            action="person.merge",
            object_type="person_merge",
            object_ids=[merge.id, merge.kept_person_id, merge.merged_person_id],
            fields=sorted(outcome.moved),
            counts={"rows_moved": sum(outcome.moved.values())},
        )
        publish(_merge_event(merge, viewer))
    return merge


def publish_merge(merge: PersonMerge, viewer: Viewer) -> None:
    """person.merged, delivered after commit (for services that merge through merge_people)."""
    publish(_merge_event(merge, viewer))


# -- unmerge ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachedItem:
    """A row attached to one of the two people after their merge: staff say whose it is."""

    key: str  # "cases.case.person:42"
    relation: str  # "cases.case.person"
    pk: Any
    kind: str  # the model's verbose name
    label: str
    person_id: int  # who it points at now
    department_id: int | None


@dataclass(frozen=True)
class UnmergePlan:
    merge: PersonMerge
    attached: list[AttachedItem]
    blocked_by: PersonMerge | None  # a later merge of either person, to be undone first


def _later_merge(merge: PersonMerge) -> PersonMerge | None:
    ids = [merge.kept_person_id, merge.merged_person_id]
    return (
        PersonMerge.objects.filter(pk__gt=merge.pk, unmerged_at__isnull=True)
        .filter(Q(kept_person_id__in=ids) | Q(merged_person_id__in=ids))
        .order_by("pk")
        .first()
    )


def _department_of(row) -> int | None:
    if isinstance(row, Link):
        return row.source_record.department_id
    return getattr(row, "department_id", None)


def _label(row) -> str:
    for name in ("reference", "summary", "note", "value"):
        text = getattr(row, name, "")
        if isinstance(text, str) and text.strip():
            return text.strip()[:80]
    return f"#{row.pk}"


def _attached_items(merge: PersonMerge) -> list[AttachedItem]:
    ids = (merge.kept_person_id, merge.merged_person_id)
    items = []
    for relation in person_relations():
        if relation.key in DERIVED_RELATIONS:
            continue
        before = merge.rows_before.get(relation.key, {})
        known = {*before.get("kept", ()), *before.get("merged", ())}
        rows = relation.model._default_manager.filter(**{f"{relation.attname}__in": ids})
        if relation.model is Link:
            rows = rows.select_related("source_record")
        if relation.model is Person:
            rows = rows.exclude(pk__in=ids)
        for row in rows.order_by("pk"):
            if to_json(row.pk) in known:
                continue
            items.append(
                AttachedItem(
                    key=f"{relation.key}:{row.pk}",
                    relation=relation.key,
                    pk=row.pk,
                    kind=str(relation.model._meta.verbose_name),
                    label=_label(row),
                    person_id=getattr(row, relation.attname),
                    department_id=_department_of(row),
                )
            )
    return items


def person_unmerge_plan(*, viewer: Viewer, merge_id: int) -> UnmergePlan:
    """What undoing a merge involves: the rows attached since, and whether it can be undone."""
    merge = _visible_merge(viewer, merge_id)
    return UnmergePlan(merge=merge, attached=_attached_items(merge), blocked_by=_later_merge(merge))


def _visible_merge(viewer: Viewer, merge_id: int) -> PersonMerge:
    policy.require_casework_role(viewer)
    merge = PersonMerge.objects.filter(pk=merge_id).first()
    if merge is None or not policy.is_person_visible(viewer, merge.kept_person_id):
        raise NotVisible("person_merge")
    return merge


def _restore(merge: PersonMerge) -> list[PersonMergeChange]:
    """Put back every recorded field still as the merge left it; return those changed since."""
    by_model: dict[str, list[PersonMergeChange]] = defaultdict(list)
    for change in merge.changes.order_by("-id"):
        by_model[change.model].append(change)
    changed_since = []
    for label, changes in by_model.items():
        model = apps.get_model(label)
        attnames = sorted({c.field for c in changes})
        pk_name = model._meta.pk.attname
        object_ids = [from_json(model, pk_name, c.object_id) for c in changes]
        current = {
            row[pk_name]: row
            for row in model._default_manager.filter(pk__in=set(object_ids)).values(
                pk_name, *attnames
            )
        }
        updates: dict[Any, dict[str, Any]] = defaultdict(dict)
        for change, object_id in zip(changes, object_ids, strict=True):
            row = current.get(object_id)
            if row is None or row[change.field] != from_json(model, change.field, change.after):
                changed_since.append(change)
                continue
            updates[object_id][change.field] = from_json(model, change.field, change.before)
        _update_rows(model, dict(updates))
    return changed_since


def _restore_provenance(merge: PersonMerge, changed_since: list[PersonMergeChange]) -> None:
    """Say, for each golden field the merge set and the unmerge put back, where it is from."""
    set_by_merge = list(
        PersonFieldSource.objects.filter(merge=merge, method=PersonFieldSource.Method.MERGE)
    )
    if not set_by_merge:
        return
    kept_fields_changed_since = {
        c.field
        for c in changed_since
        if c.model == "people.person" and c.object_id == str(merge.kept_person_id)
    }
    first_id = min(row.id for row in set_by_merge)
    now = clock.now()
    restored = []
    for row in set_by_merge:
        if _attname(row.field) in kept_fields_changed_since:
            continue
        earlier = (
            PersonFieldSource.objects.filter(
                person_id=row.person_id, field=row.field, id__lt=first_id
            )
            .order_by("-set_at", "-id")
            .first()
        )
        restored.append(
            PersonFieldSource(
                person_id=row.person_id,
                field=row.field,
                source_record_id=earlier.source_record_id if earlier else None,
                set_at=now,
                method=PersonFieldSource.Method.UNMERGE,
                merge=merge,
            )
        )
    PersonFieldSource.objects.bulk_create(restored)


def _assign(
    merge: PersonMerge, attached: list[AttachedItem], assignments: dict[str, int]
) -> dict[str, int]:
    """Point each attached row at the person staff chose (the kept one unless told)."""
    people = {merge.kept_person_id, merge.merged_person_id}
    unknown = set(assignments) - {item.key for item in attached}
    wrong = {k for k, v in assignments.items() if v not in people}
    if unknown or wrong:
        raise ValidationFailed(
            {"assignments": _("Give each item to one of the two people being separated.")}
        )
    relations = {r.key: r for r in person_relations()}
    decided = {}
    for item in attached:
        target = assignments.get(item.key, merge.kept_person_id)
        decided[item.key] = target
        relation = relations[item.relation]
        if item.person_id != target:
            relation.rows(item.person_id).filter(pk=item.pk).update(**{relation.attname: target})
        if item.department_id is not None:
            department_serves(person_id=target, department_id=item.department_id)
    return decided


@dataclass(frozen=True)
class UnmergeOutcome:
    merge: PersonMerge
    changed_since: list[PersonMergeChange]  # fields changed again after the merge: left as they are


def unmerge_people(
    *, merge_id: int, assignments: dict[str, int], unmerged_by_id: int | None, reason: str = ""
) -> UnmergeOutcome:
    """Undo a merge without access checks, audit or events: for services that do their own."""
    merge = PersonMerge.objects.select_for_update().filter(pk=merge_id).first()
    if merge is None:
        raise NotVisible("person_merge")
    if merge.unmerged_at is not None:
        raise Conflict(_("This merge has already been undone."))
    if _later_merge(merge) is not None:
        raise Conflict(_("One of these people was merged again later. Undo the later merge first."))
    _lock_people([merge.kept_person_id, merge.merged_person_id])
    attached = _attached_items(merge)
    changed_since = _restore(merge)
    decided = _assign(merge, attached, assignments)
    _restore_provenance(merge, changed_since)
    merge.unmerged_at = clock.now()
    merge.unmerged_by_id = unmerged_by_id
    merge.unmerge_reason = reason
    merge.assignments = decided
    merge.save(update_fields=["unmerged_at", "unmerged_by", "unmerge_reason", "assignments"])
    return UnmergeOutcome(merge=merge, changed_since=changed_since)


def person_unmerge(
    *, viewer: Viewer, merge_id: int, assignments: dict[str, int], reason: str = ""
) -> PersonMerge:
    """Undo a merge: every table as it was before it, except rows attached to either person
    since, which go to the person `assignments` names ({AttachedItem.key: person id}),
    by default the kept one. Staff must see the kept person."""
    _visible_merge(viewer, merge_id)
    with transaction.atomic():
        outcome = unmerge_people(
            merge_id=merge_id,
            assignments=assignments,
            unmerged_by_id=viewer.staff_id,
            reason=(reason or "").strip(),
        )
        merge = outcome.merge
        to_merged = sum(1 for v in merge.assignments.values() if v == merge.merged_person_id)
        audit_record(
            viewer=viewer,
            action="person.unmerge",
            object_type="person_merge",
            object_ids=[merge.id, merge.kept_person_id, merge.merged_person_id],
            fields=["assignments"] if merge.assignments else [],
            counts={
                "attached_items": len(merge.assignments),
                "given_to_merged_person": to_merged,
                "changed_since_merge": len(outcome.changed_since),
            },
        )
        publish(
            DomainEvent(
                "person.unmerged",
                "person",
                merge.kept_person_id,
                viewer.user_id,
                {"merge_id": merge.id, "merged_person_id": merge.merged_person_id},
            )
        )
    return merge


def person_survivor_id(*, viewer: Viewer, person_id: int) -> int | None:
    """The person a merged person now lives on as, if the viewer may see them (else None).

    For pages that want to send a visitor of a merged person's address to the kept one.
    """
    seen: set[int] = set()
    current = Person.objects.filter(pk=person_id).values_list("merged_into_id", flat=True).first()
    while current is not None and current not in seen:
        seen.add(current)
        nxt = Person.objects.filter(pk=current).values_list("merged_into_id", flat=True).first()
        if nxt is None:
            break
        current = nxt
    if current is None or not policy.is_person_visible(viewer, current):
        return None
    return current
