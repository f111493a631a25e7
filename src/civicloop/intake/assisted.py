"""Staff-assisted intake: a caseworker on the phone or at the desk (or working through an
email from the triage queue) finds or adds the person, records their need, opens the case
and logs the contact in one step.

One transaction and one audit event: if any part is refused, nothing is written, not even
the new person. The parts are the people and cases services themselves, so their rules
(and their domain events) hold here too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from civicloop.cases import services as case_services
from civicloop.cases.models import Case, Channel, Interaction, Priority
from civicloop.catalogue.models import Need, Service
from civicloop.catalogue.selectors import service_list
from civicloop.core import clock
from civicloop.core.access import ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.intake import triage
from civicloop.intake.models import TriageItem
from civicloop.people import policy
from civicloop.people import services as people_services
from civicloop.people.models import Link, Person, PersonNeed, SourceRecord
from civicloop.trust.audit import audit_as_one, audit_record

ASSISTED_CHANNELS = (Channel.PHONE, Channel.IN_PERSON)


@dataclass(frozen=True)
class PersonDetails:
    """The person's details as the caseworker took them down."""

    given_name: str
    family_name: str
    date_of_birth: dt.date | None = None
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class AssistedIntake:
    case: Case
    person: Person
    person_need: PersonNeed
    interaction: Interaction
    person_created: bool
    # The person already had this need open with the department: it was not recorded twice.
    need_already_open: bool
    # The department had no record of its own of a person found by the duplicate check.
    department_record_created: bool


def intake_services(viewer: Viewer) -> QuerySet[Service]:
    """Services a case may be opened with here: active ones of the viewer's departments that
    need no location (a place-based report comes through the portal or Open311, which match
    the address against the gazetteer)."""
    return service_list().filter(department_id__in=viewer.department_ids, place_based=False)


def _check(
    viewer: Viewer,
    *,
    service_id: int | None,
    need_id: int | None,
    description: str,
    channel: str,
    priority: str,
    summary: str,
    person_id: int | None,
    details: PersonDetails | None,
    from_email: bool,
) -> Service:
    """Every rule of the form at once, so the caseworker sees every problem in one go."""
    errors: dict[str, str] = {}
    service = intake_services(viewer).filter(pk=service_id).first() if service_id else None
    if service is None:
        errors["service"] = _("Choose a service from the list.")
    if not need_id or not Need.objects.filter(pk=need_id).exists():
        errors["need"] = _("Choose the person's need from the list.")
    if person_id is None and details is None:
        errors["person"] = _("Find the person or add a new one.")
    if details is not None and person_id is None:
        if not details.given_name.strip():
            errors["given_name"] = _("Enter a given name.")
        if not details.family_name.strip():
            errors["family_name"] = _("Enter a family name.")
    if not description.strip():
        errors["description"] = _("Describe what the person needs help with.")
    elif len(description) > case_services.MAX_DESCRIPTION:
        errors["description"] = _("Keep the description under %(n)d characters.") % {
            "n": case_services.MAX_DESCRIPTION
        }
    if priority not in Priority.values:
        errors["priority"] = _("Choose a priority from the list.")
    if not from_email:
        if channel not in ASSISTED_CHANNELS:
            errors["channel"] = _("Choose how the person got in touch.")
        if not summary.strip():
            errors["summary"] = _("Enter a summary of the conversation.")
        elif len(summary) > case_services.MAX_SUMMARY:
            errors["summary"] = _("Keep the summary under %(n)d characters.") % {
                "n": case_services.MAX_SUMMARY
            }
    if errors:
        raise ValidationFailed(errors)
    assert service is not None
    return service


def _department_record(
    viewer: Viewer, *, person_id: int, department_id: int, details: PersonDetails
) -> bool:
    """Give the department its own record of a person it had none of, holding the details
    the person gave this time, linked by staff. Returns whether one was made."""
    if Link.objects.filter(
        person_id=person_id, active=True, source_record__department_id=department_id
    ).exists():
        return False
    local_id = f"CL-{person_id}"
    if SourceRecord.objects.filter(department_id=department_id, local_id=local_id).exists():
        # A record under this id was moved to someone else by an unmerge: leave it be.
        return False
    now = clock.now()
    record = SourceRecord.objects.create(
        department_id=department_id,
        local_id=local_id,
        given_name=details.given_name.strip(),
        family_name=details.family_name.strip(),
        date_of_birth=details.date_of_birth,
        email=details.email.strip(),
        phone=details.phone.strip(),
        received_at=now,
    )
    Link.objects.create(
        source_record=record,
        person_id=person_id,
        method=Link.Method.MANUAL,
        created_at=now,
        confirmed_by_id=viewer.staff_id,
    )
    people_services.department_serves(person_id=person_id, department_id=department_id)
    audit_record(
        viewer=viewer,
        action="person.record_linked",
        object_type="source_record",
        object_ids=[record.id, person_id],
        fields=[
            f
            for f in ("given_name", "family_name", "date_of_birth", "email", "phone")
            if getattr(details, f)
        ],
    )
    # The match index files a person under their linked records' keys too.
    publish(
        DomainEvent(
            "people.records_imported",
            "department",
            department_id,
            viewer.user_id,
            {"person_ids": [person_id]},
        )
    )
    return True


def intake_assisted(
    *,
    viewer: Viewer,
    service_id: int | None,
    need_id: int | None,
    description: str,
    channel: str = Channel.PHONE,
    priority: str = Priority.NORMAL,
    summary: str = "",
    person_id: int | None = None,
    details: PersonDetails | None = None,
    triage_item_id: int | None = None,
    triage_version: str = "",
) -> AssistedIntake:
    """Open a case for a person, found (`person_id`) or new (`details`), with their need and
    the contact, for a service of one of the viewer's departments.

    `details` with `person_id` are what the person said when the duplicate check found them:
    they become the department's own record of the person if it had none. From a triage item
    the contact is the email itself and the item is marked as having its case.
    """
    policy.require_casework_role(viewer)
    from_email = triage_item_id is not None
    service = _check(
        viewer,
        service_id=service_id,
        need_id=need_id,
        description=description,
        channel=channel,
        priority=priority,
        summary=summary,
        person_id=person_id,
        details=details,
        from_email=from_email,
    )
    assert need_id is not None  # _check refused a missing need
    if person_id is not None:
        policy.require_person_visible(viewer, person_id)
    department_id = service.department_id
    with audit_as_one(viewer=viewer, action="intake.assisted", object_type="case"):
        item = None
        if triage_item_id is not None:
            item = triage.triage_item_for_update(
                viewer=viewer, item_id=triage_item_id, version=triage_version
            )
        record_created = False
        if person_id is None:
            assert details is not None
            person = people_services.person_create(
                viewer=viewer,
                given_name=details.given_name,
                family_name=details.family_name,
                date_of_birth=details.date_of_birth,
                email=details.email,
                phone=details.phone,
                department_id=department_id,
            )
        else:
            person = Person.objects.get(pk=person_id)
            if details is not None:
                record_created = _department_record(
                    viewer, person_id=person.id, department_id=department_id, details=details
                )
        person_need = (
            PersonNeed.objects.filter(
                person_id=person.id,
                need_id=need_id,
                department_id=department_id,
                status=PersonNeed.Status.OPEN,
            )
            .order_by("-recorded_at")
            .first()
        )
        need_already_open = person_need is not None
        if person_need is None:
            person_need = people_services.need_record(
                viewer=viewer, person_id=person.id, need_id=need_id, department_id=department_id
            )
        case = case_services.case_open(
            viewer=viewer,
            service_id=service.id,
            person_id=person.id,
            description=description,
            priority=priority,
            channel=Channel.EMAIL if from_email else channel,
        )
        if item is not None:
            interaction = case_services.interaction_log(
                viewer=viewer,
                channel=Channel.EMAIL,
                summary=triage.email_summary(item),
                case_id=case.id,
                at=item.received_at,
            )
            triage.triage_item_settle(
                viewer=viewer, item=item, status=TriageItem.Status.CASE_OPENED, case=case
            )
        else:
            interaction = case_services.interaction_log(
                viewer=viewer, channel=channel, summary=summary, case_id=case.id
            )
    return AssistedIntake(
        case=case,
        person=person,
        person_need=person_need,
        interaction=interaction,
        person_created=person_id is None,
        need_already_open=need_already_open,
        department_record_created=record_created,
    )
