"""Fixtures for the audit chain: recorded events and ways to tamper with them."""

from __future__ import annotations

import datetime as dt

import pytest

from civicloop.core import clock
from civicloop.core.access import Viewer
from civicloop.trust.audit import audit_bulk, audit_record
from civicloop.trust.chain import seal_all
from civicloop.trust.models import AuditEvent

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def caseworker() -> Viewer:
    return Viewer(user_id=11, role="caseworker", department_ids=frozenset({2}), staff_id=5)


@pytest.fixture
def record_activity(caseworker):
    """Record `n` events of a working session: searches, detail reads, writes, a bulk load."""

    def record(n: int, *, start: int = 0) -> list[AuditEvent]:
        events = []
        for i in range(start, start + n):
            with clock.frozen_at(T0 + dt.timedelta(seconds=i, microseconds=i)):
                kind = i % 4
                if kind == 0:
                    event = audit_record(
                        viewer=caseworker,
                        action="person.search",
                        object_type="person",
                        object_ids=[i, i + 1, f"SRC-{i}"],
                        counts={"results": 3},
                        request_id=f"r{i}",
                    )
                elif kind == 1:
                    event = audit_record(
                        viewer=caseworker,
                        action="person.read",
                        object_type="person",
                        object_ids=[i],
                        fields=["name", "date_of_birth", "addresses"],
                    )
                elif kind == 2:
                    event = audit_record(
                        viewer=caseworker,
                        action="case.transition",
                        object_type="case",
                        object_ids=[str(i)],
                        fields=["status"],
                    )
                else:
                    event = audit_bulk(
                        viewer=Viewer.system("import"),
                        action="person.import",
                        object_type="person",
                        ids=list(range(i, i + 50)),
                    )
            events.append(event)
        return events

    return record


@pytest.fixture
def sealed_chain(record_activity) -> list[AuditEvent]:
    """Ten committed, sealed events, in seq order."""
    record_activity(10)
    assert seal_all() == 10
    return list(AuditEvent.objects.order_by("seq"))


def shift_seqs_from(seq: int, by: int = 1) -> None:
    """Renumber events from `seq` on, highest first so the unique seq never collides."""
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("-seq"):
        AuditEvent.objects.filter(pk=event.pk).update(seq=event.seq + by)


def swap_seqs(a: int, b: int) -> None:
    first = AuditEvent.objects.get(seq=a)
    second = AuditEvent.objects.get(seq=b)
    AuditEvent.objects.filter(pk=first.pk).update(seq=-1)
    AuditEvent.objects.filter(pk=second.pk).update(seq=a)
    AuditEvent.objects.filter(pk=first.pk).update(seq=b)
