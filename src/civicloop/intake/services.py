"""The intake core every public channel uses: a report becomes a case.

`report_submit` checks a report (service, location, answers, contact details), places it
through the agency's gazetteer, links a reporter whose name and email or phone match a
known person with high confidence, and opens the case in the department that owns the
service — as the system (Viewer.system("intake")), with the case service's own rules.
It writes all of it in one transaction or nothing, audits it, and publishes `case.opened`
and `report.received` (the only place the tracking secret leaves this module).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from civicloop.cases.models import Attachment, Case, CaseEvent, Channel, NotifyChannel
from civicloop.cases.services import MAX_DESCRIPTION, new_reference
from civicloop.cases.workflow import workflow_for
from civicloop.catalogue.models import Service, ServiceAttribute
from civicloop.core import clock
from civicloop.core.access import ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.intake.attributes import attributes_clean
from civicloop.intake.duplicates import case_mark_duplicate  # noqa: F401 - part of this API
from civicloop.intake.models import (
    Open311Client,
    PossibleDuplicate,
    ReportOrigin,
    ServiceRequestToken,
)
from civicloop.intake.selectors import cases_at_distances, duplicate_points, tracking_hash
from civicloop.linkage.matching import DatabaseIndex, current_model
from civicloop.linkage.model import LinkageModel
from civicloop.linkage.models import LinkageRun
from civicloop.linkage.realtime import Candidate, match_record
from civicloop.people.services import department_serves
from civicloop.places.matching import AddressAmbiguous, AddressNotFound, address_match
from civicloop.places.models import Address, Area
from civicloop.places.selectors import area_containing
from civicloop.trust.audit import audit_record

VIEWER = Viewer.system("intake")
MAX_MEDIA_URL = 1000
MAX_NAME = 100
MAX_ID = 100
MAX_ADDRESS_STRING = 300
_PHONE = re.compile(r"\+?[0-9 ()./-]{6,40}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}")
_ASYNC_KINDS = (Service.Kind.BATCH, Service.Kind.BLACKBOX)
_media_url = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class ReportIn:
    service_code: str
    description: str = ""
    latitude: float | None = None
    longitude: float | None = None
    address_id: str = ""  # the gazetteer's id as Open311 sends it (a string)
    address_string: str = ""
    attributes: dict[str, str | list[str]] = field(default_factory=dict)
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    media_url: str = ""
    device_id: str = ""
    account_id: str = ""
    language: str = ""  # the reporter's language code, e.g. "es"
    contact_consent: bool = False
    notify_channel: str = "none"  # none / email / sms


@dataclass(frozen=True)
class ReportReceipt:
    case: Case
    tracking_secret: str  # goes in the tracking link; only its hash is stored
    token: str = ""  # set for services answered asynchronously
    # (case id, metres) of open reports this one may repeat, nearest first.
    nearby: tuple[tuple[int, float], ...] = ()

    @cached_property
    def possible_duplicates(self) -> list[Case]:
        """The reports this one may repeat, each with `distance_m` (read when first asked:
        an Open311 client never asks)."""
        return cases_at_distances(self.nearby)


@dataclass(frozen=True)
class ResolvedLocation:
    """Where a report is, by the agency's own gazetteer and areas."""

    latitude: float
    longitude: float
    address: Address | None
    area: Area | None


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def location_resolve(
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    address_id: str = "",
    address_string: str = "",
) -> ResolvedLocation | None:
    """The place a report names — by the gazetteer's address id, by its text matched against
    the gazetteer, or by a point — with the area containing it; None if it names none.

    An address id wins over text, and text over a point, as Open311 clients send one."""
    if address_id.strip():
        address = (
            Address.objects.select_related("area")
            .defer("area__polygon")
            .filter(uprn=address_id.strip())
            .first()
        )
        if address is None:
            raise ValidationFailed({"location": _("There is no address with this address_id.")})
        return ResolvedLocation(address.latitude, address.longitude, address, address.area)
    if address_string.strip():
        if len(address_string) > MAX_ADDRESS_STRING or _unstorable(address_string):
            raise ValidationFailed({"location": _("Give a shorter address.")})
        try:
            match = address_match(address_string)
        except AddressNotFound:
            raise ValidationFailed(
                {
                    "location": _(
                        "We could not find this address in our gazetteer. Check the house "
                        "number and street, or give the postcode."
                    )
                }
            ) from None
        except AddressAmbiguous as several:
            raise ValidationFailed(
                {
                    "location": _(
                        "This address matches more than one place (%(examples)s). Add the "
                        "house number or the postcode."
                    )
                    % {"examples": "; ".join(str(a) for a in several.addresses[:3])}
                }
            ) from None
        address = match.address
        return ResolvedLocation(address.latitude, address.longitude, address, address.area)
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        raise ValidationFailed({"location": _("Give both the latitude and the longitude.")})
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValidationFailed(
            {
                "location": _(
                    "Give a latitude between -90 and 90 and a longitude between -180 and 180."
                )
            }
        )
    area = area_containing(latitude=latitude, longitude=longitude)
    if area is None and Area.objects.exists():
        raise ValidationFailed({"location": _("This place is outside the area we serve.")})
    return ResolvedLocation(latitude, longitude, None, area)


def media_url_problem(url: str) -> str:
    """Why a media URL is refused, or "" if it is fine. It is never fetched: only checked."""
    if len(url) > MAX_MEDIA_URL:
        return _("Keep the media URL under %(n)d characters.") % {"n": MAX_MEDIA_URL}
    try:
        _media_url(url)
    except ValidationError:
        return _("Give a web address starting with http:// or https://, with a real host name.")
    host = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0].lower()
    if "@" in url.split("://", 1)[1].split("/", 1)[0] or host in ("localhost", "localhost."):
        return _("Give a web address starting with http:// or https://, with a real host name.")
    return ""


def _check_contact(report: ReportIn, errors: dict[str, list[str]]) -> None:
    for name in ("first_name", "last_name"):
        value = getattr(report, name)
        if len(value) > MAX_NAME or _unstorable(value):
            errors[name] = [_("Give a shorter name, in plain text.")]
    if report.email:
        try:
            validate_email(report.email.strip())
        except ValidationError:
            errors["email"] = [_("Give an email address like name@example.org.")]
    if report.phone and (
        not _PHONE.fullmatch(report.phone.strip()) or sum(c.isdigit() for c in report.phone) < 6
    ):
        errors["phone"] = [_("Give a phone number, in digits.")]
    for name in ("device_id", "account_id"):
        value = getattr(report, name)
        if len(value) > MAX_ID or _unstorable(value):
            errors[name] = [_("Give an id of at most %(n)d characters.") % {"n": MAX_ID}]
    if report.language and not _LANGUAGE.fullmatch(report.language):
        errors["language"] = [_("Give a language code, like en or es.")]
    if report.notify_channel not in NotifyChannel.values:
        errors["notify_channel"] = [_("Choose how to be told about progress.")]
    elif report.notify_channel == NotifyChannel.EMAIL and not report.email:
        errors.setdefault("email", [_("Give an email address to be told by email.")])
    elif report.notify_channel == NotifyChannel.SMS and not report.phone:
        errors.setdefault("phone", [_("Give a mobile number to be told by text message.")])


# A service's questions change seldom and every report reads them: a process reads them
# again when its copy is older than this, and at once when it changed a service itself.
QUESTIONS_FRESH_SECONDS = 30.0
_questions: dict[int, tuple[float, list[ServiceAttribute]]] = {}


def forget_questions(**_kwargs) -> None:
    _questions.clear()


def service_questions(service_id: int) -> list[ServiceAttribute]:
    """A service's questions (Open311 attributes), in order."""
    cached = _questions.get(service_id)
    if cached is not None and time.monotonic() - cached[0] < QUESTIONS_FRESH_SECONDS:
        return cached[1]
    questions = list(
        ServiceAttribute.objects.filter(service_id=service_id).order_by("order", "code")
    )
    _questions[service_id] = (time.monotonic(), questions)
    return questions


def _validate(report: ReportIn, channel: str) -> tuple[Service, dict, ResolvedLocation | None]:
    """The service, the answers as kept and the place; ValidationFailed with every problem."""
    errors: dict[str, list[str]] = {}
    if channel not in Channel.values:
        errors["channel"] = [_("Choose how the report arrived.")]
    service = (
        Service.objects.filter(
            code=report.service_code.strip(), active=True, public=True, sensitive=False
        )
        .select_related("department")
        .first()
        if report.service_code.strip()
        else None
    )
    if service is None:
        errors["service_code"] = [_("Choose a service from the list.")]
    if len(report.description) > MAX_DESCRIPTION:
        errors["description"] = [
            _("Keep the description under %(n)d characters.") % {"n": MAX_DESCRIPTION}
        ]
    elif _unstorable(report.description):
        errors["description"] = [_("Remove the control characters from the description.")]
    if report.media_url and (problem := media_url_problem(report.media_url.strip())):
        errors["media_url"] = [problem]
    _check_contact(report, errors)
    kept: dict[str, Any] = {}
    if service is not None:
        kept, attribute_errors = attributes_clean(service_questions(service.id), report.attributes)
        errors.update(attribute_errors)
    place = None
    try:
        place = location_resolve(
            latitude=report.latitude,
            longitude=report.longitude,
            address_id=report.address_id,
            address_string=report.address_string,
        )
    except ValidationFailed as failure:
        errors.update(failure.errors)
    if service is not None and service.place_based and place is None and "location" not in errors:
        errors["location"] = [_("Say where the problem is: choose an address or a place.")]
    if errors:
        raise ValidationFailed(errors)
    assert service is not None  # a missing service is one of the errors
    return service, kept, place


_model: tuple[int | None, LinkageModel] | None = None


def _matching_model() -> LinkageModel:
    """current_model(), fetched (or built) once per linking run rather than for every
    report: only the id of the latest run is read each time."""
    global _model
    run_id = (
        LinkageRun.objects.filter(status=LinkageRun.Status.FINISHED)
        .exclude(model_json="")
        .values_list("id", flat=True)
        .first()
    )
    cached = _model
    if cached is None or cached[0] != run_id:
        cached = _model = (run_id, current_model())
    return cached[1]


def _reporter_match(report: ReportIn) -> tuple[int | None, bool, list[Candidate]]:
    """(the person the reporter surely is, whether staff should check, who was considered).

    Only a name with an email or phone is matched; one candidate at or above the model's
    merge threshold links the report; anything less certain asks for review."""
    if not (report.first_name.strip() and report.last_name.strip()):
        return None, False, []
    if not (report.email.strip() or report.phone.strip()):
        return None, False, []
    model = _matching_model()
    record = {
        "given_name": report.first_name.strip(),
        "family_name": report.last_name.strip(),
        "email": report.email.strip(),
        "phone": report.phone.strip(),
    }
    found = match_record(
        model, record, DatabaseIndex(), top=3, min_probability=model.review_threshold
    )
    sure = [c for c in found if c.is_match]
    if len(sure) == 1:
        return sure[0].person_id, False, found
    return None, bool(found), found


def _store_files(case: Case, files: Sequence[UploadedFile], saved: list) -> None:
    for upload in files:
        attachment = Attachment(
            case=case,
            content_type=(upload.content_type or "application/octet-stream")[:100],
            size=upload.size or 0,
        )
        attachment.file.save(upload.name or "upload", upload, save=False)
        saved.append(attachment.file)
        attachment.save()


def _create_case(
    *, report: ReportIn, service: Service, place: ResolvedLocation | None, **fields: Any
) -> Case:
    """Insert the case under a fresh reference (a clash, one in a billion, tries another)."""
    for attempt in range(5):
        try:
            with transaction.atomic():
                return Case.objects.create(
                    reference=new_reference(),
                    service=service,
                    department_id=service.department_id,
                    latitude=place.latitude if place else None,
                    longitude=place.longitude if place else None,
                    address=place.address if place else None,
                    area=place.area if place else None,
                    **fields,
                )
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def report_submit(
    *,
    report: ReportIn,
    channel: str,
    client: Open311Client | None = None,
    attachments: Sequence[UploadedFile] = (),
) -> ReportReceipt:
    """Open a case from a public report, or raise ValidationFailed and write nothing."""
    service, answers, place = _validate(report, channel)
    person_id, identity_review, considered = _reporter_match(report)
    nearby = (
        duplicate_points(service_id=service.id, latitude=place.latitude, longitude=place.longitude)
        if place is not None and service.place_based
        else []
    )
    secret = secrets.token_urlsafe(24)
    workflow = workflow_for(service)
    now = clock.now()
    name = " ".join(p for p in (report.first_name.strip(), report.last_name.strip()) if p)
    saved_files: list = []
    try:
        with transaction.atomic():
            case = _create_case(
                report=report,
                service=service,
                place=place,
                person_id=person_id,
                description=report.description.strip(),
                status=workflow.initial,
                channel=channel,
                reporter_name=name,
                reporter_email=report.email.strip(),
                reporter_phone=report.phone.strip(),
                opened_at=now,
                updated_at=now,
                due_at=now + dt.timedelta(days=service.sla_days) if service.sla_days else None,
                attributes=answers,
                media_url=report.media_url.strip(),
                identity_review=identity_review,
                reporter_language=report.language,
                contact_consent=report.contact_consent,
                notify_channel=report.notify_channel,
                tracking_token_hash=tracking_hash(secret),
            )
            CaseEvent.objects.create(
                case=case, kind=CaseEvent.Kind.OPENED, at=now, to_status=case.status
            )
            if client is not None or report.device_id or report.account_id:
                ReportOrigin.objects.create(
                    case=case,
                    client=client,
                    device_id=report.device_id.strip(),
                    account_id=report.account_id.strip(),
                )
            token = ""
            if service.kind in _ASYNC_KINDS:
                token = secrets.token_urlsafe(16)
                ServiceRequestToken.objects.create(token=token, client=client, case=case)
            if nearby:
                PossibleDuplicate.objects.bulk_create(
                    [
                        PossibleDuplicate(case=case, candidate_id=other, distance_m=metres)
                        for other, metres in nearby
                    ]
                )
            _store_files(case, attachments, saved_files)
            if person_id is not None:
                department_serves(person_id=person_id, department_id=service.department_id)
            if considered:
                audit_record(
                    viewer=VIEWER,
                    action="person.match",
                    object_type="person",
                    object_ids=[c.person_id for c in considered],
                    fields=[
                        f
                        for f, value in (
                            ("given_name", report.first_name),
                            ("family_name", report.last_name),
                            ("email", report.email),
                            ("phone", report.phone),
                        )
                        if value.strip()
                    ],
                    counts={"candidates": len(considered), "case_id": case.id},
                )
            audit_record(
                viewer=VIEWER,
                action="case.open",
                object_type="case",
                object_ids=[case.id] + ([person_id] if person_id else []),
                fields=_written_fields(report, place, answers, attachments),
                counts={"channel": channel, **({"client_id": client.id} if client else {})},
            )
            publish(
                DomainEvent(
                    "case.opened",
                    "case",
                    case.id,
                    None,
                    {
                        "person_id": person_id,
                        "service_id": service.id,
                        "department_id": service.department_id,
                        "channel": channel,
                    },
                )
            )
            publish(
                DomainEvent(
                    "report.received",
                    "case",
                    case.id,
                    None,
                    {"case_id": case.id, "tracking_secret": secret, "channel": channel},
                )
            )
    except BaseException:
        for stored in saved_files:  # the rows are gone with the transaction: so are the files
            stored.storage.delete(stored.name)
        raise
    return ReportReceipt(case=case, tracking_secret=secret, token=token, nearby=tuple(nearby))


def _written_fields(
    report: ReportIn, place: ResolvedLocation | None, answers: dict, attachments: Sequence
) -> list[str]:
    fields = ["service", "description", "channel"]
    if report.first_name or report.last_name or report.email or report.phone:
        fields.append("reporter")
    if place is not None:
        fields.append("location")
    if answers:
        fields.append("attributes")
    if report.media_url:
        fields.append("media_url")
    if attachments:
        fields.append("attachments")
    if report.notify_channel != NotifyChannel.NONE:
        fields.append("notify_channel")
    return fields
