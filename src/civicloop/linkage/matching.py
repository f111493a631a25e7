"""Real-time matching at intake, in the CRM: the candidate index (MatchKey rows) and the
selector that shows staff who a new person may already be.

The index files every active golden person (not merged into another) under the blocking
keys of their golden fields and of each linked source record (linkage.realtime). It is
kept person by person from domain events (created, updated, merged, unmerged) and rebuilt
whole by `matchindex_rebuild` (`civicloop match_index rebuild`, run after `civicloop link`,
which changes many people at once without events).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import Q

from civicloop.core.access import Viewer
from civicloop.linkage.model import Contribution, LinkageModel
from civicloop.linkage.models import LinkageRun, MatchKey
from civicloop.linkage.realtime import Candidate, Key, default_model, match_record, person_keys
from civicloop.people import policy
from civicloop.people.models import Link, Person, PersonDepartment
from civicloop.trust.audit import audit_record

BATCH = 2000

_models: dict[int, LinkageModel] = {}


def current_model() -> LinkageModel:
    """The model of the latest finished linking run, or the engine's untrained default."""
    run = (
        LinkageRun.objects.filter(status=LinkageRun.Status.FINISHED)
        .exclude(model_json="")
        .values("id", "model_json", "merge_threshold", "review_threshold")
        .first()
    )
    if run is None:
        return default_model()
    if run["id"] not in _models:
        # Parsed once per run: a run's model never changes once it has finished.
        model = LinkageModel.from_json(run["model_json"])
        if run["merge_threshold"]:
            model.merge_threshold = run["merge_threshold"]
        if run["review_threshold"]:
            model.review_threshold = run["review_threshold"]
        _models.clear()
        _models[run["id"]] = model
    return _models[run["id"]]


# -- the records of a person ---------------------------------------------------------------


def person_records(person_ids: Collection[int]) -> dict[int, list[dict[str, Any]]]:
    """Each person's golden fields and their active linked source records, as raw records."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    people = Person.objects.filter(pk__in=person_ids).values(
        "id",
        "given_name",
        "family_name",
        "date_of_birth",
        "email",
        "phone",
        "address__postcode",
        "address__line1",
    )
    for p in people:
        out[p["id"]].append(
            {
                "given_name": p["given_name"],
                "family_name": p["family_name"],
                "date_of_birth": p["date_of_birth"],
                "email": p["email"],
                "phone": p["phone"],
                "postcode": p["address__postcode"],
                "address": p["address__line1"],
            }
        )
    links = Link.objects.filter(person_id__in=person_ids, active=True).values(
        "person_id",
        "source_record__given_name",
        "source_record__family_name",
        "source_record__date_of_birth",
        "source_record__email",
        "source_record__phone",
        "source_record__postcode",
        "source_record__address_text",
    )
    for r in links:
        out[r["person_id"]].append(
            {
                "given_name": r["source_record__given_name"],
                "family_name": r["source_record__family_name"],
                "date_of_birth": r["source_record__date_of_birth"],
                "email": r["source_record__email"],
                "phone": r["source_record__phone"],
                "postcode": r["source_record__postcode"],
                "address": r["source_record__address_text"],
            }
        )
    return dict(out)


class DatabaseIndex:
    """linkage.realtime.CandidateIndex over MatchKey rows and the people tables."""

    def lookup(self, keys: Collection[Key]) -> dict[Key, list[int]]:
        if not keys:
            return {}
        wanted = set(keys)
        condition = reduce(or_, (Q(kind=kind, value=value) for kind, value in wanted))
        hits: dict[Key, list[int]] = defaultdict(list)
        for kind, value, person_id in MatchKey.objects.filter(condition).values_list(
            "kind", "value", "person_id"
        ):
            hits[(kind, value)].append(person_id)
        return dict(hits)

    def records(self, person_ids: Collection[int]) -> dict[int, list[dict[str, Any]]]:
        return person_records(person_ids)


# -- keeping the index --------------------------------------------------------------------------


def _rows(model: LinkageModel, person_ids: Sequence[int]) -> list[MatchKey]:
    records = person_records(person_ids)
    return [
        MatchKey(person_id=person_id, kind=kind, value=value[:400])
        for person_id in person_ids
        for kind, value in sorted(person_keys(model.blocking_rules, records.get(person_id, ())))
    ]


def matchindex_update(person_ids: Iterable[int]) -> int:
    """Re-file these people: an active person under their current keys, others nowhere.
    Returns the number of keys written."""
    ids = sorted(set(person_ids))
    if not ids:
        return 0
    model = current_model()
    active = [
        person_id
        for start in range(0, len(ids), BATCH)
        for person_id in Person.objects.filter(
            pk__in=ids[start : start + BATCH], merged_into__isnull=True
        ).values_list("id", flat=True)
    ]
    written = 0
    with transaction.atomic():
        # In batches: an import may re-file a hundred thousand people at once.
        for start in range(0, len(ids), BATCH):
            MatchKey.objects.filter(person_id__in=ids[start : start + BATCH]).delete()
        for start in range(0, len(active), BATCH):
            rows = _rows(model, active[start : start + BATCH])
            MatchKey.objects.bulk_create(rows, batch_size=BATCH)
            written += len(rows)
    return written


def matchindex_rebuild(*, progress: Callable[[int, int], None] | None = None) -> int:
    """File every active person afresh (after batch linking, or a new model's rules)."""
    model = current_model()
    ids = list(
        Person.objects.filter(merged_into__isnull=True).order_by("id").values_list("id", flat=True)
    )
    written = 0
    with transaction.atomic():
        MatchKey.objects.all().delete()
        for start in range(0, len(ids), BATCH):
            rows = _rows(model, ids[start : start + BATCH])
            MatchKey.objects.bulk_create(rows, batch_size=BATCH)
            written += len(rows)
            if progress:
                progress(min(start + BATCH, len(ids)), len(ids))
    return written


def matchindex_on_event(event) -> None:
    """A person changed: re-file them, and the other person of a merge or unmerge."""
    ids = [int(event.object_id)]
    other = (event.data or {}).get("merged_person_id")
    if other is not None:
        ids.append(int(other))
    matchindex_update(ids)


# -- the selector ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchCandidate:
    """A possible match as one viewer may see it.

    `person` is None for someone no department of the viewer serves: staff then learn only
    that another department holds a likely match, and how likely, never who or why.
    """

    person: Person | None
    match_probability: float
    is_match: bool
    needs_review: bool
    reasons: tuple[Contribution, ...]

    @property
    def held_elsewhere(self) -> bool:
        return self.person is None


def person_match_candidates(
    *, viewer: Viewer, record: Mapping[str, Any], top: int = 5
) -> list[MatchCandidate]:
    """Who a new person may already be, best first, among candidates at or above the
    review threshold; people outside the viewer's departments are shown without details.

    One audit event per call with the ids of the people shown in full.
    """
    policy.require_casework_role(viewer)
    model = current_model()
    found: list[Candidate] = match_record(
        model, record, DatabaseIndex(), top=top, min_probability=model.review_threshold
    )
    ids = [c.person_id for c in found]
    served = set(
        PersonDepartment.objects.filter(
            person_id__in=ids,
            person__merged_into__isnull=True,
            department_id__in=viewer.department_ids,
        ).values_list("person_id", flat=True)
    )
    people = Person.objects.select_related("address").in_bulk(served)
    out = [
        MatchCandidate(
            person=people.get(c.person_id),
            match_probability=c.match_probability,
            is_match=c.is_match,
            needs_review=c.needs_review,
            reasons=c.contributions if c.person_id in people else (),
        )
        for c in found
    ]
    audit_record(
        viewer=viewer,
        action="person.match",
        object_type="person",
        object_ids=[c.person.id for c in out if c.person is not None],
        fields=sorted(k for k, v in record.items() if v),
        counts={"candidates": len(out), "held_elsewhere": sum(c.held_elsewhere for c in out)},
    )
    return out
