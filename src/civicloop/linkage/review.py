"""Clerical review: which uncertain pairs a member of staff may decide, and their decisions.

A decision is a ConfirmedPair that every later linking run keeps; a confirmed match also
merges the two people at once, so staff need not wait for the next run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from civicloop.core import clock
from civicloop.core.access import Conflict, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.linkage.models import ConfirmedPair, ReviewItem
from civicloop.people import merge as merging
from civicloop.people import policy
from civicloop.people.models import Link, PersonDepartment, PersonMerge, SourceRecord
from civicloop.trust.audit import audit_record


def review_items_for(viewer: Viewer):
    """ReviewItems the viewer may review: a record of one of their departments is in it."""
    policy.require_casework_role(viewer)
    own = Q(source_record_l__department_id__in=viewer.department_ids) | Q(
        source_record_r__department_id__in=viewer.department_ids
    )
    return ReviewItem.objects.filter(own)


def require_review_item(viewer: Viewer, review_item_id: int) -> ReviewItem:
    """The item, if the viewer may review it; NotVisible otherwise (even if it exists)."""
    item = (
        review_items_for(viewer)
        .select_related("source_record_l", "source_record_r")
        .filter(pk=review_item_id)
        .first()
    )
    if item is None:
        raise NotVisible("review_item")
    return item


class ReviewDecision:
    CONFIRM = "confirm"
    REJECT = "reject"
    SKIP = "skip"
    ALL = (CONFIRM, REJECT, SKIP)


@dataclass(frozen=True)
class ReviewOutcome:
    item: ReviewItem
    decision: str
    merge: PersonMerge | None = None
    already_one_person: bool = False
    separate_next_run: bool = False


def _active_person(record_id: int) -> int | None:
    return (
        Link.objects.filter(source_record_id=record_id, active=True)
        .values_list("person_id", flat=True)
        .first()
    )


def review_decide(*, viewer: Viewer, review_item_id: int, decision: str) -> ReviewOutcome:
    """Record a reviewer's decision on a pair.

    Confirm: a ConfirmedPair match, and the two people merged (the one with more records
    kept; the older on a tie). Reject: a ConfirmedPair non-match; if the pair is already
    one person, the next linking run separates them. Skip: left for someone else, marked.
    """
    if decision not in ReviewDecision.ALL:
        raise ValidationFailed({"decision": _("Choose whether these are the same person.")})
    require_review_item(viewer, review_item_id)
    now = clock.now()
    with transaction.atomic():
        item = ReviewItem.objects.select_for_update().get(pk=review_item_id)
        if item.status not in ReviewItem.UNDECIDED:
            raise Conflict(_("Someone has already decided on this pair."))
        item.decided_by_id = viewer.staff_id
        item.decided_at = now
        outcome = ReviewOutcome(item=item, decision=decision)
        if decision == ReviewDecision.SKIP:
            item.status = ReviewItem.Status.SKIPPED
        else:
            item.status = (
                ReviewItem.Status.CONFIRMED
                if decision == ReviewDecision.CONFIRM
                else ReviewItem.Status.REJECTED
            )
            confirmed = ConfirmedPair.objects.create(
                source_record_l_id=item.source_record_l_id,
                source_record_r_id=item.source_record_r_id,
                is_match=decision == ReviewDecision.CONFIRM,
                by_id=viewer.staff_id,
                at=now,
                review_item=item,
            )
            people = [
                _active_person(item.source_record_l_id),
                _active_person(item.source_record_r_id),
            ]
            if decision == ReviewDecision.CONFIRM:
                outcome = _confirm(viewer, item, confirmed, people)
            else:
                outcome = ReviewOutcome(
                    item=item,
                    decision=decision,
                    separate_next_run=people[0] is not None and people[0] == people[1],
                )
        item.save(update_fields=["status", "decided_by", "decided_at"])
        merge = outcome.merge
        audit_record(
            viewer=viewer,
            action=f"review.{decision}",
            object_type="review_item",
            object_ids=[item.id, item.source_record_l_id, item.source_record_r_id]
            + ([merge.id, merge.kept_person_id, merge.merged_person_id] if merge else []),
            fields=["decision"],
        )
        if merge is not None:
            merging.publish_merge(merge, viewer)
        publish(
            DomainEvent(
                "review.decided", "review_item", item.id, viewer.user_id, {"decision": decision}
            )
        )
    return outcome


def _confirm(viewer: Viewer, item: ReviewItem, confirmed: ConfirmedPair, people) -> ReviewOutcome:
    left, right = people
    if left is not None and left == right:
        return ReviewOutcome(item=item, decision=ReviewDecision.CONFIRM, already_one_person=True)
    if left is None or right is None:
        # One record was never linked: it joins the other's person, confirmed by staff.
        person_id = left if left is not None else right
        if person_id is None:
            raise Conflict(_("Neither record is linked to a person yet. Run linking first."))
        record_id = item.source_record_l_id if left is None else item.source_record_r_id
        record = SourceRecord.objects.get(pk=record_id)
        Link.objects.create(
            source_record=record,
            person_id=person_id,
            method=Link.Method.MANUAL,
            confirmed_by_id=viewer.staff_id,
        )
        PersonDepartment.objects.bulk_create(
            [PersonDepartment(person_id=person_id, department_id=record.department_id)],
            ignore_conflicts=True,
        )
        return ReviewOutcome(item=item, decision=ReviewDecision.CONFIRM)
    counts = Counter(
        Link.objects.filter(person_id__in=[left, right], active=True).values_list(
            "person_id", flat=True
        )
    )
    kept, merged = sorted([left, right], key=lambda p: (-counts[p], p))
    outcome = merging.merge_people(
        kept_person_id=kept,
        merged_person_id=merged,
        method=PersonMerge.Method.REVIEW,
        reason=f"review item {item.id}",
        merged_by_id=viewer.staff_id,
    )
    confirmed.merge = outcome.merge
    confirmed.save(update_fields=["merge"])
    return ReviewOutcome(item=item, decision=ReviewDecision.CONFIRM, merge=outcome.merge)
