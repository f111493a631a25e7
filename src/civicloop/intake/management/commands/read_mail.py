"""`civicloop read-mail`: take in messages sent to the intake address, from files, a
Maildir, an mbox file or an IMAP mailbox (see docs/notifications.md)."""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import os
import ssl
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civicloop.intake.inbound_email import Received, inbound_email_receive

# One message: a label for the report, its bytes and what to do once it was taken in.
Source = Iterator[tuple[str, bytes, Callable[[], None]]]


def _nothing() -> None:
    return None


def from_files(paths: list[str]) -> Source:
    for path in paths:
        if path == "-":
            yield "stdin", sys.stdin.buffer.read(), _nothing
            continue
        try:
            raw = Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"read-mail: cannot read {path}: {error.strerror}") from None
        yield path, raw, _nothing


def from_maildir(path: str) -> Source:
    """Messages not yet marked seen, in new/ and cur/; each is marked seen (moved to cur/
    with the S flag, as mail clients do) once taken in, so the next run passes it by."""
    root = Path(path)
    if not (root / "new").is_dir() or not (root / "cur").is_dir():
        raise CommandError(f"read-mail: {path} is not a Maildir (no new/ and cur/ folders)")
    for folder in ("new", "cur"):
        for entry in sorted((root / folder).iterdir()):
            if entry.name.startswith(".") or not entry.is_file():
                continue
            unique, _sep, info = entry.name.partition(":")
            flags = info[2:] if info.startswith("2,") else ""
            if "S" in flags:
                continue
            seen = root / "cur" / f"{unique}:2,{''.join(sorted(set(flags + 'S')))}"

            def mark_seen(entry=entry, seen=seen) -> None:
                entry.rename(seen)

            yield f"maildir:{unique}", entry.read_bytes(), mark_seen


def from_mbox(path: str) -> Source:
    """Every message of the file; the mbox is not changed (reading twice is harmless)."""
    if not Path(path).is_file():
        raise CommandError(f"read-mail: no mbox file at {path}")
    box = mailbox.mbox(path, create=False)
    try:
        for index, key in enumerate(box.keys(), start=1):
            yield f"mbox:{index}", box.get_bytes(key), _nothing
    finally:
        box.close()


def from_imap(
    *, host: str, port: int, user: str, password: str, folder: str, security: str
) -> Source:
    """Unseen messages of an IMAP folder; each is flagged \\Seen once taken in."""
    client: imaplib.IMAP4 | None = None
    try:
        if security == "ssl":
            client = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context())
        else:
            client = imaplib.IMAP4(host, port)
            if security == "starttls":
                client.starttls(ssl_context=ssl.create_default_context())
        client.login(user, password)
    except (OSError, imaplib.IMAP4.error) as error:
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown()
        raise CommandError(f"read-mail: cannot sign in to {host}:{port}: {error}") from None
    try:
        status, _data = client.select(_quoted(folder))
        if status != "OK":
            raise CommandError(f"read-mail: no folder {folder!r} on {host}")
        status, data = client.uid("SEARCH", "UNSEEN")
        if status != "OK":
            raise CommandError(f"read-mail: {host} refused the search for unseen messages")
        for uid in (data[0] or b"").decode("ascii").split():
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if status != "OK" or raw is None:
                raise CommandError(f"read-mail: {host} did not send message {uid}")

            def mark_seen(uid: str = uid) -> None:
                client.uid("STORE", uid, "+FLAGS", "(\\Seen)")

            yield f"imap:{uid}", raw, mark_seen
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Command(BaseCommand):
    help = (
        "Take in messages sent to the intake address: a message from a case's reporter whose "
        "subject names the case's reference becomes a contact on that case, any other a "
        "triage item. Reading a "
        "message twice changes nothing (by Message-ID); auto-replies and bounces are "
        "skipped. Exit status 1 when a message could not be taken in."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="*", metavar="FILE.eml", help="message files ('-' for standard input)"
        )
        parser.add_argument("--maildir", metavar="PATH", help="a Maildir: reads unseen messages")
        parser.add_argument("--mbox", metavar="PATH", help="an mbox file: reads every message")
        parser.add_argument("--imap-host", metavar="HOST", help="an IMAP server: reads unseen")
        parser.add_argument("--imap-port", type=int, help="default 993, or 143 without SSL")
        parser.add_argument("--imap-user", metavar="USER")
        parser.add_argument(
            "--imap-password-env",
            metavar="VAR",
            default="CIVICLOOP_IMAP_PASSWORD",
            help="environment variable holding the password (default %(default)s); "
            "never given on the command line, where other users could see it",
        )
        parser.add_argument("--imap-folder", default="INBOX", help="default %(default)s")
        parser.add_argument(
            "--imap-security",
            choices=("ssl", "starttls", "none"),
            default="ssl",
            help="default %(default)s; 'none' only for a server on this machine",
        )

    def handle(self, *args, files, maildir, mbox, imap_host, **options):
        sources: list[Source] = []
        if files:
            sources.append(from_files(files))
        if maildir:
            sources.append(from_maildir(maildir))
        if mbox:
            sources.append(from_mbox(mbox))
        if imap_host:
            sources.append(self._imap(imap_host, options))
        if not sources:
            raise CommandError(
                "read-mail: give message files, --maildir, --mbox or --imap-host", returncode=2
            )
        counts: Counter[str] = Counter()
        for source in sources:
            for label, raw, taken_in in source:
                try:
                    received = inbound_email_receive(raw=raw)
                except Exception as error:  # one bad message must not stop the others
                    counts["failed"] += 1
                    self.stderr.write(f"{label}: not taken in ({type(error).__name__})")
                    continue
                taken_in()
                counts[received.outcome] += 1
                self.stdout.write(f"{label}: {self._describe(received)}")
        self.stdout.write(
            "read-mail: {contact} added to cases, {triage} for triage, {duplicate} read "
            "before, {skipped} skipped, {failed} not taken in".format_map(
                {
                    k: counts.get(k, 0)
                    for k in ("contact", "triage", "duplicate", "skipped", "failed")
                }
            )
        )
        if counts["failed"]:
            raise CommandError(f"read-mail: {counts['failed']} message(s) not taken in")

    def _imap(self, host: str, options: dict) -> Source:
        user = options["imap_user"]
        password = os.environ.get(options["imap_password_env"], "")
        if not user or not password:
            raise CommandError(
                f"read-mail: --imap-user and a password in ${options['imap_password_env']} "
                "are needed for IMAP",
                returncode=2,
            )
        security = options["imap_security"]
        port = options["imap_port"] or (993 if security == "ssl" else 143)
        return from_imap(
            host=host,
            port=port,
            user=user,
            password=password,
            folder=options["imap_folder"],
            security=security,
        )

    @staticmethod
    def _describe(received: Received) -> str:
        if received.outcome == "contact":
            return f"added to case {received.case_reference} as contact {received.interaction_id}"
        if received.outcome == "triage" and received.case_reference:
            return (
                f"triage item {received.triage_item_id} (names case {received.case_reference} "
                "but is not from its reporter)"
            )
        if received.outcome == "triage":
            return f"triage item {received.triage_item_id}"
        if received.outcome == "duplicate":
            return "read before (same Message-ID): nothing changed"
        return f"skipped: {received.reason}"
