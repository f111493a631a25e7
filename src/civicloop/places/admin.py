"""The agency's gazetteer through Django's admin: areas and addresses. No personal data here."""

from django.contrib import admin

from civicloop.places.geometry import bounds
from civicloop.places.models import Address, Area


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind")
    list_filter = ("kind",)
    search_fields = ("name", "code")
    readonly_fields = ("min_lat", "max_lat", "min_lon", "max_lon")

    def save_model(self, request, obj, form, change):
        # The bounding box is what point-in-area lookups filter on first: keep it in step.
        obj.min_lat, obj.max_lat, obj.min_lon, obj.max_lon = bounds(obj.polygon)
        super().save_model(request, obj, form, change)


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("line1", "town", "postcode", "uprn", "area")
    list_filter = ("area",)
    search_fields = ("uprn", "line1", "postcode")
    list_select_related = ("area",)
    list_per_page = 50
