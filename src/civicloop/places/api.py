"""Places for the staff API: areas (wards, districts). Not personal data."""

from django.http import HttpRequest
from ninja import Router, Schema

from civicloop.places.selectors import area_list

router = Router(tags=["places"])


class AddressOut(Schema):
    id: int
    uprn: str
    line1: str
    line2: str
    town: str
    postcode: str
    latitude: float
    longitude: float
    area_id: int | None


class BoundsOut(Schema):
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float


class AreaOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    bounds: BoundsOut

    @staticmethod
    def resolve_bounds(area) -> dict:
        return {
            "min_lat": area.min_lat,
            "max_lat": area.max_lat,
            "min_lon": area.min_lon,
            "max_lon": area.max_lon,
        }


@router.get("/areas", response=list[AreaOut], summary="List areas (wards, districts)")
def area_index(request: HttpRequest, kind: str | None = None):
    areas = area_list().order_by("name", "id")
    if kind:
        areas = areas.filter(kind=kind)
    return areas
