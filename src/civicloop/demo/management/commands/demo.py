"""`civicloop demo`: load the demo city of Riverton into an empty database."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from civicloop.core import clock
from civicloop.demo.generator import DemoCity, DemoConfig
from civicloop.demo.loader import load_city
from civicloop.demo.logins import DEMO_PASSWORD, DEMO_USERS
from civicloop.demo.open311 import demo_client_key, load_attributes
from civicloop.people.models import Person

PHASES = (
    ("places", "Addresses"),
    ("catalogue", "Catalogue and staff"),
    ("people", "People, records, cases"),
)


class Command(BaseCommand):
    help = (
        "Load the demo city of Riverton: addresses, departments, services, staff logins, people in "
        "households, departments' own records of them, needs, cases and contacts. Deterministic for a seed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--people", type=int, default=5000, help="how many people (default 5000)"
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument(
            "--months", type=int, default=18, help="months of case history before now (default 18)"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing, successfully, if the database already holds people",
        )
        parser.add_argument(
            "--contacts-per-person",
            type=float,
            default=4.0,
            help="mean of the skewed draw of contacts per person; their own cases can add more (default 4)",
        )
        parser.add_argument(
            "--contact-skew",
            type=float,
            default=1.3,
            help="Pareto shape of contacts per person, > 1; lower is more skewed (default 1.3)",
        )
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="rows per insert and audit event"
        )

    def handle(self, *args, **options):
        if options["people"] < 1:
            raise CommandError("--people must be at least 1.")
        if options["contact_skew"] <= 1:
            raise CommandError("--contact-skew must be greater than 1.")
        if Person.objects.exists():
            if options["if_empty"]:
                self.stdout.write("The database already holds people: demo data not loaded.")
                return
            raise CommandError(
                "The database already holds people; the demo city only loads into an empty one. "
                "Use --if-empty to skip quietly, or start from a fresh database."
            )
        config = DemoConfig(
            now=clock.now(),
            seed=options["seed"],
            people=options["people"],
            months=options["months"],
            contacts_per_person=options["contacts_per_person"],
            contact_skew=options["contact_skew"],
        )
        city = DemoCity(config)
        console = Console(file=self.stdout._out, highlight=False)
        # Piped or captured output would otherwise wrap the tables at 80 columns.
        console.width = max(console.width, 100)
        columns = (
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, disable=options["verbosity"] == 0) as progress:
            totals = {"places": city.gazetteer.size, "catalogue": 2, "people": config.people}
            tasks = {key: progress.add_task(label, total=totals[key]) for key, label in PHASES}
            result = load_city(
                city,
                batch_size=options["batch_size"],
                advance=lambda phase, n: progress.advance(tasks[phase], n),
            )
        attributes = load_attributes()
        open311_key = demo_client_key()
        if options["verbosity"] == 0:
            return
        console.print(
            f"Riverton (seed {config.seed}, {config.people:,} people) loaded in {result.seconds:.1f} s."
        )
        counts = Table()
        counts.add_column("table")
        counts.add_column("rows", justify="right")
        for name, n in result.counts.items():
            counts.add_row(name, f"{n:,}")
        counts.add_row("audit events", f"{result.audit_events:,}")
        console.print(counts)
        print_logins(console)
        console.print(
            f"Open311 GeoReport v2 at /open311/v2/ ({attributes} service questions).",
            markup=False,
        )
        if open311_key:
            console.print("Api key of the demo Open311 client application (shown once):")
            console.print(open311_key, markup=False, soft_wrap=True)


def print_logins(console: Console) -> None:
    table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
    for column in ("username", "role", "department / partner", "name"):
        table.add_column(column, no_wrap=column != "name")
    for login in DEMO_USERS:
        where = (
            ", ".join(login.departments) or login.partner or ("/admin/" if login.is_staff else "")
        )
        table.add_row(login.username, login.role, where, login.display_name)
    console.print(table)
