"""`civicloop link`: link every department's records to people, with a progress bar."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from civicloop.core.access import Conflict, ValidationFailed
from civicloop.linkage.services import linkage_run

PHASES = {
    "read": "Reading records",
    "train": "Training the model",
    "predict": "Scoring pairs",
    "cluster": "Clustering",
    "link": "Writing links",
}


def probability(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Link every department's records to golden person records (probabilistic identity "
        "resolution). Re-running changes nothing unless the records or staff decisions changed; "
        "confirmed matches and non-matches are always kept. Uncertain pairs go to the review queue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--merge-threshold",
            type=probability,
            default=None,
            help="match probability at or above which records are linked (default: the model's)",
        )
        parser.add_argument(
            "--review-threshold",
            type=probability,
            default=None,
            help="match probability from which a pair goes to review (default: the model's)",
        )
        parser.add_argument(
            "--retrain",
            action="store_true",
            help="train a new model even if the records and decisions have not changed",
        )

    def handle(self, *args, **options):
        console = Console(file=self.stdout._out, highlight=False)
        console.width = max(console.width, 100)
        columns = (
            TextColumn("{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, disable=options["verbosity"] == 0) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(phase: str, advance: int = 0, total: int | None = None) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
                elif total is not None:
                    bar.update(tasks[phase], total=total)
                if advance:
                    bar.advance(tasks[phase], advance)

            try:
                run = linkage_run(
                    merge_threshold=options["merge_threshold"],
                    review_threshold=options["review_threshold"],
                    retrain=options["retrain"],
                    progress=progress,
                )
            except (ValidationFailed, Conflict) as error:
                raise CommandError(str(error)) from error
        if options["verbosity"] == 0:
            return
        seconds = (run.finished_at - run.started_at).total_seconds()
        console.print(
            f"Linking run {run.id} finished in {seconds:.1f} s "
            f"(merge at {run.merge_threshold:.2f}, review from {run.review_threshold:.2f})."
        )
        table = Table()
        table.add_column("")
        table.add_column("count", justify="right")
        for label, value in (
            ("records", run.record_count),
            ("scored pairs", run.pair_count),
            ("people (clusters)", run.cluster_count),
            ("links made", run.links_created),
            ("links ended (kept as history)", run.links_ended),
            ("people created", run.people_created),
            ("people merged (cases follow)", run.people_merged),
            ("new pairs to review", run.review_items_created),
            ("records left as they were for review", run.counts.get("records_kept_for_review", 0)),
        ):
            table.add_row(label, f"{value:,}")
        console.print(table)
