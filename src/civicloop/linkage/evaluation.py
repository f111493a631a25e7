"""Scoring a clustering against known truth, and demo-city records to score it on.

Kept apart from the engine on purpose: only this module reads the demo's answer sheet
(attributes["demo_person_ref"]); the engine never sees it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import polars as pl

DEMO_NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@lru_cache(maxsize=4)
def demo_population(people: int = 2000, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The demo city's source records (engine input) and their truth, for `people` people.

    records: record_id, source, given_name, family_name, date_of_birth, email, phone,
    address, postcode. truth: record_id, person_ref, household_ref.
    """
    from civicloop.demo.generator import DemoCity, DemoConfig

    city = DemoCity(DemoConfig(now=DEMO_NOW, seed=seed, people=people, contacts_per_person=0.0))
    records: list[dict] = []
    truth: list[dict] = []
    for household in city.households():
        for row in household.source_records:
            records.append(
                {
                    "record_id": row.local_id,
                    "source": row.department,
                    "given_name": row.given_name,
                    "family_name": row.family_name,
                    "date_of_birth": row.date_of_birth,
                    "email": row.email,
                    "phone": row.phone,
                    "address": row.address_text,
                    "postcode": row.postcode,
                }
            )
            truth.append(
                {
                    "record_id": row.local_id,
                    "person_ref": row.person_ref,
                    "household_ref": household.ref,
                }
            )
    return pl.DataFrame(records), pl.DataFrame(truth)


def _pairs(counts: pl.Series) -> int:
    return int((counts * (counts - 1) // 2).sum())


def clustering_scores(clusters: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Pairwise precision, recall, F1 and cluster purity of `clusters` against `truth`.

    clusters: record_id, cluster_id, status; truth: record_id, person_ref, household_ref.
    Records whose cluster went to review count as not merged (each its own cluster).
    """
    frame = clusters.join(truth, on="record_id", how="inner").with_columns(
        pl.when(pl.col("status") == "merged")
        .then(pl.col("cluster_id"))
        .otherwise(pl.col("record_id"))
        .alias("effective")
    )
    predicted = _pairs(frame.group_by("effective").len().get_column("len"))
    actual = _pairs(frame.group_by("person_ref").len().get_column("len"))
    correct = _pairs(frame.group_by("effective", "person_ref").len().get_column("len"))
    precision = correct / predicted if predicted else 1.0
    recall = correct / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    per_cluster = frame.group_by("effective").agg(
        pl.len().alias("size"),
        pl.col("person_ref").n_unique().alias("people"),
        pl.col("household_ref").n_unique().alias("households"),
    )
    multi = per_cluster.filter(pl.col("size") > 1)
    impure = per_cluster.filter(pl.col("people") > 1)
    largest = per_cluster.get_column("size").max()  # an int, or None when there is no record
    return {
        "records": frame.height,
        "true_pairs": actual,
        "predicted_pairs": predicted,
        "correct_pairs": correct,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "clusters": per_cluster.height,
        "pure_cluster_share": 1 - impure.height / per_cluster.height if per_cluster.height else 1.0,
        "multi_record_clusters": multi.height,
        "pure_multi_record_share": 1 - impure.height / multi.height if multi.height else 1.0,
        "impure_clusters": impure.height,
        "household_merges": impure.filter(pl.col("households") < pl.col("people")).height,
        "largest_cluster": largest if isinstance(largest, int) else 0,
        "records_in_review": int((frame.get_column("status") == "review").sum()),
        "true_people": frame.get_column("person_ref").n_unique(),
    }


def truth_pairs(truth: pl.DataFrame) -> pl.DataFrame:
    """Every pair of records of the same person: record_id_l < record_id_r."""
    left = truth.select("record_id", "person_ref")
    return (
        left.join(left, on="person_ref", suffix="_r")
        .filter(pl.col("record_id") < pl.col("record_id_r"))
        .rename({"record_id": "record_id_l"})
        .select("record_id_l", "record_id_r", "person_ref")
    )


def blocking_recall(std: pl.DataFrame, true_pairs: pl.DataFrame, model) -> dict:
    """Share of true pairs that at least one blocking rule puts up for scoring."""
    columns = sorted({c for rule in model.blocking_rules for pair in rule.equal for c in pair})
    side = std.select("record_id", *columns)
    joined = true_pairs.join(side, left_on="record_id_l", right_on="record_id").join(
        side, left_on="record_id_r", right_on="record_id", suffix="_r"
    )
    admitted = pl.lit(False)
    per_rule = {}
    for rule in model.blocking_rules:
        forward = pl.lit(True)
        backward = pl.lit(True)
        for a, b in rule.equal:
            forward = forward & (pl.col(a) == pl.col(f"{b}_r")).fill_null(False)
            backward = backward & (pl.col(f"{a}_r") == pl.col(b)).fill_null(False)
        hit = forward | backward
        per_rule[rule.name] = int(joined.select(hit.sum()).item())
        admitted = admitted | hit
    found = int(joined.select(admitted.sum()).item())
    total = true_pairs.height
    return {
        "true_pairs": total,
        "admitted": found,
        "missed": total - found,
        "recall": found / total if total else 1.0,
        "per_rule": per_rule,
    }
