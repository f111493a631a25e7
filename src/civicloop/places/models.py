"""Places from the agency's own gazetteer: areas (polygons) and addresses (points).

Nothing here calls an outside geocoder: a point is placed in an Area by
point-in-polygon against the polygons the agency loaded.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    class Kind(models.TextChoices):
        WARD = "ward", _("Ward")
        DISTRICT = "district", _("District")

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WARD)
    # GeoJSON-style polygon: a list of rings, each a list of [longitude, latitude].
    polygon = models.JSONField()
    min_lat = models.FloatField()
    max_lat = models.FloatField()
    min_lon = models.FloatField()
    max_lon = models.FloatField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    """One entry of the gazetteer: a property with a stable id and coordinates."""

    uprn = models.CharField(_("address id"), max_length=40, unique=True)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=20, db_index=True)
    latitude = models.FloatField()
    longitude = models.FloatField()
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="addresses"
    )

    class Meta:
        ordering = ["postcode", "line1"]

    def __str__(self) -> str:
        return ", ".join(p for p in (self.line1, self.line2, self.town, self.postcode) if p)
