"""Applying a link plan: new people, moved links, people left with no records merged away,
and golden records brought up to date. Every step runs inside the run's one transaction,
so a run that fails leaves every link as it was.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from civicloop.core import clock
from civicloop.people import keys
from civicloop.people import merge as merging
from civicloop.people.models import (
    Link,
    Person,
    PersonDepartment,
    PersonFieldSource,
    PersonMerge,
)
from civicloop.people.services import department_serves_forget_unbacked
from civicloop.trust.audit import audit_bulk

BATCH = 2000


@dataclass
class _Applied:
    links_created: list[int] = field(default_factory=list)
    links_ended: list[int] = field(default_factory=list)
    people_created: list[int] = field(default_factory=list)
    merges: list[int] = field(default_factory=list)
    review_items: list[int] = field(default_factory=list)
    served: int = 0
    unserved: int = 0
    golden_updated: int = 0


def _audit_batches(viewer, action: str, object_type: str, ids: list[int], run) -> None:
    for start in range(0, len(ids), BATCH):
        audit_bulk(
            viewer=viewer,
            action=action,
            object_type=object_type,
            ids=ids[start : start + BATCH],
            extra={"run": run.id},
        )


def _create_people(plan, records, resolver, applied: _Applied, viewer, run) -> dict[int | str, int]:
    """A new golden record for each new cluster, its fields by survivorship."""
    now = clock.now()
    made: dict[str, Person] = {}
    chosen: dict[str, dict] = {}
    for key, members in plan.new_people.items():
        survivors = merging.survivorship(
            [merging.RecordFields.of(records[r]) for r in members], resolver
        )
        values = {name: s.value for name, s in survivors.items()}
        chosen[key] = survivors
        given, family = values.get("given_name", ""), values.get("family_name", "")
        made[key] = Person(
            given_name=given,
            family_name=family,
            date_of_birth=values.get("date_of_birth"),
            email=values.get("email", ""),
            phone=values.get("phone", ""),
            address_id=values.get("address"),
            created_at=now,
            updated_at=now,
            **keys.person_keys(
                given_name=given,
                family_name=family,
                phone=values.get("phone", ""),
                email=values.get("email", ""),
            ),
        )
    people = list(made.values())
    Person.objects.bulk_create(people, batch_size=BATCH)
    PersonFieldSource.objects.bulk_create(
        [
            PersonFieldSource(
                person=made[key],
                field=name,
                source_record_id=survivor.record_id,
                set_at=now,
                method=PersonFieldSource.Method.SURVIVORSHIP,
            )
            for key, survivors in chosen.items()
            for name, survivor in survivors.items()
        ],
        batch_size=BATCH,
    )
    applied.people_created = [p.id for p in people]
    _audit_batches(viewer, "linkage.person_create", "person", applied.people_created, run)
    return {key: person.id for key, person in made.items()}


def _relink(plan, current, records, resolve, applied: _Applied, viewer, run, progress) -> None:
    now = clock.now()
    relink = sorted(plan.relink)
    for start in range(0, len(relink), BATCH):
        batch = relink[start : start + BATCH]
        ending = [r for r in batch if r in current]
        ended = list(
            Link.objects.filter(source_record_id__in=ending, active=True).values_list(
                "id", flat=True
            )
        )
        Link.objects.filter(id__in=ended).update(active=False, ended_at=now)
        links = [
            Link(
                source_record_id=r,
                person_id=resolve[plan.target[r]],
                method=Link.Method.PROBABILISTIC,
                match_probability=plan.probability.get(r),
                active=True,
                created_at=now,
            )
            for r in batch
        ]
        Link.objects.bulk_create(links, batch_size=BATCH)
        served = PersonDepartment.objects.bulk_create(
            [
                PersonDepartment(
                    person_id=resolve[plan.target[r]],
                    department_id=records[r].department_id,
                    since=now,
                )
                for r in batch
            ],
            ignore_conflicts=True,
        )
        applied.served += len(served)
        # Whoever lost a record may no longer be served by its department.
        applied.unserved += department_serves_forget_unbacked(
            person_ids={current[r].person_id for r in ending}
        )
        applied.links_ended += ended
        applied.links_created += [link.id for link in links]
        audit_bulk(
            viewer=viewer,
            action="linkage.link",
            object_type="link",
            ids=[link.id for link in links],
            extra={"run": run.id, "ended": len(ended)},
        )
        progress("link", len(batch), None)


def _merge_orphans(plan, resolve, resolver, applied: _Applied, viewer, run, progress) -> None:
    """People left with no records merge into whoever got most of them: their cases follow."""
    for person_id, recipient in sorted(plan.orphans.items()):
        if Person.objects.filter(pk=person_id, merged_into__isnull=False).exists():
            continue
        outcome = merging.merge_people(
            kept_person_id=resolve[recipient],
            merged_person_id=person_id,
            method=PersonMerge.Method.BATCH,
            reason=f"linkage run {run.id}",
            merged_by_id=viewer.staff_id,
            resolver=resolver,
        )
        applied.merges.append(outcome.merge.id)
        merging.publish_merge(outcome.merge, viewer)
        progress("link", 1, None)
    _audit_batches(viewer, "linkage.person_merge", "person_merge", applied.merges, run)


def _survivorship(plan, current, resolve, resolver, applied: _Applied, run) -> None:
    """Golden records of existing people whose records changed follow the rule (merged-into
    people already did, in their merge)."""
    kept_in_merge = set(
        PersonMerge.objects.filter(pk__in=applied.merges).values_list("kept_person_id", flat=True)
    )
    people_ids = {resolve.get(k, k) for k in plan.people_changed(current)}
    people_ids -= kept_in_merge | set(applied.people_created) | set(plan.orphans)
    if not people_ids:
        return
    provenance = merging.current_provenance(people_ids)
    links = defaultdict(list)
    for link in Link.objects.filter(person_id__in=people_ids, active=True).select_related(
        "source_record"
    ):
        links[link.person_id].append(merging.RecordFields.of(link.source_record))
    now = clock.now()
    sources = []
    for person in Person.objects.filter(pk__in=people_ids).order_by("id"):
        changes = merging.golden_changes(
            person, merging.survivorship(links[person.id], resolver), provenance[person.id]
        )
        updates = merging.apply_golden_changes(person, changes)
        if updates:
            Person.objects.filter(pk=person.id).update(**updates)
            applied.golden_updated += 1
            sources += [
                PersonFieldSource(
                    person=person,
                    field=c.name,
                    source_record_id=c.record_id,
                    set_at=now,
                    method=PersonFieldSource.Method.SURVIVORSHIP,
                )
                for c in changes
            ]
    PersonFieldSource.objects.bulk_create(sources, batch_size=BATCH)
