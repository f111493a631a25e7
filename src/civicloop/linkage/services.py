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

The planning step (`plan_links`, in linkage.planning) is plain Python over ids, so it can
be tested on hand-made clusters; `linkage_run` wraps it with the engine and the database,
and linkage.applying writes the plan. Clerical review lives in linkage.review; its names
are importable from here too.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicloop.core import clock
from civicloop.core.access import Conflict, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.linkage.applying import (
    BATCH,
    _Applied,
    _audit_batches,
    _create_people,
    _merge_orphans,
    _relink,
    _survivorship,
)
from civicloop.linkage.models import ConfirmedPair, LinkageRun, ReviewItem
from civicloop.linkage.planning import (
    CurrentLink,
    Decision,
    LinkPlan,
    ScoredPair,
    ordered,
    plan_links,
)
from civicloop.linkage.review import (
    ReviewDecision,
    ReviewOutcome,
    require_review_item,
    review_decide,
    review_items_for,
)
from civicloop.people import merge as merging
from civicloop.people.models import Link, SourceRecord
from civicloop.trust.audit import audit_record

__all__ = [
    "BATCH",
    "LINKAGE_VIEWER",
    "RECORD_COLUMNS",
    "CurrentLink",
    "Decision",
    "LinkPlan",
    "Progress",
    "ReviewDecision",
    "ReviewOutcome",
    "ScoredPair",
    "decisions_in_effect",
    "explanation_json",
    "linkage_run",
    "ordered",
    "plan_links",
    "require_review_item",
    "review_decide",
    "review_items_for",
]


# Called as progress(phase, advance, total): a phase starts with total set, then advances.
Progress = Callable[[str, int, int | None], None]


def _quiet(_phase: str, _advance: int = 0, _total: int | None = None) -> None:
    return None


# -- staff decisions ------------------------------------------------------------------------


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


# Whatever asks the engine (the run, the review items' explanations) stays in this module
# and looks it up through this name, so a stand-in set here reaches all of it.
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
        resolve: dict[int | str, int] = {
            **{k: k for k in plan.target.values() if isinstance(k, int)},
            **new_ids,
        }
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
