"""Notifications as the task worker runs them: queued at commit, sent by `db_worker`, and
never twice when two workers reach the same message at once."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections

from civicloop.notify.models import Notification
from civicloop.notify.services import notification_send
from tests.notify.conftest import SECRET, received

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_task_worker_sends_what_a_received_report_queued(smtp, make_case, deliver):
    case = make_case()
    deliver(received(case))
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    [mail] = smtp.received
    assert SECRET in mail.message.get_body(("plain",)).get_content()
    notification = Notification.objects.get(case=case)
    assert notification.status == "sent" and notification.tracking_secret == ""


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite lets one writer at a time: there two workers cannot race",
)
def test_two_workers_racing_for_one_message_send_it_once(smtp, make_case, deliver):
    smtp.delay = 0.5  # the winner is still sending when the other one looks
    case = make_case()
    deliver(received(case))
    notification = Notification.objects.get(case=case)
    start = threading.Barrier(4, timeout=10)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def worker():
        try:
            start.wait()
            outcomes.append(notification_send(notification_id=notification.id).status)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert not errors
    assert len(smtp.received) == 1
    notification.refresh_from_db()
    assert notification.status == "sent" and notification.attempts == 1
    assert len(outcomes) == 4
