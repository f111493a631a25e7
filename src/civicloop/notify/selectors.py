"""Reads for notifications: the reporter's contact details, only for the system's
notify job and only when the reporter agreed to be contacted."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from civicloop.cases.models import Case, NotifyChannel
from civicloop.core.access import Forbidden, NotVisible, Viewer
from civicloop.people.models import Person


@dataclass(frozen=True)
class ReporterContact:
    case_id: int
    reference: str
    service_name: str
    service_sensitive: bool
    status: str
    consent: bool
    channel: str  # NotifyChannel: none, email or sms
    name: str
    email: str
    phone: str
    language: str
    person_id: int | None  # the person whose own details were used, if any

    @property
    def address(self) -> str:
        """Where a message on the chosen channel goes ('' when there is nowhere)."""
        if not self.consent:
            return ""
        if self.channel == NotifyChannel.EMAIL:
            return self.email
        if self.channel == NotifyChannel.SMS:
            return self.phone
        return ""


def _language(code: str) -> str:
    """The reporter's language if the site speaks it ('es-MX' counts as 'es'), else the site's."""
    known = {known for known, _name in settings.LANGUAGES}
    code = (code or "").strip().lower().replace("_", "-")
    for candidate in (code, code.split("-")[0]):
        if candidate in known:
            return candidate
    return settings.LANGUAGE_CODE


def case_reporter_contact(*, viewer: Viewer, case_id: int) -> ReporterContact:
    """The reporter's name, address and language for a message about their case.

    Only the system reads these (role 'system', as the notify job); the details of a
    reporter who gave no consent are not read at all. Not audited itself: like any read
    that prepares a write, its one caller (notify.services.notification_send) records the
    read and what it did with it in one audit event per attempt.
    """
    if viewer.role != "system":
        raise Forbidden(viewer.role)
    case = Case.objects.filter(pk=case_id).select_related("service").first()
    if case is None:
        raise NotVisible("case")
    consent = case.contact_consent and case.notify_channel != NotifyChannel.NONE
    email, phone, name = case.reporter_email, case.reporter_phone, case.reporter_name
    person = None
    if not consent:
        email = phone = name = ""
    elif case.person_id is not None and not (
        name and (email if case.notify_channel == NotifyChannel.EMAIL else phone)
    ):
        # The reporter's own details come first; the linked person fills what is missing.
        person = Person.objects.get(pk=case.person_id)
        # A person merged into another is reached through the surviving record.
        while person.merged_into_id is not None:
            person = Person.objects.get(pk=person.merged_into_id)
        email = email or person.email
        phone = phone or person.phone
        name = name or person.given_name
    return ReporterContact(
        case_id=case.id,
        reference=case.reference,
        service_name=case.service.name,
        service_sensitive=case.service.sensitive,
        status=case.status,
        consent=consent,
        channel=case.notify_channel,
        name=name,
        email=email.strip(),
        phone=phone.strip(),
        language=_language(case.reporter_language),
        person_id=person.id if person else None,
    )
