"""Writing audit events. Call inside the transaction of what is being recorded.

Only ids, field names and counts go in: never names, query values or free text,
so erasing a person never breaks the chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction

from civicloop.core import clock
from civicloop.core.access import Viewer
from civicloop.trust.models import AuditEvent


def audit_record(
    *,
    viewer: Viewer,
    action: str,
    object_type: str = "",
    object_ids: Iterable[int | str] = (),
    fields: Iterable[str] = (),
    outcome: str = "ok",
    counts: dict[str, Any] | None = None,
    request_id: str = "",
) -> AuditEvent:
    ids = [i if isinstance(i, int) else str(i) for i in object_ids]
    gathering = _gathering.get()
    if gathering is not None:
        event = AuditEvent(
            actor_user_id=viewer.user_id,
            action=action,
            object_type=object_type,
            object_ids=ids,
            fields=sorted(set(fields)),
            outcome=outcome,
            counts=counts or {},
            request_id=request_id,
        )
        gathering.append((viewer, event))
        return event
    return AuditEvent.objects.create(
        at=clock.now(),
        actor_user_id=viewer.user_id,
        actor_role=viewer.role,
        action=action,
        object_type=object_type,
        object_ids=ids,
        fields=sorted(set(fields)),
        purpose=viewer.purpose,
        outcome=outcome,
        counts=counts or {},
        request_id=request_id,
    )


# The events gathered by the innermost `audit_as_one` block of this thread or task, if any.
_gathering: ContextVar[list[tuple[Viewer, AuditEvent]] | None] = ContextVar(
    "civicloop_audit_gathering", default=None
)


@contextmanager
def audit_as_one(*, viewer: Viewer, action: str, object_type: str = "") -> Iterator[None]:
    """One transaction and one audit event for everything audited inside the block, so a
    request that calls several services still leaves one event (decision 0002).

    A single gathered event is written as it is; several as `action`, with the object ids
    of each in turn, each field as "object_type.field", and in `counts` how many events of
    each action it stands for. Events of another viewer, or refusals, are written as they are.
    """
    gathered: list[tuple[Viewer, AuditEvent]] = []
    with transaction.atomic():
        token = _gathering.set(gathered)
        try:
            yield
        finally:
            _gathering.reset(token)
        mine = [e for v, e in gathered if v == viewer and e.outcome == "ok"]
        for other_viewer, event in gathered:
            if not (other_viewer == viewer and event.outcome == "ok"):
                _write(other_viewer, event)
        if len(mine) == 1:
            _write(viewer, mine[0])
        elif mine:
            ids: list[int | str] = []
            fields: set[str] = set()
            counts: dict[str, Any] = {}
            for event in mine:
                # Not de-duplicated: ids of different kinds of object may be equal.
                ids += event.object_ids
                fields.update(
                    f"{event.object_type}.{f}" if event.object_type else f for f in event.fields
                )
                counts[event.action] = counts.get(event.action, 0) + 1
                counts.update({f"{event.action}.{k}": v for k, v in event.counts.items()})
            audit_record(
                viewer=viewer,
                action=action,
                object_type=object_type,
                object_ids=ids,
                fields=fields,
                counts=counts,
                request_id=next((e.request_id for e in mine if e.request_id), ""),
            )


def _write(viewer: Viewer, event: AuditEvent) -> None:
    audit_record(
        viewer=viewer,
        action=event.action,
        object_type=event.object_type,
        object_ids=event.object_ids,
        fields=event.fields,
        outcome=event.outcome,
        counts=event.counts,
        request_id=event.request_id,
    )


def audit_bulk(
    *,
    viewer: Viewer,
    action: str,
    object_type: str,
    ids: list[int],
    extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """One event for a batch of a bulk load: the count and the id range, not every id."""
    counts: dict[str, Any] = {"count": len(ids)}
    if ids:
        counts.update({"min_id": min(ids), "max_id": max(ids)})
    if extra:
        counts.update(extra)
    return audit_record(viewer=viewer, action=action, object_type=object_type, counts=counts)
