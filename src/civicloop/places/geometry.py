"""Point-in-polygon without a GIS library; polygons are lists of [lon, lat] rings."""

from __future__ import annotations

from collections.abc import Sequence

Ring = Sequence[Sequence[float]]


def point_in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Even-odd ray casting; points on an edge count as inside one of the two areas."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat):
            x_cross = (xj - xi) * (lat - yi) / (yj - yi) + xi
            if lon < x_cross:
                inside = not inside
        j = i
    return inside


def point_in_polygon(lon: float, lat: float, polygon: Sequence[Ring]) -> bool:
    """First ring is the outline, the others holes."""
    if not polygon or not point_in_ring(lon, lat, polygon[0]):
        return False
    return not any(point_in_ring(lon, lat, hole) for hole in polygon[1:])


def bounds(polygon: Sequence[Ring]) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of the outline."""
    lons = [p[0] for p in polygon[0]]
    lats = [p[1] for p in polygon[0]]
    return min(lats), max(lats), min(lons), max(lons)
