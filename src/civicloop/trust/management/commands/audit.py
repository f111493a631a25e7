"""`civicloop audit seal|verify|status`: keep and check the audit hash chain."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections, connection
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from civicloop.trust.chain import (
    HEAD_ID,
    ChainHeadMissing,
    anchors_from,
    seal_all,
    unsealed_count,
    verify_chain,
)
from civicloop.trust.models import AuditEvent, ChainHead

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Seal audit events into the hash chain, verify the chain, or show its state."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{seal,verify,status}"
        )
        seal = sub.add_parser("seal", help="Seal committed unsealed events into the chain.")
        seal.add_argument(
            "--follow", action="store_true", help="Keep sealing until SIGTERM/SIGINT."
        )
        seal.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between rounds with --follow (default 1.0).",
        )
        seal.add_argument(
            "--batch-size", type=int, default=1000, help="Events per transaction (default 1000)."
        )
        verify = sub.add_parser(
            "verify",
            help="Recompute the sealed chain; exit 1 and name the first broken link if any.",
        )
        verify.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="A head recorded outside the database (from `audit status`); repeatable.",
        )
        sub.add_parser("status", help="Count sealed and unsealed events; show the chain head.")

    def handle(self, *args, **options) -> None:
        subcommand = options["subcommand"]
        if subcommand == "seal":
            self.seal(
                follow=options["follow"],
                interval=options["interval"],
                batch_size=options["batch_size"],
            )
        elif subcommand == "verify":
            self.verify(anchor_texts=options["anchor"])
        else:
            self.status()

    def seal(self, *, follow: bool, interval: float, batch_size: int) -> None:
        if batch_size < 1 or interval < 0:
            raise CommandError("--batch-size must be at least 1 and --interval not negative")
        if not follow:
            pending = unsealed_count()
            with self._progress("Sealing", pending) as advance:
                sealed = self._seal_round(batch_size, advance)
            self.stdout.write(f"sealed {sealed} events; chain head at seq {self._head_seq()}")
            return
        stop = threading.Event()
        with _stop_on_signals(stop):
            while not stop.is_set():
                try:
                    sealed = self._seal_round(batch_size, None)
                except DatabaseError as error:
                    if connection.in_atomic_block:
                        raise
                    # A restarted or busy database should not end the sealer: retry next round.
                    logger.warning("sealing failed, retrying in %ss: %s", interval, error)
                    connection.close()
                    sealed = 0
                if sealed:
                    self.stdout.write(
                        f"sealed {sealed} events; chain head at seq {self._head_seq()}"
                    )
                    self.stdout.flush()
                if not connection.in_atomic_block:  # a caller's transaction is theirs to end
                    close_old_connections()
                stop.wait(interval)
        self.stdout.write("stopped")

    def _seal_round(self, batch_size: int, advance) -> int:
        try:
            return seal_all(batch_size=batch_size, on_batch=advance)
        except ChainHeadMissing as error:
            raise CommandError(str(error), returncode=1) from error

    def verify(self, *, anchor_texts: list[str]) -> None:
        try:
            anchors = anchors_from(anchor_texts)
        except ValueError as error:
            raise CommandError(str(error)) from error
        head = ChainHead.objects.filter(pk=HEAD_ID).first()
        with self._progress("Verifying", head.seq if head else 0) as advance:
            done = 0

            def on_progress(checked: int) -> None:
                nonlocal done
                advance(checked - done)
                done = checked

            result = verify_chain(anchors=anchors, on_progress=on_progress)
        if result.ok:
            self.stdout.write(
                f"audit chain OK: {result.checked} sealed events verified; "
                f"head seq {result.head_seq or 0} hash {result.head_hash or '-'}; "
                f"{result.unsealed} events not yet sealed"
            )
            return
        self.stdout.write(
            f"audit chain BROKEN at seq {result.first_broken_seq}: {result.reason}"
            + (f" ({result.detail})" if result.detail else "")
        )
        self.stdout.write(
            f"{result.checked} events verified before the break; {result.unsealed} events not yet sealed"
        )
        raise CommandError(
            f"audit chain broken at seq {result.first_broken_seq}: {result.reason}", returncode=1
        )

    def status(self) -> None:
        head = ChainHead.objects.filter(pk=HEAD_ID).first()
        sealed = AuditEvent.objects.filter(seq__isnull=False).count()
        unsealed = unsealed_count()
        oldest = (
            AuditEvent.objects.filter(seq__isnull=True)
            .order_by("id")
            .values_list("at", flat=True)
            .first()
        )
        self.stdout.write(f"sealed events:   {sealed}")
        self.stdout.write(
            f"unsealed events: {unsealed}"
            + (f" (oldest at {oldest.isoformat()})" if oldest else "")
        )
        if head is None:
            self.stdout.write("chain head:      none (nothing sealed yet)")
        else:
            sealed_at = head.sealed_at.isoformat() if head.sealed_at else "never"
            self.stdout.write(f"chain head:      {head.seq}:{head.hash}")
            self.stdout.write(f"last sealed at:  {sealed_at}")

    def _head_seq(self) -> int:
        return ChainHead.objects.filter(pk=HEAD_ID).values_list("seq", flat=True).first() or 0

    @contextmanager
    def _progress(self, label: str, total: int):
        """A progress bar on a terminal; silent otherwise (logs, pipes, tests)."""
        disabled = not sys.stderr.isatty() or total < 10_000
        with Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
            console=Console(stderr=True),
            disable=disabled,
        ) as progress:
            bar = progress.add_task(label, total=total)
            yield lambda n: progress.advance(bar, n)


@contextmanager
def _stop_on_signals(stop: threading.Event):
    """Turn SIGTERM and SIGINT into `stop` so a round in progress finishes its transaction."""

    def handler(signum, frame) -> None:
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
