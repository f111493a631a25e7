"""Reads of public reports: what Open311 and the portal may show anyone, and nothing more.

A report is public when it is about a place (its service is place-based, public and not
sensitive): a pothole is, a benefit claim is not. Public fields only — never the
reporter's name, email or phone, nor staff notes. The reporter's own view of any report
they made (`tracked_report`) goes through the secret of their tracking link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, OuterRef, QuerySet, Subquery

from civicloop.cases.models import Case
from civicloop.cases.workflow import DEFAULT, status_label, workflow_for
from civicloop.catalogue.models import Service
from civicloop.core import clock
from civicloop.core.access import Forbidden, NotVisible, Viewer
from civicloop.intake.models import Open311Client, PublicUpdate
from civicloop.trust.audit import audit_record

METRES_PER_DEGREE = 111_320.0
# A busy corner may hold many open reports: read this many points, return the nearest few.
MAX_SCANNED = 2000
MAX_NEARBY = 5
MAX_PUBLIC_PAGE = 1000
TRACKING_VIEWER = Viewer(user_id=None, role="reporter", purpose="tracking")


@dataclass(frozen=True)
class PublicReport:
    """A report as the public sees it (Open311 GET requests, the portal's list and map)."""

    case_id: int
    reference: str  # Open311 service_request_id
    service_code: str
    service_name: str
    agency_responsible: str  # the department's name
    status: str  # "open" or "closed" (Open311)
    status_label: str  # the workflow's own status, in words
    description: str  # as the reporter wrote it
    status_notes: str  # the latest public update's text
    requested_at: dt.datetime
    updated_at: dt.datetime
    expected_at: dt.datetime | None
    address: str  # the gazetteer's address, "" when located by a point only
    address_id: str  # the gazetteer's own id
    postcode: str
    latitude: float | None
    longitude: float | None
    area_name: str
    media_url: str
    duplicate_of: str  # reference of the report this one duplicates, or ""


def duplicate_distance_m() -> float:
    return float(settings.CIVICLOOP.get("DUPLICATE_DISTANCE_M", 50))


def duplicate_days() -> int:
    return int(settings.CIVICLOOP.get("DUPLICATE_DAYS", 30))


# Workflows change seldom, and every report reads them: each process reads them again
# when its copy is older than this.
WORKFLOWS_FRESH_SECONDS = 30.0
_done: tuple[float, frozenset[str]] | None = None


def forget_workflows(**_kwargs) -> None:
    """A service changed in this process: read workflows afresh (others within seconds)."""
    global _done
    _done = None


def done_statuses() -> frozenset[str]:
    """Every status that counts as closed, in the default workflow or any service's own."""
    global _done
    cached = _done
    if cached is not None and time.monotonic() - cached[0] < WORKFLOWS_FRESH_SECONDS:
        return cached[1]
    done = set(DEFAULT.resolved | DEFAULT.closed)
    for service in Service.objects.exclude(workflow=None).only("workflow"):
        workflow = workflow_for(service)
        done |= workflow.resolved | workflow.closed
    _done = (time.monotonic(), frozenset(done))
    return _done[1]


def public_cases() -> QuerySet[Case]:
    return Case.objects.filter(
        service__public=True, service__sensitive=False, service__place_based=True
    )


def _with_public_fields(qs: QuerySet[Case]) -> QuerySet[Case]:
    latest_note = (
        PublicUpdate.objects.filter(case=OuterRef("pk"))
        .exclude(description="")
        .order_by("-at", "-id")
        .values("description")[:1]
    )
    # An area's polygon is never shown: not read either.
    return (
        qs.select_related("service", "department", "address", "area")
        .defer("area__polygon")
        .annotate(
            public_status_notes=Subquery(latest_note),
            duplicate_reference=F("duplicate_of__reference"),
        )
    )


def _public(case: Case) -> PublicReport:
    workflow = workflow_for(case.service)
    address = case.address
    return PublicReport(
        case_id=case.id,
        reference=case.reference,
        service_code=case.service.code,
        service_name=case.service.name,
        agency_responsible=case.department.name,
        status="open" if workflow.is_open(case.status) else "closed",
        status_label=status_label(case.status),
        description=case.description,
        status_notes=getattr(case, "public_status_notes", None) or "",
        requested_at=case.opened_at,
        updated_at=case.updated_at,
        expected_at=case.due_at,
        address=str(address) if address else "",
        address_id=address.uprn if address else "",
        postcode=address.postcode if address else "",
        latitude=case.latitude,
        longitude=case.longitude,
        area_name=case.area.name if case.area else "",
        media_url=case.media_url,
        duplicate_of=getattr(case, "duplicate_reference", None) or "",
    )


def public_report(*, reference: str | None = None, case_id: int | None = None) -> PublicReport:
    """One public report by its reference or id; NotVisible if there is none to show."""
    if not reference and case_id is None:
        raise NotVisible("report")
    qs = public_cases()
    qs = qs.filter(reference=reference) if reference else qs.filter(pk=case_id)
    case = _with_public_fields(qs).first()
    if case is None:
        raise NotVisible("report")
    return _public(case)


def public_reports(
    *,
    service_codes: Sequence[str] = (),
    references: Sequence[str] = (),
    area_id: int | None = None,
    status: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[PublicReport]:
    """Public reports, newest first, filtered by service, reference, area, status ("open" or
    "closed") and the time they were made (start inclusive, end inclusive)."""
    qs = public_cases()
    if references:
        qs = qs.filter(reference__in=list(references))
    if service_codes:
        qs = qs.filter(service__code__in=list(service_codes))
    if area_id is not None:
        qs = qs.filter(area_id=area_id)
    if status in ("open", "closed"):
        done = done_statuses()
        qs = qs.exclude(status__in=done) if status == "open" else qs.filter(status__in=done)
    if start is not None:
        qs = qs.filter(opened_at__gte=start)
    if end is not None:
        qs = qs.filter(opened_at__lte=end)
    limit = max(0, min(MAX_PUBLIC_PAGE, limit))
    offset = max(0, offset)
    qs = _with_public_fields(qs).order_by("-opened_at", "-id")[offset : offset + limit]
    return [_public(case) for case in qs]


def tracking_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tracked_report(*, tracking_secret: str) -> PublicReport:
    """The reporter's own report, found by the secret of their tracking link (any service
    but a sensitive one); audited as a read by the reporter. NotVisible if none."""
    if not tracking_secret or len(tracking_secret) > 200:
        raise NotVisible("report")
    qs = Case.objects.filter(
        tracking_token_hash=tracking_hash(tracking_secret), service__sensitive=False
    )
    case = _with_public_fields(qs).first()
    if case is None:
        raise NotVisible("report")
    audit_record(
        viewer=TRACKING_VIEWER,
        action="case.track",
        object_type="case",
        object_ids=[case.id],
        fields=["status", "description"],
    )
    return _public(case)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(a)))


def duplicate_points(
    *,
    service_id: int,
    latitude: float,
    longitude: float,
    exclude_case_id: int | None = None,
) -> list[tuple[int, float]]:
    """(case id, metres) of the open reports of a service within the duplicate distance and
    days of a point, the nearest five, nearest first; reports already marked duplicates are
    left out (their original is the one to follow)."""
    metres = duplicate_distance_m()
    dlat = metres / METRES_PER_DEGREE
    dlon = metres / (METRES_PER_DEGREE * max(0.01, math.cos(math.radians(latitude))))
    since = clock.now() - dt.timedelta(days=duplicate_days())
    qs = Case.objects.filter(
        service_id=service_id,
        opened_at__gte=since,
        duplicate_of__isnull=True,
        latitude__range=(latitude - dlat, latitude + dlat),
        longitude__range=(longitude - dlon, longitude + dlon),
    ).exclude(status__in=done_statuses())
    if exclude_case_id is not None:
        qs = qs.exclude(pk=exclude_case_id)
    nearest = sorted(
        (d, case_id)
        for case_id, lat, lon in qs.values_list("id", "latitude", "longitude")[:MAX_SCANNED]
        if (d := distance_m(latitude, longitude, lat, lon)) <= metres
    )[:MAX_NEARBY]
    return [(case_id, d) for d, case_id in nearest]


def cases_at_distances(points: Sequence[tuple[int, float]]) -> list[Case]:
    """The cases of `duplicate_points`, in its order, each with `distance_m` set."""
    if not points:
        return []
    cases = (
        Case.objects.select_related("service", "address", "area").defer("area__polygon")
    ).in_bulk([case_id for case_id, _d in points])
    found = []
    for case_id, d in points:
        case = cases[case_id]
        case.distance_m = d
        found.append(case)
    return found


def report_duplicates_nearby(
    *,
    service_code: str,
    latitude: float,
    longitude: float,
    exclude_case_id: int | None = None,
) -> list[Case]:
    """The open reports of a service a new report at this point may repeat (see
    `duplicate_points`), as cases with `distance_m` set, nearest first."""
    service_id = Service.objects.filter(code=service_code).values_list("id", flat=True).first()
    if service_id is None:
        return []
    return cases_at_distances(
        duplicate_points(
            service_id=service_id,
            latitude=latitude,
            longitude=longitude,
            exclude_case_id=exclude_case_id,
        )
    )


# Open311 client applications are configuration: admins manage them.
KEY_ADMIN_ROLES = frozenset({"admin", "system"})


def _require_key_admin(viewer: Viewer) -> None:
    if viewer.role not in KEY_ADMIN_ROLES:
        raise Forbidden(viewer.role)


def open311_clients(*, viewer: Viewer) -> list[Open311Client]:
    """Every Open311 client application, newest first, active and revoked (admins only).
    Only a key's first characters are read, never its hash; nothing here is personal data."""
    _require_key_admin(viewer)
    return list(
        Open311Client.objects.select_related("created_by")
        .defer("key_hash")
        .order_by("-created_at", "-id")
    )


def open311_client_get(*, viewer: Viewer, client_id: int) -> Open311Client:
    """One client application (admins only); NotVisible if there is none."""
    _require_key_admin(viewer)
    client = Open311Client.objects.defer("key_hash").filter(pk=client_id).first()
    if client is None:
        raise NotVisible("open311_client")
    return client
