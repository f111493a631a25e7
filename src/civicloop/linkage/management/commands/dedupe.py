"""`civicloop dedupe INPUT.csv --id-column COL --out OUT.csv`: the same people in one file."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from civicloop.linkage.console import (
    add_role_arguments,
    add_threshold_arguments,
    report,
    role_overrides,
    stages,
)
from civicloop.linkage.files import LinkageFileError, dedupe_file


class Command(BaseCommand):
    help = (
        "Find records of the same person in a CSV file, without a database. Writes "
        "record_id,cluster_id,match_probability,status: records with one cluster_id are one "
        "person; status 'review' marks a proposed cluster left unmerged for a person to check. "
        "Column roles are guessed from the header and can be named with --given-name etc."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("input", help="CSV file (UTF-8, header row) or .parquet")
        parser.add_argument("--id-column", required=True, help="the column of unique record ids")
        parser.add_argument("--out", required=True, help="output CSV; written only on success")
        add_role_arguments(parser)
        add_threshold_arguments(parser)
        parser.add_argument(
            "--save-model", metavar="PATH", help="also write the trained model (JSON)"
        )

    def handle(self, *args, **options):
        with stages(self.stderr._out) as progress:
            try:
                summary = dedupe_file(
                    options["input"],
                    options["out"],
                    id_column=options["id_column"],
                    overrides=role_overrides(options),
                    merge_threshold=options["merge_threshold"],
                    review_threshold=options["review_threshold"],
                    dayfirst=not options["month_first"],
                    model_out=options["save_model"],
                    progress=progress,
                )
            except LinkageFileError as error:
                raise CommandError(str(error)) from None
        report(self.stdout._out, summary, options["out"])
