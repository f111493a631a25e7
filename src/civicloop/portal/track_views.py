"""The reporter's own view of a report: /portal/track/<reference>?t=<secret>, the link in
the email sent when the report was made. With the secret, the reporter may add an update,
say whether the problem was fixed, and reopen the report if it was not; without it (or with
a wrong one) anyone with the reference sees only the public page.

The secret travels in the query string and in a hidden field, never in a cookie, so these
pages are not cached and send no referrer to other sites.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from civicloop.core.access import Conflict, NotVisible, ValidationFailed
from civicloop.intake.selectors import public_report, tracked_report
from civicloop.portal import forms, guard, selectors, services
from civicloop.portal.steps import UNPROCESSABLE
from civicloop.portal.views import not_found

TRACK_SCOPE = "portal.track"
FORM_SCOPE = "portal.form"


def private_page(view):
    """Not cached, and no referrer to other sites: the page's address carries the
    reporter's secret. (Not "no-referrer": forms then send `Origin: null`, which fails
    Django's CSRF check.)"""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = never_cache(view)(request, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        return response

    return wrapper


def track_url(reference: str, secret: str, name: str = "portal:track") -> str:
    return f"{reverse(name, args=[reference])}?{urlencode({'t': secret})}"


def _secret(request: HttpRequest) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return str(source.get("t", ""))[:200]


def _reporter_report(reference: str, secret: str):
    """The report as its reporter sees it (audited), or None if the secret is not its own."""
    if selectors.tracking_secret_matches(reference=reference, secret=secret) is None:
        return None
    try:
        report = tracked_report(tracking_secret=secret)
    except NotVisible:
        return None
    return report if report.reference == reference else None


def _is_done(report) -> bool:
    """Resolved or closed in its workflow (Open311 says "closed")."""
    return report.status == "closed"


def _reporter_page(request, reference, secret, report, *, update_form=None, fixed_form=None):
    failed = [f for f in (update_form, fixed_form) if f is not None and f.errors]
    return render(
        request,
        "portal/track.html",
        {
            "report": report,
            "secret": secret,
            "done": _is_done(report),
            "history": selectors.report_history(report.case_id),
            "photos": selectors.report_photos(report.case_id),
            "update_form": update_form or forms.UpdateForm(),
            "fixed_form": fixed_form or forms.FixedForm(),
            "error_links": [link for f in failed for link in f.error_links()],
        },
        status=UNPROCESSABLE if failed else 200,
    )


@private_page
@require_http_methods(["GET"])
def track(request: HttpRequest, reference: str) -> HttpResponse:
    reference = selectors.normalise_reference(reference)
    secret = _secret(request)
    report = None
    if secret:
        if refused := guard.check_rate(request, TRACK_SCOPE):
            return refused
        report = _reporter_report(reference, secret)
    if report is not None:
        return _reporter_page(request, reference, secret, report)
    try:
        public = public_report(reference=reference)
    except NotVisible:
        return not_found(request)
    return render(
        request,
        "portal/report_detail.html",
        {
            "report": public,
            "history": selectors.report_history(public.case_id),
            "photos": selectors.report_photos(public.case_id),
            "link_not_valid": bool(secret),
        },
    )


def _reporter_post(view):
    """A reporter's form: rate limited, and only with the report's own secret. The view
    reads the report (an audited read) only to show the form again; its service audits
    the change."""

    @wraps(view)
    def wrapper(request: HttpRequest, reference: str) -> HttpResponse:
        reference = selectors.normalise_reference(reference)
        if refused := guard.check_rate(request, FORM_SCOPE):
            return refused
        secret = _secret(request)
        if (
            not secret
            or selectors.tracking_secret_matches(reference=reference, secret=secret) is None
        ):
            return not_found(request)
        return view(request, reference, secret)

    return wrapper


def _form_again(request, reference, secret, **forms_shown) -> HttpResponse:
    report = _reporter_report(reference, secret)
    if report is None:
        return not_found(request)
    return _reporter_page(request, reference, secret, report, **forms_shown)


@private_page
@require_POST
@_reporter_post
def track_update(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    form = forms.UpdateForm(request.POST)
    if form.is_valid():
        try:
            services.report_add_update(
                reference=reference, secret=secret, text=form.cleaned_data["update"]
            )
        except ValidationFailed as failure:
            form.add_service_errors(failure.errors)
        else:
            messages.success(request, _("Thank you. Your update has been sent to the team."))
            return redirect(track_url(reference, secret))
    return _form_again(request, reference, secret, update_form=form)


@private_page
@require_POST
@_reporter_post
def track_fixed(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    form = forms.FixedForm(request.POST)
    if form.is_valid():
        if form.cleaned_data["fixed"] == "no":
            return redirect(track_url(reference, secret, "portal:track_reopen"))
        try:
            services.report_confirm_fixed(reference=reference, secret=secret)
        except Conflict as conflict:
            form.add_error("fixed", str(conflict))
        else:
            messages.success(request, _("Thank you for telling us the problem is fixed."))
            return redirect(track_url(reference, secret))
    return _form_again(request, reference, secret, fixed_form=form)


@private_page
@require_http_methods(["GET", "POST"])
def track_reopen(request: HttpRequest, reference: str) -> HttpResponse:
    """Tell us what is still wrong: the report is reopened."""
    reference = selectors.normalise_reference(reference)
    secret = _secret(request)
    posted = request.method == "POST"
    if (posted or secret) and (
        refused := guard.check_rate(request, FORM_SCOPE if posted else TRACK_SCOPE)
    ):
        return refused
    if not secret or selectors.tracking_secret_matches(reference=reference, secret=secret) is None:
        return not_found(request)
    form = forms.ReopenForm(request.POST if posted else None)
    if posted and form.is_valid():
        try:
            services.report_reopen(
                reference=reference, secret=secret, reason=form.cleaned_data["reason"]
            )
        except ValidationFailed as failure:
            form.add_service_errors(failure.errors)
        except Conflict:
            return redirect(track_url(reference, secret))  # not resolved or closed (any more)
        else:
            messages.success(request, _("Your report has been reopened. We will look at it again."))
            return redirect(track_url(reference, secret))
    report = _reporter_report(reference, secret)
    if report is None:
        return not_found(request)
    if not _is_done(report):
        return redirect(track_url(reference, secret))
    return render(
        request,
        "portal/track_reopen.html",
        {
            "report": report,
            "secret": secret,
            "form": form,
            "back_url": track_url(reference, secret),
            "error_links": form.error_links(),
        },
        status=UNPROCESSABLE if form.is_bound and form.errors else 200,
    )
