"""Open311 GeoReport v2 under /open311/v2/, in the "open311" namespace. Every endpoint
takes its format from the extension: `.json` or `.xml`."""

from django.urls import re_path

from civicloop.intake.open311 import views

FORMAT = r"\.(?P<fmt>json|xml)$"

app_name = "open311"
urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.discovery, name="discovery"),
    re_path(r"^services" + FORMAT, views.services, name="services"),
    re_path(
        r"^services/(?P<service_code>[^/]+?)" + FORMAT, views.service_definition, name="service"
    ),
    re_path(r"^requests" + FORMAT, views.requests, name="requests"),
    re_path(
        r"^requests/(?P<service_request_id>[^/]+?)" + FORMAT, views.request_detail, name="request"
    ),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FORMAT, views.token, name="token"),
    re_path(r"^servicerequestupdates" + FORMAT, views.updates, name="updates"),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
