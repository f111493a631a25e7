"""Importing the agency's address gazetteer from a CSV file.

The contract, as for department records (people/imports.py): idempotent by the agency's
own address id (the same values leave an address untouched, changed ones update it,
addresses missing from the file are kept), and all or nothing — one bad row aborts the
import with every bad row reported, and nothing is written. An address is placed in the
area whose polygon contains it unless the file names the area's code.
"""

from __future__ import annotations

import codecs
import csv
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from civicloop.core.access import Viewer
from civicloop.places.geometry import point_in_polygon
from civicloop.places.models import Address, Area
from civicloop.trust.audit import audit_bulk

VIEWER = Viewer.system("import")
FIELDS = ("address_id", "line1", "line2", "town", "postcode", "latitude", "longitude", "area")
REQUIRED = ("address_id", "line1", "town", "latitude", "longitude")
SYNONYMS = {
    **dict.fromkeys(("uprn", "id", "address id", "addressid"), "address_id"),
    **dict.fromkeys(("address1", "address_line_1", "address line 1", "street"), "line1"),
    **dict.fromkeys(("address2", "address_line_2", "address line 2"), "line2"),
    **dict.fromkeys(("city", "locality", "post_town"), "town"),
    **dict.fromkeys(("zip", "zipcode", "zip_code", "postal_code", "post_code"), "postcode"),
    **dict.fromkeys(("lat",), "latitude"),
    **dict.fromkeys(("lon", "lng", "long"), "longitude"),
    **dict.fromkeys(("area_code", "ward", "ward_code"), "area"),
}
MAX_LENGTH = {
    "address_id": Address._meta.get_field("uprn").max_length,
    "line1": Address._meta.get_field("line1").max_length,
    "line2": Address._meta.get_field("line2").max_length,
    "town": Address._meta.get_field("town").max_length,
    "postcode": Address._meta.get_field("postcode").max_length,
}
UPDATABLE = ("line1", "line2", "town", "postcode", "latitude", "longitude", "area_id")

# progress(done, total), in rows.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowProblem:
    line: int
    address_id: str
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        who = f" (address id {self.address_id})" if self.address_id else ""
        return f"line {self.line}{who}: {'; '.join(self.reasons)}"


@dataclass
class AddressImportReport:
    path: Path
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    outside_areas: int = 0  # addresses no area's polygon contains
    problems: list[RowProblem] = field(default_factory=list)
    audit_events: int = 0
    seconds: float = 0.0


class AddressImportFailed(Exception):
    """Nothing was written; `problems` says why, one line each."""

    def __init__(self, problems: list[str], *, rows_rejected: bool = False):
        self.problems = problems
        self.rows_rejected = rows_rejected
        super().__init__("\n".join(problems))


def _header(names: list[str]) -> dict[str, int]:
    """Column index of each field, by its name or a usual synonym."""
    columns: dict[str, int] = {}
    unknown = []
    for index, raw in enumerate(names):
        name = raw.strip().lower()
        name = SYNONYMS.get(name, name)
        if name in FIELDS and name not in columns:
            columns[name] = index
        elif name:
            unknown.append(raw.strip())
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise AddressImportFailed(
            [
                f"The file has no column for {', '.join(missing)}. Columns found: "
                f"{', '.join(n.strip() for n in names) or 'none'}. Expected: {', '.join(FIELDS)} "
                "(line2, postcode and area may be left out)."
            ]
        )
    return columns


def _float(text: str, low: float, high: float) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and low <= value <= high else None


class _Areas:
    """Point-in-polygon over every area, loaded once for the whole file."""

    def __init__(self):
        self.areas = list(Area.objects.all())
        self.by_code = {a.code: a for a in self.areas}

    def containing(self, lat: float, lon: float) -> Area | None:
        for a in self.areas:
            if a.min_lat <= lat <= a.max_lat and a.min_lon <= lon <= a.max_lon:
                if point_in_polygon(lon, lat, a.polygon):
                    return a
        return None


def _row_address(values: dict[str, str], areas: _Areas) -> tuple[Address | None, list[str]]:
    reasons: list[str] = []
    for name, limit in MAX_LENGTH.items():
        if len(values.get(name, "")) > limit:
            reasons.append(f"{name} is longer than {limit} characters")
    for name in REQUIRED:
        if not values.get(name):
            reasons.append(f"{name} is empty")
    if any("\x00" in v for v in values.values()):
        reasons.append("a value holds a NUL character")
    latitude = _float(values.get("latitude", ""), -90, 90)
    longitude = _float(values.get("longitude", ""), -180, 180)
    if values.get("latitude") and latitude is None:
        reasons.append(f"latitude {values['latitude']!r} is not a number from -90 to 90")
    if values.get("longitude") and longitude is None:
        reasons.append(f"longitude {values['longitude']!r} is not a number from -180 to 180")
    area = None
    if values.get("area"):
        area = areas.by_code.get(values["area"])
        if area is None:
            reasons.append(f"there is no area with code {values['area']!r}")
    elif latitude is not None and longitude is not None:
        area = areas.containing(latitude, longitude)
    if reasons:
        return None, reasons
    return (
        Address(
            uprn=values["address_id"],
            line1=values["line1"],
            line2=values.get("line2", ""),
            town=values["town"],
            postcode=values.get("postcode", "").upper(),
            latitude=latitude,
            longitude=longitude,
            area=area,
        ),
        [],
    )


def _read(path: Path, report: AddressImportReport) -> list[Address]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise AddressImportFailed([f"Cannot read {path}: {error.strerror or error}."]) from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AddressImportFailed(
            [f"{path.name} is not UTF-8 text (byte {error.start} cannot be read)."]
        ) from None
    lines = text.splitlines()
    if not lines:
        raise AddressImportFailed([f"{path.name} is empty."])
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(lines, delimiter=delimiter)
    columns = _header(next(reader))
    areas = _Areas()
    seen: dict[str, int] = {}
    addresses: list[Address] = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        report.rows += 1
        values = {f: row[i].strip() if i < len(row) else "" for f, i in columns.items()}
        address, reasons = _row_address(values, areas)
        address_id = values.get("address_id", "")
        if address_id and address_id in seen:
            reasons = [*reasons, f"address id repeats line {seen[address_id]}"]
            address = None
        elif address_id:
            seen[address_id] = line
        if address is None:
            report.problems.append(RowProblem(line, address_id, tuple(reasons)))
            continue
        if address.area is None:
            report.outside_areas += 1
        addresses.append(address)
    return addresses


def import_addresses(
    *, path: str | Path, batch_size: int = 2000, progress: Progress | None = None
) -> AddressImportReport:
    """Import the gazetteer in `path` (CSV: address_id, line1, line2, town, postcode,
    latitude, longitude, area): all of it, or nothing and AddressImportFailed."""
    started = time.perf_counter()
    path = Path(path)
    report = AddressImportReport(path=path)
    addresses = _read(path, report)
    if report.problems:
        raise AddressImportFailed(
            [str(p) for p in report.problems[:200]]
            + (
                [f"... and {len(report.problems) - 200} more."]
                if len(report.problems) > 200
                else []
            ),
            rows_rejected=True,
        )
    progress = progress or (lambda done, total: None)
    with transaction.atomic():
        for start in range(0, len(addresses), batch_size):
            batch = addresses[start : start + batch_size]
            held = Address.objects.in_bulk([a.uprn for a in batch], field_name="uprn")
            new = [a for a in batch if a.uprn not in held]
            changed = []
            for address in batch:
                old = held.get(address.uprn)
                if old is None:
                    continue
                if all(getattr(old, f) == getattr(address, f) for f in UPDATABLE):
                    report.unchanged += 1
                    continue
                for f in UPDATABLE:
                    setattr(old, f, getattr(address, f))
                changed.append(old)
            Address.objects.bulk_create(new, batch_size=batch_size)
            Address.objects.bulk_update(changed, UPDATABLE, batch_size=batch_size)
            report.created += len(new)
            report.updated += len(changed)
            written = [a.pk for a in new] + [a.pk for a in changed]
            if written:
                audit_bulk(
                    viewer=VIEWER,
                    action="address.import",
                    object_type="address",
                    ids=written,
                    extra={"created": len(new), "updated": len(changed)},
                )
                report.audit_events += 1
            progress(min(start + batch_size, len(addresses)), len(addresses))
    report.seconds = time.perf_counter() - started
    return report
