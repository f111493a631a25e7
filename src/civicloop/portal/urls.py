"""The citizen portal, in the "portal" namespace, mounted at /portal/."""

from django.urls import path
from django.views.i18n import set_language

from civicloop.portal import report_views, track_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("language/", set_language, name="set_language"),
    path("services/", views.service_search, name="service_search"),
    path("services/<str:service_code>/", views.service, name="service"),
    path("services/<str:service_code>/start/", report_views.report_start, name="report_start"),
    path("departments/<slug:department_code>/", views.department, name="department"),
    path("report/check/", report_views.report_check, name="report_check"),
    path("report/done/", report_views.report_done, name="report_done"),
    path(
        "report/questions/<str:attribute_code>/",
        report_views.report_question,
        name="report_question",
    ),
    path("report/<slug:step>/", report_views.report_step, name="report_step"),
    path("reports/", views.reports, name="reports"),
    path("reports/<str:reference>/", views.report_detail, name="report_detail"),
    path(
        "reports/<str:reference>/photos/<int:photo_id>/",
        views.report_photo,
        name="report_photo",
    ),
    path("track/", views.track_find, name="track_find"),
    path("track/<str:reference>", track_views.track, name="track"),
    path("track/<str:reference>/update/", track_views.track_update, name="track_update"),
    path("track/<str:reference>/fixed/", track_views.track_fixed, name="track_fixed"),
    path("track/<str:reference>/reopen/", track_views.track_reopen, name="track_reopen"),
]
