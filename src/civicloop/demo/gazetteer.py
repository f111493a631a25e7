"""The gazetteer of Riverton, a fictional city: wards (polygons) and addresses (points).

Plain data, no Django. The geography is fixed (the same for every seed); the
streets and addresses are generated from the seed. An address's ward is found
by point-in-polygon, exactly as the product does for a reported location.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from civicloop.demo.names import BUILDING_NAMES, STREET_KINDS, STREET_STEMS
from civicloop.places.geometry import bounds, point_in_polygon

TOWN = "Riverton"
CENTRE_LAT = 51.50
CENTRE_LON = -0.10
POSTCODE_AREA = "RV"
# The letters Royal Mail uses in the inward code's unit.
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# A 4 x 3 lattice of corners (lon, lat offsets from the centre, in degrees), nudged
# so wards are not rectangles; wards are the 3 x 2 cells between them.
_COLS = 3
_ROWS = 2
_LON_STEP = 0.030
_LAT_STEP = 0.020
_CORNER_NUDGE = {
    (1, 1): (0.0040, -0.0020),
    (2, 1): (-0.0030, 0.0025),
    (1, 0): (0.0020, 0.0000),
    (2, 2): (-0.0015, 0.0000),
    (0, 1): (0.0000, 0.0030),
    (3, 1): (0.0000, -0.0020),
}
# Each edge between two wards gets one bent midpoint; both wards share it, so they still tile.
_EDGE_BEND = 0.0025

WARDS: tuple[tuple[str, str], ...] = (
    ("RV-W01", "Millbrook"),
    ("RV-W02", "Old Town"),
    ("RV-W03", "Eastfield"),
    ("RV-W04", "Northgate"),
    ("RV-W05", "Riverside"),
    ("RV-W06", "St Anne's"),
)


@dataclass(frozen=True, slots=True)
class AreaRow:
    code: str
    name: str
    polygon: list[list[list[float]]]
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float
    district: int  # postcode district number, RV<n>


@dataclass(frozen=True, slots=True)
class AddressRow:
    uprn: str
    line1: str
    line2: str
    town: str
    postcode: str
    latitude: float
    longitude: float
    area_code: str | None

    def text(self) -> str:
        return ", ".join(p for p in (self.line1, self.line2, self.town) if p)


@dataclass(frozen=True, slots=True)
class _Street:
    name: str
    ward: int
    start: tuple[float, float]  # lon, lat
    end: tuple[float, float]
    houses: int
    first_index: int
    sector: int
    building: str  # "" for houses, else a block of flats


def _corner(i: int, j: int) -> tuple[float, float]:
    dlon, dlat = _CORNER_NUDGE.get((i, j), (0.0, 0.0))
    lon = CENTRE_LON - _COLS * _LON_STEP / 2 + i * _LON_STEP + dlon
    lat = CENTRE_LAT - _ROWS * _LAT_STEP / 2 + j * _LAT_STEP + dlat
    return round(lon, 6), round(lat, 6)


def _bend(a: tuple[float, float], b: tuple[float, float], key: int) -> tuple[float, float]:
    """The midpoint of edge a-b pushed sideways; the same for both wards that share it."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    sign = 1 if key % 2 else -1
    return round(mx - sign * _EDGE_BEND * dy / length, 6), round(
        my + sign * _EDGE_BEND * dx / length, 6
    )


def _edge_key(a: tuple[int, int], b: tuple[int, int]) -> int:
    lo, hi = sorted((a, b))
    return lo[0] * 7 + lo[1] * 3 + hi[0] * 5 + hi[1]


def _ward_ring(col: int, row: int) -> list[list[float]]:
    corners = [(col, row), (col + 1, row), (col + 1, row + 1), (col, row + 1)]
    ring: list[list[float]] = []
    for k, c in enumerate(corners):
        n = corners[(k + 1) % 4]
        a = _corner(*c)
        ring.append([a[0], a[1]])
        lo, hi = sorted((c, n))
        on_city_edge = (lo[0] == hi[0] and lo[0] in (0, _COLS)) or (
            lo[1] == hi[1] and lo[1] in (0, _ROWS)
        )
        if not on_city_edge:
            # Computed from the sorted edge so that both wards sharing it bend it alike.
            bent = _bend(_corner(*lo), _corner(*hi), _edge_key(lo, hi))
            ring.append([bent[0], bent[1]])
    ring.append(list(ring[0]))
    return ring


def areas() -> list[AreaRow]:
    """The wards of Riverton, each a polygon of [lon, lat] rings."""
    rows = []
    for n, (code, name) in enumerate(WARDS):
        col, row = n % _COLS, n // _COLS
        polygon = [_ward_ring(col, row)]
        min_lat, max_lat, min_lon, max_lon = bounds(polygon)
        rows.append(
            AreaRow(code, name, polygon, min_lat, max_lat, min_lon, max_lon, district=n + 1)
        )
    return rows


def locate(lon: float, lat: float, wards: list[AreaRow]) -> str | None:
    """The code of the ward the point falls in, or None outside the city."""
    for ward in wards:
        if ward.min_lat <= lat <= ward.max_lat and ward.min_lon <= lon <= ward.max_lon:
            if point_in_polygon(lon, lat, ward.polygon):
                return ward.code
    return None


class Gazetteer:
    """`size` addresses on generated streets across the wards; address i is O(1)."""

    def __init__(self, *, seed: int, size: int):
        self.seed = seed
        self.wards = areas()
        self._streets: list[_Street] = []
        self._starts: list[int] = []
        rng = random.Random(f"gazetteer:{seed}")
        names_by_ward: list[list[str]] = []
        for _ in self.wards:
            names = [f"{stem} {kind}" for stem in STREET_STEMS for kind in STREET_KINDS]
            rng.shuffle(names)
            names_by_ward.append(names)
        total = 0
        n = 0
        while total < size:
            ward = n % len(self.wards)
            names = names_by_ward[ward]
            base = names[(n // len(self.wards)) % len(names)]
            lap = (n // len(self.wards)) // len(names)
            name = (
                base
                if lap == 0
                else f"{base} {('North', 'South', 'East', 'West', 'Upper', 'Lower')[lap % 6]}"
            )
            houses = min(rng.randint(12, 140), size - total)
            self._streets.append(
                _Street(
                    name=name,
                    ward=ward,
                    start=self._point_in_ward(rng, ward),
                    end=self._point_in_ward(rng, ward),
                    houses=houses,
                    first_index=total,
                    sector=rng.randint(1, 9),
                    building=rng.choice(BUILDING_NAMES) + " House" if rng.random() < 0.12 else "",
                )
            )
            self._starts.append(total)
            total += houses
            n += 1
        self.size = total

    def _point_in_ward(self, rng: random.Random, ward: int) -> tuple[float, float]:
        col, row = ward % _COLS, ward // _COLS
        a, b = _corner(col, row), _corner(col + 1, row)
        c, d = _corner(col + 1, row + 1), _corner(col, row + 1)
        u, v = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)
        lon = (1 - u) * (1 - v) * a[0] + u * (1 - v) * b[0] + u * v * c[0] + (1 - u) * v * d[0]
        lat = (1 - u) * (1 - v) * a[1] + u * (1 - v) * b[1] + u * v * c[1] + (1 - u) * v * d[1]
        return lon, lat

    def _street_of(self, index: int) -> _Street:
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._starts[mid] <= index:
                lo = mid
            else:
                hi = mid - 1
        return self._streets[lo]

    def address(self, index: int) -> AddressRow:
        street = self._street_of(index)
        k = index - street.first_index
        t = (k + 0.5) / street.houses
        # A small, fixed offset per house so that houses on a street are not on a line.
        wobble = ((index * 2654435761) % 1000) / 1000 - 0.5
        lon = street.start[0] + t * (street.end[0] - street.start[0]) + wobble * 0.0004
        lat = street.start[1] + t * (street.end[1] - street.start[1]) - wobble * 0.0003
        lon, lat = round(lon, 6), round(lat, 6)
        if street.building:
            number = 1 + (street.first_index * 7) % 90
            line1 = f"Flat {k + 1}, {street.building}"
            line2 = f"{number} {street.name}"
        else:
            line1 = f"{k + 1} {street.name}"
            line2 = ""
        unit_number = k // 15
        unit = (
            _UNIT_LETTERS[(unit_number + street.first_index) % 20]
            + _UNIT_LETTERS[(unit_number * 7 + len(street.name)) % 20]
        )
        district = self.wards[street.ward].district
        postcode = f"{POSTCODE_AREA}{district} {street.sector}{unit}"
        return AddressRow(
            uprn=str(100_090_000_000 + index),
            line1=line1,
            line2=line2,
            town=TOWN,
            postcode=postcode,
            latitude=lat,
            longitude=lon,
            area_code=locate(lon, lat, self.wards),
        )

    def addresses(self) -> Iterator[AddressRow]:
        for i in range(self.size):
            yield self.address(i)

    @staticmethod
    def uprn_index(uprn: str) -> int:
        return int(uprn) - 100_090_000_000
