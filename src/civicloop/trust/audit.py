"""Writing audit events. Call inside the transaction of what is being recorded.

Only ids, field names and counts go in: never names, query values or free text,
so erasing a person never breaks the chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
