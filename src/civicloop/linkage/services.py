"""Writes of the linkage app: batch linking and the decisions of clerical review.

Batch linking (`linkage_run`, behind `civicloop link`) reads every department's records,
has the engine train, score and cluster them, and makes the links follow the clusters:

- a cluster keeps the person most of its records are already linked to, else gets a new
  one; links that change are ended (kept, inactive) and new ones made;
- a person left with no records is merged, through people.merge, into the person that
  received most of them, so their cases, needs and contacts follow and the move can be
  undone;
- staff decisions stand: a confirmed match is never split, a confirmed non-match never
  joined, and a record linked by hand (Link.Method.MANUAL) stays with its person;
- pairs the engine is unsure of, and records of clusters it sent to review, become
  ReviewItems; records sent to review keep the link they had.

The planning step (`plan_links`) is plain Python over ids, so it can be tested on
hand-made clusters; `linkage_run` wraps it with the engine and the database.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from civicloop.core import clock
from civicloop.core.access import Conflict, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.linkage.models import ConfirmedPair, LinkageRun, ReviewItem
from civicloop.people import keys, policy
from civicloop.people import merge as merging
from civicloop.people.models import (
    Link,
    Person,
    PersonDepartment,
    PersonFieldSource,
    PersonMerge,
    SourceRecord,
)
from civicloop.people.services import department_serves_forget_unbacked
from civicloop.trust.audit import audit_bulk, audit_record

BATCH = 2000

# Called as progress(phase, advance, total): a phase starts with total set, then advances.
Progress = Callable[[str, int, int | None], None]


def _quiet(_phase: str, _advance: int = 0, _total: int | None = None) -> None:
    return None


# -- staff decisions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    record_l: int
    record_r: int
    is_match: bool


def ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def decisions_in_effect() -> list[Decision]:
    """The newest staff decision on each pair of records.

    A confirmed match whose merge has since been undone counts as a non-match: undoing
    the merge was staff saying the two are different people.
    """
    newest: dict[tuple[int, int], Decision] = {}
    rows = ConfirmedPair.objects.select_related("merge").order_by("at", "id")
    for row in rows.iterator(chunk_size=BATCH):
        undone = row.merge is not None and row.merge.unmerged_at is not None
        pair = (row.source_record_l_id, row.source_record_r_id)
        newest[pair] = Decision(*pair, is_match=row.is_match and not undone)
    return [newest[p] for p in sorted(newest)]


# -- planning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrentLink:
    person_id: int
    method: str


@dataclass(frozen=True)
class ScoredPair:
    record_l: int
    record_r: int
    probability: float


@dataclass
class LinkPlan:
    """Where each record goes. A target is a person id, or "new:<n>" for a person to create."""

    target: dict[int, int | str] = field(default_factory=dict)
    probability: dict[int, float | None] = field(default_factory=dict)
    relink: set[int] = field(default_factory=set)  # records that get a new link
    new_people: dict[str, list[int]] = field(default_factory=dict)
    orphans: dict[int, int | str] = field(default_factory=dict)  # person left -> merge into
    units: int = 0
    kept_for_review: int = 0

    def people_changed(self, current: Mapping[int, CurrentLink]) -> set[int | str]:
        """Existing people who gain or lose a record, and every new person."""
        changed: set[int | str] = set(self.new_people)
        for record_id in self.relink:
            changed.add(self.target[record_id])
            if record_id in current:
                changed.add(current[record_id].person_id)
        return changed


class _Groups:
    """Union-find over records that refuses joins against staff decisions: a group may not
    hold a confirmed non-match, nor records linked by hand to two different people."""

    def __init__(self, records: Iterable[int], cannot: Mapping[int, set[int]], pins):
        self.parent = {r: r for r in records}
        self.members = {r: {r} for r in self.parent}
        self.pins = {r: ({pins[r]} if r in pins else set()) for r in self.parent}
        self.cannot = cannot

    def find(self, r: int) -> int:
        root = r
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[r] != root:
            self.parent[r], r = root, self.parent[r]
        return root

    def allowed(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if len(self.pins[ra] | self.pins[rb]) > 1:
            return False
        small, big = sorted((ra, rb), key=lambda x: len(self.members[x]))
        return not any(self.cannot.get(m, set()) & self.members[big] for m in self.members[small])

    def union(self, a: int, b: int) -> bool:
        if not self.allowed(a, b):
            return False
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] |= self.members.pop(rb)
        self.pins[ra] |= self.pins.pop(rb)
        return True

    def groups(self) -> list[tuple[int, ...]]:
        return sorted(tuple(sorted(m)) for m in self.members.values())


def plan_links(
    *,
    records: Sequence[int],
    current: Mapping[int, CurrentLink],
    clusters: Mapping[int, tuple[str, str]],
    pairs: Sequence[ScoredPair],
    decisions: Sequence[Decision],
    merge_threshold: float,
) -> LinkPlan:
    """Decide each record's person from the engine's clusters and the staff's decisions.

    `clusters` maps a record to (cluster id, status): 'merged', 'singleton' or 'review'.
    Deterministic: the same input always gives the same plan, so re-running changes nothing.
    """
    cannot: dict[int, set[int]] = defaultdict(set)
    must = []
    for d in decisions:
        if d.is_match:
            must.append((d.record_l, d.record_r))
        else:
            cannot[d.record_l].add(d.record_r)
            cannot[d.record_r].add(d.record_l)
    pins = {r: link.person_id for r, link in current.items() if link.method == Link.Method.MANUAL}
    touched = {r for pair in must for r in pair} | set(pins)
    # A record the engine could not decide on stays where it is, unless staff said otherwise.
    kept = {
        r
        for r in records
        if clusters.get(r, ("", "singleton"))[1] == "review" and r in current and r not in touched
    }
    groups = _Groups([r for r in records if r not in kept], cannot, pins)
    for a, b in must:
        if a in groups.parent and b in groups.parent:
            groups.union(a, b)
    by_person: dict[int, list[int]] = defaultdict(list)
    for r, person_id in pins.items():
        by_person[person_id].append(r)
    for members in by_person.values():
        for r in members[1:]:
            groups.union(members[0], r)

    pairs_by_cluster: dict[str, list[ScoredPair]] = defaultdict(list)
    for pair in pairs:
        cl, cr = clusters.get(pair.record_l), clusters.get(pair.record_r)
        if cl and cr and cl[0] == cr[0] and cl[1] == "merged":
            pairs_by_cluster[cl[0]].append(pair)
    members_by_cluster: dict[str, list[int]] = defaultdict(list)
    for r in records:
        cluster_id, status = clusters.get(r, (f"record:{r}", "singleton"))
        if status == "merged" and r in groups.parent:
            members_by_cluster[cluster_id].append(r)
    for cluster_id in sorted(members_by_cluster):
        members = sorted(members_by_cluster[cluster_id])
        if all(groups.allowed(members[0], r) for r in members[1:]) and _joinable(groups, members):
            for r in members[1:]:
                groups.union(members[0], r)
            continue
        # The engine's cluster breaks a staff decision: rebuild it from its strongest links.
        strongest = sorted(
            pairs_by_cluster[cluster_id],
            key=lambda p: (-p.probability, p.record_l, p.record_r),
        )
        for pair in strongest:
            if pair.probability >= merge_threshold:
                groups.union(pair.record_l, pair.record_r)

    plan = LinkPlan(kept_for_review=len(kept))
    units = groups.groups()
    plan.units = len(units)
    unit_pin = {unit: next(iter(groups.pins[groups.find(unit[0])]), None) for unit in units}
    candidates = []
    for unit in units:
        if unit_pin[unit] is not None:
            candidates.append((0, -len(unit), unit_pin[unit], unit))
        counts = Counter(current[r].person_id for r in unit if r in current)
        for person_id, count in counts.items():
            candidates.append((1, -count, person_id, unit))
    person_of: dict[tuple[int, ...], int | str] = {}
    taken: set[int] = set()
    for _forced, _count, person_id, unit in sorted(candidates):
        if unit in person_of or person_id in taken:
            continue
        person_of[unit] = person_id
        taken.add(person_id)
    for unit in units:
        if unit not in person_of:
            key = f"new:{unit[0]}"
            person_of[unit] = key
            plan.new_people[key] = list(unit)

    unit_of = {r: unit for unit in units for r in unit}
    best: dict[int, float] = {}
    for pair in pairs:
        if pair.record_l in unit_of and unit_of[pair.record_l] is unit_of.get(pair.record_r):
            for r in (pair.record_l, pair.record_r):
                best[r] = max(best.get(r, 0.0), pair.probability)
    for r in records:
        if r in kept:
            plan.target[r] = current[r].person_id
            continue
        target = person_of[unit_of[r]]
        plan.target[r] = target
        plan.probability[r] = best.get(r)
        link = current.get(r)
        if link is None or link.person_id != target or link.method == Link.Method.KNOWN_TRUTH:
            plan.relink.add(r)

    still_linked = {t for t in plan.target.values() if isinstance(t, int)}
    received: dict[int, Counter] = defaultdict(Counter)
    for r, link in current.items():
        if link.person_id not in still_linked and r in plan.target:
            received[link.person_id][plan.target[r]] += 1
    for person_id in sorted(received):
        ranked = sorted(
            received[person_id].items(),
            key=lambda kv: (-kv[1], isinstance(kv[0], str), str(kv[0]).zfill(20)),
        )
        plan.orphans[person_id] = ranked[0][0]
    return plan


def _joinable(groups: _Groups, members: list[int]) -> bool:
    """Whether all these records' groups may become one (pins and non-matches together)."""
    roots = {groups.find(r) for r in members}
    pins = set().union(*(groups.pins[root] for root in roots))
    if len(pins) > 1:
        return False
    everyone = set().union(*(groups.members[root] for root in roots))
    return not any(groups.cannot.get(m, set()) & everyone for m in everyone)


# -- the engine -------------------------------------------------------------------------------


RECORD_COLUMNS = (
    "record_id",
    "source",
    "given_name",
    "family_name",
    "date_of_birth",
    "email",
    "phone",
    "postcode",
    "address",
)


def _record_rows() -> list[dict[str, Any]]:
    rows = (
        SourceRecord.objects.order_by("id")
        .values(
            "id",
            "department__code",
            "given_name",
            "family_name",
            "date_of_birth",
            "email",
            "phone",
            "postcode",
            "address_text",
            "received_at",
        )
        .iterator(chunk_size=BATCH)
    )
    return [
        {
            "record_id": str(r["id"]),
            "source": r["department__code"],
            "given_name": r["given_name"],
            "family_name": r["family_name"],
            "date_of_birth": r["date_of_birth"],
            "email": r["email"],
            "phone": r["phone"],
            "postcode": r["postcode"],
            "address": r["address_text"],
        }
        for r in rows
    ]


def _fingerprint(rows: list[dict[str, Any]], decisions: list[Decision]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps([row[c] for c in RECORD_COLUMNS], default=str).encode())
    for d in decisions:
        digest.update(f"|{d.record_l},{d.record_r},{int(d.is_match)}".encode())
    return digest.hexdigest()


def _engine():
    # Imported here so that the web app does not load DuckDB and Splink until it links.
    from civicloop.linkage import engine

    return engine


def _labels(decisions: list[Decision]):
    import polars as pl

    return pl.DataFrame(
        {
            "record_id_l": [str(d.record_l) for d in decisions],
            "record_id_r": [str(d.record_r) for d in decisions],
            "is_match": [d.is_match for d in decisions],
        },
        schema={"record_id_l": pl.String, "record_id_r": pl.String, "is_match": pl.Boolean},
    )


def explanation_json(explanation) -> dict[str, Any]:
    """An engine PairExplanation as stored on a ReviewItem."""
    return {
        "match_weight": float(explanation.match_weight),
        "match_probability": float(explanation.match_probability),
        "prior_weight": float(getattr(explanation, "prior_weight", 0.0)),
        "contributions": [
            {"comparison": str(c[0]), "label": str(c[1]), "weight": float(c[2])}
            for c in explanation.contributions
        ],
    }


# -- the run ----------------------------------------------------------------------------------


LINKAGE_VIEWER = Viewer.system("linkage")


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


def linkage_run(
    *,
    viewer: Viewer = LINKAGE_VIEWER,
    merge_threshold: float | None = None,
    review_threshold: float | None = None,
    retrain: bool = False,
    progress: Progress = _quiet,
) -> LinkageRun:
    """Link every department's records to people (see the module docstring).

    Re-running on unchanged records and decisions reuses the trained model and changes
    nothing. Thresholds default to the model's own. Raises on failure, after marking the
    run failed; the links are then exactly as they were.
    """
    for name, value in (
        ("merge_threshold", merge_threshold),
        ("review_threshold", review_threshold),
    ):
        if value is not None and not 0 < value < 1:
            raise ValidationFailed({name: _("Give a probability between 0 and 1.")})
    engine = _engine()
    started_by = viewer.staff_id
    progress("read", 0, 3)
    read_at = clock.now()
    rows = _record_rows()
    decisions = decisions_in_effect()
    fingerprint = _fingerprint(rows, decisions)
    progress("read", 3, None)
    previous = (
        LinkageRun.objects.filter(status=LinkageRun.Status.FINISHED, input_fingerprint=fingerprint)
        .exclude(model_json="")
        .first()
    )
    run = LinkageRun.objects.create(
        started_by_id=started_by,
        merge_threshold=merge_threshold or 0.0,
        review_threshold=review_threshold or 0.0,
        input_fingerprint=fingerprint,
        record_count=len(rows),
    )
    if not rows:
        # Nothing to link: no model to train, and no links to change.
        run.status, run.finished_at = LinkageRun.Status.FINISHED, clock.now()
        run.save(update_fields=["status", "finished_at"])
        return run
    try:
        import polars as pl

        frame = pl.DataFrame(rows, schema=_record_schema(pl), orient="row")
        labels = _labels(decisions) if decisions else None
        progress("train", 0, 1)
        std = engine.standardise(frame)
        if previous is not None and not retrain:
            model = engine.LinkageModel.from_json(previous.model_json)
        else:
            model = engine.train(std, confirmed_pairs=labels)
        merge_at = merge_threshold if merge_threshold is not None else model.merge_threshold
        review_at = review_threshold if review_threshold is not None else model.review_threshold
        if review_at > merge_at:
            raise ValidationFailed(
                {"review_threshold": _("The review threshold must not be above the merge one.")}
            )
        progress("train", 1, None)
        progress("predict", 0, 1)
        predictions = engine.predict(std, model, threshold_probability=review_at)
        progress("predict", 1, None)
        progress("cluster", 0, 1)
        result = engine.cluster(
            std,
            predictions,
            merge_threshold=merge_at,
            review_threshold=review_at,
            model=model,
            confirmed_pairs=labels,
        )
        progress("cluster", 1, None)
        run.model_json = model.to_json()
        run.merge_threshold, run.review_threshold = merge_at, review_at
        _apply(
            run=run,
            read_at=read_at,
            viewer=viewer,
            model=model,
            rows=rows,
            predictions=predictions,
            result=result,
            decisions=decisions,
            progress=progress,
        )
    except Exception as error:
        LinkageRun.objects.filter(pk=run.pk).update(
            status=LinkageRun.Status.FAILED,
            finished_at=clock.now(),
            error=f"{type(error).__name__}: {error}"[:2000],
        )
        raise
    run.refresh_from_db()
    return run


def _record_schema(pl) -> dict:
    schema = {c: pl.String for c in RECORD_COLUMNS}
    schema["date_of_birth"] = pl.Date
    return schema


def _apply(
    *, run, read_at, viewer, model, rows, predictions, result, decisions, progress: Progress
) -> _Applied:
    """Write the plan in one transaction: a half-linked population is worse than none.

    Runs apply one at a time, and a run that another finished after it read the records
    changes nothing: its clusters would undo or repeat that run's work (people created twice,
    links moved back)."""
    record_ids = [int(r["record_id"]) for r in rows]
    clusters = {
        int(rid): (str(cid), status)
        for rid, cid, status in result.clusters.select(
            "record_id", "cluster_id", "status"
        ).iter_rows()
    }
    pairs = [
        ScoredPair(*ordered(int(a), int(b)), float(p))
        for a, b, p in predictions.select(
            "record_id_l", "record_id_r", "match_probability"
        ).iter_rows()
    ]
    applied = _Applied()
    with transaction.atomic():
        # Every running run's row, locked: a second run waits here for the first to commit.
        list(
            LinkageRun.objects.select_for_update()
            .filter(status=LinkageRun.Status.RUNNING)
            .values_list("id", flat=True)
        )
        overtaken = (
            LinkageRun.objects.filter(status=LinkageRun.Status.FINISHED, finished_at__gte=read_at)
            .exclude(pk=run.pk)
            .order_by("finished_at")
            .first()
        )
        if overtaken is not None:
            raise Conflict(
                _(
                    "Linking run %(other)s finished while this one was working, so this one "
                    "changed nothing. Run linking again."
                )
                % {"other": overtaken.id}
            )
        current = {
            r: CurrentLink(p, m)
            for r, p, m in Link.objects.filter(active=True)
            .values_list("source_record_id", "person_id", "method")
            .iterator(chunk_size=BATCH)
        }
        plan = plan_links(
            records=record_ids,
            current=current,
            clusters=clusters,
            pairs=pairs,
            decisions=decisions,
            merge_threshold=run.merge_threshold,
        )
        progress("link", 0, len(plan.relink) + len(plan.orphans) + 1)
        resolver = merging.AddressResolver()
        resolver.preload(r["postcode"] for r in rows if r["postcode"])
        records = {
            r.id: r
            for r in SourceRecord.objects.filter(
                id__in=set(plan.relink) | {x for m in plan.new_people.values() for x in m}
            )
        }
        new_ids = _create_people(plan, records, resolver, applied, viewer, run)
        resolve = {**{k: k for k in plan.target.values() if isinstance(k, int)}, **new_ids}
        _relink(plan, current, records, resolve, applied, viewer, run, progress)
        _merge_orphans(plan, resolve, resolver, applied, viewer, run, progress)
        _survivorship(plan, current, resolve, resolver, applied, run)
        _raise_review_items(
            run, model, rows, result, decisions, plan, resolve, clusters, applied, viewer
        )
        run.status = LinkageRun.Status.FINISHED
        run.finished_at = clock.now()
        run.pair_count = len(pairs)
        run.cluster_count = plan.units
        run.links_created = len(applied.links_created)
        run.links_ended = len(applied.links_ended)
        run.people_created = len(applied.people_created)
        run.people_merged = len(applied.merges)
        run.review_items_created = len(applied.review_items)
        run.counts = {
            "records_kept_for_review": plan.kept_for_review,
            "departments_now_serving": applied.served,
            "departments_no_longer_serving": applied.unserved,
            "golden_records_updated": applied.golden_updated,
            "decisions_in_effect": len(decisions),
            **{f"engine_{k}": v for k, v in (result.summary or {}).items() if _is_count(v)},
        }
        run.save()
        audit_record(
            viewer=viewer,
            action="linkage.run",
            object_type="linkage_run",
            object_ids=[run.id],
            counts={
                "records": run.record_count,
                "links_created": run.links_created,
                "links_ended": run.links_ended,
                "people_created": run.people_created,
                "people_merged": run.people_merged,
                "golden_records_updated": applied.golden_updated,
                "review_items": run.review_items_created,
            },
        )
        publish(DomainEvent("linkage.run_finished", "linkage_run", run.id, viewer.user_id))
        progress("link", 1, None)
    return applied


def _is_count(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _audit_batches(viewer, action: str, object_type: str, ids: list[int], run) -> None:
    for start in range(0, len(ids), BATCH):
        audit_bulk(
            viewer=viewer,
            action=action,
            object_type=object_type,
            ids=ids[start : start + BATCH],
            extra={"run": run.id},
        )


def _create_people(plan, records, resolver, applied: _Applied, viewer, run) -> dict[str, int]:
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


def _raise_review_items(
    run, model, rows, result, decisions, plan, resolve, clusters, applied: _Applied, viewer
) -> None:
    """A ReviewItem for each uncertain pair whose records did not end up with one person."""
    decided = {(d.record_l, d.record_r) for d in decisions}
    undecided = set(
        ReviewItem.objects.filter(status__in=ReviewItem.UNDECIDED).values_list(
            "source_record_l_id", "source_record_r_id"
        )
    )
    raw = {int(r["record_id"]): r for r in rows}
    by_cluster: dict[str, list[int]] = defaultdict(list)
    for record_id, (cluster_id, status) in clusters.items():
        if status == "review":
            by_cluster[cluster_id].append(record_id)
    items = []
    seen = set()
    columns = result.review_pairs.columns
    for row in result.review_pairs.iter_rows(named=True):
        pair = ordered(int(row["record_id_l"]), int(row["record_id_r"]))
        if pair in decided or pair in undecided or pair in seen:
            continue
        seen.add(pair)
        people = [resolve.get(plan.target.get(r), plan.target.get(r)) for r in pair]
        if people[0] == people[1]:
            continue
        explanation = explanation_json(
            _engine().explain_pair(
                model, _engine_record(raw[pair[0]]), _engine_record(raw[pair[1]])
            )
        )
        if "reason" in columns and row.get("reason"):
            explanation["reason"] = str(row["reason"])
        in_review = [r for r in pair if clusters.get(r, ("", ""))[1] == "review"]
        cluster_records = sorted(by_cluster[clusters[in_review[0]][0]]) if in_review else []
        probability = row.get("match_probability")
        items.append(
            ReviewItem(
                run=run,
                kind=ReviewItem.Kind.CLUSTER if in_review else ReviewItem.Kind.PAIR,
                source_record_l_id=pair[0],
                source_record_r_id=pair[1],
                cluster_record_ids=cluster_records,
                person_ids=[p for p in people if p is not None],
                match_probability=float(
                    probability if probability is not None else explanation["match_probability"]
                ),
                match_weight=explanation["match_weight"],
                explanation=explanation,
                created_at=run.started_at,
            )
        )
    ReviewItem.objects.bulk_create(items, batch_size=BATCH)
    applied.review_items = [item.id for item in items]
    _audit_batches(viewer, "linkage.review_item", "review_item", applied.review_items, run)


def _engine_record(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k in RECORD_COLUMNS}


# -- clerical review ----------------------------------------------------------------------------


def review_items_for(viewer: Viewer):
    """ReviewItems the viewer may review: a record of one of their departments is in it."""
    policy.require_casework_role(viewer)
    own = Q(source_record_l__department_id__in=viewer.department_ids) | Q(
        source_record_r__department_id__in=viewer.department_ids
    )
    return ReviewItem.objects.filter(own)


def require_review_item(viewer: Viewer, review_item_id: int) -> ReviewItem:
    """The item, if the viewer may review it; NotVisible otherwise (even if it exists)."""
    item = (
        review_items_for(viewer)
        .select_related("source_record_l", "source_record_r")
        .filter(pk=review_item_id)
        .first()
    )
    if item is None:
        raise NotVisible("review_item")
    return item


class ReviewDecision:
    CONFIRM = "confirm"
    REJECT = "reject"
    SKIP = "skip"
    ALL = (CONFIRM, REJECT, SKIP)


@dataclass(frozen=True)
class ReviewOutcome:
    item: ReviewItem
    decision: str
    merge: PersonMerge | None = None
    already_one_person: bool = False
    separate_next_run: bool = False


def _active_person(record_id: int) -> int | None:
    return (
        Link.objects.filter(source_record_id=record_id, active=True)
        .values_list("person_id", flat=True)
        .first()
    )


def review_decide(*, viewer: Viewer, review_item_id: int, decision: str) -> ReviewOutcome:
    """Record a reviewer's decision on a pair.

    Confirm: a ConfirmedPair match, and the two people merged (the one with more records
    kept; the older on a tie). Reject: a ConfirmedPair non-match; if the pair is already
    one person, the next linking run separates them. Skip: left for someone else, marked.
    """
    if decision not in ReviewDecision.ALL:
        raise ValidationFailed({"decision": _("Choose whether these are the same person.")})
    require_review_item(viewer, review_item_id)
    now = clock.now()
    with transaction.atomic():
        item = ReviewItem.objects.select_for_update().get(pk=review_item_id)
        if item.status not in ReviewItem.UNDECIDED:
            raise Conflict(_("Someone has already decided on this pair."))
        item.decided_by_id = viewer.staff_id
        item.decided_at = now
        outcome = ReviewOutcome(item=item, decision=decision)
        if decision == ReviewDecision.SKIP:
            item.status = ReviewItem.Status.SKIPPED
        else:
            item.status = (
                ReviewItem.Status.CONFIRMED
                if decision == ReviewDecision.CONFIRM
                else ReviewItem.Status.REJECTED
            )
            confirmed = ConfirmedPair.objects.create(
                source_record_l_id=item.source_record_l_id,
                source_record_r_id=item.source_record_r_id,
                is_match=decision == ReviewDecision.CONFIRM,
                by_id=viewer.staff_id,
                at=now,
                review_item=item,
            )
            people = [
                _active_person(item.source_record_l_id),
                _active_person(item.source_record_r_id),
            ]
            if decision == ReviewDecision.CONFIRM:
                outcome = _confirm(viewer, item, confirmed, people)
            else:
                outcome = ReviewOutcome(
                    item=item,
                    decision=decision,
                    separate_next_run=people[0] is not None and people[0] == people[1],
                )
        item.save(update_fields=["status", "decided_by", "decided_at"])
        merge = outcome.merge
        audit_record(
            viewer=viewer,
            action=f"review.{decision}",
            object_type="review_item",
            object_ids=[item.id, item.source_record_l_id, item.source_record_r_id]
            + ([merge.id, merge.kept_person_id, merge.merged_person_id] if merge else []),
            fields=["decision"],
        )
        if merge is not None:
            merging.publish_merge(merge, viewer)
        publish(
            DomainEvent(
                "review.decided", "review_item", item.id, viewer.user_id, {"decision": decision}
            )
        )
    return outcome


def _confirm(viewer: Viewer, item: ReviewItem, confirmed: ConfirmedPair, people) -> ReviewOutcome:
    left, right = people
    if left is not None and left == right:
        return ReviewOutcome(item=item, decision=ReviewDecision.CONFIRM, already_one_person=True)
    if left is None or right is None:
        # One record was never linked: it joins the other's person, confirmed by staff.
        person_id = left if left is not None else right
        if person_id is None:
            raise Conflict(_("Neither record is linked to a person yet. Run linking first."))
        record_id = item.source_record_l_id if left is None else item.source_record_r_id
        record = SourceRecord.objects.get(pk=record_id)
        Link.objects.create(
            source_record=record,
            person_id=person_id,
            method=Link.Method.MANUAL,
            confirmed_by_id=viewer.staff_id,
        )
        PersonDepartment.objects.bulk_create(
            [PersonDepartment(person_id=person_id, department_id=record.department_id)],
            ignore_conflicts=True,
        )
        return ReviewOutcome(item=item, decision=ReviewDecision.CONFIRM)
    counts = Counter(
        Link.objects.filter(person_id__in=[left, right], active=True).values_list(
            "person_id", flat=True
        )
    )
    kept, merged = sorted([left, right], key=lambda p: (-counts[p], p))
    outcome = merging.merge_people(
        kept_person_id=kept,
        merged_person_id=merged,
        method=PersonMerge.Method.REVIEW,
        reason=f"review item {item.id}",
        merged_by_id=viewer.staff_id,
    )
    confirmed.merge = outcome.merge
    confirmed.save(update_fields=["merge"])
    return ReviewOutcome(item=item, decision=ReviewDecision.CONFIRM, merge=outcome.merge)
