"""Linking runs in Django's admin, read-only: counts and settings, no personal data.

Review items and staff decisions name people's records, so they are not shown here;
they are reviewed on the staff pages, under the access policy.
"""

from django.contrib import admin

from civicloop.linkage.models import LinkageRun


@admin.register(LinkageRun)
class LinkageRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "started_at",
        "status",
        "record_count",
        "links_created",
        "people_created",
        "people_merged",
        "review_items_created",
    )
    list_filter = ("status",)
    exclude = ("model_json",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
