"""Staff members, their roles and departments, through Django's admin.

API tokens are not listed: only their hashes are stored and they are managed by their owners.
"""

from django.contrib import admin

from civicloop.staff.models import StaffMember


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ("display_name", "user", "role", "active")
    list_filter = ("role", "active", "departments")
    search_fields = ("display_name", "user__username")
    filter_horizontal = ("departments",)
    autocomplete_fields = ("user",)
    list_select_related = ("user",)
