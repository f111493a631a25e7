"""Merging a duplicate person into another, undoing it exactly, and the survivorship rule.

A merge moves every row that points at the merged person to the kept one. The rows are
found through Person's reverse relations, so tables that other apps add later follow
without a change here; only history tables stay where they are. Each field of each row
the merge changes is recorded as a PersonMergeChange (before, after), and the rows that
pointed at either person just before are listed on the PersonMerge. Unmerge puts every
recorded field back unless it has been changed again since, and gives each row attached
to either person after the merge to the person staff choose (by default the kept one).
Nothing is deleted: the merged person stays, with `merged_into` set until unmerged.
The survivorship rule lives in `survivorship`, the rows that point at a person in
`person_rows`, undoing a merge in `unmerge`; their names are importable from here too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicloop.core import clock
from civicloop.core.access import Conflict, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.people import policy
from civicloop.people.models import (
    HouseholdMembership,
    Link,
    Person,
    PersonDepartment,
    PersonFieldSource,
    PersonMerge,
    PersonMergeChange,
    Relationship,
)
from civicloop.people.person_rows import (
    DERIVED_RELATIONS,
    HISTORY_MODELS,
    PersonRelation,
    _lock_people,
    _update_rows,
    from_json,
    person_relations,
    to_json,
)
from civicloop.people.survivorship import (
    GOLDEN_FIELDS,
    KEY_FIELDS,
    MOST_FREQUENT_FIELDS,
    PERSON_ONLY_FIELDS,
    AddressResolver,
    GoldenChange,
    RecordFields,
    Survivor,
    apply_golden_changes,
    current_provenance,
    golden_changes,
    survivorship,
)
from civicloop.people.unmerge import (
    AttachedItem,
    UnmergeOutcome,
    UnmergePlan,
    person_unmerge,
    person_unmerge_plan,
    unmerge_people,
)
from civicloop.trust.audit import audit_record

__all__ = [
    "DERIVED_RELATIONS",
    "GOLDEN_FIELDS",
    "HISTORY_MODELS",
    "KEY_FIELDS",
    "MOST_FREQUENT_FIELDS",
    "PERSON_ONLY_FIELDS",
    "AddressResolver",
    "AttachedItem",
    "GoldenChange",
    "MergeOutcome",
    "PersonRelation",
    "RecordFields",
    "Survivor",
    "UnmergeOutcome",
    "UnmergePlan",
    "apply_golden_changes",
    "current_provenance",
    "from_json",
    "golden_changes",
    "merge_people",
    "person_merge",
    "person_relations",
    "person_survivor_id",
    "person_unmerge",
    "person_unmerge_plan",
    "publish_merge",
    "survivorship",
    "to_json",
    "unmerge_people",
]


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
