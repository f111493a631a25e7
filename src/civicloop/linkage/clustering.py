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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from civicloop.linkage.model import LinkageModel
from civicloop.linkage.scoring import score_pairs

# Components bigger than this are not split pair by pair; they go to review whole.
_SPLIT_CAP = 200


@dataclass(slots=True)
class ClusterResult:
    clusters: pl.DataFrame  # record_id, cluster_id, status ('merged'|'singleton'|'review')
    review_pairs: pl.DataFrame  # record_id_l, record_id_r, match_probability, reason
    summary: dict


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return ra


def _pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


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
    ids: list[str] = std.get_column("record_id").cast(pl.String()).to_list()
    index = {rid: i for i, rid in enumerate(ids)}
    n = len(ids)

    scored = pairs.select(
        pl.col("record_id_l").cast(pl.String()),
        pl.col("record_id_r").cast(pl.String()),
        pl.col("match_probability"),
    )
    edges_l = [index.get(x) for x in scored.get_column("record_id_l").to_list()]
    edges_r = [index.get(x) for x in scored.get_column("record_id_r").to_list()]
    probs = scored.get_column("match_probability").to_list()

    forbidden = {_pair_key(index[a], index[b]) for a, b in cannot_link if a in index and b in index}
    confirmed = {_pair_key(index[a], index[b]) for a, b in must_link if a in index and b in index}

    uf = _UnionFind(n)
    strong: list[tuple[float, int, int]] = []
    for a, b, p in zip(edges_l, edges_r, probs, strict=True):
        if a is None or b is None or a == b:
            continue
        if p >= merge_threshold and _pair_key(a, b) not in forbidden:
            strong.append((p, a, b))
            uf.union(a, b)
    for a, b in confirmed:
        strong.append((1.0, a, b))
        uf.union(a, b)

    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        root = uf.find(i)
        if uf.size[root] > 1:
            members[root].append(i)

    # Score every pair inside every component small enough to look at pair by pair.
    left: list[str] = []
    right: list[str] = []
    for group in members.values():
        if len(group) > _SPLIT_CAP:
            continue
        for x in range(len(group)):
            for y in range(x + 1, len(group)):
                left.append(ids[group[x]])
                right.append(ids[group[y]])
    conflict_levels = {
        c.name: [lv.gamma for lv in c.levels if lv.conflict] for c in model.comparisons
    }
    conflicts: set[tuple[int, int]] = set(forbidden)
    close: set[tuple[int, int]] = set(confirmed)
    if left:
        inner = score_pairs(std, pl.DataFrame({"record_id_l": left, "record_id_r": right}), model)
        conflict_expr = pl.lit(False)
        for name, gammas in conflict_levels.items():
            if gammas:
                conflict_expr = conflict_expr | pl.col(f"gamma_{name}").is_in(gammas)
        inner = inner.select(
            "record_id_l",
            "record_id_r",
            conflict_expr.alias("conflict"),
            (pl.col("match_probability") >= review_threshold).alias("close"),
        )
        for a, b, is_conflict, is_close in inner.iter_rows():
            key = _pair_key(index[a], index[b])
            if is_conflict:
                conflicts.add(key)
            if is_close:
                close.add(key)

    strong_by_root: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for p, a, b in strong:
        strong_by_root[uf.find(a)].append((p, a, b))

    cluster_of = list(range(n))  # index of the representative record
    status = ["singleton"] * n
    review: list[tuple[int, int, float, str]] = []
    counts = defaultdict(int)

    def cohesion(group: list[int]) -> float:
        total = len(group) * (len(group) - 1) // 2
        if total == 0:
            return 1.0
        hits = sum(
            1
            for x in range(len(group))
            for y in range(x + 1, len(group))
            if _pair_key(group[x], group[y]) in close
        )
        return hits / total

    def has_conflict(group: list[int]) -> bool:
        return any(
            _pair_key(group[x], group[y]) in conflicts
            for x in range(len(group))
            for y in range(x + 1, len(group))
        )

    def settle(group: list[int], state: str) -> None:
        head = min(group, key=lambda i: ids[i])
        for i in group:
            cluster_of[i] = head
            status[i] = state if len(group) > 1 else "singleton"

    for root, group in members.items():
        size = len(group)
        if size > _SPLIT_CAP:
            settle(group, "review")
            counts["review_too_big"] += 1
            review.extend((a, b, p, "cluster_too_big") for p, a, b in strong_by_root[root])
            continue
        if size <= max_cluster_size and not has_conflict(group) and cohesion(group) >= min_cohesion:
            settle(group, "merged")
            counts["merged"] += 1
            continue
        # Split: strongest links first, never joining records in conflict.
        part_of = {i: i for i in group}
        part_members = {i: [i] for i in group}
        refused_for_size = False
        cut: list[tuple[int, int, float]] = []
        for p, a, b in sorted(strong_by_root[root], reverse=True):
            pa, pb = part_of[a], part_of[b]
            if pa == pb:
                continue
            ma, mb = part_members[pa], part_members[pb]
            if any(_pair_key(x, y) in conflicts for x in ma for y in mb):
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
        if not refused_for_size and all(cohesion(piece) >= min_cohesion for piece in pieces):
            for piece in pieces:
                settle(piece, "merged")
            counts["split"] += 1
            review.extend((a, b, p, "split") for a, b, p in cut)
        else:
            settle(group, "review")
            counts["review_failed_checks"] += 1
            review.extend((a, b, p, "cluster_failed_checks") for p, a, b in strong_by_root[root])

    # Uncertain pairs between records that did not end up merged together.
    for a, b, p in zip(edges_l, edges_r, probs, strict=True):
        if a is None or b is None or not (review_threshold <= p < merge_threshold):
            continue
        if status[a] == "merged" and status[b] == "merged" and cluster_of[a] == cluster_of[b]:
            continue
        review.append((a, b, p, "uncertain"))

    clusters = pl.DataFrame(
        {
            "record_id": ids,
            "cluster_id": [ids[c] for c in cluster_of],
            "status": status,
        },
        schema={"record_id": pl.String(), "cluster_id": pl.String(), "status": pl.String()},
    )
    review_frame = pl.DataFrame(
        {
            "record_id_l": [ids[a] for a, _, _, _ in review],
            "record_id_r": [ids[b] for _, b, _, _ in review],
            "match_probability": [p for _, _, p, _ in review],
            "reason": [r for _, _, _, r in review],
        },
        schema={
            "record_id_l": pl.String(),
            "record_id_r": pl.String(),
            "match_probability": pl.Float64(),
            "reason": pl.String(),
        },
    ).unique(subset=["record_id_l", "record_id_r"], keep="first", maintain_order=True)
    summary = dict(counts) | {
        "records": n,
        "components": len(members),
        "review_pairs": review_frame.height,
    }
    return ClusterResult(clusters=clusters, review_pairs=review_frame, summary=summary)
