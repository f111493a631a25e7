"""`civicloop link-files A.csv B.csv --id-column COL --out OUT.csv`: the same people in two files."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from civicloop.linkage.console import (
    add_role_arguments,
    add_threshold_arguments,
    report,
    role_overrides,
    stages,
)
from civicloop.linkage.files import LinkageFileError, link_two_files


class Command(BaseCommand):
    help = (
        "Link the records of two CSV files that belong to the same person, without a database. "
        "Writes source,record_id,cluster_id,match_probability,status (source 'a' is the first "
        "file, 'b' the second); only pairs across the files are compared."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("a", help="first CSV file (UTF-8, header row) or .parquet")
        parser.add_argument("b", help="second CSV file")
        parser.add_argument("--id-column", required=True, help="the column of unique record ids")
        parser.add_argument(
            "--id-column-b", help="the id column of the second file, if it is named differently"
        )
        parser.add_argument("--out", required=True, help="output CSV; written only on success")
        add_role_arguments(parser)
        add_threshold_arguments(parser)

    def handle(self, *args, **options):
        with stages(self.stderr._out) as progress:
            try:
                summary = link_two_files(
                    options["a"],
                    options["b"],
                    options["out"],
                    id_column=options["id_column"],
                    id_column_b=options["id_column_b"],
                    overrides=role_overrides(options),
                    merge_threshold=options["merge_threshold"],
                    review_threshold=options["review_threshold"],
                    dayfirst=not options["month_first"],
                    progress=progress,
                )
            except LinkageFileError as error:
                raise CommandError(str(error)) from None
        report(self.stdout._out, summary, options["out"])
