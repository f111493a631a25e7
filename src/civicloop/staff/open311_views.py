"""Staff pages for admins to manage Open311 client applications: the list of clients, issuing
a key for a new one (the key is shown once and never stored), and revoking a key after a
confirmation page, all without JavaScript. The writes and their audit events are
`intake.keys`'s; refusals are `staff_view`'s.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from civicloop.core.access import ValidationFailed, Viewer
from civicloop.intake import keys
from civicloop.intake.selectors import open311_client_get, open311_clients
from civicloop.staff import forms
from civicloop.staff.decorators import staff_view
from civicloop.staff.views import UNPROCESSABLE

ADMIN_ROLES = frozenset({"admin"})


@staff_view(roles=ADMIN_ROLES)
@require_GET
def open311_client_list(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    return render(
        request, "staff/open311_clients.html", {"clients": open311_clients(viewer=viewer)}
    )


# The page that shows a new key must not be kept by the browser or any cache on the way.
@staff_view(roles=ADMIN_ROLES)
@never_cache
def open311_client_create(request: HttpRequest, viewer: Viewer) -> HttpResponse:
    if request.method != "POST":
        return _create_page(request, forms.Open311ClientForm())
    form = forms.Open311ClientForm(request.POST)
    if form.is_valid():
        try:
            client, key = keys.open311_client_create(
                viewer=viewer, name=form.cleaned_data["name"], created_by_id=viewer.staff_id
            )
        except ValidationFailed as error:
            form.add_service_errors(error.errors)
        else:
            # Shown now or never: only the key's hash is kept, so no redirect to a page
            # that could show it again.
            return render(
                request, "staff/open311_client_issued.html", {"client": client, "key": key}
            )
    return _create_page(request, form, status=UNPROCESSABLE)


def _create_page(request: HttpRequest, form, status: int = 200) -> HttpResponse:
    return render(
        request,
        "staff/open311_client_form.html",
        {"form": form, "error_links": form.error_links()},
        status=status,
    )


@staff_view(roles=ADMIN_ROLES)
def open311_client_revoke(
    request: HttpRequest, viewer: Viewer, open311_client_id: int
) -> HttpResponse:
    """GET asks "are you sure?"; POST revokes (a key already revoked stays as it was)."""
    client = open311_client_get(viewer=viewer, client_id=open311_client_id)
    if request.method != "POST":
        return render(request, "staff/open311_client_revoke.html", {"client": client})
    if client.active:
        keys.open311_client_revoke(viewer=viewer, client_id=client.id)
        messages.success(
            request,
            _("The key of %(name)s is revoked: requests made with it are refused from now on.")
            % {"name": client.name},
        )
    else:
        messages.success(
            request, _("The key of %(name)s was already revoked.") % {"name": client.name}
        )
    return redirect("staff:open311_clients")
