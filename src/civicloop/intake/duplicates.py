"""Reports of the same problem. Staff mark a case a duplicate of another; from then on it
follows the original's status (so its reporter hears of progress through the usual
`case.status_changed` event). Duplicates always point at the original itself, never at
another duplicate, so following is one step.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from civicloop.cases.models import Case, CaseEvent
from civicloop.cases.workflow import workflow_for
from civicloop.core import clock
from civicloop.core.access import NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.people import policy
from civicloop.trust.audit import audit_record

VIEWER = Viewer.system("intake")
MAX_CHAIN = 20


def _following_status(duplicate: Case, original: Case) -> str | None:
    """The status of the duplicate's workflow that matches the original's, or None."""
    workflow = workflow_for(duplicate.service)
    if original.status in workflow.statuses:
        return original.status
    theirs = workflow_for(original.service)
    if original.status in theirs.closed and workflow.closed:
        return sorted(workflow.closed)[0]
    if original.status in theirs.resolved and workflow.resolved:
        return sorted(workflow.resolved)[0]
    return None


def status_apply(
    case: Case, to_status: str, now: dt.datetime, *, actor_id: int | None, note: str = ""
) -> CaseEvent:
    """Move a locked case to a status of its workflow as the system (not saved; its
    timestamps kept as case_transition keeps them); returns the history entry written."""
    workflow = workflow_for(case.service)
    from_status = case.status
    if workflow.is_reopening(from_status, to_status):
        case.reopen_count += 1
        case.resolved_at = None
        case.closed_at = None
    if to_status in workflow.resolved:
        case.resolved_at = now
    if to_status in workflow.closed:
        case.closed_at = now
        case.resolved_at = case.resolved_at or now
    case.status = to_status
    return CaseEvent.objects.create(
        case=case,
        kind=CaseEvent.Kind.STATUS,
        at=now,
        actor_id=actor_id,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


def _follow(duplicate: Case, original: Case, now: dt.datetime, actor_id: int | None) -> str | None:
    """Move the duplicate to the original's status (not saved); its old status if it moved."""
    to_status = _following_status(duplicate, original)
    if to_status is None or to_status == duplicate.status:
        return None
    event = status_apply(duplicate, to_status, now, actor_id=actor_id, note=original.reference)
    return event.from_status


def _status_event(case: Case, from_status: str, actor_user_id: int | None, original: Case):
    return DomainEvent(
        "case.status_changed",
        "case",
        case.id,
        actor_user_id,
        {
            "from": from_status,
            "to": case.status,
            "person_id": case.person_id,
            "follows": original.id,
        },
    )


def case_mark_duplicate(*, viewer: Viewer, case_id: int, original_id: int) -> Case:
    """Mark a case of the viewer's departments a duplicate of another they can see; it (and
    any duplicates of its own) then follow the original's status."""
    policy.require_casework_role(viewer)
    if case_id == original_id:
        raise ValidationFailed({"original": _("A case cannot be a duplicate of itself.")})
    with transaction.atomic():
        cases = {
            c.id: c
            for c in Case.objects.select_for_update()
            .filter(pk__in=[case_id, original_id], department_id__in=viewer.department_ids)
            .select_related("service")
        }
        case = cases.get(case_id)
        if case is None:
            raise NotVisible("case")
        original = cases.get(original_id)
        if original is None:
            raise NotVisible("case")
        for _step in range(MAX_CHAIN):
            if original.duplicate_of_id is None:
                break
            original = Case.objects.select_related("service").get(pk=original.duplicate_of_id)
        if original.id == case.id:
            raise ValidationFailed({"original": _("That case is already a duplicate of this one.")})
        if case.duplicate_of_id == original.id:
            return case
        now = clock.now()
        moved = []
        followers = list(
            Case.objects.select_for_update().filter(duplicate_of=case).select_related("service")
        )
        for target in [case, *followers]:
            target.duplicate_of = original
            from_status = _follow(target, original, now, viewer.staff_id)
            target.version += 1
            target.updated_at = now
            target.save()
            if from_status is not None:
                moved.append((target, from_status))
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.EDITED,
            at=now,
            actor_id=viewer.staff_id,
            note=original.reference,
        )
        audit_record(
            viewer=viewer,
            action="case.mark_duplicate",
            object_type="case",
            object_ids=[case.id, original.id, *(f.id for f in followers)],
            fields=["duplicate_of"] + (["status"] if moved else []),
        )
        publish(
            DomainEvent(
                "case.marked_duplicate",
                "case",
                case.id,
                viewer.user_id,
                {"original_id": original.id},
            )
        )
        for target, from_status in moved:
            publish(_status_event(target, from_status, viewer.user_id, original))
    return case


def duplicates_follow(event: DomainEvent) -> None:
    """On `case.status_changed`: the case's duplicates take its new status."""
    original_id = int(event.object_id)
    if not Case.objects.filter(duplicate_of_id=original_id).exists():
        return
    with transaction.atomic():
        original = Case.objects.select_related("service").get(pk=original_id)
        now = clock.now()
        duplicates = (
            Case.objects.select_for_update()
            .filter(duplicate_of_id=original_id)
            .select_related("service")
            .order_by("id")
        )
        for duplicate in duplicates:
            from_status = _follow(duplicate, original, now, None)
            if from_status is None:
                continue
            duplicate.version += 1
            duplicate.updated_at = now
            duplicate.save()
            audit_record(
                viewer=VIEWER,
                action="case.transition",
                object_type="case",
                object_ids=[duplicate.id, original.id],
                fields=["status"],
            )
            publish(_status_event(duplicate, from_status, None, original))
