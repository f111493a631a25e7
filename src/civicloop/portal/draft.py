"""A report being written: the answers kept in the session, one page per question, until
the citizen sends it from the check-your-answers page.

The order of the pages follows from the service: a place first (for place-based services),
then "is this the same problem?" when open reports of the service are nearby, the
service's own questions, the description, a photo, whether and how to be contacted, and
contact details. Each answer sends the citizen on to the first page not yet answered, so a
change made from the check page returns there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from civicloop.catalogue.models import Service, ServiceAttribute
from civicloop.core import clock
from civicloop.portal.uploads import DraftPhoto, draft_photo_delete

SESSION_KEY = "civicloop.portal.report"
SUBMITTED_KEY = "civicloop.portal.submitted"

STEP_TITLES = {
    "location": _("Location"),
    "duplicates": _("Same problem"),
    "description": _("Description"),
    "photo": _("Photo"),
    "updates": _("Contact about this report"),
    "contact": _("Contact details"),
}


@dataclass(frozen=True)
class Step:
    slug: str  # "location", "q-<attribute code>", "description", ...
    title: str
    url: str
    answered: bool


def draft_get(request: HttpRequest) -> dict | None:
    draft = request.session.get(SESSION_KEY)
    return draft if isinstance(draft, dict) and draft.get("service") else None


def draft_save(request: HttpRequest, draft: dict) -> None:
    request.session[SESSION_KEY] = draft
    request.session.modified = True


def draft_start(request: HttpRequest, service: Service) -> dict:
    """A new, empty report to `service`, replacing any report the citizen had not sent."""
    draft_clear(request)
    draft = {"service": service.code, "started_at": clock.now().isoformat(), "answers": {}}
    draft_save(request, draft)
    return draft


def draft_clear(request: HttpRequest, *, keep_photo: bool = False) -> None:
    """Forget the report being written (and delete its waiting photo unless it was taken over)."""
    draft = request.session.pop(SESSION_KEY, None)
    if isinstance(draft, dict) and not keep_photo:
        draft_photo_delete(DraftPhoto.from_session(draft.get("photo")))


def location_set(draft: dict, location: dict) -> None:
    """Record where the problem is; a new place asks "is it the same problem?" again."""
    if draft.get("location") != location:
        draft.pop("duplicates", None)
    draft["location"] = location
    draft.pop("address_candidates", None)


def question_slug(attribute: ServiceAttribute) -> str:
    return f"q-{attribute.code}"


def steps(draft: dict, service: Service, questions: list[ServiceAttribute]) -> list[Step]:
    """Every page of this report in order, and whether each is answered."""
    result: list[Step] = []

    def add(slug: str, title, url: str, answered: bool) -> None:
        result.append(Step(slug=slug, title=str(title), url=url, answered=answered))

    if service.place_based:
        add("location", STEP_TITLES["location"], _step_url("location"), bool(draft.get("location")))
        duplicates = draft.get("duplicates")
        if duplicates is None or duplicates.get("shown"):
            add(
                "duplicates",
                STEP_TITLES["duplicates"],
                _step_url("duplicates"),
                duplicates is not None,
            )
    answers = draft.get("answers", {})
    for attribute in questions:
        add(
            question_slug(attribute),
            attribute.description,
            reverse("portal:report_question", args=[attribute.code]),
            attribute.code in answers,
        )
    add("description", STEP_TITLES["description"], _step_url("description"), "description" in draft)
    add("photo", STEP_TITLES["photo"], _step_url("photo"), bool(draft.get("photo_done")))
    add("updates", STEP_TITLES["updates"], _step_url("updates"), "notify_channel" in draft)
    add("contact", STEP_TITLES["contact"], _step_url("contact"), "contact" in draft)
    return result


def next_url(draft: dict, service: Service, questions: list[ServiceAttribute]) -> str:
    """The first page not yet answered, or the check-your-answers page."""
    for step in steps(draft, service, questions):
        if not step.answered:
            return step.url
    return reverse("portal:report_check")


def previous_url(
    draft: dict, service: Service, questions: list[ServiceAttribute], slug: str
) -> str:
    """Where a page's back link goes: the page before it, or the service's page."""
    earlier = reverse("portal:service", args=[service.code])
    for step in steps(draft, service, questions):
        if step.slug == slug:
            return earlier
        earlier = step.url
    return earlier  # the check page: back to the last question


def may_open(draft: dict, service: Service, questions: list[ServiceAttribute], slug: str) -> bool:
    """A page may be opened once every page before it is answered (no skipping ahead)."""
    for step in steps(draft, service, questions):
        if step.slug == slug:
            return True
        if not step.answered:
            return False
    return False


def _step_url(slug: str) -> str:
    return reverse("portal:report_step", args=[slug])
