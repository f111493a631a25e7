"""The rows that point at a person, found through Person's reverse relations.

A merge moves them and an unmerge puts them back by these relations, so tables that other apps
add later follow without a change here; only history tables stay with the person they describe.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models

from civicloop.core.access import NotVisible
from civicloop.people.models import Person

# Tables that record history about people: they describe what happened to a person and
# must stay with the person they were written about, whatever merges follow.
HISTORY_MODELS = frozenset({"people.personmerge", "people.personfieldsource"})

# Rows of these relations are never handed out at unmerge: they are derived from the others.
DERIVED_RELATIONS = frozenset({"people.persondepartment.person"})


# -- values in JSON ---------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A field value as it is kept in a PersonMergeChange."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def from_json(model: type[models.Model], attname: str, value: Any) -> Any:
    if value is None:
        return None
    return model._meta.get_field(attname).to_python(value)


# -- relations to Person ----------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRelation:
    """A foreign key to Person on some model: `cases.case.person`."""

    model: type[models.Model]
    field: models.ForeignKey

    @property
    def key(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field.name}"

    @property
    def attname(self) -> str:
        return self.field.attname

    def rows(self, person_id: int) -> models.QuerySet:
        return self.model._default_manager.filter(**{self.attname: person_id})


def person_relations() -> list[PersonRelation]:
    """Every foreign key to Person outside the history tables, hidden ones included."""
    relations = []
    for rel in Person._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        if rel.related_model._meta.label_lower in HISTORY_MODELS:
            continue
        relations.append(PersonRelation(rel.related_model, rel.field))
    return sorted(relations, key=lambda r: r.key)


def _lock_people(person_ids: Sequence[int]) -> dict[int, Person]:
    people = {p.id: p for p in Person.objects.select_for_update().filter(pk__in=person_ids)}
    if len(people) != len(set(person_ids)):
        raise NotVisible("person")
    return people


def _update_rows(model, updates: dict[Any, dict[str, Any]]) -> None:
    """Apply {pk: {attname: value}} with one UPDATE per distinct set of values."""
    grouped: dict[str, tuple[dict, list]] = {}
    for pk, values in updates.items():
        signature = json.dumps({k: to_json(v) for k, v in sorted(values.items())}, default=str)
        grouped.setdefault(signature, (values, []))[1].append(pk)
    for values, pks in grouped.values():
        for start in range(0, len(pks), 500):
            model._default_manager.filter(pk__in=pks[start : start + 500]).update(**values)
