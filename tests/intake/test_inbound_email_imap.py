"""`civicloop read-mail --imap-host ...` against an IMAP server on loopback: unseen messages
are taken in and flagged seen; a wrong password changes nothing."""

from __future__ import annotations

import re
import socketserver
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from civicloop.cases.models import Interaction
from civicloop.cases.services import new_reference
from civicloop.intake.models import TriageItem
from tests import factories as f

pytestmark = pytest.mark.django_db

USER, PASSWORD = "intake", 'pa ss"word'


@dataclass
class Stored:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class ImapMailbox:
    messages: list[Stored] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


def _arguments(text: str) -> list[str]:
    """IMAP atoms and quoted strings, unquoted."""
    return [
        re.sub(r"\\(.)", r"\1", quoted) if quoted else atom
        for quoted, atom in re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', text)
    ]


class ImapHandler(socketserver.StreamRequestHandler):
    """The part of IMAP4rev1 that read-mail uses: LOGIN, SELECT, UID SEARCH UNSEEN,
    UID FETCH (BODY.PEEK[]), UID STORE +FLAGS (\\Seen), LOGOUT."""

    box: ImapMailbox

    def send(self, line: str | bytes) -> None:
        self.wfile.write(line if isinstance(line, bytes) else line.encode() + b"\r\n")

    def handle(self):
        self.send("* OK [CAPABILITY IMAP4rev1] test server ready")
        signed_in = False
        while line := self.rfile.readline():
            tag, _sep, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _sep, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                command, _sep, args = args.partition(" ")
                command = "UID " + command.upper()
            self.box.commands.append(command)
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
            elif command == "LOGIN":
                if _arguments(args) != [USER, PASSWORD]:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                    continue
                signed_in = True
            elif not signed_in and command != "LOGOUT":
                self.send(f"{tag} BAD sign in first")
                continue
            elif command == "SELECT":
                if _arguments(args) != ["INBOX"]:
                    self.send(f"{tag} NO no such folder")
                    continue
                self.send(f"* {len(self.box.messages)} EXISTS")
                self.send("* FLAGS (\\Seen)")
                self.send(f"{tag} OK [READ-WRITE] SELECT completed")
                continue
            elif command == "UID SEARCH":
                assert args.strip().upper() == "UNSEEN"
                unseen = [str(m.uid) for m in self.box.messages if "\\Seen" not in m.flags]
                self.send(" ".join(["* SEARCH", *unseen]))
            elif command == "UID FETCH":
                uid, _sep, what = args.partition(" ")
                assert what == "(BODY.PEEK[])"
                for n, stored in enumerate(self.box.messages, start=1):
                    if str(stored.uid) == uid:
                        self.send(f"* {n} FETCH (UID {uid} BODY[] {{{len(stored.raw)}}}")
                        self.send(stored.raw)
                        self.send(")")
            elif command == "UID STORE":
                uid, _sep, change = args.partition(" ")
                assert change == "+FLAGS (\\Seen)"
                for stored in self.box.messages:
                    if str(stored.uid) == uid:
                        stored.flags.add("\\Seen")
            elif command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            else:
                self.send(f"{tag} BAD unknown command")
                continue
            self.send(f"{tag} OK {command} completed")


@contextmanager
def imap_server(box: ImapMailbox):
    handler = type("Handler", (ImapHandler,), {"box": box})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def raw_message(subject: str, message_id: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Ruth Ade <ruth.ade@example.net>"
    mail["To"] = "requests@riverton.example"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content("Please have a look.")
    return mail.as_bytes()


def read_mail(port: int, **options) -> str:
    out = StringIO()
    call_command(
        "read_mail",
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        str(port),
        "--imap-user",
        USER,
        "--imap-security",
        "none",
        stdout=out,
        **options,
    )
    return out.getvalue()


def test_unseen_messages_are_taken_in_and_flagged_seen(monkeypatch):
    monkeypatch.setenv("CIVICLOOP_IMAP_PASSWORD", PASSWORD)
    case = f.CaseFactory(reference=new_reference(), reporter_email="ruth.ade@example.net")
    box = ImapMailbox(
        [
            Stored(7, raw_message(f"Re: {case.reference}", "<i1@x>")),
            Stored(8, raw_message("Old news", "<i0@x>"), {"\\Seen"}),
            Stored(9, raw_message("Fallen tree on Oak Lane", "<i2@x>")),
        ]
    )
    with imap_server(box) as port:
        output = read_mail(port)
        assert "read-mail: 1 added to cases, 1 for triage, 0 read before, 0 skipped" in output
        assert "imap:7: added to case" in output and "imap:9: triage item" in output
        assert all("\\Seen" in m.flags for m in box.messages)
        assert Interaction.objects.filter(case=case).count() == 1
        assert list(TriageItem.objects.values_list("subject", flat=True).order_by("id")) == [
            f"Re: {case.reference}",
            "Fallen tree on Oak Lane",
        ]
        again = read_mail(port)
    assert "read-mail: 0 added to cases, 0 for triage, 0 read before, 0 skipped" in again
    assert box.commands.count("UID FETCH") == 2, "messages already seen are not fetched"


def test_a_wrong_password_takes_nothing_in(monkeypatch):
    monkeypatch.setenv("CIVICLOOP_IMAP_PASSWORD", "wrong")
    box = ImapMailbox([Stored(1, raw_message("Fallen tree", "<w@x>"))])
    with imap_server(box) as port:
        with pytest.raises(CommandError, match="cannot sign in"):
            read_mail(port)
    assert not TriageItem.objects.exists() and box.messages[0].flags == set()


def test_the_password_must_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("CIVICLOOP_IMAP_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="CIVICLOOP_IMAP_PASSWORD"):
        read_mail(1)
