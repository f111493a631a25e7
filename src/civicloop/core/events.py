"""Domain events: services publish what happened; other apps subscribe.

Events are delivered after the surrounding transaction commits, so a subscriber
never sees something that was rolled back. Subscribers must be idempotent and
cheap; anything slow belongs in a background task they enqueue.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from civicloop.core import clock

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    name: str  # e.g. "person.created", "case.opened", "case.status_changed"
    object_type: str
    object_id: int | str
    actor_user_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: Any = field(default_factory=clock.now)


Subscriber = Callable[[DomainEvent], None]
_subscribers: dict[str, list[Subscriber]] = defaultdict(list)


def subscribe(name: str, handler: Subscriber) -> None:
    """Call `handler` for every event called `name` ("*" for all)."""
    if handler not in _subscribers[name]:
        _subscribers[name].append(handler)


def unsubscribe(name: str, handler: Subscriber) -> None:
    if handler in _subscribers[name]:
        _subscribers[name].remove(handler)


def _deliver(event: DomainEvent) -> None:
    for handler in [*_subscribers.get(event.name, ()), *_subscribers.get("*", ())]:
        try:
            handler(event)
        except Exception:  # one failing subscriber must not hide the event from others
            logger.exception("subscriber %r failed on %s", handler, event.name)


def publish(event: DomainEvent) -> None:
    """Deliver `event` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _deliver(event))
