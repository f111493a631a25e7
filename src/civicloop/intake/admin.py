"""Open311 client applications and their api keys, for administrators (Configuration).

Issuing a key shows it once, on the page that answers the form; only its hash is kept.
Keys are revoked, never deleted, so past reports keep naming the application they came by.
"""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicloop.core.access import Viewer
from civicloop.intake.keys import open311_client_create, open311_client_revoke
from civicloop.intake.models import Open311Client


def _viewer(request) -> Viewer:
    staff = getattr(request.user, "staff", None)
    return Viewer(
        user_id=request.user.id,
        role=staff.role if staff else "admin",
        staff_id=staff.id if staff else None,
        purpose="configuration",
    )


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "active", "created_at", "last_used_at", "revoked_at")
    list_filter = ("active",)
    search_fields = ("name", "key_prefix")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return (
            ("name",)
            if obj is None
            else ("name", "key_prefix", "active", "created_at", "last_used_at", "revoked_at")
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("key_prefix", "active", "created_at", "last_used_at", "revoked_at")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        staff = getattr(request.user, "staff", None)
        client, key = open311_client_create(
            viewer=_viewer(request),
            name=form.cleaned_data["name"],
            created_by_id=staff.id if staff else None,
        )
        obj.pk = client.pk
        obj._issued_key = key

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Api key issued"),
            "client": obj,
            "key": obj._issued_key,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/intake/open311client/key_issued.html", context)
        # The key must not linger in a cache between here and the administrator.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request, queryset):
        viewer = _viewer(request)
        for client in queryset:
            open311_client_revoke(viewer=viewer, client_id=client.pk)
        self.message_user(
            request, _("%(n)d keys revoked.") % {"n": queryset.count()}, messages.SUCCESS
        )
