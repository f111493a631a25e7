"""Reads of places. Places are not personal data."""

from __future__ import annotations

from civicloop.places.geometry import point_in_polygon
from civicloop.places.models import Area


def area_containing(*, latitude: float, longitude: float) -> Area | None:
    candidates = Area.objects.filter(
        min_lat__lte=latitude, max_lat__gte=latitude, min_lon__lte=longitude, max_lon__gte=longitude
    )
    for area in candidates:
        if point_in_polygon(longitude, latitude, area.polygon):
            return area
    return None


def area_list():
    return Area.objects.all()
