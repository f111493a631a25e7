"""Clusters from scored pairs that never chain a household into one person.

1. Connected components over confident pairs only (probability >= merge threshold).
2. Every pair *inside* a component is scored, not only the pairs that linked it. A pair
   in a level marked `conflict` (given names that cannot be the same person's, dates of
   birth years apart) is evidence of two people; so are staff-rejected pairs.
3. A component that is small enough, free of conflicts and cohesive (enough of its pairs
   at or above the review threshold) is merged.
4. One with conflicts is split by adding its links strongest first, refusing any link that
   would put conflicting records together. When conflicts alone explain every refused link
   (twins, a junior and a parent) the parts are merged; otherwise (too big, not cohesive) the
   whole component goes to review, unmerged.

Steps 1-3 run on Polars and DuckDB over the whole table; only failing components (a few
hundred in a million records) are handled one by one in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from civicloop.linkage.model import LinkageModel
from civicloop.linkage.scoring import score_pairs

# Components bigger than this are not looked at pair by pair; they go to review whole.
_SPLIT_CAP = 200


@dataclass(slots=True)
class ClusterResult:
    clusters: pl.DataFrame  # record_id, cluster_id, status ('merged'|'singleton'|'review')
    review_pairs: pl.DataFrame  # record_id_l, record_id_r, match_probability, reason
    summary: dict


def _components(n: int, left: pl.Series, right: pl.Series) -> pl.Series:
    """Connected components by min-label propagation with pointer jumping: a label per node.

    Only nodes with links take part; every other node is its own component.
    """
    edges = pl.DataFrame({"a": left.cast(pl.UInt32), "b": right.cast(pl.UInt32)})
    edges = pl.concat([edges, edges.select(pl.col("b").alias("a"), pl.col("a").alias("b"))])
    labels = edges.select(pl.col("a").unique().sort().alias("node")).with_columns(
        pl.col("node").alias("label")
    )
    for _ in range(200):
        spread = (
            edges.join(labels, left_on="b", right_on="node")
            .group_by("a")
            .agg(pl.col("label").min().alias("neighbour"))
        )
        updated = labels.join(spread, left_on="node", right_on="a", how="left").with_columns(
            pl.min_horizontal("label", "neighbour").alias("label")
        )
        # Jump: a node takes its label's label, halving chains each round.
        updated = (
            updated.select("node", "label")
            .join(
                updated.select(pl.col("node").alias("label"), pl.col("label").alias("jump")),
                on="label",
            )
            .select("node", pl.min_horizontal("label", "jump").alias("label"))
            .sort("node")
        )
        changed = (updated.get_column("label") != labels.get_column("label")).any()
        labels = updated
        if not changed:
            break
    every = pl.DataFrame({"node": pl.int_range(0, n, eager=True, dtype=pl.UInt32)})
    return (
        every.join(labels, on="node", how="left", maintain_order="left")
        .select(pl.col("label").fill_null(pl.col("node")))
        .to_series()
    )


def cluster_pairs(
    std: pl.DataFrame,
    pairs: pl.DataFrame,
    model: LinkageModel,
    *,
    merge_threshold: float,
    review_threshold: float,
    max_cluster_size: int = 20,
    min_cohesion: float = 0.5,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
) -> ClusterResult:
    """Cluster standardised (and banded) records `std` given scored `pairs` (see module doc)."""
    ids = std.get_column("record_id").cast(pl.String())
    n = ids.len()
    index = pl.DataFrame({"record_id": ids, "i": pl.int_range(0, n, eager=True, dtype=pl.UInt32)})

    def indexed(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.with_columns(
                pl.col("record_id_l").cast(pl.String()), pl.col("record_id_r").cast(pl.String())
            )
            .join(index.rename({"record_id": "record_id_l", "i": "a"}), on="record_id_l")
            .join(index.rename({"record_id": "record_id_r", "i": "b"}), on="record_id_r")
            .filter(pl.col("a") != pl.col("b"))
        )

    def decisions(items: Iterable[tuple[str, str]]) -> pl.DataFrame:
        rows = [(str(a), str(b)) for a, b in items]
        frame = pl.DataFrame(
            rows, schema={"record_id_l": pl.String(), "record_id_r": pl.String()}, orient="row"
        )
        return indexed(frame).with_columns(
            pl.min_horizontal("a", "b").alias("a"), pl.max_horizontal("a", "b").alias("b")
        )

    scored = indexed(pairs.select("record_id_l", "record_id_r", "match_probability")).with_columns(
        pl.min_horizontal("a", "b").alias("a"), pl.max_horizontal("a", "b").alias("b")
    )
    rejected = decisions(cannot_link).select("a", "b").unique()
    confirmed = decisions(must_link).select("a", "b").unique()
    strong = (
        scored.filter(pl.col("match_probability") >= merge_threshold)
        .join(rejected, on=["a", "b"], how="anti")
        .select("a", "b", "match_probability")
    )
    strong = pl.concat(
        [strong, confirmed.with_columns(pl.lit(1.0).alias("match_probability"))]
    ).unique(subset=["a", "b"], keep="first")

    label = _components(n, strong.get_column("a"), strong.get_column("b"))
    nodes = index.with_columns(label.alias("component"))
    sizes = nodes.group_by("component").len("size")
    nodes = nodes.join(sizes, on="component")
    grouped = nodes.filter(pl.col("size") > 1)

    # Every pair inside each component small enough to look at pair by pair.
    small = grouped.filter(pl.col("size") <= _SPLIT_CAP).select("i", "record_id", "component")
    inner_pairs = (
        small.join(small, on="component", suffix="_r")
        .filter(pl.col("i") < pl.col("i_r"))
        .select(
            pl.col("record_id").alias("record_id_l"),
            pl.col("record_id_r"),
            pl.col("i").alias("a"),
            pl.col("i_r").alias("b"),
            "component",
        )
    )
    conflict_levels = {
        c.name: [lv.gamma for lv in c.levels if lv.conflict] for c in model.comparisons
    }
    conflict_expr = pl.lit(False)
    for name, gammas in conflict_levels.items():
        if gammas:
            conflict_expr = conflict_expr | pl.col(f"gamma_{name}").is_in(gammas)
    if inner_pairs.height:
        flags = [
            "record_id_l",
            "record_id_r",
            conflict_expr.alias("conflict"),
            (pl.col("match_probability") >= review_threshold).alias("close"),
        ]
        # Pairs predict already scored keep their levels; only the others are scored here.
        gamma_columns = [f"gamma_{c.name}" for c in model.comparisons]
        known = pl.DataFrame(
            schema={
                "record_id_l": pl.String(),
                "record_id_r": pl.String(),
                "conflict": pl.Boolean(),
                "close": pl.Boolean(),
            }
        )
        if all(c in pairs.columns for c in gamma_columns):
            given = pairs.select(
                pl.col("record_id_l").cast(pl.String()),
                pl.col("record_id_r").cast(pl.String()),
                "match_probability",
                *gamma_columns,
            )
            known = pl.concat(
                [
                    given.select(flags),
                    given.select(flags).select(
                        pl.col("record_id_r").alias("record_id_l"),
                        pl.col("record_id_l").alias("record_id_r"),
                        "conflict",
                        "close",
                    ),
                ]
            ).unique(subset=["record_id_l", "record_id_r"])
        ids_only = inner_pairs.select("record_id_l", "record_id_r")
        unknown = ids_only.join(known, on=["record_id_l", "record_id_r"], how="anti")
        fresh = score_pairs(std, unknown, model).select(flags) if unknown.height else known.clear()
        inner = inner_pairs.join(
            pl.concat([known.join(ids_only, on=["record_id_l", "record_id_r"]), fresh]),
            on=["record_id_l", "record_id_r"],
        )
    else:
        inner = inner_pairs.with_columns(
            pl.lit(False).alias("conflict"), pl.lit(False).alias("close")
        )
    # Staff decisions override the model inside a component.
    inner = (
        inner.join(rejected.with_columns(pl.lit(True).alias("rejected")), on=["a", "b"], how="left")
        .join(confirmed.with_columns(pl.lit(True).alias("confirmed")), on=["a", "b"], how="left")
        .with_columns(
            (
                (pl.col("conflict") & ~pl.col("confirmed").fill_null(False))
                | pl.col("rejected").fill_null(False)
            ).alias("conflict"),
            (pl.col("close") | pl.col("confirmed").fill_null(False)).alias("close"),
        )
    )
    checks = inner.group_by("component").agg(
        pl.col("conflict").sum().alias("conflicts"),
        pl.col("close").mean().alias("cohesion"),
    )
    verdict = (
        sizes.filter(pl.col("size") > 1)
        .join(checks, on="component", how="left")
        .with_columns(
            (
                (pl.col("size") <= max_cluster_size)
                & (pl.col("conflicts").fill_null(1) == 0)
                & (pl.col("cohesion").fill_null(0.0) >= min_cohesion)
            ).alias("passes")
        )
    )
    passing = verdict.filter(pl.col("passes")).select("component")
    failing = verdict.filter(~pl.col("passes"))

    # Components that pass: merged under their smallest record id.
    merged = grouped.join(passing, on="component")
    heads = merged.group_by("component").agg(pl.col("record_id").min().alias("cluster_id"))
    assigned = [
        merged.join(heads, on="component").select(
            "record_id", "cluster_id", pl.lit("merged").alias("status")
        )
    ]
    review_rows: list[tuple[int, int, float, str]] = []
    counts: dict[str, int] = defaultdict(int)
    counts["merged"] = passing.height

    # Components that fail: one by one.
    if failing.height:
        failing_nodes = grouped.join(failing.select("component", "size"), on="component")
        members: dict[int, list[int]] = defaultdict(list)
        for i, component in failing_nodes.select("i", "component").iter_rows():
            members[component].append(i)
        record_of = dict(failing_nodes.select("i", "record_id").iter_rows())
        links: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
        component_of = dict(failing_nodes.select("i", "component").iter_rows())
        involved = failing_nodes.select(pl.col("i").alias("a"))
        for a, b, p in strong.join(involved, on="a", how="semi").iter_rows():
            links[component_of[a]].append((p, a, b))
        conflicts: set[tuple[int, int]] = set()
        close: set[tuple[int, int]] = set()
        for a, b, is_conflict, is_close in (
            inner.join(failing.select("component"), on="component")
            .select("a", "b", "conflict", "close")
            .iter_rows()
        ):
            if is_conflict:
                conflicts.add((a, b))
            if is_close:
                close.add((a, b))

        rows: list[tuple[str, str, str]] = []

        def settle(group: list[int], state: str) -> None:
            head = min(record_of[i] for i in group)
            for i in group:
                rows.append((record_of[i], head, state if len(group) > 1 else "singleton"))

        def cohesive(group: list[int]) -> bool:
            total = len(group) * (len(group) - 1) // 2
            if total == 0:
                return True
            hits = sum(
                1
                for x in range(len(group))
                for y in range(x + 1, len(group))
                if (min(group[x], group[y]), max(group[x], group[y])) in close
            )
            return hits / total >= min_cohesion

        for component, group in members.items():
            if len(group) > _SPLIT_CAP:
                settle(group, "review")
                counts["review_too_big"] += 1
                review_rows.extend((a, b, p, "cluster_too_big") for p, a, b in links[component])
                continue
            part_of = {i: i for i in group}
            part_members = {i: [i] for i in group}
            refused_for_size = False
            cut: list[tuple[int, int, float]] = []
            for p, a, b in sorted(links[component], reverse=True):
                pa, pb = part_of[a], part_of[b]
                if pa == pb:
                    continue
                ma, mb = part_members[pa], part_members[pb]
                if any((min(x, y), max(x, y)) in conflicts for x in ma for y in mb):
                    cut.append((a, b, p))
                    continue
                if len(ma) + len(mb) > max_cluster_size:
                    refused_for_size = True
                    cut.append((a, b, p))
                    continue
                for x in mb:
                    part_of[x] = pa
                ma.extend(mb)
                del part_members[pb]
            pieces = list(part_members.values())
            if not refused_for_size and all(cohesive(piece) for piece in pieces):
                for piece in pieces:
                    settle(piece, "merged")
                counts["split"] += 1
                review_rows.extend((a, b, p, "split") for a, b, p in cut)
            else:
                settle(group, "review")
                counts["review_failed_checks"] += 1
                review_rows.extend(
                    (a, b, p, "cluster_failed_checks") for p, a, b in links[component]
                )
        assigned.append(
            pl.DataFrame(
                rows,
                schema={"record_id": pl.String(), "cluster_id": pl.String(), "status": pl.String()},
                orient="row",
            )
        )

    decided = pl.concat(assigned)
    clusters = (
        index.select("record_id")
        .join(decided, on="record_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("cluster_id").fill_null(pl.col("record_id")),
            pl.col("status").fill_null("singleton"),
        )
    )

    # Uncertain pairs between records that did not end up merged together.
    final = clusters.select("record_id", "cluster_id", "status")
    uncertain = (
        scored.filter(
            (pl.col("match_probability") >= review_threshold)
            & (pl.col("match_probability") < merge_threshold)
        )
        .join(
            final.rename({"record_id": "record_id_l", "cluster_id": "c_l", "status": "s_l"}),
            on="record_id_l",
        )
        .join(
            final.rename({"record_id": "record_id_r", "cluster_id": "c_r", "status": "s_r"}),
            on="record_id_r",
        )
        .filter(
            ~(
                (pl.col("s_l") == "merged")
                & (pl.col("s_r") == "merged")
                & (pl.col("c_l") == pl.col("c_r"))
            )
        )
        .select(
            "record_id_l", "record_id_r", "match_probability", pl.lit("uncertain").alias("reason")
        )
    )
    record_id = index.get_column("record_id")
    flagged = pl.DataFrame(
        {
            "record_id_l": [record_id[a] for a, _, _, _ in review_rows],
            "record_id_r": [record_id[b] for _, b, _, _ in review_rows],
            "match_probability": [p for _, _, p, _ in review_rows],
            "reason": [r for _, _, _, r in review_rows],
        },
        schema={
            "record_id_l": pl.String(),
            "record_id_r": pl.String(),
            "match_probability": pl.Float64(),
            "reason": pl.String(),
        },
    )
    review_frame = pl.concat([flagged, uncertain]).unique(
        subset=["record_id_l", "record_id_r"], keep="first", maintain_order=True
    )
    summary = dict(counts) | {
        "records": n,
        "components": verdict.height,
        "review_pairs": review_frame.height,
    }
    return ClusterResult(clusters=clusters, review_pairs=review_frame, summary=summary)
