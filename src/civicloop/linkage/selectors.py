"""Reads of the clerical review queue. Each applies the access policy and is audited.

Who may review a pair: caseworkers and supervisors of a department that holds one of its
two records (anyone else gets 404, other roles 403). A reviewer needs both records to
decide, so the other department's record is shown too, but only the fields the model
compares (names, date of birth, contacts, address): not which department holds it, its
reference or when it came in, since even that can say something sensitive (a health
record). Every read is audited with the ids of both records and the fields shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicloop.core.access import Viewer
from civicloop.core.pagination import Page, clamp_page
from civicloop.linkage.models import ReviewItem
from civicloop.linkage.services import require_review_item, review_items_for
from civicloop.people import merge as merging
from civicloop.people import policy
from civicloop.people.models import Link, Person, PersonMerge, SourceRecord
from civicloop.trust.audit import audit_record

# The fields the model compares, shown for every record of a pair.
MATCHING_FIELDS = (
    ("given_name", gettext_lazy("Given name")),
    ("family_name", gettext_lazy("Family name")),
    ("date_of_birth", gettext_lazy("Date of birth")),
    ("email", gettext_lazy("Email address")),
    ("phone", gettext_lazy("Phone number")),
    ("address_text", gettext_lazy("Address")),
    ("postcode", gettext_lazy("Postcode")),
)
# Shown only for a record of one of the viewer's own departments.
OWN_FIELDS = ("department", "local_id", "received_at")

COMPARISON_LABELS = {
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "date_of_birth": gettext_lazy("Date of birth"),
    "dob": gettext_lazy("Date of birth"),
    "email": gettext_lazy("Email address"),
    "phone": gettext_lazy("Phone number"),
    "postcode": gettext_lazy("Postcode"),
    "address": gettext_lazy("Address"),
    "household": gettext_lazy("Household"),
}


def comparison_label(name: str) -> str:
    return str(COMPARISON_LABELS.get(name, name.replace("_", " ").capitalize()))


@dataclass(frozen=True)
class RecordView:
    """One record of a pair, as far as the viewer may see it."""

    record_id: int
    own: bool
    values: list[tuple[str, object]]  # (label, value) of the matching fields
    department_name: str = ""
    local_id: str = ""
    received_at: dt.datetime | None = None
    person_id: int | None = None  # the person it is linked to, if the viewer may open them
    person_label: str = ""

    @property
    def name(self) -> str:
        given, family = self.values[0][1], self.values[1][1]
        return f"{given} {family}".strip() or _("No name given")


def _record_view(viewer: Viewer, record: SourceRecord, person: Person | None) -> RecordView:
    own = record.department_id in viewer.department_ids
    values = [(str(label), getattr(record, name)) for name, label in MATCHING_FIELDS]
    visible = person is not None and policy.is_person_visible(viewer, person.id)
    return RecordView(
        record_id=record.id,
        own=own,
        values=values,
        department_name=record.department.name if own else "",
        local_id=record.local_id if own else "",
        received_at=record.received_at if own else None,
        person_id=person.id if person is not None and visible else None,
        person_label=str(person) if visible else "",
    )


def _fields_shown(views: list[RecordView]) -> list[str]:
    fields = [name for name, _label in MATCHING_FIELDS]
    if any(v.own for v in views):
        fields += list(OWN_FIELDS)
    return fields


def _linked_people(record_ids: set[int]) -> dict[int, Person]:
    links = Link.objects.filter(source_record_id__in=record_ids, active=True).select_related(
        "person"
    )
    return {link.source_record_id: link.person for link in links}


@dataclass(frozen=True)
class ReviewLine:
    item: ReviewItem
    own: RecordView  # a record of the viewer's departments
    other: RecordView


def review_queue(
    *, viewer: Viewer, page: int | None = 1, page_size: int | None = None
) -> Page[ReviewLine]:
    """Pairs waiting for review that the viewer may decide, waiting ones before skipped ones,
    oldest first."""
    policy.require_casework_role(viewer)
    page, size = clamp_page(page, page_size, settings.CIVICLOOP["SEARCH_PAGE_SIZE"])
    queue = (
        review_items_for(viewer)
        .filter(status__in=ReviewItem.UNDECIDED)
        .annotate(
            waiting=Case(
                When(status=ReviewItem.Status.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .select_related("source_record_l__department", "source_record_r__department", "decided_by")
        .order_by("waiting", "created_at", "id")
    )
    with transaction.atomic():
        total = queue.count()
        items = list(queue[(page - 1) * size : page * size])
        people = _linked_people(
            {r for i in items for r in (i.source_record_l_id, i.source_record_r_id)}
        )
        lines = []
        for item in items:
            left = _record_view(viewer, item.source_record_l, people.get(item.source_record_l_id))
            right = _record_view(viewer, item.source_record_r, people.get(item.source_record_r_id))
            own, other = (left, right) if left.own else (right, left)
            lines.append(ReviewLine(item=item, own=own, other=other))
        audit_record(
            viewer=viewer,
            action="review.list",
            object_type="review_item",
            object_ids=[line.item.id for line in lines],
            fields=["given_name", "family_name", "local_id"],
            counts={"total": total, "page": page},
        )
    return Page(items=lines, page=page, page_size=size, total=total)


@dataclass(frozen=True)
class Contribution:
    comparison: str  # the comparison's name in the model ("given_name")
    label: str  # what was found ("Exact match")
    weight: float  # log2 Bayes factor

    @property
    def comparison_label(self) -> str:
        return comparison_label(self.comparison)


@dataclass(frozen=True)
class ReviewDetail:
    item: ReviewItem
    left: RecordView
    right: RecordView
    prior_weight: float
    contributions: list[Contribution]
    match_weight: float
    cluster_size: int
    reason: str
    merge_id: int | None = None  # the merge a confirmation made, while it stands


def explanation_parts(explanation: dict) -> tuple[float, list[Contribution], float]:
    """(prior, contributions, total) of a stored explanation; a prior not stored is whatever
    the contributions leave unexplained of the total."""
    contributions = [
        Contribution(str(c["comparison"]), str(c["label"]), float(c["weight"]))
        for c in explanation.get("contributions", [])
    ]
    total = float(explanation.get("match_weight", sum(c.weight for c in contributions)))
    prior = explanation.get("prior_weight")
    if prior is None:
        prior = total - sum(c.weight for c in contributions)
    return float(prior), contributions, total


def review_item_detail(*, viewer: Viewer, review_item_id: int) -> ReviewDetail:
    """Both records of a pair, side by side, and why the model scored them as it did."""
    item = require_review_item(viewer, review_item_id)
    with transaction.atomic():
        records = {
            r.id: r
            for r in SourceRecord.objects.select_related("department").filter(
                pk__in=[item.source_record_l_id, item.source_record_r_id]
            )
        }
        people = _linked_people(set(records))
        left = _record_view(
            viewer, records[item.source_record_l_id], people.get(item.source_record_l_id)
        )
        right = _record_view(
            viewer, records[item.source_record_r_id], people.get(item.source_record_r_id)
        )
        prior, contributions, total = explanation_parts(item.explanation or {})
        audit_record(
            viewer=viewer,
            action="review.read",
            object_type="review_item",
            object_ids=[item.id, item.source_record_l_id, item.source_record_r_id],
            fields=_fields_shown([left, right]),
            counts={"own_records": int(left.own) + int(right.own)},
        )
    return ReviewDetail(
        item=item,
        left=left,
        right=right,
        prior_weight=prior,
        contributions=contributions,
        match_weight=total,
        cluster_size=len(item.cluster_record_ids or []),
        reason=str((item.explanation or {}).get("reason", "")),
        merge_id=item.decisions.filter(merge__unmerged_at__isnull=True, merge__isnull=False)
        .values_list("merge_id", flat=True)
        .first(),
    )


# -- undoing a merge ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachedLine:
    """A row attached to one of two merged people after their merge."""

    key: str
    kind: str
    label: str  # empty when it belongs to another department: the viewer may not see it
    own: bool
    person_id: int


@dataclass(frozen=True)
class MergeUndo:
    merge: PersonMerge
    kept: Person
    merged: Person
    attached: list[AttachedLine]
    blocked_by: PersonMerge | None


def merge_undo_plan(*, viewer: Viewer, merge_id: int, audit: bool = True) -> MergeUndo:
    """A merge the viewer may undo (they see the person kept) and the rows attached since.

    Rows of the viewer's own departments are listed for them to give to either person;
    the rest stay with the person kept. With `audit`, the read is audited (a page); a form
    post that goes on to undo the merge leaves the audit to the service.
    """
    plan = merging.person_unmerge_plan(viewer=viewer, merge_id=merge_id)
    merge = plan.merge
    people = Person.objects.in_bulk([merge.kept_person_id, merge.merged_person_id])
    attached = [
        AttachedLine(
            key=item.key,
            kind=item.kind,
            label=item.label if item.department_id in viewer.department_ids else "",
            own=item.department_id in viewer.department_ids,
            person_id=item.person_id,
        )
        for item in plan.attached
    ]
    if audit:
        audit_record(
            viewer=viewer,
            action="person_merge.read",
            object_type="person_merge",
            object_ids=[merge.id, merge.kept_person_id, merge.merged_person_id],
            fields=["given_name", "family_name", "attached_items"],
            counts={"attached_items": len(attached)},
        )
    return MergeUndo(
        merge=merge,
        kept=people[merge.kept_person_id],
        merged=people[merge.merged_person_id],
        attached=attached,
        blocked_by=plan.blocked_by,
    )
