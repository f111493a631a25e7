"""Undoing a merge exactly: every recorded field back, unless it has been changed again since.

Rows attached to either person after the merge go to the person staff choose (by default the
kept one); a later merge of either person must be undone first, so history unwinds in order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from civicloop.core import clock
from civicloop.core.access import Conflict, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.people import policy
from civicloop.people.models import Link, Person, PersonFieldSource, PersonMerge, PersonMergeChange
from civicloop.people.person_rows import (
    DERIVED_RELATIONS,
    _lock_people,
    _update_rows,
    from_json,
    person_relations,
    to_json,
)
from civicloop.people.services import department_serves
from civicloop.people.survivorship import _attname
from civicloop.trust.audit import audit_record


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
    kept_id: int = merge.kept_person_id
    decided = {}
    for item in attached:
        target = assignments.get(item.key, kept_id)
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
