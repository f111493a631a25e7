"""`civicloop audit seal|verify|status` and the sealing task."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from civicloop.trust.models import AuditEvent, ChainHead
from civicloop.trust.tasks import seal_audit_chain, seal_audit_chain_after_commit


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seal_then_verify_reports_ok(record_activity):
    record_activity(6)

    assert "sealed 6 events; chain head at seq 6" in run("seal")
    output = run("verify")

    assert "audit chain OK: 6 sealed events verified" in output
    assert "0 events not yet sealed" in output


@pytest.mark.django_db
def test_verify_exits_1_and_names_the_first_broken_link(sealed_chain):
    AuditEvent.objects.filter(seq=3).delete()
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("audit", "verify", stdout=out)

    assert raised.value.returncode == 1
    assert "audit chain BROKEN at seq 3: event missing (seq gap)" in out.getvalue()
    assert "2 events verified before the break" in out.getvalue()


@pytest.mark.django_db
def test_verify_checks_anchors_given_on_the_command_line(sealed_chain):
    good = f"5:{sealed_chain[4].hash}"
    assert "OK" in run("verify", "--anchor", good)

    with pytest.raises(CommandError) as raised:
        run("verify", "--anchor", good, "--anchor", f"8:{'e' * 64}")
    assert raised.value.returncode == 1

    with pytest.raises(CommandError, match="SEQ:HASH"):
        run("verify", "--anchor", "8-abc")


@pytest.mark.django_db
def test_status_counts_sealed_and_unsealed_and_shows_the_head(sealed_chain, record_activity):
    record_activity(2, start=10)

    output = run("status")

    assert "sealed events:   10" in output
    assert "unsealed events: 2 (oldest at " in output
    assert f"chain head:      10:{sealed_chain[-1].hash}" in output


@pytest.mark.django_db
def test_status_of_an_empty_chain():
    assert "chain head:      none" in run("status")


@pytest.mark.django_db
def test_seal_follow_stops_cleanly_on_sigterm(record_activity):
    record_activity(3)
    original = signal.getsignal(signal.SIGTERM)

    def send_sigterm_once_the_sealer_listens() -> None:
        deadline = time.monotonic() + 10
        while signal.getsignal(signal.SIGTERM) is original and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Thread(target=send_sigterm_once_the_sealer_listens)
    sender.start()
    output = run("seal", "--follow", "--interval", "0.05")
    sender.join()

    assert "sealed 3 events" in output
    assert output.rstrip().endswith("stopped")
    assert signal.getsignal(signal.SIGTERM) is original
    assert ChainHead.objects.get().seq == 3


@pytest.mark.django_db
def test_the_task_seals_everything_pending(record_activity):
    record_activity(5)

    assert seal_audit_chain.call(batch_size=2) == 5
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_task_is_enqueued_after_commit_and_run_by_the_worker(record_activity):
    with transaction.atomic():
        record_activity(4)
        seal_audit_chain_after_commit()
        assert not DBTaskResult.objects.exists(), "enqueued before the events were committed"

    queued = DBTaskResult.objects.get()
    assert queued.task_path == "civicloop.trust.tasks.seal_audit_chain"

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    assert ChainHead.objects.get().seq == 4
    assert DBTaskResult.objects.get().return_value == 4


# --- the command line as an operator runs it ----------------------------------------


def _civicloop(var_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the console script on its own SQLite file; checks of other apps' URLs are not ours."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CIVICLOOP_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        [str(Path(sys.executable).with_name("civicloop")), *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


RECORD_FIVE = """
from civicloop.core.access import Viewer
from civicloop.trust.audit import audit_record
viewer = Viewer(user_id=1, role="caseworker")
for i in range(5):
    audit_record(viewer=viewer, action="person.read", object_type="person", object_ids=[i])
"""


def test_the_command_line_exit_status(tmp_path):
    _civicloop(tmp_path, "migrate", "-v0", "--skip-checks")
    _civicloop(tmp_path, "shell", "-c", RECORD_FIVE)

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CIVICLOOP_VAR_DIR"] = str(tmp_path)
    sealer = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("civicloop")),
            "audit",
            "--skip-checks",
            "seal",
            "--follow",
            "--interval",
            "0.1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert "sealed 5 events" in sealer.stdout.readline()
    sealer.send_signal(signal.SIGTERM)
    out, err = sealer.communicate(timeout=30)
    assert sealer.returncode == 0, err
    assert out.strip() == "stopped"

    ok = _civicloop(tmp_path, "audit", "--skip-checks", "verify")
    assert ok.returncode == 0 and "audit chain OK: 5 sealed events verified" in ok.stdout

    with sqlite3.connect(tmp_path / "civicloop.sqlite3") as db:
        db.execute("UPDATE trust_auditevent SET object_ids = '[4, 5]' WHERE seq = 2")
    broken = _civicloop(tmp_path, "audit", "--skip-checks", "verify", check=False)
    assert broken.returncode == 1
    assert "audit chain BROKEN at seq 2: event edited" in broken.stdout
