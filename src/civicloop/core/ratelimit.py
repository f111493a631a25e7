"""Rate limits for public endpoints and forms: fixed windows counted in the database.

`rate_limit(request, scope)` counts one request of the client (its address, or a key the
caller names) in `scope` and raises RateLimited when the window's allowance is spent.
Limits come from settings `CIVICLOOP["RATE_LIMITS"]` as {scope: "COUNT/PERIOD"}, PERIOD
one of second, minute, hour, day or a number of seconds; a scope not listed uses
"default". Counters live in one table (intake.RateLimitCounter) and are bumped by a single
upsert, so every process behind the proxy (gunicorn runs several) shares them.

The client's address is REMOTE_ADDR, unless it is one of CIVICLOOP_TRUSTED_PROXIES (a
list of addresses or networks): then the nearest untrusted address of X-Forwarded-For.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import connection
from django.http import HttpRequest

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# Used for scopes the settings do not name; the settings may override any of these.
DEFAULT_LIMITS = {
    "default": "120/minute",
    "open311.read": "300/minute",
    "open311.write": "60/minute",  # per client address
    "open311.client": "600/minute",  # per api key: one app speaks for many people
}
# Counters of windows older than this are deleted, now and then, by a request.
STALE_SECONDS = 2 * 86400
CLEANUP_CHANCE = 0.002


class RateLimited(Exception):
    """Too many requests: answer 429 with `Retry-After: retry_after` (seconds)."""

    def __init__(self, scope: str, retry_after: int):
        self.scope = scope
        self.retry_after = max(1, int(retry_after))
        super().__init__(f"rate limit of {scope} reached; retry after {self.retry_after} s")


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def parse_limit(text: str) -> Limit:
    """'60/minute' -> Limit(60, 60); '5/300' -> Limit(5, 300)."""
    count_text, _, period = str(text).partition("/")
    period = period.strip().lower()
    seconds = PERIODS.get(period.rstrip("s") if period not in PERIODS else period)
    if seconds is None:
        seconds = int(period) if period.isdigit() else 0
    count = int(count_text) if count_text.strip().isdigit() else -1
    if count < 0 or seconds < 1:
        raise ValueError(f"a rate limit reads COUNT/PERIOD, e.g. 60/minute, not {text!r}")
    return Limit(count=count, seconds=seconds)


def limit_for(scope: str) -> Limit:
    configured = {**DEFAULT_LIMITS, **settings.CIVICLOOP.get("RATE_LIMITS", {})}
    return parse_limit(configured.get(scope, configured["default"]))


@cache
def _networks(
    proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: HttpRequest) -> str:
    """The address the request came from, believing X-Forwarded-For only from trusted proxies."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = getattr(settings, "CIVICLOOP_TRUSTED_PROXIES", ()) or ()
    if isinstance(proxies, str):
        proxies = proxies.split(",")
    networks = _networks(tuple(proxies))
    if not networks or not _trusted(remote, networks):
        return remote
    forwarded = [
        a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
    ]
    # Walk back from the nearest hop: the first address no trusted proxy vouches for.
    for address in reversed(forwarded):
        if not _trusted(address, networks):
            return address
    return forwarded[0] if forwarded else remote


def _bucket_key(scope: str, client: str) -> str:
    return hashlib.sha256(f"{scope}\x1f{client}".encode()).hexdigest()


def hit(scope: str, client: str, *, now: float | None = None) -> tuple[int, Limit, int]:
    """Count one request of `client` in `scope`: (hits in this window, the limit, window start)."""
    return hit_many([(scope, client)], now=now)[0]


def hit_many(
    counts: Sequence[tuple[str, str]], *, now: float | None = None
) -> list[tuple[int, Limit, int]]:
    """Count one request in each (scope, client), in one statement: for each, (hits in this
    window, the limit, window start)."""
    from civicloop.intake.models import RateLimitCounter

    now = time.time() if now is None else now
    rows = []
    for scope, client in counts:
        limit = limit_for(scope)
        rows.append((_bucket_key(scope, client), int(now // limit.seconds) * limit.seconds, limit))
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    # One statement, so two processes counting at once both count: a new window starts at 1.
    # Rows in bucket order, so that two such statements never wait on each other in a circle.
    ordered = sorted({(bucket, window) for bucket, window, _limit in rows})
    sql = (
        f"INSERT INTO {table} (bucket, window_start, hits) VALUES "
        + ", ".join(["(%s, %s, 1)"] * len(ordered))
        + " ON CONFLICT (bucket) DO UPDATE SET "
        f"hits = CASE WHEN {table}.window_start = excluded.window_start "
        f"THEN {table}.hits + 1 ELSE 1 END, window_start = excluded.window_start "
        f"RETURNING bucket, hits"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in ordered for value in row])
        hits = dict(cursor.fetchall())
    if random.random() < CLEANUP_CHANCE:  # noqa: S311 - not security relevant
        RateLimitCounter.objects.filter(window_start__lt=int(now) - STALE_SECONDS).delete()
    return [(hits[bucket], limit, window) for bucket, window, limit in rows]


def _client(request: HttpRequest, key: str) -> str:
    return f"key:{key}" if key else f"ip:{client_address(request)}"


def rate_limit(request: HttpRequest, scope: str, *, key: str = "") -> None:
    """Count this request against `scope` for its client address, or for `key` when given
    (e.g. an api key's client id); raise RateLimited once the allowance is spent."""
    rate_limit_all(request, [(scope, key)])


def rate_limit_all(request: HttpRequest, checks: Sequence[tuple[str, str]]) -> None:
    """`rate_limit` for several (scope, key) at once, counted in one statement; every
    allowance counts the request, and the longest wait is the one reported."""
    now = time.time()
    results = hit_many([(scope, _client(request, key)) for scope, key in checks], now=now)
    refused = [
        (math.ceil(window + limit.seconds - now), scope)
        for (scope, _key), (hits, limit, window) in zip(checks, results, strict=True)
        if hits > limit.count
    ]
    if refused:
        retry_after, scope = max(refused)
        raise RateLimited(scope, retry_after)
