"""The one clock of CivicLoop. Every 'now' in the code base comes from here.

Tests (and the demo generator, which writes history) set it with `frozen_at`
or `set_now`; in production it is the system clock, in UTC.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_fixed: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    fixed = _fixed
    if fixed is not None:
        return fixed
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return now().date()


def set_now(at: dt.datetime | None) -> None:
    """Fix the clock at `at` (aware datetime), or release it with None."""
    global _fixed
    if at is not None and at.tzinfo is None:
        raise ValueError("the clock only takes timezone-aware datetimes")
    with _lock:
        _fixed = at


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move a fixed clock forward; fixes it at now+delta if it was running."""
    set_now(now() + delta)
    return now()


@contextmanager
def frozen_at(at: dt.datetime) -> Iterator[None]:
    previous = _fixed
    set_now(at)
    try:
        yield
    finally:
        set_now(previous)
