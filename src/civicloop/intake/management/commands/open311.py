"""`civicloop open311 create-key --name NAME`: api keys of Open311 client applications."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from civicloop.core.access import ValidationFailed, Viewer
from civicloop.intake.keys import open311_client_create, open311_client_revoke
from civicloop.intake.models import Open311Client

VIEWER = Viewer.system("open311-keys")


class Command(BaseCommand):
    help = (
        "Open311 api keys, one per client application: create-key --name NAME (prints the key "
        "once; only its hash is kept), list-keys, revoke-key ID."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create-key", help="issue a key and print it, once")
        create.add_argument("--name", required=True, help="the client application's name")
        actions.add_parser("list-keys", help="list the keys issued (never the keys themselves)")
        revoke = actions.add_parser("revoke-key", help="stop a key working at once")
        revoke.add_argument("id", type=int, help="the key's id, as list-keys shows it")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "create-key":
            try:
                client, key = open311_client_create(viewer=VIEWER, name=options["name"])
            except ValidationFailed as failure:
                raise CommandError(
                    " ".join(m for ms in failure.errors.values() for m in ms)
                ) from None
            self.stdout.write(f"Open311 api key for {client.name} (id {client.id}):")
            self.stdout.write(key)
            self.stdout.write("Keep it now: it is not shown again.")
        elif action == "list-keys":
            for client in Open311Client.objects.order_by("id"):
                state = "active" if client.active else f"revoked {client.revoked_at:%Y-%m-%d}"
                used = f"{client.last_used_at:%Y-%m-%d %H:%M}" if client.last_used_at else "never"
                self.stdout.write(
                    f"{client.id}\t{client.key_prefix}…\t{state}\tlast used {used}\t{client.name}"
                )
        else:
            if not Open311Client.objects.filter(pk=options["id"]).exists():
                raise CommandError(f"There is no key with id {options['id']}.")
            client = open311_client_revoke(viewer=VIEWER, client_id=options["id"])
            self.stdout.write(f"Revoked the key of {client.name} (id {client.id}).")
