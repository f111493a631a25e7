"""Console side of `civicloop dedupe` and `civicloop link-files`: arguments, progress, report.

Django-free (argparse and rich), so the management commands stay thin.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rich.console import Console

from civicloop.linkage.files import LinkSummary

# Option -> role, as the issue names them; --given-name etc. override the header guess.
ROLE_OPTIONS = {
    "given_name": ("--given-name",),
    "family_name": ("--surname", "--family-name"),
    "date_of_birth": ("--dob", "--date-of-birth"),
    "email": ("--email",),
    "phone": ("--phone",),
    "postcode": ("--postcode", "--zip"),
    "address": ("--address",),
    "source": ("--source",),
}


def probability(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a probability between 0 and 1")
    return value


def add_role_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "column roles", "name the column that holds each field (default: guessed from headers)"
    )
    for role, flags in ROLE_OPTIONS.items():
        group.add_argument(*flags, dest=f"role_{role}", metavar="COL")
    parser.add_argument(
        "--month-first",
        action="store_true",
        help="dates like 04/03/1980 are month first (US); the default is day first",
    )


def add_threshold_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--merge-threshold",
        type=probability,
        help="match probability at or above which records join (default: the model's, 0.95)",
    )
    parser.add_argument(
        "--review-threshold",
        type=probability,
        help="match probability from which a pair is worth a look (default: the model's, 0.5)",
    )


def role_overrides(options: dict[str, Any]) -> dict[str, str]:
    return {role: options[f"role_{role}"] for role in ROLE_OPTIONS if options.get(f"role_{role}")}


@contextlib.contextmanager
def stages(stream: IO[str]) -> Iterator[Any]:
    """A spinner naming the current stage; each finished stage is logged with its time."""
    console = Console(file=stream, highlight=False)
    stage, since = "", time.perf_counter()
    with console.status("starting") as status:

        def progress(message: str) -> None:
            nonlocal stage, since
            now = time.perf_counter()
            if stage:
                console.print(f"[green]✓[/] {stage} ({now - since:.1f} s)")
            stage, since = message, now
            status.update(message)

        try:
            yield progress
        finally:
            if stage:
                console.print(f"[green]✓[/] {stage} ({time.perf_counter() - since:.1f} s)")


def report(stream: IO[str], summary: LinkSummary, out: str | Path) -> None:
    console = Console(file=stream, highlight=False)
    for note in summary.notes:
        console.print(f"  {note}")
    console.print(
        f"{summary.records:,} records: {summary.records_merged:,} in "
        f"{summary.clusters_merged:,} clusters of the same person, "
        f"{summary.records_in_review:,} left for review; written to {out} "
        f"in {summary.seconds:.1f} s"
    )
