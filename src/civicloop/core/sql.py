"""Small helpers for the few reads that run as plain SQL because they run on every request
(token authentication, person search, the 360° view): placeholders, rows, timestamps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

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


def aware(value) -> dt.datetime | None:
    """A timestamp as the database gave it (SQLite: naive, or text, in UTC) as an aware datetime."""
    if value is None or isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
