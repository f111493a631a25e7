"""What a reporter may do to their own report through the secret of its tracking link:
add an update, say it was fixed, reopen it when it was not, and — right after making it —
follow an open report they said is the same problem.

Each service checks the secret itself, owns its transaction, audits as the reporter (ids
and field names only) and publishes the domain event the cases app would.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from civicloop.cases.models import Case, CaseEvent, Channel, Interaction
from civicloop.cases.workflow import status_label, workflow_for
from civicloop.core import clock
from civicloop.core.access import Conflict, NotVisible, ValidationFailed
from civicloop.core.events import DomainEvent, publish
from civicloop.intake.duplicates import status_apply
from civicloop.intake.selectors import TRACKING_VIEWER
from civicloop.portal.selectors import tracking_secret_matches
from civicloop.trust.audit import audit_record

MAX_UPDATE = 2000


def _tracked_case_for_update(reference: str, secret: str) -> Case:
    """Lock the case this tracking link is for, or raise NotVisible."""
    case_id = tracking_secret_matches(reference=reference, secret=secret)
    case = (
        Case.objects.select_for_update().select_related("service").filter(pk=case_id).first()
        if case_id
        else None
    )
    if case is None or case.service.sensitive:
        raise NotVisible("report")
    return case


def _check_text(text: str, field: str, *, required_message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({field: required_message})
    if len(text) > MAX_UPDATE:
        raise ValidationFailed({field: _("Keep it under %(n)d characters.") % {"n": MAX_UPDATE}})
    if "\x00" in text:
        raise ValidationFailed({field: _("Remove the control characters.")})
    return text


def _log_contact(case: Case, summary: str, at) -> Interaction:
    return Interaction.objects.create(
        person_id=case.person_id,
        case=case,
        department_id=case.department_id,
        channel=Channel.WEB,
        direction=Interaction.Direction.INBOUND,
        at=at,
        summary=summary,
    )


def _audit_and_publish_contact(case: Case, contact: Interaction, *, outcome: str) -> None:
    """Audit and announce a contact the reporter made, as the cases app does for any
    contact (`contact.logged`). Not `case.update_added`: that one is a public update, which
    notifications send to the reporter, and this came from them."""
    audit_record(
        viewer=TRACKING_VIEWER,
        action="contact.log",
        object_type="interaction",
        object_ids=[contact.id, case.id],
        fields=["channel", "summary"],
    )
    publish(
        DomainEvent(
            "contact.logged",
            "interaction",
            contact.id,
            None,
            {
                "person_id": case.person_id,
                "case_id": case.id,
                "department_id": case.department_id,
                "by": "reporter",
                "outcome": outcome,
            },
        )
    )


def report_add_update(*, reference: str, secret: str, text: str) -> Interaction:
    """Add the reporter's update to their report, for its department to read (not published)."""
    text = _check_text(text, "update", required_message=_("Enter your update."))
    with transaction.atomic():
        case = _tracked_case_for_update(reference, secret)
        now = clock.now()
        contact = _log_contact(case, text, now)
        Case.objects.filter(pk=case.pk).update(updated_at=now)
        _audit_and_publish_contact(case, contact, outcome="update")
    return contact


def report_confirm_fixed(*, reference: str, secret: str) -> Interaction:
    """Record that the reporter says a resolved or closed report's problem is fixed."""
    with transaction.atomic():
        case = _tracked_case_for_update(reference, secret)
        if workflow_for(case.service).is_open(case.status):
            raise Conflict(_("This report is still open: we have not said it is fixed yet."))
        now = clock.now()
        # Staff read this note, so it is written in the agency's language, not the reporter's.
        with translation.override(settings.LANGUAGE_CODE):
            summary = _("The reporter confirmed the problem is fixed.")
        contact = _log_contact(case, summary, now)
        _audit_and_publish_contact(case, contact, outcome="fixed")
    return contact


def report_reopen(*, reference: str, secret: str, reason: str) -> Case:
    """Reopen a resolved or closed report whose problem is not fixed: it moves back along
    its workflow (the first reopening move the workflow allows), with the reason noted."""
    reason = _check_text(reason, "reason", required_message=_("Tell us what is still wrong."))
    with transaction.atomic():
        case = _tracked_case_for_update(reference, secret)
        workflow = workflow_for(case.service)
        from_status = case.status
        to_status = next(
            (
                s
                for s in workflow.allowed_from(from_status)
                if workflow.is_reopening(from_status, s)
            ),
            None,
        )
        if to_status is None:
            raise Conflict(
                _("A report that is %(status)s cannot be reopened.")
                % {"status": status_label(from_status)}
            )
        now = clock.now()
        change = status_apply(case, to_status, now, actor_id=None, note=reason)
        case.version += 1
        case.updated_at = now
        case.save()
        audit_record(
            viewer=TRACKING_VIEWER,
            action="case.transition",
            object_type="case",
            object_ids=[case.id],
            fields=["status", "note"],
            counts={"reopened": 1},
        )
        publish(
            DomainEvent(
                "case.status_changed",
                "case",
                case.id,
                None,
                {
                    "from": from_status,
                    "to": to_status,
                    "person_id": case.person_id,
                    "case_event_id": change.id,
                    "reopened_by": "reporter",
                },
            )
        )
    return case


def report_follow(*, reference: str, secret: str, original_reference: str) -> Case | None:
    """Make a report just made the duplicate of the open report its reporter said is the
    same problem: it then follows that report's status. The original must be a public,
    open report of the same service; if it is not (any more), nothing changes and None is
    returned, and the report stays one of its own for staff to look at."""
    with transaction.atomic():
        case = _tracked_case_for_update(reference, secret)
        original = (
            Case.objects.select_for_update()
            .select_related("service")
            .filter(
                reference=original_reference,
                service_id=case.service_id,
                service__public=True,
                service__sensitive=False,
                service__place_based=True,
            )
            .exclude(pk=case.pk)
            .first()
        )
        # Duplicates point at the original itself, never at another duplicate.
        if original is not None and original.duplicate_of_id is not None:
            original = Case.objects.select_related("service").get(pk=original.duplicate_of_id)
        if (
            original is None
            or original.id == case.id
            or case.duplicate_of_id is not None
            or not workflow_for(original.service).is_open(original.status)
        ):
            return None
        now = clock.now()
        from_status = case.status
        case.duplicate_of = original
        moved = (
            original.status != case.status
            and original.status in workflow_for(case.service).statuses
        )
        change = (
            status_apply(case, original.status, now, actor_id=None, note=original.reference)
            if moved
            else None
        )
        case.version += 1
        case.updated_at = now
        case.save()
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.EDITED, at=now, actor=None, note=original.reference
        )
        audit_record(
            viewer=TRACKING_VIEWER,
            action="case.mark_duplicate",
            object_type="case",
            object_ids=[case.id, original.id],
            fields=["duplicate_of"] + (["status"] if moved else []),
        )
        publish(
            DomainEvent(
                "case.marked_duplicate",
                "case",
                case.id,
                None,
                {"original_id": original.id, "by": "reporter"},
            )
        )
        if change is not None:
            publish(
                DomainEvent(
                    "case.status_changed",
                    "case",
                    case.id,
                    None,
                    {
                        "from": from_status,
                        "to": case.status,
                        "person_id": case.person_id,
                        "follows": original.id,
                        "case_event_id": change.id,
                    },
                )
            )
    return case
