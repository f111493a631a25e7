"""The triage queue: inbound messages that named no case, waiting for staff to open a case
from them, add them to a case, route them to a department or close them.

Caseworkers and supervisors see the items routed to their departments and every item not
yet routed (someone has to pick those up); items routed to another department are not
found. Lists show who sent an item, its subject and when it came; the text only on the
item's own page, and every read is audited. Each action names the version of the item the
page showed (`item_version`): when two people act at once, the second gets a Conflict.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicloop.cases import services as case_services
from civicloop.cases.models import Case, Channel, Interaction
from civicloop.catalogue.models import Department
from civicloop.core import clock
from civicloop.core.access import Conflict, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.core.pagination import Page, clamp_page
from civicloop.intake.models import TriageItem
from civicloop.people import policy
from civicloop.trust.audit import audit_as_one, audit_record

# Why an item was closed without a case. Codes, not free text: the audit log keeps the code.
CLOSE_REASONS = dict(TriageItem.CloseReason.choices)

UNROUTED = "unrouted"
# What the queue lists: items waiting for triage, or those dealt with (newest first).
WAITING = "waiting"
HANDLED = "handled"
STATES = {WAITING: gettext_lazy("Waiting for triage"), HANDLED: gettext_lazy("Dealt with")}


def item_version(item: TriageItem) -> str:
    """What an action must name to act on the item as the page showed it: the status and
    the department, which every triage action changes."""
    return f"{item.status}.{item.department_id or 0}"


def _visible_q(viewer: Viewer) -> Q:
    return Q(department__isnull=True) | Q(department_id__in=viewer.department_ids)


def _could_have_seen(viewer: Viewer, version: str) -> bool:
    """Whether `version` names a state of an item the viewer may see (open, and unrouted or
    routed to one of their departments): only then is "someone else acted first" news to
    them rather than a leak."""
    status, _sep, department = version.partition(".")
    if status != TriageItem.Status.OPEN or not department.isdigit():
        return False
    return int(department) == 0 or int(department) in viewer.department_ids


def email_summary(item: TriageItem) -> str:
    """The message as a contact's summary: its subject, then its text, within the limit."""
    text = "\n\n".join(part for part in (item.subject.strip(), item.body.strip()) if part)
    if not text:
        text = _("An email with no subject and no text.")
    limit = case_services.MAX_SUMMARY
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageFilters:
    # "" for every item the viewer may see, "unrouted", or one of their department ids.
    department: str = ""
    # WAITING (open items) or HANDLED (items dealt with, and who dealt with them).
    state: str = WAITING

    def used_fields(self) -> list[str]:
        return (["department"] if self.department else []) + (
            ["handled_by", "handled_at", "closed_reason"] if self.state == HANDLED else []
        )


def triage_items(
    *, viewer: Viewer, filters: TriageFilters, page: int | None = 1, page_size: int | None = None
) -> Page[TriageItem]:
    """Items the viewer may see, without their text: those waiting, oldest first, or those
    dealt with, most recently handled first."""
    policy.require_casework_role(viewer)
    if filters.state not in STATES:
        raise ValidationFailed({"state": _("Choose one of the options listed.")})
    page, size = clamp_page(page, page_size, settings.CIVICLOOP["SEARCH_PAGE_SIZE"])
    qs = TriageItem.objects.filter(_visible_q(viewer))
    if filters.state == HANDLED:
        qs = qs.exclude(status=TriageItem.Status.OPEN)
    else:
        qs = qs.filter(status=TriageItem.Status.OPEN)
    if filters.department == UNROUTED:
        qs = qs.filter(department__isnull=True)
    elif filters.department:
        if not filters.department.isdigit() or int(filters.department) not in viewer.department_ids:
            raise ValidationFailed({"department": _("Choose one of the options listed.")})
        qs = qs.filter(department_id=int(filters.department))
    qs = qs.select_related("department", "handled_by").only(
        "id",
        "status",
        "received_at",
        "sender_email",
        "sender_name",
        "subject",
        "department",
        "department__name",
        "handled_by",
        "handled_by__display_name",
        "handled_at",
        "closed_reason",
    )
    if filters.state == HANDLED:
        # Items dealt with before their handling was recorded come last.
        qs = qs.order_by(F("handled_at").desc(nulls_last=True), "-received_at", "-id")
    else:
        qs = qs.order_by("received_at", "id")
    with transaction.atomic():
        total = qs.count()
        start = (page - 1) * size
        items = list(qs[start : start + size])
        audit_record(
            viewer=viewer,
            action="triage.list",
            object_type="triage_item",
            object_ids=[i.id for i in items],
            fields=["sender", "subject", "received_at", *filters.used_fields()],
            counts={"total": total, "page": page},
        )
    return Page(items=items, page=page, page_size=size, total=total)


@dataclass(frozen=True)
class TriageItemDetail:
    item: TriageItem
    version: str
    # The person and case the item is about, when the viewer may see them.
    person_visible: bool
    case_visible: bool


def triage_item_get(*, viewer: Viewer, item_id: int) -> TriageItemDetail:
    """One item the viewer may see, with its text; audited as a read."""
    policy.require_casework_role(viewer)
    with transaction.atomic():
        item = (
            TriageItem.objects.filter(_visible_q(viewer), pk=item_id)
            .select_related("department", "case", "person", "handled_by")
            .first()
        )
        if item is None:
            raise NotVisible("triage_item")
        person_visible = bool(item.person_id and policy.is_person_visible(viewer, item.person_id))
        case_visible = bool(item.case_id and item.case.department_id in viewer.department_ids)
        audit_record(
            viewer=viewer,
            action="triage.read",
            object_type="triage_item",
            object_ids=[item.id] + ([item.person_id] if person_visible else []),
            fields=["sender", "subject", "body"],
        )
    return TriageItemDetail(
        item=item,
        version=item_version(item),
        person_visible=person_visible,
        case_visible=case_visible,
    )


# -- writes ----------------------------------------------------------------------------------


def triage_item_for_update(*, viewer: Viewer, item_id: int, version: str) -> TriageItem:
    """Lock an open item the viewer may see, as the page showed it, for an action.

    Raises NotVisible for an item they may not see, Conflict when someone acted on it since.
    Call inside the action's transaction.
    """
    policy.require_casework_role(viewer)
    item = TriageItem.objects.select_for_update().filter(pk=item_id).first()
    if item is None:
        raise NotVisible("triage_item")
    visible = item.department_id is None or item.department_id in viewer.department_ids
    if item_version(item) == version and visible and item.status == TriageItem.Status.OPEN:
        return item
    if not visible:
        if not _could_have_seen(viewer, version):
            raise NotVisible("triage_item")
        # Where it went is not theirs to know; that someone acted first is.
        raise Conflict(
            _("Someone else sent this message to another department since you opened it.")
        )
    if item.status != TriageItem.Status.OPEN:
        raise Conflict(
            _("Someone else dealt with this message since you opened it: %(status)s.")
            % {"status": item.get_status_display().lower()}
        )
    if item.department is not None and _could_have_seen(viewer, version):
        raise Conflict(
            _("Someone else routed this message to %(department)s since you opened it.")
            % {"department": item.department.name}
        )
    raise Conflict(_("This page was out of date. Check the message and try again."))


def _handled(item: TriageItem, viewer: Viewer) -> list[str]:
    """Record on a locked item who acted on it and when; the fields that changed (not listed
    in audit events, whose own actor and time say the same)."""
    item.handled_by_id = viewer.staff_id
    item.handled_at = clock.now()
    return ["handled_by", "handled_at"]


def triage_item_settle(
    *, viewer: Viewer, item: TriageItem, status: str, case: Case | None = None
) -> TriageItem:
    """Mark a locked item as dealt with: a case opened from it or the case it was added to."""
    item.status = status
    if case is not None:
        item.case = case
        item.department_id = case.department_id
        item.person_id = case.person_id or item.person_id
    handled = _handled(item, viewer)
    item.save(update_fields=["status", "case", "department", "person", *handled])
    audit_record(
        viewer=viewer,
        action=f"triage.{status}",
        object_type="triage_item",
        object_ids=[item.id] + ([case.id] if case is not None else []),
        fields=["status"] + (["case"] if case is not None else []),
    )
    publish(
        DomainEvent(
            "triage.settled",
            "triage_item",
            item.id,
            viewer.user_id,
            {"status": status, "case_id": case.id if case is not None else None},
        )
    )
    return item


def triage_item_attach(
    *, viewer: Viewer, item_id: int, version: str, reference: str
) -> Interaction:
    """Add the message to a case of the viewer's departments, found by its reference, as an
    inbound email on the case's contact log."""
    reference = reference.strip().upper()
    if not reference:
        raise ValidationFailed({"reference": _("Enter the reference of the case.")})
    with audit_as_one(viewer=viewer, action="triage.attach", object_type="triage_item"):
        item = triage_item_for_update(viewer=viewer, item_id=item_id, version=version)
        case = Case.objects.filter(
            reference__iexact=reference, department_id__in=viewer.department_ids
        ).first()
        if case is None:
            raise ValidationFailed(
                {
                    "reference": _("No case of your departments has the reference %(ref)s.")
                    % {"ref": reference}
                }
            )
        interaction = case_services.interaction_log(
            viewer=viewer,
            channel=Channel.EMAIL,
            direction=Interaction.Direction.INBOUND,
            summary=email_summary(item),
            case_id=case.id,
            at=item.received_at,
        )
        triage_item_settle(viewer=viewer, item=item, status=TriageItem.Status.ATTACHED, case=case)
    return interaction


def triage_item_route(
    *, viewer: Viewer, item_id: int, version: str, department_id: int | None
) -> TriageItem:
    """Send the message to the department that should deal with it (any department)."""
    department = Department.objects.filter(pk=department_id).first() if department_id else None
    if department is None:
        raise ValidationFailed({"department": _("Choose a department from the list.")})
    with transaction.atomic():
        item = triage_item_for_update(viewer=viewer, item_id=item_id, version=version)
        if item.department_id == department.id:
            raise ValidationFailed(
                {"department": _("The message is already with %(name)s.") % {"name": department}}
            )
        item.department = department
        handled = _handled(item, viewer)
        item.save(update_fields=["department", *handled])
        audit_record(
            viewer=viewer,
            action="triage.route",
            object_type="triage_item",
            object_ids=[item.id],
            fields=["department"],
        )
        publish(
            DomainEvent(
                "triage.routed",
                "triage_item",
                item.id,
                viewer.user_id,
                {"department_id": department.id},
            )
        )
    return item


def triage_item_close(*, viewer: Viewer, item_id: int, version: str, reason: str) -> TriageItem:
    """Close the message without a case, for one of CLOSE_REASONS (kept in the audit log)."""
    if reason not in CLOSE_REASONS:
        raise ValidationFailed({"reason": _("Choose why the message needs no case.")})
    with transaction.atomic():
        item = triage_item_for_update(viewer=viewer, item_id=item_id, version=version)
        item.status = TriageItem.Status.CLOSED
        item.closed_reason = reason
        handled = _handled(item, viewer)
        item.save(update_fields=["status", "closed_reason", *handled])
        audit_record(
            viewer=viewer,
            action="triage.close",
            object_type="triage_item",
            object_ids=[item.id],
            fields=["status"],
            counts={"reason": reason},
        )
        publish(
            DomainEvent(
                "triage.settled",
                "triage_item",
                item.id,
                viewer.user_id,
                {"status": item.status, "reason": reason, "case_id": None},
            )
        )
    return item
