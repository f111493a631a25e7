"""Reads the API serves on their own that the page selectors only give inside the 360° view:
one timeline page, and the household. Same access policy, one audit event each."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from civicloop.core.access import Viewer
from civicloop.core.pagination import clamp_page
from civicloop.people import policy
from civicloop.people.selectors import HouseholdMember, person_household, person_relationships
from civicloop.people.timeline import TimelinePage, person_timeline
from civicloop.trust.audit import audit_record


def person_timeline_page(
    *,
    viewer: Viewer,
    person_id: int,
    department_id: int | None = None,
    cursor: str | None = None,
    page_size: int | None = None,
) -> TimelinePage:
    """A page of a person the viewer may see's timeline, from `cursor` on."""
    policy.require_person_visible(viewer, person_id)
    size = clamp_page(1, page_size, settings.CIVICLOOP["TIMELINE_PAGE_SIZE"])[1]
    with transaction.atomic():
        page = person_timeline(
            viewer=viewer,
            person_id=person_id,
            department_id=department_id,
            cursor=cursor,
            page_size=size,
        )
        audit_record(
            viewer=viewer,
            action="person.read",
            object_type="person",
            object_ids=[person_id],
            fields=["timeline"],
            counts={"timeline_entries": len(page.entries)},
        )
    return page


@dataclass(frozen=True)
class PersonHousehold:
    household: list[HouseholdMember]
    relationships: list[HouseholdMember]


def person_household_read(*, viewer: Viewer, person_id: int) -> PersonHousehold:
    """Current household and relationships; others by name only where the viewer serves them too."""
    policy.require_person_visible(viewer, person_id)
    with transaction.atomic():
        result = PersonHousehold(
            household=person_household(viewer=viewer, person_id=person_id),
            relationships=person_relationships(viewer, person_id),
        )
        named = sorted(
            {m.person_id for m in result.household + result.relationships if m.person_id}
        )
        audit_record(
            viewer=viewer,
            action="person.read",
            object_type="person",
            object_ids=[person_id, *named],
            fields=["household", "relationships"],
        )
    return result
