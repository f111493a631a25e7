"""URL wiring only."""

from django.contrib import admin
from django.urls import include, path

from civicloop.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("open311/v2/", include("civicloop.intake.open311.urls")),
    path("portal/", include("civicloop.portal.urls")),
    path("", include("civicloop.staff.urls")),
    path("", include("civicloop.linkage.urls")),
]
