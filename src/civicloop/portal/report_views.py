"""Making a report, one question per page (the GOV.UK pattern): each page posts its answer,
is redirected to the next (post-redirect-get), and shows an error summary linking to the
field when an answer is refused. Answers stay in the session (portal/draft.py) until the
citizen sends the report from the check-your-answers page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from civicloop.cases.models import NotifyChannel
from civicloop.catalogue.models import Service, ServiceAttribute
from civicloop.core.access import ValidationFailed
from civicloop.intake.services import ReportIn
from civicloop.portal import draft as drafts
from civicloop.portal import forms, guard, selectors, steps
from civicloop.portal.conf import portal_setting
from civicloop.portal.questions import answer_for_session, answer_initial, question_form
from civicloop.portal.steps import UNPROCESSABLE, render_question
from civicloop.portal.uploads import (
    DraftPhoto,
    PhotoSizeLimit,
    draft_photo_delete,
    draft_photo_read,
)
from civicloop.portal.views import not_found

FORM_SCOPE = "portal.form"
SUBMIT_SCOPE = "portal.submit"


@dataclass
class Report:
    """The report being written: its answers, its service and the service's questions."""

    draft: dict
    service: Service
    questions: list[ServiceAttribute]

    def next_url(self) -> str:
        return drafts.next_url(self.draft, self.service, self.questions)

    def back_url(self, slug: str) -> str:
        return drafts.previous_url(self.draft, self.service, self.questions, slug)

    def may_open(self, slug: str) -> bool:
        return drafts.may_open(self.draft, self.service, self.questions, slug)


def current_report(request: HttpRequest) -> Report | None:
    """The report this session is writing, if its service is still offered."""
    draft = drafts.draft_get(request)
    service = selectors.offered_service(draft["service"]) if draft else None
    if draft is None or service is None:
        return None
    return Report(draft=draft, service=service, questions=selectors.service_questions(service))


def start_again(request: HttpRequest) -> HttpResponse:
    """The page for a session that holds no report (it expired, or was sent)."""
    return render(request, "portal/report_start_again.html", status=200)


@require_POST
def report_start(request: HttpRequest, service_code: str) -> HttpResponse:
    """Start a report to a service (replacing one not sent) and go to its first question."""
    service = selectors.offered_service(service_code)
    if service is None:
        return not_found(request)
    if refused := guard.check_rate(request, FORM_SCOPE):
        return refused
    form = forms.SubmitForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "portal/service.html",
            {
                "service": service,
                "notes": selectors.service_notes(service),
                "error_links": form.error_links(),
            },
            status=UNPROCESSABLE,
        )
    drafts.draft_start(request, service)
    report = current_report(request)
    assert report is not None  # the draft just started, for a service on offer
    return redirect(report.next_url())


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def report_step(request: HttpRequest, step: str) -> HttpResponse:
    """One page of the report. The photo's size is capped while the upload streams in, so
    CSRF is checked after the cap is in place (Django's way to change upload handlers)."""
    request.upload_handlers.insert(
        0, PhotoSizeLimit(request, portal_setting("PORTAL_MAX_PHOTO_BYTES"))
    )
    return _report_step(request, step)


@csrf_protect
def _report_step(request: HttpRequest, step: str) -> HttpResponse:
    handler = steps.PAGES.get(step)
    if handler is None:
        return not_found(request)
    report = current_report(request)
    if report is None:
        return start_again(request)
    if not report.may_open(steps.STEP_OF_PAGE[step]):
        return redirect(report.next_url())
    if request.method == "POST" and (refused := guard.check_rate(request, FORM_SCOPE)):
        return refused
    return handler(request, report)


@never_cache
@require_http_methods(["GET", "POST"])
def report_question(request: HttpRequest, attribute_code: str) -> HttpResponse:
    """One of the service's own questions."""
    report = current_report(request)
    if report is None:
        return start_again(request)
    code = attribute_code
    attribute = next((q for q in report.questions if q.code == code), None)
    if attribute is None:
        return not_found(request)
    slug = drafts.question_slug(attribute)
    if not report.may_open(slug):
        return redirect(report.next_url())
    answers = report.draft.setdefault("answers", {})
    if request.method == "POST":
        if refused := guard.check_rate(request, FORM_SCOPE):
            return refused
        form = question_form(attribute, request.POST)
        if form.is_valid():
            answers[code] = answer_for_session(attribute, form.cleaned_data["answer"])
            drafts.draft_save(request, report.draft)
            return redirect(report.next_url())
    else:
        initial = answer_initial(attribute, answers.get(code)) if code in answers else None
        form = question_form(attribute, initial={"answer": initial})
    return render_question(
        request, report, "portal/report_question.html", {"form": form}, slug=slug
    )


# Check your answers, then send


def _error_step(report: Report, field: str) -> str:
    """The page where the answer a service error names can be changed."""
    if field.startswith("attribute[") and field.endswith("]"):
        code = field[len("attribute[") : -1]
        if any(q.code == code for q in report.questions):
            return reverse("portal:report_question", args=[code])
    page = {
        "location": "location",
        "description": "description",
        "notify_channel": "updates",
        "first_name": "contact",
        "last_name": "contact",
        "email": "contact",
        "phone": "contact",
    }.get(field)
    return reverse("portal:report_step", args=[page]) if page else ""


def _report_in(report: Report, request: HttpRequest) -> ReportIn:
    draft = report.draft
    location = draft.get("location") or {}
    contact = draft.get("contact") or {}
    given, _space, family = (contact.get("name") or "").strip().rpartition(" ")
    if not given:  # one word: take it as the given name
        given, family = family, ""
    channel = draft.get("notify_channel", NotifyChannel.NONE)
    return ReportIn(
        service_code=report.service.code,
        description=draft.get("description", ""),
        latitude=location.get("latitude") if location.get("kind") == "point" else None,
        longitude=location.get("longitude") if location.get("kind") == "point" else None,
        address_id=location.get("uprn", "") if location.get("kind") == "address" else "",
        attributes=draft.get("answers", {}),
        first_name=given,
        last_name=family,
        email=contact.get("email", ""),
        phone=contact.get("phone", ""),
        language=(get_language() or "")[:10],
        contact_consent=channel != NotifyChannel.NONE,
        notify_channel=channel,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def report_check(request: HttpRequest) -> HttpResponse:
    """Every answer with a link to change it, and the button that sends the report."""
    report = current_report(request)
    if report is None:
        return start_again(request)
    if report.next_url() != reverse("portal:report_check"):
        return redirect(report.next_url())
    form = forms.SubmitForm(request.POST if request.method == "POST" else None)
    error_links: list[tuple[str, str]] = []
    if request.method == "POST":
        if refused := guard.check_rate(request, SUBMIT_SCOPE):
            return refused
        if form.is_valid():
            photo = DraftPhoto.from_session(report.draft.get("photo"))
            content = draft_photo_read(photo) if photo else None
            if photo is not None and content is None:
                # The waiting photo has gone (purged after a long wait): ask for it again.
                report.draft.pop("photo", None)
                report.draft.pop("photo_done", None)
                drafts.draft_save(request, report.draft)
                messages.info(
                    request, _("Your photo has expired. Upload it again, or continue without one.")
                )
                return redirect(report.next_url())
            attachments = (
                [SimpleUploadedFile(photo.name.rsplit("/", 1)[-1], content, photo.content_type)]
                if photo is not None
                else []
            )
            try:
                receipt = steps.submit(
                    report=_report_in(report, request),
                    attachments=attachments,
                    same_as=(report.draft.get("duplicates") or {}).get("same_as", ""),
                )
            except ValidationFailed as failure:
                error_links = [
                    (_error_step(report, field) or "#main-content", message)
                    for field, field_messages in failure.errors.items()
                    for message in field_messages
                ]
            else:
                drafts.draft_clear(request, keep_photo=True)
                draft_photo_delete(photo)
                request.session[drafts.SUBMITTED_KEY] = {
                    "reference": receipt.case.reference,
                    "secret": receipt.tracking_secret,
                    "service": report.service.name,
                    "email": receipt.case.notify_channel == NotifyChannel.EMAIL,
                    "public": report.service.place_based,
                }
                return redirect("portal:report_done")
        else:
            error_links = form.error_links()
    return render(
        request,
        "portal/report_check.html",
        {
            "service": report.service,
            "form": form,
            "rows": steps.answer_rows(report),
            "back_url": report.back_url("check"),
            "error_links": error_links,
        },
        status=UNPROCESSABLE if error_links else 200,
    )


@never_cache
def report_done(request: HttpRequest) -> HttpResponse:
    """The reference of the report just sent, and the link to follow it."""
    submitted = request.session.get(drafts.SUBMITTED_KEY)
    if not isinstance(submitted, dict):
        return redirect("portal:home")
    track_url = reverse("portal:track", args=[submitted["reference"]]) + "?t=" + submitted["secret"]
    return render(
        request,
        "portal/report_done.html",
        {"submitted": submitted, "track_url": track_url},
    )
