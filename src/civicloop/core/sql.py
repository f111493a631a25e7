"""Small helpers for the few reads that run as plain SQL because they run on every request
(token authentication, person search, the 360° view): placeholders, rows, timestamps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, overload

from django.db import connection


def marks(values: Iterable) -> str:
    """`%s, %s, …`, one per value, for an IN list."""
    return ", ".join(["%s"] * len(list(values)))


def fetch_rows(sql: str, params: Iterable = ()) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, list(params))
        return cur.fetchall()


def fetch_ids(sql: str, params: Iterable = ()) -> list[int]:
    return [row[0] for row in fetch_rows(sql, params)]


@overload
def aware(value: None) -> None: ...
@overload
def aware(value: dt.datetime | str) -> dt.datetime: ...
def aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """A timestamp as the database gave it (SQLite: naive, or text, in UTC) as an aware datetime."""
    if value is None or isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


class Columns:
    """Some columns of a model under a table alias, read back as the ORM would read them:
    the same converters, then `Model.from_db` (fields not selected are deferred)."""

    def __init__(self, model, alias: str, fields: Iterable[str] | None = None):
        meta = model._meta
        chosen = [meta.get_field(n) for n in fields] if fields else list(meta.concrete_fields)
        if meta.pk not in chosen:
            chosen.insert(0, meta.pk)
        self.model, self.alias, self.fields = model, alias, chosen
        self.attnames = [f.attname for f in chosen]
        self.sql = ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in chosen)
        self._converters: list[list[Any]] | None = None

    def __len__(self) -> int:
        return len(self.fields)

    def build(self, values) -> Any:
        """An instance from this model's slice of a row; None where a LEFT JOIN found none."""
        # Any: model classes are untyped without django-stubs, so no narrower type is real.
        if values[0] is None:
            return None
        if self._converters is None:
            self._converters = [
                connection.ops.get_db_converters(f.get_col(self.alias))
                + f.get_db_converters(connection)
                for f in self.fields
            ]
        converted = []
        for field, value, converters in zip(self.fields, values, self._converters, strict=True):
            expression = field.get_col(self.alias)
            for convert in converters:
                value = convert(value, expression, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.attnames, converted)


def split(row, *parts: Columns) -> list:
    """A row of several models' columns, in `parts` order, as one instance each."""
    out, start = [], 0
    for part in parts:
        out.append(part.build(row[start : start + len(part)]))
        start += len(part)
    return out
