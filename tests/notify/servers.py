"""Real servers on loopback for the notify and inbound email tests: an SMTP server
(aiosmtpd) that keeps what it receives and may deliver it into a Maildir, and an HTTP
server that answers like a Twilio-compatible SMS gateway."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import json
import mailbox
import socket
import threading
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class SmtpInbox:
    """What the SMTP server was given. `refuse` holds addresses answered with 550 at RCPT;
    `busy` how many DATA commands to answer with 451 before accepting; `delay` slows DATA."""

    maildir: str | None = None
    refuse: set[str] = field(default_factory=set)
    busy: int = 0
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    port: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: unknown user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 Mail server temporarily busy, try again later"
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        if self.maildir:
            mailbox.Maildir(self.maildir, create=True).add(envelope.content)
        return "250 2.0.0 Message accepted for delivery"


@contextmanager
def smtp_server(**options):
    inbox = SmtpInbox(**options)
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class GatewayRequest:
    path: str
    authorization: str
    form: dict[str, str]

    @property
    def credentials(self) -> tuple[str, str]:
        kind, _sep, value = self.authorization.partition(" ")
        assert kind == "Basic"
        user, _sep, password = base64.b64decode(value).decode().partition(":")
        return user, password


@dataclass
class SmsGateway:
    """Answers each POST with the next of `answers` (status, JSON body), then 201 and a sid."""

    answers: list[tuple[int, dict]] = field(default_factory=list)
    requests: list[GatewayRequest] = field(default_factory=list)
    url: str = ""

    def answer(self) -> tuple[int, dict]:
        if self.answers:
            return self.answers.pop(0)
        return 201, {"sid": f"SM{len(self.requests):032d}", "status": "queued"}


@contextmanager
def sms_gateway(answers: list[tuple[int, dict]] | None = None):
    gateway = SmsGateway(answers=list(answers or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            gateway.requests.append(
                GatewayRequest(self.path, self.headers.get("Authorization", ""), form)
            )
            status, body = gateway.answer()
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
