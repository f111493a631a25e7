"""Real-time matching: one new record against golden records, through a candidate index. No Django.

The index holds, for every golden person, the keys of the model's own blocking rules over
each of the person's records (golden fields and linked source records). A new record looks
up the keys it would be blocked on, so the people it meets are those batch linking would
have compared it with; each is scored with the same model and predicates as the batch
(`LinkageModel.explain_standardised`), best record of the person first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from civicloop.linkage.model import (
    BlockingRule,
    Contribution,
    LinkageModel,
    default_blocking_rules,
    default_comparisons,
    default_frequencies,
)
from civicloop.linkage.standardise import standardise_record

Key = tuple[str, str]  # (kind, value)

MAX_CANDIDATES = 200
SEPARATOR = "\x1f"


def default_model() -> LinkageModel:
    """The untrained model (the engine's default levels), for a CRM that has never linked."""
    return LinkageModel(
        comparisons=default_comparisons(),
        blocking_rules=default_blocking_rules(),
        frequencies=default_frequencies(),
    )


def standardised(record: Mapping[str, Any]) -> dict[str, Any]:
    """`record` standardised (raw dicts are cleaned; standardised ones pass as they are)."""
    return dict(record) if "given_groups" in record else standardise_record(record)


def _value(record: Mapping[str, Any], columns: Sequence[str]) -> str | None:
    values = [record.get(c) for c in columns]
    if any(v is None for v in values):
        return None
    return SEPARATOR.join(str(v) for v in values)


def _symmetric(rule: BlockingRule) -> bool:
    return all(a == b for a, b in rule.equal)


def stored_keys(rules: Iterable[BlockingRule], record: Mapping[str, Any]) -> set[Key]:
    """The keys a standardised record of a golden person is filed under.

    A symmetric rule (`l.dob = r.dob`) gives one key; an asymmetric one (`l.dob = r.dob_swap`)
    files both sides, so a new record can meet the person from either side, as in the batch.
    """
    keys: set[Key] = set()
    for rule in rules:
        left = [a for a, _b in rule.equal]
        if _symmetric(rule):
            if (value := _value(record, left)) is not None:
                keys.add((rule.name, value))
            continue
        right = [b for _a, b in rule.equal]
        if (value := _value(record, left)) is not None:
            keys.add((f"{rule.name}:l", value))
        if (value := _value(record, right)) is not None:
            keys.add((f"{rule.name}:r", value))
    return keys


def probe_keys(rules: Iterable[BlockingRule], record: Mapping[str, Any]) -> set[Key]:
    """The keys to look up for a new standardised record: the rule admits the pair
    (`BlockingRule.admits`) exactly when one of them is among the person's stored keys."""
    keys: set[Key] = set()
    for rule in rules:
        left = [a for a, _b in rule.equal]
        if _symmetric(rule):
            if (value := _value(record, left)) is not None:
                keys.add((rule.name, value))
            continue
        right = [b for _a, b in rule.equal]
        # New record on the left: its left columns equal the stored record's right ones.
        if (value := _value(record, left)) is not None:
            keys.add((f"{rule.name}:r", value))
        if (value := _value(record, right)) is not None:
            keys.add((f"{rule.name}:l", value))
    return keys


def person_keys(rules: Iterable[BlockingRule], records: Iterable[Mapping[str, Any]]) -> set[Key]:
    """Every key of a golden person: the union over their (raw or standardised) records."""
    rules = list(rules)
    keys: set[Key] = set()
    for record in records:
        keys |= stored_keys(rules, standardised(record))
    return keys


class CandidateIndex(Protocol):
    """Where the matcher finds people: the Django adapter, a benchmark's SQLite file, memory."""

    def lookup(self, keys: Collection[Key]) -> Mapping[Key, Sequence[int]]:
        """The ids of the people filed under each key (keys with nobody may be left out)."""
        ...

    def records(self, person_ids: Collection[int]) -> Mapping[int, Sequence[Mapping[str, Any]]]:
        """Each person's records, raw (given_name, ...) or standardised."""
        ...


@dataclass(frozen=True)
class Candidate:
    """A golden person who may be the new record, with why (per comparison, log2 weights)."""

    person_id: int
    match_probability: float
    match_weight: float
    contributions: tuple[Contribution, ...]
    is_match: bool  # at or above the model's merge threshold: batch linking would join them
    needs_review: bool  # in the uncertain band: batch linking would ask staff


def candidate_ids(
    hits: Mapping[Key, Sequence[int]], *, limit: int = MAX_CANDIDATES, exclude: Collection[int] = ()
) -> list[int]:
    """At most `limit` people, rarest key first: a shared email says more than a birth date."""
    chosen: dict[int, None] = {}
    for _key, people in sorted(hits.items(), key=lambda kv: (len(kv[1]), kv[0])):
        for person_id in sorted(people):
            if person_id in exclude:
                continue
            chosen.setdefault(person_id, None)
            if len(chosen) >= limit:
                return list(chosen)
    return list(chosen)


def match_record(
    model: LinkageModel,
    record: Mapping[str, Any],
    index: CandidateIndex,
    *,
    top: int = 5,
    min_probability: float = 0.0,
    limit: int = MAX_CANDIDATES,
    exclude: Collection[int] = (),
) -> list[Candidate]:
    """The `top` golden people most likely to be `record`, best first.

    A person's score is that of their best-scoring record. People in `exclude` are skipped
    (the record's own person, when re-matching a record already held).
    """
    query = model.enrich(standardised(record))
    hits = index.lookup(probe_keys(model.blocking_rules, query))
    ids = candidate_ids(hits, limit=limit, exclude=exclude)
    if not ids:
        return []
    found: list[Candidate] = []
    for person_id, person_records in index.records(ids).items():
        best = None
        for other in person_records:
            explanation = model.explain_standardised(query, model.enrich(standardised(other)))
            if best is None or explanation.match_weight > best.match_weight:
                best = explanation
        if best is None or best.match_probability < min_probability:
            continue
        found.append(
            Candidate(
                person_id=person_id,
                match_probability=best.match_probability,
                match_weight=best.match_weight,
                contributions=tuple(best.contributions),
                is_match=best.match_probability >= model.merge_threshold,
                needs_review=model.review_threshold
                <= best.match_probability
                < model.merge_threshold,
            )
        )
    found.sort(key=lambda c: (-c.match_weight, c.person_id))
    return found[:top]


class MemoryIndex:
    """A CandidateIndex in memory, kept up to date person by person (tests, files)."""

    def __init__(self, rules: Iterable[BlockingRule]):
        self.rules = list(rules)
        self._people: dict[Key, set[int]] = {}
        self._keys: dict[int, set[Key]] = {}
        self._records: dict[int, list[dict[str, Any]]] = {}

    def put(self, person_id: int, records: Iterable[Mapping[str, Any]]) -> None:
        """File (or re-file) a person under the keys of their records."""
        self.remove(person_id)
        std = [standardised(r) for r in records]
        keys = set().union(*(stored_keys(self.rules, r) for r in std)) if std else set()
        self._records[person_id] = std
        self._keys[person_id] = keys
        for key in keys:
            self._people.setdefault(key, set()).add(person_id)

    def remove(self, person_id: int) -> None:
        for key in self._keys.pop(person_id, ()):
            people = self._people[key]
            people.discard(person_id)
            if not people:
                del self._people[key]
        self._records.pop(person_id, None)

    def lookup(self, keys: Collection[Key]) -> dict[Key, list[int]]:
        return {k: sorted(self._people[k]) for k in keys if k in self._people}

    def records(self, person_ids: Collection[int]) -> dict[int, list[dict[str, Any]]]:
        return {p: self._records[p] for p in person_ids if p in self._records}
