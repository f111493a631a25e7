"""URL wiring only."""

from django.contrib import admin
from django.urls import include, path, reverse
from django.views import defaults

from civicloop.api import api
from civicloop.portal.views import not_found as portal_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("open311/v2/", include("civicloop.intake.open311.urls")),
    path("portal/", include("civicloop.portal.urls")),
    path("", include("civicloop.staff.urls")),
    path("", include("civicloop.linkage.urls")),
]


def page_not_found(request, exception):
    """A citizen who mistypes an address under the portal stays in the portal (in their
    language, with its links); every other unknown path gets the staff pages' 404."""
    if request.path.startswith(reverse("portal:home")):
        return portal_not_found(request)
    return defaults.page_not_found(request, exception)


handler404 = page_not_found
