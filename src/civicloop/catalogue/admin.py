"""Configuration of the service catalogue through Django's admin. No personal data here."""

from django.contrib import admin

from civicloop.catalogue.models import (
    Department,
    Need,
    PartnerOrganisation,
    Service,
    ServiceAttribute,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "email", "phone")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "email", "website")
    search_fields = ("name", "code")
    filter_horizontal = ("departments",)
    prepopulated_fields = {"code": ("name",)}


@admin.register(Need)
class NeedAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent")
    search_fields = ("name", "code")
    list_filter = ("parent",)
    prepopulated_fields = {"code": ("name",)}


class ServiceAttributeInline(admin.StackedInline):
    """The questions a service asks of each report (Open311 attributes)."""

    model = ServiceAttribute
    extra = 0
    fields = (
        ("code", "order"),
        "description",
        ("datatype", "required", "variable"),
        "datatype_description",
        "values",
    )


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    inlines = [ServiceAttributeInline]
    list_display = (
        "name",
        "code",
        "department",
        "sla_days",
        "sensitive",
        "public",
        "place_based",
        "active",
    )
    list_filter = ("department", "sensitive", "public", "place_based", "active", "kind")
    search_fields = ("name", "code", "keywords")
    filter_horizontal = ("needs",)
    list_select_related = ("department",)
