"""Public pages of the portal: finding a service, the list of recent reports, each report's
public page and its photos. Nothing here shows a reporter's name, email or phone.

Searches and lists are rate limited; forms that change something live in report_views.py
and track_views.py.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from civicloop.core.access import NotVisible
from civicloop.intake.selectors import public_report, public_reports
from civicloop.places.selectors import area_list
from civicloop.portal import forms, guard, selectors
from civicloop.portal.conf import portal_setting

READ_SCOPE = "portal.read"


def not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/not_found.html", status=404)


def page_number(request: HttpRequest) -> int:
    try:
        return max(1, min(10_000, int(request.GET.get("page", "1"))))
    except ValueError:
        return 1


def page_url(request: HttpRequest, number: int) -> str:
    params = request.GET.copy()
    params["page"] = str(number)
    return f"?{params.urlencode()}"


# Finding a service


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Search the offered services, or browse them by department."""
    return render(
        request,
        "portal/home.html",
        {
            "form": forms.ServiceSearchForm(),
            "departments": selectors.departments_offering(),
        },
    )


@require_GET
def service_search(request: HttpRequest) -> HttpResponse:
    if refused := guard.check_rate(request, READ_SCOPE):
        return refused
    form = forms.ServiceSearchForm(request.GET)
    results = None
    status = 200
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            results = selectors.service_search(query)
        else:
            form.add_error("q", _("Enter what you are looking for, for example pothole."))
            status = 422
    else:
        status = 422
    return render(
        request,
        "portal/service_search.html",
        {"form": form, "results": results, "error_links": form.error_links()},
        status=status,
    )


@require_GET
def department(request: HttpRequest, department_code: str) -> HttpResponse:
    found = selectors.department_offering(department_code)
    services = selectors.department_services(found) if found else []
    if not services:
        return not_found(request)
    return render(request, "portal/department.html", {"department": found, "services": services})


@require_GET
def service(request: HttpRequest, service_code: str) -> HttpResponse:
    """A service's page: what it is for, and the button to start a report."""
    offered = selectors.offered_service(service_code)
    if offered is None:
        return not_found(request)
    return render(
        request,
        "portal/service.html",
        {"service": offered, "notes": selectors.service_notes(offered)},
    )


# Reports, as the public sees them


@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    """Recent public reports, newest first, by service and area, a page at a time."""
    if refused := guard.check_rate(request, READ_SCOPE):
        return refused
    services = list(selectors.offered_services().filter(place_based=True))
    areas = list(area_list().order_by("name", "id"))
    submitted = bool(request.GET.get("service") or request.GET.get("area"))
    form = forms.ReportFilterForm(
        request.GET if submitted else None, services=services, areas=areas
    )
    status = 200
    service_codes: list[str] = []
    area_id = None
    if submitted:
        if form.is_valid():
            if form.cleaned_data["service"]:
                service_codes = [form.cleaned_data["service"]]
            if form.cleaned_data["area"]:
                area_id = next(a.id for a in areas if a.code == form.cleaned_data["area"])
        else:
            status = 422
    size = portal_setting("PORTAL_PAGE_SIZE")
    number = page_number(request)
    found = []
    if status == 200:
        found = public_reports(
            service_codes=service_codes,
            area_id=area_id,
            limit=size + 1,
            offset=(number - 1) * size,
        )
    return render(
        request,
        "portal/reports.html",
        {
            "form": form,
            "reports": found[:size],
            "page": number,
            "previous_url": page_url(request, number - 1) if number > 1 else "",
            "next_url": page_url(request, number + 1) if len(found) > size else "",
            "error_links": form.error_links(),
        },
        status=status,
    )


@require_GET
def report_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """A report's public page: never the reporter's name, email or phone."""
    if refused := guard.check_rate(request, READ_SCOPE):
        return refused
    try:
        report = public_report(reference=selectors.normalise_reference(reference))
    except NotVisible:
        return not_found(request)
    return render(
        request,
        "portal/report_detail.html",
        {
            "report": report,
            "history": selectors.report_history(report.case_id),
            "photos": selectors.report_photos(report.case_id),
        },
    )


@never_cache
@require_GET
def report_photo(request: HttpRequest, reference: str, photo_id: int) -> HttpResponse:
    """A public photo of a public report, read through the storage API (local or S3)."""
    try:
        report = public_report(reference=reference)
    except NotVisible:
        return not_found(request)
    photo = next((p for p in selectors.report_photos(report.case_id) if p.id == photo_id), None)
    if photo is None:
        return not_found(request)
    try:
        handle = default_storage.open(photo.name, "rb")
    except (FileNotFoundError, OSError):
        return not_found(request)
    response = FileResponse(handle, content_type=photo.content_type)
    response["Content-Disposition"] = "inline"
    return response


# Tracking a report by its reference


@require_GET
def track_find(request: HttpRequest) -> HttpResponse:
    """Find a report by its reference: anyone with it sees the public page."""
    if "reference" not in request.GET:
        return render(request, "portal/track_find.html", {"form": forms.TrackFindForm()})
    if refused := guard.check_rate(request, READ_SCOPE):
        return refused
    form = forms.TrackFindForm(request.GET)
    if form.is_valid():
        reference = selectors.normalise_reference(form.cleaned_data["reference"])
        try:
            public_report(reference=reference)
        except NotVisible:
            form.add_error(
                "reference",
                _(
                    "We could not find a public report with that reference. Check it, or "
                    "use the link in the email we sent you."
                ),
            )
        else:
            return redirect(reverse("portal:report_detail", args=[reference]))
    return render(
        request,
        "portal/track_find.html",
        {"form": form, "error_links": form.error_links()},
        status=422,
    )
