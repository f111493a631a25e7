"""`civicloop import-records FILE --department CODE --mapping MAP.yaml`: a department's records."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from civicloop.people.imports import ImportFailed, ImportReport, RowsRejected, import_records

PHASES = {"read": "Reading and checking", "write": "Writing records"}


class Command(BaseCommand):
    help = (
        "Import a department's own records of people from a CSV or JSON lines file, through a "
        "YAML mapping of columns to fields (see docs/imports.md). Idempotent by the department's "
        "record id. All or nothing unless --skip-invalid. Exit status 1 when rows were bad, "
        "2 when the mapping, the file or the department was."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", help="the CSV (.csv, .tsv) or JSON lines (.jsonl, .ndjson) file"
        )
        parser.add_argument(
            "--department", required=True, metavar="CODE", help="code of the department"
        )
        parser.add_argument(
            "--mapping", required=True, metavar="MAP.yaml", help="YAML mapping of columns"
        )
        parser.add_argument(
            "--format", choices=("csv", "jsonl"), help="the file's format, if not its extension's"
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid rows and write the rejected ones, with reasons, to a file",
        )
        parser.add_argument(
            "--rejects",
            metavar="FILE",
            help="where --skip-invalid writes rejected rows (default: <name>.rejects.csv or "
            ".jsonl beside the input)",
        )
        parser.add_argument(
            "--link-new-as-people",
            action="store_true",
            help="give each new record its own new person (default: leave linking to "
            "`civicloop link`)",
        )
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="rows per write and audit event"
        )

    def handle(self, *args, **options):
        if options["rejects"] and not options["skip_invalid"]:
            raise CommandError("--rejects goes with --skip-invalid.", returncode=2)
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.", returncode=2)
        out = Console(file=self.stdout._out, highlight=False, soft_wrap=True)
        err = Console(file=self.stderr._out, highlight=False, soft_wrap=True)
        columns = (
            TextColumn("{task.description:<22}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, disable=options["verbosity"] == 0) as progress:
            tasks: dict[str, TaskID] = {}

            def advance(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = progress.add_task(PHASES[phase], total=total)
                progress.update(tasks[phase], completed=done, total=total)

            try:
                report = import_records(
                    path=options["file"],
                    department_code=options["department"],
                    mapping=options["mapping"],
                    skip_invalid=options["skip_invalid"],
                    rejects_path=options["rejects"],
                    link_new_as_people=options["link_new_as_people"],
                    progress=advance,
                    file_format=options["format"],
                    batch_size=options["batch_size"],
                )
            except ImportFailed as failure:
                progress.stop()
                raise self._failed(err, failure) from failure
        if options["verbosity"] > 0:
            for warning in report.warnings:
                err.print(f"Warning: {warning}", markup=False)
            self._print_report(out, report)

    def _failed(self, err: Console, failure: ImportFailed) -> CommandError:
        for line in failure.problems:
            err.print(line, markup=False)
        if isinstance(failure, RowsRejected):
            err.print(
                "Fix these rows and run the import again, or add --skip-invalid to import "
                "the valid rows and write the rejected ones to a file.",
                markup=False,
            )
            return CommandError("Import aborted: some rows are not valid.", returncode=1)
        return CommandError("Import failed: nothing was written.", returncode=2)

    def _print_report(self, out: Console, report: ImportReport) -> None:
        out.print(
            f"Imported {report.path.name} into {report.department_code} "
            f"({report.rows:,} rows) in {report.seconds:.1f} s.",
            markup=False,
        )
        table = Table()
        table.add_column("records")
        table.add_column("count", justify="right")
        for label, count in (
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("rejected", report.rejected),
        ):
            table.add_row(label, f"{count:,}")
        if report.people_created or report.records_without_person:
            table.add_row("people created", f"{report.people_created:,}")
            table.add_row(
                "new records left unlinked (no name)", f"{report.records_without_person:,}"
            )
            table.add_row("identifiers created", f"{report.identifiers_created:,}")
            table.add_row("identifiers already held", f"{report.identifiers_skipped:,}")
        table.add_row("audit events", f"{report.audit_events:,}")
        out.print(table)
        if report.rejects_path is not None:
            out.print(
                f"{report.rejected:,} rejected rows, with reasons, written to {report.rejects_path}",
                markup=False,
            )
            for problem in report.problems:
                out.print(f"  {problem}", markup=False)
