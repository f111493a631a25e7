"""Writes of people, their records and needs. Each service owns its transaction
and writes its audit event inside it; domain events go out after commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from civicloop.catalogue.models import Department, Need
from civicloop.core import clock
from civicloop.core.access import Conflict, Forbidden, NotVisible, ValidationFailed, Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.people import keys, policy
from civicloop.people.models import Link, Person, PersonDepartment, PersonNeed, SourceRecord
from civicloop.trust.audit import audit_record

EDITABLE_FIELDS = (
    "given_name",
    "middle_names",
    "family_name",
    "date_of_birth",
    "email",
    "phone",
    "preferred_language",
    "accessibility_needs",
)


def department_serves(*, person_id: int, department_id: int) -> None:
    """Record that a department serves a person (idempotent)."""
    PersonDepartment.objects.bulk_create(
        [PersonDepartment(person_id=person_id, department_id=department_id, since=clock.now())],
        ignore_conflicts=True,
    )


def department_serves_forget_unbacked(*, person_ids: Iterable[int]) -> int:
    """Forget that a department serves any of these people once it holds neither an
    active record link nor a case for them (a record linked elsewhere takes its department's
    sight of the person with it). Returns how many such rows were removed."""
    from civicloop.cases.models import Case

    ids = sorted(set(person_ids))
    if not ids:
        return 0
    has_record = Link.objects.filter(
        person_id=OuterRef("person_id"),
        active=True,
        source_record__department_id=OuterRef("department_id"),
    )
    has_case = Case.objects.filter(
        person_id=OuterRef("person_id"), department_id=OuterRef("department_id")
    )
    unbacked = (
        PersonDepartment.objects.filter(person_id__in=ids)
        .exclude(Exists(has_record))
        .exclude(Exists(has_case))
    )
    removed, _ = unbacked.delete()
    return removed


def _acting_department(viewer: Viewer, department_id: int | None) -> int:
    """The department a caseworker acts for: given, or their only one."""
    if department_id is None:
        if len(viewer.department_ids) != 1:
            raise ValidationFailed({"department": _("Choose the department you are acting for.")})
        return next(iter(viewer.department_ids))
    if department_id not in viewer.department_ids:
        raise Forbidden("department")
    return department_id


def _validate_person_fields(values: dict) -> None:
    errors: dict[str, str] = {}
    if "given_name" in values and not (values["given_name"] or "").strip():
        errors["given_name"] = _("Enter a given name.")
    if "family_name" in values and not (values["family_name"] or "").strip():
        errors["family_name"] = _("Enter a family name.")
    dob = values.get("date_of_birth")
    if dob is not None and (dob > clock.today() or dob < dt.date(1890, 1, 1)):
        errors["date_of_birth"] = _("Enter a date of birth in the past.")
    if errors:
        raise ValidationFailed(errors)


def person_create(
    *,
    viewer: Viewer,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date | None = None,
    email: str = "",
    phone: str = "",
    middle_names: str = "",
    preferred_language: str = "en",
    accessibility_needs: str = "",
    department_id: int | None = None,
    local_id: str = "",
) -> Person:
    """Create a golden record and the acting department's own record of the person."""
    policy.require_casework_role(viewer)
    dept_id = _acting_department(viewer, department_id)
    values = {
        "given_name": given_name.strip(),
        "family_name": family_name.strip(),
        "date_of_birth": date_of_birth,
    }
    _validate_person_fields(values)
    now = clock.now()
    with transaction.atomic():
        person = Person.objects.create(
            **values,
            middle_names=middle_names.strip(),
            email=email.strip(),
            phone=phone.strip(),
            preferred_language=preferred_language,
            accessibility_needs=accessibility_needs.strip(),
            created_at=now,
            updated_at=now,
            **keys.person_keys(
                given_name=given_name, family_name=family_name, phone=phone, email=email
            ),
        )
        record = SourceRecord.objects.create(
            department_id=dept_id,
            local_id=local_id or f"CL-{person.id}",
            given_name=person.given_name,
            family_name=person.family_name,
            date_of_birth=date_of_birth,
            email=person.email,
            phone=person.phone,
            received_at=now,
        )
        Link.objects.create(
            source_record=record,
            person=person,
            method=Link.Method.CREATED,
            created_at=now,
            confirmed_by_id=viewer.staff_id,
        )
        department_serves(person_id=person.id, department_id=dept_id)
        audit_record(
            viewer=viewer,
            action="person.create",
            object_type="person",
            object_ids=[person.id],
            fields=[k for k, v in values.items() if v] + ["source_record"],
        )
        publish(
            DomainEvent(
                "person.created", "person", person.id, viewer.user_id, {"department_id": dept_id}
            )
        )
    return person


def person_update(*, viewer: Viewer, person_id: int, version: int, changes: dict) -> Person:
    """Edit the golden record. A change based on a stale version is refused."""
    policy.require_person_visible(viewer, person_id)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed({f: _("This field cannot be changed here.") for f in unknown})
    changes = {f: ("" if v is None and f != "date_of_birth" else v) for f, v in changes.items()}
    _validate_person_fields(changes)
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(pk=person_id).first()
        if person is None:
            raise NotVisible("person")
        if person.version != version:
            raise Conflict(
                _("Someone else changed this record since you opened it. Reload it and try again.")
            )
        changed = [f for f, v in changes.items() if getattr(person, f) != v]
        if not changed:
            return person
        for f in changed:
            setattr(person, f, changes[f])
        for k, v in keys.person_keys(
            given_name=person.given_name,
            family_name=person.family_name,
            phone=person.phone,
            email=person.email,
        ).items():
            setattr(person, k, v)
        person.version += 1
        person.updated_at = clock.now()
        person.save()
        audit_record(
            viewer=viewer,
            action="person.update",
            object_type="person",
            object_ids=[person.id],
            fields=changed,
        )
        publish(
            DomainEvent("person.updated", "person", person.id, viewer.user_id, {"fields": changed})
        )
    return person


def need_record(
    *,
    viewer: Viewer,
    person_id: int,
    need_id: int,
    department_id: int | None = None,
    note: str = "",
) -> PersonNeed:
    policy.require_person_visible(viewer, person_id)
    dept_id = _acting_department(viewer, department_id)
    if not Need.objects.filter(pk=need_id).exists():
        raise ValidationFailed({"need": _("Choose a need from the list.")})
    now = clock.now()
    with transaction.atomic():
        person_need = PersonNeed.objects.create(
            person_id=person_id,
            need_id=need_id,
            department_id=dept_id,
            recorded_by_id=viewer.staff_id,
            recorded_at=now,
            status_changed_at=now,
            note=note.strip(),
        )
        audit_record(
            viewer=viewer,
            action="need.record",
            object_type="person_need",
            object_ids=[person_need.id, person_id],
            fields=["need", "note"] if note else ["need"],
        )
        publish(
            DomainEvent(
                "need.recorded",
                "person_need",
                person_need.id,
                viewer.user_id,
                {"person_id": person_id, "need_id": need_id, "department_id": dept_id},
            )
        )
    return person_need


def need_set_status(*, viewer: Viewer, person_need_id: int, status: str) -> PersonNeed:
    policy.require_casework_role(viewer)
    if status not in PersonNeed.Status.values:
        raise ValidationFailed({"status": _("Choose open, met or unmet.")})
    with transaction.atomic():
        pn = (
            PersonNeed.objects.select_for_update()
            .filter(pk=person_need_id, department_id__in=viewer.department_ids)
            .first()
        )
        if pn is None:
            raise NotVisible("person_need")
        pn.status = status
        pn.status_changed_at = clock.now()
        pn.save(update_fields=["status", "status_changed_at"])
        audit_record(
            viewer=viewer,
            action="need.status",
            object_type="person_need",
            object_ids=[pn.id, pn.person_id],
            fields=["status"],
        )
        publish(
            DomainEvent(
                "need.status_changed", "person_need", pn.id, viewer.user_id, {"status": status}
            )
        )
    return pn


def department_choices(viewer: Viewer) -> list[Department]:
    return list(Department.objects.filter(id__in=viewer.department_ids).order_by("name"))
