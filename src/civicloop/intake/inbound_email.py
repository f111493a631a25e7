"""Inbound email: a message to the intake address becomes a contact on the case its
subject names (by reference, e.g. 'Re: CL-7KQ2-M9XD') when the case's reporter sent it,
or a triage item for staff — in the named case's department when someone else did.

Every message read leaves one TriageItem keyed by its Message-ID — open for triage, or
already 'added to a case' — so reading the same message twice changes nothing.
Auto-replies and bounces are skipped with a reason. Only the text is kept: attachments
are listed by name in the item, not stored; an HTML-only message is turned into text.
Quoted earlier messages are cut off, and a tracking link's secret is never kept.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from civicloop.cases.models import Case, Channel, Interaction
from civicloop.cases.services import MAX_SUMMARY
from civicloop.core import clock
from civicloop.core.access import Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.intake.models import TriageItem
from civicloop.people.models import Person
from civicloop.trust.audit import audit_record

# The pattern of cases.services.new_reference(): Crockford base 32, no I, L, O or U.
REFERENCE = re.compile(r"\bCL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b", re.IGNORECASE)
MAX_BODY = 20_000
# A line that introduces a quoted earlier message ('On 2 March, X wrote:', 'El ... escribió:').
_QUOTE_INTRO = re.compile(r"^\s*(On\b.*\bwrote|El\b.*\bescribió)\s*:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(Original Message|Mensaje original)\s*-{2,}\s*$", re.I)
_TRACKING_SECRET = re.compile(r"(/portal/track/[^\s?#]+)\?[^\s>)\]]*")


@dataclass(frozen=True)
class InboundEmail:
    message_id: str
    sender_email: str
    sender_name: str
    subject: str
    text: str
    sent_at: dt.datetime | None
    attachments: list[str] = field(default_factory=list)
    skip: str = ""  # why it is not for people to read: an auto-reply, a bounce

    @property
    def references(self) -> list[str]:
        return [match.upper() for match in REFERENCE.findall(self.subject)]


@dataclass(frozen=True)
class Received:
    """What became of one message: 'contact' (added to a case), 'triage', 'duplicate'
    (its Message-ID was read before) or 'skipped' (with the reason)."""

    outcome: str
    message_id: str
    case_reference: str = ""
    triage_item_id: int | None = None
    interaction_id: int | None = None
    reason: str = ""


class _TextFromHtml(HTMLParser):
    """Visible text of an HTML message: blocks on their own lines, links with their address."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
    HIDDEN = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.href = ""

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag == "a":
            self.href = dict(attrs).get("href") or ""
        if tag == "li":
            self.parts.append("- ")

    def handle_startendtag(self, tag, attrs):
        # <br/> is one line break, not two; an empty <script/> hides nothing.
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag == "a" and self.href:
            if self.href.startswith(("http:", "https:")):
                self.parts.append(f" ({self.href})")
            self.href = ""

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    parser = _TextFromHtml()
    parser.feed(html)
    parser.close()
    return parser.text()


def _without_quotes(text: str) -> str:
    """The new part of a reply: stops at the quoted earlier message."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTE_INTRO.match(line) or _ORIGINAL.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip() or text.strip()


def _header(message: EmailMessage, name: str) -> str:
    """A header's value on one line; a header too broken to parse counts as absent."""
    try:
        value = message.get(name, "")
    except Exception:  # the email package raises various errors on malformed headers
        return ""
    return " ".join(str(value).split())


def _skip_reason(message: EmailMessage) -> str:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"auto-submitted ({auto.split(';')[0]})"
    if message.get_content_type() == "multipart/report":
        return "delivery report (bounce)"
    if _header(message, "Return-Path") == "<>":
        return "bounce (empty return path)"
    sender = (getaddresses([_header(message, "From")]) or [("", "")])[0][1].lower()
    if sender.split("@")[0] in {"mailer-daemon", "postmaster"}:
        return "bounce (from the mail system)"
    if _header(message, "Precedence").lower() in {"auto_reply", "junk"}:
        return "auto-reply (precedence)"
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return "auto-reply"
    return ""


def _body_and_attachments(message: EmailMessage) -> tuple[str, list[str]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[str] = []
    unnamed = _("unnamed")
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        name = part.get_filename()
        if (
            part.get_content_disposition() == "attachment"
            or name
            or part.get_content_maintype() != "text"
        ):
            attachments.append(f"{name or unnamed} ({kind})")
            continue
        try:
            content = part.get_content()
        except (LookupError, UnicodeDecodeError):  # an unknown or lying charset
            payload = part.get_payload(decode=True)  # bytes, or None: this part is no multipart
            content = (payload if isinstance(payload, bytes) else b"").decode(
                "utf-8", errors="replace"
            )
        if kind == "text/plain":
            plain.append(content)
        elif kind == "text/html":
            html.append(content)
        else:
            attachments.append(f"{name or unnamed} ({kind})")
    text = "\n\n".join(plain) if plain else "\n\n".join(html_to_text(h) for h in html)
    return text, attachments


def email_parse(raw: bytes) -> InboundEmail:
    """Read a message as it arrived (RFC 5322 bytes)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = _header(message, "Message-ID")
    if not message_id:
        # No Message-ID: the bytes themselves identify it, so a second copy is still one.
        message_id = f"<sha256.{hashlib.sha256(raw).hexdigest()}@civicloop.invalid>"
    senders = getaddresses([_header(message, "From")])
    sender_name, sender_email = senders[0] if senders else ("", "")
    try:
        sent_at = parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        sent_at = None
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=dt.UTC)
    text, attachments = _body_and_attachments(message)
    text = _TRACKING_SECRET.sub(r"\1", _without_quotes(text))
    return InboundEmail(
        message_id=message_id[:400],
        sender_email=sender_email.strip()[:254],
        sender_name=" ".join(sender_name.split())[:200],
        subject=_header(message, "Subject")[:400],
        text=text[:MAX_BODY],
        sent_at=sent_at,
        attachments=attachments,
        skip=_skip_reason(message),
    )


def _item_body(parsed: InboundEmail) -> str:
    if not parsed.attachments:
        return parsed.text
    note = _("Attachments not kept: %(names)s.") % {"names": ", ".join(parsed.attachments)}
    return f"{parsed.text}\n\n[{note}]".strip()


def _summary(parsed: InboundEmail, body: str) -> str:
    text = "\n\n".join(part for part in (parsed.subject, body) if part.strip())
    text = text or _("An email with no subject and no text.")
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


def _from_reporter(case: Case, sender: str) -> bool:
    """Whether `sender` is the case's reporter: their own address or the linked person's."""
    sender = sender.strip().lower()
    if not sender:
        return False
    if case.reporter_email.strip().lower() == sender:
        return True
    return (
        case.person_id is not None
        and Person.objects.filter(pk=case.person_id)
        .filter(Q(email_key=sender) | Q(email__iexact=sender))
        .exists()
    )


def inbound_email_receive(*, raw: bytes) -> Received:
    """Take in one message: a contact on the case its subject names when the case's reporter
    sent it, else a triage item; nothing when its Message-ID was read before or it is an
    auto-reply or a bounce."""
    parsed = email_parse(raw)
    viewer = Viewer.system("inbound_email")
    if parsed.skip:
        audit_record(
            viewer=viewer,
            action="inbound_email.skip",
            object_type="email",
            counts={"reason": parsed.skip},
        )
        return Received("skipped", parsed.message_id, reason=parsed.skip)
    now = clock.now()
    at = parsed.sent_at if parsed.sent_at and parsed.sent_at <= now else now
    body = _item_body(parsed)
    with transaction.atomic():
        if TriageItem.objects.filter(message_id=parsed.message_id).exists():
            return Received("duplicate", parsed.message_id)
        case = None  # the case the subject names...
        from_reporter = False  # ...and whether its reporter wrote
        if parsed.references:
            case = (
                Case.objects.filter(reference__in=parsed.references)
                .only("id", "reference", "department_id", "person_id", "reporter_email")
                .first()
            )
            from_reporter = case is not None and _from_reporter(case, parsed.sender_email)
        try:
            with transaction.atomic():
                item = TriageItem.objects.create(
                    channel=Channel.EMAIL,
                    message_id=parsed.message_id,
                    received_at=at,
                    sender_email=parsed.sender_email,
                    sender_name=parsed.sender_name,
                    subject=parsed.subject,
                    body=body,
                    # A stranger naming a case waits in that department's queue, the case
                    # named beside it: references are public, so only staff may attach it.
                    case=case,
                    department_id=case.department_id if case else None,
                    person_id=case.person_id if case is not None and from_reporter else None,
                    status=TriageItem.Status.ATTACHED if from_reporter else TriageItem.Status.OPEN,
                )
        except IntegrityError:  # another reader took the same message in the meantime
            return Received("duplicate", parsed.message_id)
        fields = ["sender_email", "sender_name", "subject", "body"]
        if case is not None:
            fields += ["case.reporter_email"]  # compared with the sender
        if not from_reporter:
            audit_record(
                viewer=viewer,
                action="inbound_email.triage",
                object_type="triage_item",
                object_ids=[item.id] + ([case.id] if case else []),
                fields=fields,
            )
            return Received(
                "triage",
                parsed.message_id,
                case_reference=case.reference if case else "",
                triage_item_id=item.id,
            )
        assert case is not None  # its reporter wrote, so there is a case
        interaction = Interaction.objects.create(
            person_id=case.person_id,
            case=case,
            department_id=case.department_id,
            channel=Channel.EMAIL,
            direction=Interaction.Direction.INBOUND,
            at=at,
            summary=_summary(parsed, body),
        )
        audit_record(
            viewer=viewer,
            action="inbound_email.contact",
            object_type="interaction",
            object_ids=[interaction.id, item.id, case.id]
            + ([case.person_id] if case.person_id else []),
            fields=fields + ["summary"],
        )
        publish(
            DomainEvent(
                "contact.logged",
                "interaction",
                interaction.id,
                None,
                {
                    "person_id": case.person_id,
                    "case_id": case.id,
                    "department_id": case.department_id,
                },
            )
        )
    return Received(
        "contact",
        parsed.message_id,
        case_reference=case.reference,
        triage_item_id=item.id,
        interaction_id=interaction.id,
    )
