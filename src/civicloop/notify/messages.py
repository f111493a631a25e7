"""What a reporter reads: subject, text and HTML of an email, or a text message, in the
reporter's language. A subject names the case reference and the service and nothing
else; a sensitive service (health, child protection) is named nowhere in a message."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from civicloop.cases.workflow import status_label
from civicloop.notify.models import Notification
from civicloop.notify.selectors import ReporterContact


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str  # empty for a text message


def tracking_link(reference: str, secret: str = "") -> str:
    """The portal page of a report; with its secret, the page shows the reporter's own view."""
    base = settings.CIVICLOOP["PUBLIC_BASE_URL"].rstrip("/")
    link = f"{base}/portal/track/{urllib.parse.quote(reference)}"
    return f"{link}?{urllib.parse.urlencode({'t': secret})}" if secret else link


def _subject(kind: str, reference: str, service: str) -> str:
    whats: dict[str, str] = {
        Notification.Kind.OPENED: _("report received"),
        Notification.Kind.STATUS_CHANGED: _("status changed"),
        Notification.Kind.UPDATE_ADDED: _("new update"),
        Notification.Kind.CLOSED: _("closed"),
    }
    what = whats[kind]
    if service:
        return _("%(reference)s (%(service)s): %(what)s") % {
            "reference": reference,
            "service": service,
            "what": what,
        }
    return _("%(reference)s: %(what)s") % {"reference": reference, "what": what}


def message_render(*, notification: Notification, contact: ReporterContact) -> Message:
    """The message `notification` stands for, addressed as `contact` asked."""
    with translation.override(contact.language):
        service = "" if contact.service_sensitive else contact.service_name
        subject = _subject(notification.kind, contact.reference, service)
        context = {
            "kind": notification.kind,
            "reference": contact.reference,
            "service": service,
            "status": status_label(notification.to_status) if notification.to_status else "",
            "update_text": notification.update_text,
            "name": contact.name,
            "link": tracking_link(contact.reference, notification.tracking_secret),
            "secret_link": bool(notification.tracking_secret),
            "agency": settings.CIVICLOOP["AGENCY_NAME"],
            "language": contact.language,
            "subject": subject,
        }
        if notification.channel == Notification.Channel.SMS:
            text = " ".join(render_to_string("notify/sms.txt", context).split())
            return Message(subject=subject, text=text, html="")
        # Optional paragraphs leave runs of blank lines behind; one is enough.
        text = re.sub(r"\n\s*\n\s*\n+", "\n\n", render_to_string("notify/email.txt", context))
        text = text.strip() + "\n"
        html = render_to_string("notify/email.html", context)
    return Message(subject=subject, text=text, html=html)
