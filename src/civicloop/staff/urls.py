"""Staff pages, in the "staff" namespace."""

from django.contrib.auth.views import LogoutView
from django.urls import path

from civicloop.staff import duplicate_views, intake_views, open311_views, views

app_name = "staff"
urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.StaffLoginView.as_view(), name="login"),
    path("sign-out/", LogoutView.as_view(), name="logout"),
    path("people/", views.person_search, name="person_search"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<int:person_id>/", views.person_detail, name="person_detail"),
    path("people/<int:person_id>/needs/new/", views.need_record, name="need_record"),
    path("people/<int:person_id>/contacts/new/", views.person_contact, name="person_contact"),
    path("cases/", views.case_queue, name="case_queue"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/transition/", views.case_transition, name="case_transition"),
    path("cases/<int:case_id>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:case_id>/notes/", views.case_note, name="case_note"),
    path("cases/<int:case_id>/contacts/new/", views.case_contact, name="case_contact"),
    path("intake/", intake_views.intake, name="intake"),
    path("triage/", intake_views.triage_queue, name="triage_queue"),
    path("triage/<int:triage_item_id>/", intake_views.triage_detail, name="triage_detail"),
    path("triage/<int:triage_item_id>/attach/", intake_views.triage_attach, name="triage_attach"),
    path("triage/<int:triage_item_id>/route/", intake_views.triage_route, name="triage_route"),
    path("triage/<int:triage_item_id>/close/", intake_views.triage_close, name="triage_close"),
    path("duplicates/", duplicate_views.duplicate_queue, name="duplicate_queue"),
    path(
        "duplicates/<int:possible_duplicate_id>/confirm/",
        duplicate_views.duplicate_confirm,
        name="duplicate_confirm",
    ),
    path(
        "duplicates/<int:possible_duplicate_id>/dismiss/",
        duplicate_views.duplicate_dismiss,
        name="duplicate_dismiss",
    ),
    path(
        "cases/<int:case_id>/duplicate/",
        duplicate_views.case_mark_duplicate,
        name="case_mark_duplicate",
    ),
    path("open311/clients/", open311_views.open311_client_list, name="open311_clients"),
    path(
        "open311/clients/new/",
        open311_views.open311_client_create,
        name="open311_client_create",
    ),
    path(
        "open311/clients/<int:open311_client_id>/revoke/",
        open311_views.open311_client_revoke,
        name="open311_client_revoke",
    ),
]
