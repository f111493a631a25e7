"""Writes of cases and contacts. Each service owns its transaction, writes its
audit event inside it and publishes a domain event after commit."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from civicloop.cases.models import Case, CaseEvent, Channel, Interaction, Priority
from civicloop.cases.workflow import status_label, workflow_for
from civicloop.catalogue.models import Service
from civicloop.core import clock
from civicloop.core.access import Conflict, Forbidden, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.people import policy
from civicloop.people.services import department_serves
from civicloop.places.models import Address
from civicloop.places.selectors import area_containing
from civicloop.staff.models import StaffMember
from civicloop.trust.audit import audit_record

_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
MAX_DESCRIPTION = 4000
MAX_SUMMARY = 4000


def new_reference() -> str:
    """A short reference a citizen can read out on the phone, e.g. 'CL-7KQ2-M9XD'."""
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"CL-{chars[:4]}-{chars[4:]}"


def _case_for_update(viewer: Viewer, case_id: int) -> Case:
    """Lock a case of the viewer's own departments, or raise NotVisible."""
    policy.require_casework_role(viewer)
    case = (
        Case.objects.select_for_update()
        .filter(pk=case_id, department_id__in=viewer.department_ids)
        .first()
    )
    if case is None:
        raise NotVisible("case")
    return case


def _check_version(case: Case, version: int | None) -> None:
    if version is not None and case.version != version:
        raise Conflict(
            _(
                "This case was changed by someone else since you opened it (it is now %(status)s). "
                "Reload it and try again."
            )
            % {"status": status_label(case.status)}
        )


def case_open(
    *,
    viewer: Viewer,
    service_id: int,
    person_id: int | None = None,
    description: str = "",
    priority: str = Priority.NORMAL,
    channel: str = Channel.PHONE,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    address_id: int | None = None,
) -> Case:
    """Open a case with a service of one of the viewer's departments."""
    policy.require_casework_role(viewer)
    service = (
        Service.objects.filter(pk=service_id, active=True).select_related("department").first()
    )
    errors: dict[str, str] = {}
    if service is None:
        raise ValidationFailed({"service": _("Choose a service from the list.")})
    if service.department_id not in viewer.department_ids:
        raise Forbidden("service")
    if person_id is not None:
        policy.require_person_visible(viewer, person_id)
    elif not (reporter_name or reporter_email or reporter_phone) and not service.place_based:
        errors["person"] = _(
            "Choose the person this case is for, or give the reporter's contact details."
        )
    if priority not in Priority.values:
        errors["priority"] = _("Choose a priority from the list.")
    if channel not in Channel.values:
        errors["channel"] = _("Choose how the request arrived.")
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = _("Keep the description under %(n)d characters.") % {
            "n": MAX_DESCRIPTION
        }
    address = None
    if address_id is not None:
        address = Address.objects.filter(pk=address_id).first()
        if address is None:
            errors["address"] = _("Choose an address from the gazetteer.")
        elif latitude is None:
            latitude, longitude = address.latitude, address.longitude
    if (latitude is None) != (longitude is None):
        errors["location"] = _("Give both latitude and longitude.")
    elif (
        latitude is not None
        and longitude is not None
        and not (-90 <= latitude <= 90 and -180 <= longitude <= 180)
    ):
        errors["location"] = _(
            "Give a latitude between -90 and 90 and a longitude between -180 and 180."
        )
    if service.place_based and latitude is None:
        errors["location"] = _("This service needs a location.")
    if errors:
        raise ValidationFailed(errors)
    area = (
        area_containing(latitude=latitude, longitude=longitude)
        if latitude is not None and longitude is not None
        else None
    )
    workflow = workflow_for(service)
    now = clock.now()
    with transaction.atomic():
        for attempt in range(5):
            try:
                with transaction.atomic():
                    case = Case.objects.create(
                        reference=new_reference(),
                        service=service,
                        department_id=service.department_id,
                        person_id=person_id,
                        description=description.strip(),
                        status=workflow.initial,
                        priority=priority,
                        channel=channel,
                        reporter_name=reporter_name.strip(),
                        reporter_email=reporter_email.strip(),
                        reporter_phone=reporter_phone.strip(),
                        opened_at=now,
                        updated_at=now,
                        due_at=now + dt.timedelta(days=service.sla_days)
                        if service.sla_days
                        else None,
                        latitude=latitude,
                        longitude=longitude,
                        address=address,
                        area=area,
                    )
                break
            except IntegrityError:
                if attempt == 4:
                    raise
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.OPENED,
            at=now,
            actor_id=viewer.staff_id,
            to_status=case.status,
        )
        if person_id is not None:
            department_serves(person_id=person_id, department_id=service.department_id)
        audit_record(
            viewer=viewer,
            action="case.open",
            object_type="case",
            object_ids=[case.id] + ([person_id] if person_id else []),
            fields=["service", "description", "priority", "channel"]
            + (["reporter"] if reporter_name or reporter_email or reporter_phone else [])
            + (["location"] if latitude is not None else []),
        )
        publish(
            DomainEvent(
                "case.opened",
                "case",
                case.id,
                viewer.user_id,
                {
                    "person_id": person_id,
                    "service_id": service.id,
                    "department_id": service.department_id,
                },
            )
        )
    return case


def case_transition(
    *, viewer: Viewer, case_id: int, to_status: str, version: int | None, note: str = ""
) -> Case:
    """Move a case along its workflow; moving back from resolved or closed reopens it."""
    with transaction.atomic():
        case = _case_for_update(viewer, case_id)
        _check_version(case, version)
        workflow = workflow_for(case.service)
        if not workflow.can_move(case.status, to_status):
            raise ValidationFailed(
                {
                    "status": _("A case that is %(from)s cannot move to %(to)s.")
                    % {"from": status_label(case.status), "to": status_label(to_status)}
                }
            )
        now = clock.now()
        from_status = case.status
        case.status = to_status
        if workflow.is_reopening(from_status, to_status):
            case.reopen_count += 1
            case.resolved_at = None
            case.closed_at = None
        if to_status in workflow.resolved:
            case.resolved_at = now
        if to_status in workflow.closed:
            case.closed_at = now
            case.resolved_at = case.resolved_at or now
        case.version += 1
        case.updated_at = now
        case.save()
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.STATUS,
            at=now,
            actor_id=viewer.staff_id,
            from_status=from_status,
            to_status=to_status,
            note=note.strip(),
        )
        audit_record(
            viewer=viewer,
            action="case.transition",
            object_type="case",
            object_ids=[case.id],
            fields=["status"] + (["note"] if note.strip() else []),
        )
        publish(
            DomainEvent(
                "case.status_changed",
                "case",
                case.id,
                viewer.user_id,
                {"from": from_status, "to": to_status, "person_id": case.person_id},
            )
        )
    return case


def case_assign(
    *, viewer: Viewer, case_id: int, assignee_id: int | None, version: int | None
) -> Case:
    """Assign a case. Caseworkers may take an unassigned case themselves; supervisors may reassign."""
    with transaction.atomic():
        case = _case_for_update(viewer, case_id)
        _check_version(case, version)
        if viewer.role != "supervisor":
            taking_free_case = assignee_id == viewer.staff_id and case.assignee_id in (
                None,
                viewer.staff_id,
            )
            if not taking_free_case:
                raise Forbidden("reassign")
        if assignee_id is not None:
            ok = StaffMember.objects.filter(
                pk=assignee_id,
                active=True,
                role__in=["caseworker", "supervisor"],
                departments=case.department_id,
            ).exists()
            if not ok:
                raise ValidationFailed(
                    {"assignee": _("Choose a member of staff of this case's department.")}
                )
        now = clock.now()
        case.assignee_id = assignee_id
        case.version += 1
        case.updated_at = now
        case.save(update_fields=["assignee", "version", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.ASSIGNED,
            at=now,
            actor_id=viewer.staff_id,
            assignee_id=assignee_id,
        )
        audit_record(
            viewer=viewer,
            action="case.assign",
            object_type="case",
            object_ids=[case.id],
            fields=["assignee"],
        )
        publish(
            DomainEvent(
                "case.assigned", "case", case.id, viewer.user_id, {"assignee_id": assignee_id}
            )
        )
    return case


def case_add_note(*, viewer: Viewer, case_id: int, note: str) -> CaseEvent:
    note = note.strip()
    if not note:
        raise ValidationFailed({"note": _("Enter a note.")})
    if len(note) > MAX_SUMMARY:
        raise ValidationFailed(
            {"note": _("Keep the note under %(n)d characters.") % {"n": MAX_SUMMARY}}
        )
    with transaction.atomic():
        case = _case_for_update(viewer, case_id)
        now = clock.now()
        event = CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.NOTE, at=now, actor_id=viewer.staff_id, note=note
        )
        Case.objects.filter(pk=case.pk).update(updated_at=now)
        audit_record(
            viewer=viewer,
            action="case.note",
            object_type="case",
            object_ids=[case.id],
            fields=["note"],
        )
        publish(
            DomainEvent("case.note_added", "case", case.id, viewer.user_id, {"event_id": event.id})
        )
    return event


def interaction_log(
    *,
    viewer: Viewer,
    channel: str,
    summary: str,
    direction: str = Interaction.Direction.INBOUND,
    person_id: int | None = None,
    case_id: int | None = None,
    department_id: int | None = None,
    is_chasing: bool = False,
    at: dt.datetime | None = None,
) -> Interaction:
    """Log a contact with a citizen, about a case of the viewer's department or a person they serve."""
    policy.require_casework_role(viewer)
    errors: dict[str, str] = {}
    if channel not in Channel.values:
        errors["channel"] = _("Choose how the contact was made.")
    if direction not in Interaction.Direction.values:
        errors["direction"] = _("Choose whether the contact was from or to the citizen.")
    if not summary.strip():
        errors["summary"] = _("Enter a summary of the contact.")
    elif len(summary) > MAX_SUMMARY:
        errors["summary"] = _("Keep the summary under %(n)d characters.") % {"n": MAX_SUMMARY}
    now = clock.now()
    if at is not None and at > now:
        errors["at"] = _("The time of a contact cannot be in the future.")
    if case_id is None and person_id is None:
        errors["person"] = _("Choose the person or the case this contact is about.")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if case_id is not None:
            case = Case.objects.filter(pk=case_id, department_id__in=viewer.department_ids).first()
            if case is None:
                raise NotVisible("case")
            if person_id is not None and case.person_id not in (None, person_id):
                raise ValidationFailed({"case": _("This case belongs to someone else.")})
            person_id = case.person_id
            dept_id = case.department_id
        else:
            assert person_id is not None  # a contact without a case was refused above
            policy.require_person_visible(viewer, person_id)
            if department_id is None:
                if len(viewer.department_ids) != 1:
                    raise ValidationFailed(
                        {"department": _("Choose the department you are acting for.")}
                    )
                dept_id = next(iter(viewer.department_ids))
            elif department_id not in viewer.department_ids:
                raise Forbidden("department")
            else:
                dept_id = department_id
        interaction = Interaction.objects.create(
            person_id=person_id,
            case_id=case_id,
            department_id=dept_id,
            channel=channel,
            direction=direction,
            at=at or now,
            actor_id=viewer.staff_id,
            summary=summary.strip(),
            is_chasing=is_chasing,
        )
        audit_record(
            viewer=viewer,
            action="contact.log",
            object_type="interaction",
            object_ids=[interaction.id] + [i for i in (person_id, case_id) if i],
            fields=["channel", "summary"],
        )
        publish(
            DomainEvent(
                "contact.logged",
                "interaction",
                interaction.id,
                viewer.user_id,
                {"person_id": person_id, "case_id": case_id, "department_id": dept_id},
            )
        )
    return interaction
