"""Planning a linking run: where each record goes, decided in plain Python over ids.

Kept apart from the database and the engine so it can be tested on hand-made clusters and
so re-running on the same input gives the same plan.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from civicloop.people.models import Link

# -- staff decisions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    record_l: int
    record_r: int
    is_match: bool


def ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


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

    def __init__(
        self, records: Iterable[int], cannot: Mapping[int, set[int]], pins: Mapping[int, int]
    ):
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
    candidates: list[tuple[int, int, int, tuple[int, ...]]] = []
    for unit in units:
        pin = unit_pin[unit]
        if pin is not None:
            candidates.append((0, -len(unit), pin, unit))
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
