"""The staff pages, as (name, url) for a given world: one list for the access and HTML tests."""

from __future__ import annotations

from django.urls import reverse

# Pages anyone signed in as staff may open.
EVERY_STAFF_PAGES = ["home"]


def casework_pages(world) -> list[tuple[str, str]]:
    """Pages only caseworkers and supervisors open, for things the housing department may see."""
    alice, case = world.alice.id, world.housing_case.id
    return [
        ("person_search", reverse("staff:person_search")),
        ("person_search_results", reverse("staff:person_search") + "?name=Okafor"),
        ("person_create", reverse("staff:person_create")),
        ("person_detail", reverse("staff:person_detail", args=[alice])),
        ("need_record", reverse("staff:need_record", args=[alice])),
        ("person_contact", reverse("staff:person_contact", args=[alice])),
        ("case_queue", reverse("staff:case_queue")),
        ("case_detail", reverse("staff:case_detail", args=[case])),
        ("case_contact", reverse("staff:case_contact", args=[case])),
        ("intake", reverse("staff:intake")),
        ("intake_person", reverse("staff:intake") + f"?person={alice}"),
        ("intake_new", reverse("staff:intake") + "?new=1"),
        ("triage_queue", reverse("staff:triage_queue")),
        ("triage_detail", reverse("staff:triage_detail", args=[triage_item(world).id])),
        ("intake_from_triage", reverse("staff:intake") + f"?triage={triage_item(world).id}"),
        ("duplicate_queue", reverse("staff:duplicate_queue")),
    ]


def triage_item(world):
    """An email routed to housing, waiting for triage (made once per world)."""
    from civicloop.intake.models import TriageItem

    item, _ = TriageItem.objects.get_or_create(
        message_id="<pages@example.org>",
        defaults={
            "sender_email": "alice.okafor@example.org",
            "sender_name": "Alice Okafor",
            "subject": "Damp again",
            "body": "The damp in the bedroom is back.",
            "department": world.housing,
        },
    )
    return item


def post_only_urls(world) -> list[str]:
    case = world.housing_case.id
    return [
        reverse(f"staff:{name}", args=[case])
        for name in ("case_transition", "case_assign", "case_note")
    ] + [
        reverse(f"staff:{name}", args=[triage_item(world).id])
        for name in ("triage_attach", "triage_route", "triage_close")
    ]


def all_pages(world) -> list[tuple[str, str]]:
    return [("home", reverse("staff:home")), *casework_pages(world)]
