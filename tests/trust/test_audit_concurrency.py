"""Sealing alongside live transactions: nothing in flight is skipped, no seq is given twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from civicloop.core.access import Viewer
from civicloop.trust.audit import audit_record
from civicloop.trust.chain import seal_all, seal_pending, verify_chain
from civicloop.trust.models import AuditEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite lets one writer at a time, so no transaction is ever in flight beside the sealer",
    ),
]

VIEWER = Viewer(user_id=3, role="caseworker")


def in_thread(target, *args):
    """Run `target` on its own connection, as another request or worker would."""
    errors: list[BaseException] = []

    def body():
        try:
            target(*args)
        except BaseException as error:  # surfaced to the test below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, errors


def test_a_transaction_in_flight_is_sealed_after_it_commits():
    written, release = threading.Event(), threading.Event()

    def slow_request():
        with transaction.atomic():
            audit_record(viewer=VIEWER, action="person.update", object_ids=[1], fields=["name"])
            written.set()
            assert release.wait(10)

    thread, errors = in_thread(slow_request)
    assert written.wait(10)
    quick = audit_record(viewer=VIEWER, action="person.read", object_ids=[2])

    assert seal_pending() == 1, "only the committed event is sealed"
    assert AuditEvent.objects.get(pk=quick.pk).seq == 1
    release.set()
    thread.join(10)
    assert not errors

    slow = AuditEvent.objects.get(action="person.update")
    assert slow.id < quick.id, "the in-flight event took its id first..."
    assert seal_all() == 1
    assert AuditEvent.objects.get(pk=slow.pk).seq == 2, "...and its seq once it committed"
    result = verify_chain()
    assert result.ok and result.checked == 2


def test_concurrent_writers_and_sealers_make_one_unbroken_chain():
    writers, events_each = 4, 40
    stop = threading.Event()

    def write(n: int):
        for i in range(events_each):
            with transaction.atomic():
                audit_record(viewer=VIEWER, action="person.read", object_ids=[n, i])

    def seal_until_stopped():
        while not stop.is_set():
            seal_pending(batch_size=7)

    sealers = [in_thread(seal_until_stopped) for _ in range(3)]
    writing = [in_thread(write, n) for n in range(writers)]
    for thread, _ in writing:
        thread.join(60)
    stop.set()
    for thread, _ in sealers:
        thread.join(60)
    assert not [e for _, errors in [*writing, *sealers] for e in errors]

    seal_all()
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * events_each + 1))
    assert verify_chain().ok
