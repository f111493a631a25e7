"""The pages of a report other than the service's own questions: where, is it the same
problem, description, photo, whether to be contacted and how, and contact details; the
rows of the check-your-answers page; and sending the report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from civicloop.cases.models import Channel, NotifyChannel
from civicloop.cases.workflow import status_label
from civicloop.core.access import ValidationFailed
from civicloop.intake.selectors import report_duplicates_nearby
from civicloop.intake.services import ReportIn, ReportReceipt, location_resolve, report_submit
from civicloop.places.matching import AddressAmbiguous, AddressNotFound, address_match
from civicloop.places.models import Address
from civicloop.portal import draft as drafts
from civicloop.portal import forms
from civicloop.portal.questions import answer_text
from civicloop.portal.services import report_follow
from civicloop.portal.uploads import (
    DraftPhoto,
    PhotoRejected,
    clean_photo,
    draft_photo_delete,
    draft_photo_save,
    too_big_message,
    upload_too_big,
)

NONE_OF_THESE = "none"


UNPROCESSABLE = 422


def render_question(
    request: HttpRequest, report, template: str, context: dict, *, slug: str
) -> HttpResponse:
    """A question page: 422 with the error summary when one of its forms was refused."""
    failed = [
        value
        for value in context.values()
        if isinstance(value, forms.PortalForm) and value.is_bound and value.errors
    ]
    return render(
        request,
        template,
        {
            "service": report.service,
            "back_url": report.back_url(slug),
            "error_links": [link for form in failed for link in form.error_links()],
            **context,
        },
        status=UNPROCESSABLE if failed else 200,
    )


def _render(request, report, template: str, context: dict, slug: str) -> HttpResponse:
    return render_question(request, report, template, context, slug=slug)


def _saved(request: HttpRequest, report) -> HttpResponse:
    drafts.draft_save(request, report.draft)
    return redirect(report.next_url())


# Where


def location_page(request: HttpRequest, report) -> HttpResponse:
    draft = report.draft
    if request.method == "POST":
        form = forms.AddressForm(request.POST)
        if form.is_valid():
            text = form.cleaned_data["address"].strip()
            try:
                candidates = [address_match(text).address]
            except AddressAmbiguous as several:
                candidates = several.addresses[:5]
            except AddressNotFound:
                candidates = []
                form.add_error(
                    "address",
                    _(
                        "We could not find that address. Check the house number and street, "
                        "or enter the postcode."
                    ),
                )
            if candidates:
                draft["address_query"] = text
                draft["address_candidates"] = [a.id for a in candidates]
                drafts.draft_save(request, draft)
                return redirect("portal:report_step", step="location-confirm")
    else:
        form = forms.AddressForm(initial={"address": draft.get("address_query", "")})
    return _render(request, report, "portal/report_location.html", {"form": form}, "location")


def location_confirm_page(request: HttpRequest, report) -> HttpResponse:
    draft = report.draft
    ids = draft.get("address_candidates") or []
    by_id = {a.id: a for a in Address.objects.filter(pk__in=ids).select_related("area")}
    addresses = [by_id[i] for i in ids if i in by_id]
    if not addresses:
        return redirect("portal:report_step", step="location")
    form_class = forms.AddressChoiceForm
    if request.method == "POST":
        if request.POST.get("address_id") == NONE_OF_THESE:
            draft.pop("address_candidates", None)
            drafts.draft_save(request, draft)
            return redirect("portal:report_step", step="location")
        form = form_class(request.POST, addresses=addresses)
        form.fields["address_id"].choices += [(NONE_OF_THESE, _("None of these: search again"))]
        if form.is_valid():
            chosen = by_id[form.cleaned_data["address_id"]]
            drafts.location_set(
                draft,
                {
                    "kind": "address",
                    "uprn": chosen.uprn,
                    "label": str(chosen),
                    "latitude": chosen.latitude,
                    "longitude": chosen.longitude,
                },
            )
            return _saved(request, report)
    else:
        chosen = (draft.get("location") or {}).get("uprn")
        initial = next((a.id for a in addresses if a.uprn == chosen), None)
        form = form_class(addresses=addresses, initial={"address_id": initial})
        form.fields["address_id"].choices += [(NONE_OF_THESE, _("None of these: search again"))]
    form.fields["address_id"].label = (
        _("Is this the place of the problem?")
        if len(addresses) == 1
        else _("Which of these is the place of the problem?")
    )
    return _render(
        request,
        report,
        "portal/report_location_confirm.html",
        {
            "form": form,
            "query": draft.get("address_query", ""),
            "back_url": reverse("portal:report_step", args=["location"]),
        },
        "location",
    )


def coordinates_page(request: HttpRequest, report) -> HttpResponse:
    draft = report.draft
    if request.method == "POST":
        form = forms.CoordinatesForm(request.POST)
        if form.is_valid():
            latitude, longitude = form.cleaned_data["latitude"], form.cleaned_data["longitude"]
            try:
                place = location_resolve(latitude=latitude, longitude=longitude)
            except ValidationFailed as failure:
                form.add_service_errors(failure.errors)
            else:
                drafts.location_set(
                    draft,
                    {
                        "kind": "point",
                        "latitude": latitude,
                        "longitude": longitude,
                        "label": place.area.name if place and place.area else "",
                    },
                )
                return _saved(request, report)
    else:
        location = draft.get("location") or {}
        initial = (
            {"latitude": location["latitude"], "longitude": location["longitude"]}
            if location.get("kind") == "point"
            else {}
        )
        form = forms.CoordinatesForm(initial=initial)
    return _render(
        request,
        report,
        "portal/report_coordinates.html",
        {"form": form, "back_url": reverse("portal:report_step", args=["location"])},
        "location",
    )


# Is it the same problem?


@dataclass(frozen=True)
class NearbyReport:
    """An open report close by, as the duplicates page shows it: public fields only."""

    reference: str
    status: str
    description: str
    place: str
    distance_m: int
    opened_at: object


def nearby_reports(report) -> list[NearbyReport]:
    location = report.draft.get("location") or {}
    if location.get("latitude") is None:
        return []
    found = report_duplicates_nearby(
        service_code=report.service.code,
        latitude=location["latitude"],
        longitude=location["longitude"],
    )
    return [
        NearbyReport(
            reference=case.reference,
            status=status_label(case.status),
            description=case.description,
            place=str(case.address) if case.address else (case.area.name if case.area else ""),
            distance_m=round(case.distance_m),
            opened_at=case.opened_at,
        )
        for case in found[:5]
    ]


def duplicates_page(request: HttpRequest, report) -> HttpResponse:
    draft = report.draft
    candidates = nearby_reports(report)
    if not candidates:
        # Nothing to ask about: the page drops out of this report's steps.
        draft["duplicates"] = {"shown": False, "same_as": ""}
        return _saved(request, report)
    if request.method == "POST":
        form = forms.DuplicateForm(request.POST, candidates=candidates)
        if form.is_valid():
            chosen = form.cleaned_data["same_as"]
            same_as = "" if chosen == forms.NOT_A_DUPLICATE else chosen
            draft["duplicates"] = {"shown": True, "same_as": same_as}
            return _saved(request, report)
    else:
        previous = (draft.get("duplicates") or {}).get("same_as")
        initial = (
            previous if previous else (forms.NOT_A_DUPLICATE if "duplicates" in draft else None)
        )
        form = forms.DuplicateForm(candidates=candidates, initial={"same_as": initial})
    return _render(
        request,
        report,
        "portal/report_duplicates.html",
        {"form": form, "candidates": candidates},
        "duplicates",
    )


# What, a photo, contact


def description_page(request: HttpRequest, report) -> HttpResponse:
    draft = report.draft
    if request.method == "POST":
        form = forms.DescriptionForm(request.POST)
        if form.is_valid():
            draft["description"] = form.cleaned_data["description"].strip()
            return _saved(request, report)
    else:
        form = forms.DescriptionForm(initial={"description": draft.get("description", "")})
    return _render(request, report, "portal/report_description.html", {"form": form}, "description")


def photo_page(request: HttpRequest, report) -> HttpResponse:
    draft = report.draft
    current = DraftPhoto.from_session(draft.get("photo"))
    if request.method == "POST" and request.POST.get("action") == "remove":
        form = forms.SubmitForm(request.POST)
        if form.is_valid():
            draft_photo_delete(current)
            draft.pop("photo", None)
            draft.pop("photo_done", None)
            drafts.draft_save(request, draft)
            return redirect("portal:report_step", step="photo")
        return _render(
            request,
            report,
            "portal/report_photo.html",
            {"form": forms.PhotoForm(), "remove_form": form, "photo": current},
            "photo",
        )
    if request.method == "POST":
        form = forms.PhotoForm(request.POST, request.FILES)
        if upload_too_big(request):
            form.is_valid()
            form.add_error("photo", too_big_message())
        elif form.is_valid():
            upload = form.cleaned_data["photo"]
            if upload is None:
                draft["photo_done"] = True
                return _saved(request, report)
            try:
                photo = clean_photo(upload)
            except PhotoRejected as rejected:
                form.add_error("photo", str(rejected))
            else:
                draft_photo_delete(current)
                draft["photo"] = draft_photo_save(photo).as_session()
                draft["photo_done"] = True
                return _saved(request, report)
    else:
        form = forms.PhotoForm()
    return _render(
        request,
        report,
        "portal/report_photo.html",
        {"form": form, "photo": current, "remove_form": forms.SubmitForm()},
        "photo",
    )


def updates_page(request: HttpRequest, report) -> HttpResponse:
    draft = report.draft
    if request.method == "POST":
        form = forms.UpdatesForm(request.POST)
        if form.is_valid():
            channel = form.cleaned_data["notify_channel"]
            contact = draft.get("contact") or {}
            # A new way of being told may need a detail not given yet: ask for it again.
            if (channel == NotifyChannel.EMAIL and not contact.get("email")) or (
                channel == NotifyChannel.SMS and not contact.get("phone")
            ):
                draft.pop("contact", None)
            draft["notify_channel"] = channel
            return _saved(request, report)
    else:
        form = forms.UpdatesForm(initial={"notify_channel": draft.get("notify_channel")})
    return _render(request, report, "portal/report_updates.html", {"form": form}, "updates")


def contact_page(request: HttpRequest, report) -> HttpResponse:
    draft = report.draft
    options = {
        "notify_channel": draft.get("notify_channel", NotifyChannel.NONE),
        "place_based": report.service.place_based,
    }
    if request.method == "POST":
        form = forms.ContactForm(request.POST, **options)
        if form.is_valid():
            data = form.cleaned_data
            draft["contact"] = {
                "name": data["name"],
                "email": data["email"],
                "phone": data["phone"],
            }
            return _saved(request, report)
    else:
        form = forms.ContactForm(initial=draft.get("contact") or {}, **options)
    return _render(request, report, "portal/report_contact.html", {"form": form}, "contact")


PAGES: dict[str, Callable[[HttpRequest, object], HttpResponse]] = {
    "location": location_page,
    "location-confirm": location_confirm_page,
    "coordinates": coordinates_page,
    "duplicates": duplicates_page,
    "description": description_page,
    "photo": photo_page,
    "updates": updates_page,
    "contact": contact_page,
}
# The step of the report each page answers (the location has three pages).
STEP_OF_PAGE = {page: page for page in PAGES} | {
    "location-confirm": "location",
    "coordinates": "location",
}


# Check your answers


@dataclass(frozen=True)
class AnswerRow:
    question: str
    answer: str
    change_url: str


def answer_rows(report) -> list[AnswerRow]:
    draft = report.draft
    rows: list[AnswerRow] = []
    for step in drafts.steps(draft, report.service, report.questions):
        answer = _answer(report, step.slug)
        rows.append(
            AnswerRow(
                question=step.title,
                answer=answer,
                change_url=step.url,
            )
        )
    return rows


def _answer(report, slug: str) -> str:
    draft = report.draft
    if slug == "location":
        location = draft.get("location") or {}
        if location.get("kind") == "address":
            return location.get("label", "")
        return _("Latitude %(lat)s, longitude %(lon)s") % {
            "lat": f"{location.get('latitude', 0):.5f}",
            "lon": f"{location.get('longitude', 0):.5f}",
        }
    if slug == "duplicates":
        same_as = (draft.get("duplicates") or {}).get("same_as")
        return (
            _("The same problem as report %(ref)s") % {"ref": same_as}
            if same_as
            else _("A different problem")
        )
    if slug.startswith("q-"):
        code = slug[2:]
        attribute = next(q for q in report.questions if q.code == code)
        return answer_text(attribute, draft.get("answers", {}).get(code)) or _("Not answered")
    if slug == "description":
        return draft.get("description", "")
    if slug == "photo":
        return _("Photo added") if draft.get("photo") else _("No photo")
    if slug == "updates":
        return {
            NotifyChannel.EMAIL: _("Yes, by email"),
            NotifyChannel.SMS: _("Yes, by text message"),
        }.get(draft.get("notify_channel"), _("No, do not contact me"))
    if slug == "contact":
        contact = draft.get("contact") or {}
        given = [contact.get(k, "") for k in ("name", "email", "phone") if contact.get(k)]
        return "\n".join(given) or _("None given")
    return ""


# Sending


def submit(*, report: ReportIn, attachments: Sequence, same_as: str = "") -> ReportReceipt:
    """Send the report through the intake core (all of it or nothing is written); when
    the citizen said it is the same problem as an open report, it then follows that one."""
    receipt = report_submit(report=report, channel=Channel.WEB, attachments=attachments)
    if same_as:
        report_follow(
            reference=receipt.case.reference,
            secret=receipt.tracking_secret,
            original_reference=same_as,
        )
    return receipt
