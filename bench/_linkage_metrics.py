"""Scores of a clustering against the known truth: pairwise precision/recall/F1, purity.

Records whose cluster was sent to review count as not merged (each its own cluster).
"""

from __future__ import annotations

import polars as pl


def _pairs(counts: pl.Series) -> int:
    return int((counts * (counts - 1) // 2).sum())


def clustering_scores(clusters: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """clusters: record_id, cluster_id, status; truth: record_id, person_ref, household_ref."""
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
        "pure_multi_record_share": (1 - impure.height / multi.height if multi.height else 1.0),
        "impure_clusters": impure.height,
        "household_merges": impure.filter(pl.col("households") < pl.col("people")).height,
        "largest_cluster": int(per_cluster.get_column("size").max() or 0),
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
