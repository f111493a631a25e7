"""`civicloop token create|list|revoke`: personal access tokens for the staff API."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicloop.core import clock
from civicloop.core.access import NotVisible, ValidationFailed
from civicloop.staff.models import StaffMember
from civicloop.staff.tokens import token_issue, token_list, token_revoke


class Command(BaseCommand):
    help = "Create, list or revoke personal access tokens for the staff API."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="subcommand", required=True, metavar="{create,list,revoke}"
        )
        create = sub.add_parser(
            "create", help="Issue a token; it is printed once and never stored."
        )
        create.add_argument("--user", required=True, help="The staff member's username.")
        create.add_argument(
            "--name", required=True, help="What the token is for, e.g. 'nightly export'."
        )
        create.add_argument(
            "--expires-days", type=int, default=None, help="Expire after this many days."
        )
        listing = sub.add_parser(
            "list", help="A staff member's tokens: prefix, name, dates (never the token)."
        )
        listing.add_argument("--user", required=True, help="The staff member's username.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id (from `token list`).")
        revoke.add_argument("--id", type=int, required=True, dest="token_id")
        revoke.add_argument("--user", default=None, help="Only if it belongs to this staff member.")

    def handle(self, *args, **options) -> None:
        subcommand = options["subcommand"]
        try:
            if subcommand == "create":
                self.create(options["user"], options["name"], options["expires_days"])
            elif subcommand == "list":
                self.list(options["user"])
            else:
                staff = self.staff(options["user"]) if options["user"] else None
                token = token_revoke(token_id=options["token_id"], staff=staff)
                self.stdout.write(f"Revoked token {token.id} ({token.prefix}…, {token.name}).")
        except ValidationFailed as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            ) from None
        except NotVisible:
            raise CommandError("No such token.") from None

    def staff(self, username: str) -> StaffMember:
        user = get_user_model().objects.filter(username=username).first()
        staff = getattr(user, "staff", None) if user else None
        if staff is None:
            raise CommandError(f"No staff member with the username {username!r}.")
        return staff

    def create(self, username: str, name: str, expires_days: int | None) -> None:
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = clock.now() + dt.timedelta(days=expires_days) if expires_days else None
        token, raw = token_issue(staff=self.staff(username), name=name, expires_at=expires_at)
        self.stderr.write(f"Token {token.id} for {username} ({name}); it will not be shown again:")
        self.stdout.write(raw)

    def list(self, username: str) -> None:
        now = clock.now()
        for token in token_list(staff=self.staff(username)):
            if token.revoked_at:
                state = f"revoked {token.revoked_at:%Y-%m-%d}"
            elif token.expires_at and token.expires_at <= now:
                state = f"expired {token.expires_at:%Y-%m-%d}"
            else:
                state = "active" + (
                    f" until {token.expires_at:%Y-%m-%d}" if token.expires_at else ""
                )
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                f"{token.id}\t{token.prefix}…\t{token.name}\t{state}\tlast used {used}"
            )
