"""One gate for every staff page: who may come in, and what a refusal looks like.

Anonymous visitors get the sign-in page with status 401 (not a redirect, so tools and
the access matrix see the refusal); signed-in users who are not active staff, or whose
role the page does not serve, get 403; anything a selector or service hides
(NotVisible) is 404. Every refusal is audited here, so views need not remember to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from urllib.parse import urlsplit

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from civicloop.core.access import Forbidden, NotVisible, Viewer
from civicloop.core.web import audit_denial, request_viewer
from civicloop.staff.forms import SignInForm

StaffView = Callable[..., HttpResponse]


def _return_to(request: HttpRequest) -> str:
    """Where to go after signing in: this page, or for a refused form post the page the form
    was on (a POST-only URL cannot be opened again with GET)."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return reverse("staff:home")


def sign_in_page(request: HttpRequest, *, status: int = 401) -> HttpResponse:
    """The sign-in form, posting to the login URL with `next` set to where the visitor was going."""
    return render(
        request,
        "staff/login.html",
        {
            "form": SignInForm(request),
            "next": _return_to(request),
            "redirect_field_name": REDIRECT_FIELD_NAME,
            "login_url": reverse("staff:login"),
        },
        status=status,
    )


def forbidden_page(request: HttpRequest) -> HttpResponse:
    return render(request, "403.html", status=403)


def not_found_page(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", status=404)


def staff_view(roles: Iterable[str] | None = None) -> Callable[[StaffView], StaffView]:
    """Wrap a page view `view(request, viewer, **kwargs)`: sign-in, staff and role checks,
    and access errors turned into audited 401/403/404 pages.

    `roles` limits the page to those staff roles; None lets every active staff member in.
    """
    allowed = frozenset(roles) if roles is not None else None

    def decorate(view: StaffView) -> StaffView:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            viewer: Viewer | None = request_viewer(request)
            if not request.user.is_authenticated:
                audit_denial(request, None)
                return sign_in_page(request)
            if viewer is None:
                audit_denial(request, None, Forbidden("staff"))
                return forbidden_page(request)
            if allowed is not None and viewer.role not in allowed:
                audit_denial(request, viewer, Forbidden(viewer.role))
                return forbidden_page(request)
            try:
                return view(request, viewer, *args, **kwargs)
            except NotVisible as error:
                audit_denial(request, viewer, error)
                return not_found_page(request)
            except Forbidden as error:
                audit_denial(request, viewer, error)
                return forbidden_page(request)

        wrapper.staff_roles = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorate
