"""`civicloop serve`: the web server, the task worker and the audit sealer, as one command.

Each runs as a child process. SIGINT and SIGTERM are passed on to all of them; when any
child exits, the others are stopped and `serve` exits with that child's status, so a
supervisor (systemd, a container runtime) sees one unit that lives and dies together.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError

STOP_GRACE_SECONDS = 10.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None


def _civicloop(*args: str) -> list[str]:
    # The same interpreter and CLI as this process, whatever PATH says.
    return [sys.executable, "-m", "civicloop.cli", *args]


class Command(BaseCommand):
    help = "Serve CivicLoop: gunicorn (web), the database task worker and the audit sealer."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind", default="127.0.0.1:8000", help="address:port (default %(default)s)"
        )
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")
        parser.add_argument(
            "--no-sealer", action="store_true", help="do not start the audit sealer"
        )

    def handle(self, *args, bind, workers, threads, no_worker, no_sealer, **options):
        children = [
            Child(
                "web",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "civicloop.wsgi",
                    "--bind",
                    bind,
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    "--access-logfile",
                    "-",
                    "--no-control-socket",
                    "--graceful-timeout",
                    str(int(STOP_GRACE_SECONDS)),
                ],
            )
        ]
        uses_db_backend = settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
        if not no_worker and uses_db_backend:
            children.append(Child("worker", _civicloop("db_worker", "--no-reload")))
        if not no_sealer:
            if "audit" in get_commands():
                children.append(Child("sealer", _civicloop("audit", "seal", "--follow")))
            else:
                self.stderr.write(
                    "serve: no `audit` command installed; the audit sealer is not started"
                )

        stopping = False

        def forward(signum, _frame):
            nonlocal stopping
            stopping = True
            for child in children:
                if child.process and child.process.poll() is None:
                    child.process.send_signal(signum)

        previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in children:
                # Own process group: a Ctrl-C reaches each child once, through `forward`.
                child.process = subprocess.Popen(child.argv, process_group=0)
                self.stdout.write(
                    f"serve: started {child.name} (pid {child.process.pid}): {' '.join(child.argv[1:])}"
                )
            self.stdout.write(f"serve: CivicLoop at http://{bind}/ — Ctrl-C to stop")
            self.stdout.flush()
            first_exit, code = self._wait_for_first_exit(children)
            if not stopping:
                self.stderr.write(
                    f"serve: {first_exit.name} exited with status {code}; stopping the rest"
                )
        finally:
            self._stop_all(children)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if code != 0 and not stopping:
            raise CommandError(
                f"{first_exit.name} exited with status {code}", returncode=code if code > 0 else 1
            )

    @staticmethod
    def _wait_for_first_exit(children: list[Child]) -> tuple[Child, int]:
        """The first started child to exit, with its exit status."""
        while True:
            for child in children:
                code = child.process.poll() if child.process else None
                if code is not None:
                    return child, code
            time.sleep(0.2)

    @staticmethod
    def _stop_all(children: list[Child]) -> None:
        running = [c.process for c in children if c.process and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
