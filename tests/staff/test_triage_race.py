"""Two members of staff acting on one triage item at the same moment, on PostgreSQL where
their transactions really overlap: the second waits for the first and is told of it."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from civicloop.core.access import Conflict
from civicloop.intake import triage
from civicloop.intake.models import TriageItem
from tests.world import build_world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite lets one writer at a time, so two actions never overlap",
    ),
]


def in_thread(target):
    """Run `target` on its own connection, as another request would."""
    outcome: dict = {}

    def body():
        try:
            outcome["result"] = target()
        except BaseException as error:  # surfaced to the test
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, outcome


def test_the_second_of_two_overlapping_actions_waits_and_gets_a_conflict(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world = build_world()
    item = TriageItem.objects.create(
        message_id="<race@example.org>",
        subject="Mould",
        body="Back again",
        department=world.housing,
    )
    seen = triage.item_version(item)
    closed, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            triage.triage_item_close(
                viewer=world.viewer(world.housing_worker),
                item_id=item.id,
                version=seen,
                reason="no_action",
            )
            closed.set()
            assert release.wait(10)  # still holding the item while the second one arrives

    def second():
        return triage.triage_item_attach(
            viewer=world.viewer(world.housing_supervisor),
            item_id=item.id,
            version=seen,
            reference=world.housing_case.reference,
        )

    first_thread, first_outcome = in_thread(first)
    assert closed.wait(10)
    second_thread, second_outcome = in_thread(second)
    time.sleep(0.5)
    assert second_thread.is_alive(), "the second action should wait for the first one's lock"
    release.set()
    first_thread.join(10)
    second_thread.join(10)
    assert "error" not in first_outcome, first_outcome
    assert isinstance(second_outcome.get("error"), Conflict), second_outcome
    item.refresh_from_db()
    assert item.status == TriageItem.Status.CLOSED and item.case_id is None
    assert not world.housing_case.interactions.filter(channel="email").exists()
