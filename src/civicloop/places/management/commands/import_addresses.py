"""`civicloop import-addresses FILE.csv`: the agency's address gazetteer."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from civicloop.places.imports import AddressImportFailed, import_addresses


class Command(BaseCommand):
    help = (
        "Import the agency's address gazetteer from a CSV file with the columns address_id, "
        "line1, line2, town, postcode, latitude, longitude and (optionally) area, the code of "
        "the area it is in (else found by point-in-polygon). Idempotent by address_id; all or "
        "nothing. Exit status 1 when rows were bad, 2 when the file was."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (UTF-8; comma, semicolon or tab)")
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="rows per write and audit event"
        )

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.", returncode=2)
        out = Console(file=self.stdout._out, highlight=False, soft_wrap=True)
        err = Console(file=self.stderr._out, highlight=False, soft_wrap=True)
        columns = (
            TextColumn("{task.description:<18}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, disable=options["verbosity"] == 0) as progress:
            task = progress.add_task("Writing addresses", total=None)
            try:
                report = import_addresses(
                    path=options["file"],
                    batch_size=options["batch_size"],
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
            except AddressImportFailed as failure:
                progress.stop()
                for line in failure.problems:
                    err.print(line, markup=False)
                if failure.rows_rejected:
                    raise CommandError(
                        "Import aborted: some rows are not valid; nothing was written.",
                        returncode=1,
                    ) from failure
                raise CommandError("Import failed: nothing was written.", returncode=2) from failure
        if options["verbosity"] == 0:
            return
        out.print(
            f"Imported {report.path.name} ({report.rows:,} rows) in {report.seconds:.1f} s.",
            markup=False,
        )
        table = Table()
        table.add_column("addresses")
        table.add_column("count", justify="right")
        for label, count in (
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("outside every area", report.outside_areas),
            ("audit events", report.audit_events),
        ):
            table.add_row(label, f"{count:,}")
        out.print(table)
