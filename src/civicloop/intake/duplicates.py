"""Reports of the same problem. Staff mark a case a duplicate of another; from then on it
follows the original's status (so its reporter hears of progress through the usual
`case.status_changed` event). Duplicates always point at the original itself, never at
another duplicate, so following is one step.

A new place-based report near an open one of the same service is recorded as a
PossibleDuplicate pair; staff review the open pairs of their departments and confirm them
(the report becomes a duplicate of the older one) or dismiss them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from civicloop.cases.models import Case, CaseEvent
from civicloop.cases.workflow import workflow_for
from civicloop.core import clock
from civicloop.core.access import Conflict, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.core.pagination import Page, clamp_page
from civicloop.intake.models import PossibleDuplicate
from civicloop.people import policy
from civicloop.trust.audit import audit_as_one, audit_record

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
        if original.service_id != case.service_id:
            raise ValidationFailed(
                {
                    "original": _(
                        "Case %(ref)s is about another service (%(service)s): only a report "
                        "of the same service can be a duplicate."
                    )
                    % {"ref": original.reference, "service": original.service.name}
                }
            )
        now = clock.now()
        _settle_pairs(viewer, case.id, {original_id, original.id}, now)
        if case.duplicate_of_id == original.id:
            return case
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


# -- possible duplicates --------------------------------------------------------------------


def _settle_pairs(viewer: Viewer, case_id: int, original_ids: set[int], now: dt.datetime) -> None:
    """Open pairs of the case and its original (either way round) are decided: confirmed."""
    PossibleDuplicate.objects.filter(
        Q(case_id=case_id, candidate_id__in=original_ids)
        | Q(case_id__in=original_ids, candidate_id=case_id),
        resolution=PossibleDuplicate.Resolution.OPEN,
    ).update(
        resolution=PossibleDuplicate.Resolution.CONFIRMED,
        resolved_by_id=viewer.staff_id,
        resolved_at=now,
    )


def _pairs_visible_to(viewer: Viewer):
    # Both reports are of one service, so of one department; both are checked all the same.
    return PossibleDuplicate.objects.filter(
        case__department_id__in=viewer.department_ids,
        candidate__department_id__in=viewer.department_ids,
    )


def _with_cases(qs):
    # An area's polygon is never shown: not read either.
    return qs.select_related(
        "case__service",
        "case__address",
        "case__area",
        "candidate__service",
        "candidate__address",
        "candidate__area",
    ).defer("case__area__polygon", "candidate__area__polygon")


def _pair_ids(pairs) -> list[int]:
    return [i for p in pairs for i in (p.case_id, p.candidate_id)]


def possible_duplicates_open(
    *, viewer: Viewer, page: int | None = 1, page_size: int | None = None
) -> Page[PossibleDuplicate]:
    """Open pairs of the viewer's departments, newest first, each with both cases."""
    policy.require_casework_role(viewer)
    page, size = clamp_page(page, page_size, settings.CIVICLOOP["SEARCH_PAGE_SIZE"])
    qs = _pairs_visible_to(viewer).filter(resolution=PossibleDuplicate.Resolution.OPEN)
    with transaction.atomic():
        total = qs.count()
        start = (page - 1) * size
        pairs = list(_with_cases(qs).order_by("-created_at", "-id")[start : start + size])
        audit_record(
            viewer=viewer,
            action="possible_duplicate.list",
            object_type="case",
            object_ids=_pair_ids(pairs),
            fields=["reference", "service", "place", "status", "description"],
            counts={"total": total, "page": page},
        )
    return Page(items=pairs, page=page, page_size=size, total=total)


@dataclass(frozen=True)
class NearbyReport:
    """An open pair seen from one of its cases: the other case and how far away it is."""

    pair_id: int
    other: Case
    distance_m: float


def possible_duplicates_of_case(*, viewer: Viewer, case_id: int) -> list[NearbyReport]:
    """The open pairs of a case of the viewer's departments, nearest first; audited."""
    policy.require_casework_role(viewer)
    qs = (
        _pairs_visible_to(viewer)
        .filter(Q(case_id=case_id) | Q(candidate_id=case_id))
        .filter(resolution=PossibleDuplicate.Resolution.OPEN)
        .select_related("case", "candidate")
        .only(
            "id",
            "distance_m",
            "case_id",
            "candidate_id",
            "case__reference",
            "case__status",
            "candidate__reference",
            "candidate__status",
        )
        .order_by("distance_m", "id")
    )
    with transaction.atomic():
        pairs = list(qs)
        found = [
            NearbyReport(
                pair_id=p.id,
                other=p.candidate if p.case_id == case_id else p.case,
                distance_m=p.distance_m,
            )
            for p in pairs
        ]
        if found:
            audit_record(
                viewer=viewer,
                action="possible_duplicate.list",
                object_type="case",
                object_ids=[case_id, *(n.other.id for n in found)],
                fields=["reference", "status"],
            )
    return found


def _pair_for_update(viewer: Viewer, pair_id: int) -> PossibleDuplicate:
    """Lock an open pair of the viewer's departments; NotVisible or Conflict otherwise."""
    policy.require_casework_role(viewer)
    pair = _pairs_visible_to(viewer).select_for_update(of=("self",)).filter(pk=pair_id).first()
    if pair is None:
        raise NotVisible("possible_duplicate")
    if pair.resolution != PossibleDuplicate.Resolution.OPEN:
        raise Conflict(
            _("Someone else has already decided about these two reports: %(decision)s.")
            % {"decision": pair.get_resolution_display().lower()}
        )
    return pair


def possible_duplicate_confirm(*, viewer: Viewer, pair_id: int) -> Case:
    """The two reports are the same problem: the newer becomes a duplicate of the older
    (case_mark_duplicate: it follows the original's status, its reporter is told), and the
    pair is confirmed. Returns the newer case, its `duplicate_of` set."""
    with audit_as_one(
        viewer=viewer, action="possible_duplicate.confirm", object_type="possible_duplicate"
    ):
        pair = _pair_for_update(viewer, pair_id)
        case = case_mark_duplicate(
            viewer=viewer, case_id=pair.case_id, original_id=pair.candidate_id
        )
        audit_record(
            viewer=viewer,
            action="possible_duplicate.confirm",
            object_type="possible_duplicate",
            object_ids=[pair.id],
            fields=["resolution"],
        )
    return case


def possible_duplicate_dismiss(*, viewer: Viewer, pair_id: int) -> PossibleDuplicate:
    """The two reports are not the same problem: the pair leaves the queue, both cases as
    they were."""
    with transaction.atomic():
        pair = _pair_for_update(viewer, pair_id)
        pair.resolution = PossibleDuplicate.Resolution.DISMISSED
        pair.resolved_by_id = viewer.staff_id
        pair.resolved_at = clock.now()
        pair.save(update_fields=["resolution", "resolved_by", "resolved_at"])
        audit_record(
            viewer=viewer,
            action="possible_duplicate.dismiss",
            object_type="possible_duplicate",
            object_ids=[pair.id, pair.case_id, pair.candidate_id],
            fields=["resolution"],
        )
        publish(
            DomainEvent(
                "possible_duplicate.dismissed",
                "possible_duplicate",
                pair.id,
                viewer.user_id,
                {"case_id": pair.case_id, "candidate_id": pair.candidate_id},
            )
        )
    return pair


def case_mark_duplicate_of_reference(*, viewer: Viewer, case_id: int, reference: str) -> Case:
    """Mark a case of the viewer's departments a duplicate of the case with this reference,
    which must be one of theirs too (any other is reported as unknown: nothing leaks)."""
    policy.require_casework_role(viewer)
    if not Case.objects.filter(pk=case_id, department_id__in=viewer.department_ids).exists():
        raise NotVisible("case")
    reference = reference.strip().upper()
    if not reference:
        raise ValidationFailed({"reference": _("Enter the reference of the original case.")})
    original_id = (
        Case.objects.filter(reference__iexact=reference, department_id__in=viewer.department_ids)
        .values_list("id", flat=True)
        .first()
    )
    if original_id is None:
        raise ValidationFailed(
            {
                "reference": _("No case of your departments has the reference %(ref)s.")
                % {"ref": reference}
            }
        )
    try:
        return case_mark_duplicate(viewer=viewer, case_id=case_id, original_id=original_id)
    except ValidationFailed as error:
        messages = [m for field_messages in error.errors.values() for m in field_messages]
        raise ValidationFailed({"reference": messages}) from error
