"""Reads of the portal: the public catalogue (only public, active services, never a
sensitive one) and the check of a tracking link's secret. No personal data is read here."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from django.db.models import Case as CaseWhen
from django.db.models import Count, IntegerField, Q, QuerySet, Value, When

from civicloop.cases.models import Attachment, Case, CaseEvent
from civicloop.catalogue.models import Department, Service, ServiceAttribute
from civicloop.intake.models import PublicUpdate

MAX_QUERY_WORDS = 6
REFERENCE = re.compile(r"^[A-Z0-9-]{4,30}$")


def offered_services() -> QuerySet[Service]:
    """Every service the public may report to: public, active and not sensitive."""
    return (
        Service.objects.filter(public=True, active=True, sensitive=False)
        .select_related("department")
        .order_by("name", "id")
    )


def service_search(query: str) -> list[Service]:
    """Offered services whose name, keywords or description contain every word of the
    query; those with the words in their name first."""
    words = query.split()[:MAX_QUERY_WORDS]
    if not words:
        return []
    services = offered_services()
    in_name = Q()
    for word in words:
        services = services.filter(
            Q(name__icontains=word) | Q(keywords__icontains=word) | Q(description__icontains=word)
        )
        in_name &= Q(name__icontains=word)
    rank = CaseWhen(When(in_name, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(services.annotate(rank=rank).order_by("rank", "name", "id")[:50])


@dataclass(frozen=True)
class DepartmentEntry:
    department: Department
    service_count: int


def departments_offering() -> list[DepartmentEntry]:
    """Departments with at least one offered service, and how many they offer."""
    offered = Q(services__public=True, services__active=True, services__sensitive=False)
    rows = (
        Department.objects.annotate(n=Count("services", filter=offered))
        .filter(n__gt=0)
        .order_by("name")
    )
    return [DepartmentEntry(department=d, service_count=d.n) for d in rows]


def department_offering(code: str) -> Department | None:
    return Department.objects.filter(code=code).first()


def department_services(department: Department) -> list[Service]:
    return list(offered_services().filter(department=department))


def offered_service(code: str) -> Service | None:
    """The offered service with this code, or None (unknown, private, inactive, sensitive)."""
    return offered_services().filter(code=code).first()


def service_questions(service: Service) -> list[ServiceAttribute]:
    """The service's own questions a reporter answers, in order."""
    return list(service.attributes.filter(variable=True).order_by("order", "code", "id"))


def service_notes(service: Service) -> list[ServiceAttribute]:
    """The service's information-only attributes (Open311 variable=false), in order."""
    return list(service.attributes.filter(variable=False).order_by("order", "code", "id"))


def normalise_reference(text: str) -> str:
    """A reference as typed ('cl 7kq2 m9xd', 'CL7KQ2M9XD') in its written form ('CL-7KQ2-M9XD')."""
    words = re.split(r"[\s\-_.]+", (text or "").strip().upper())
    joined = "-".join(w for w in words if w)
    if re.fullmatch(r"CL[0-9A-Z]{8}", joined):
        return f"CL-{joined[2:6]}-{joined[6:]}"
    return joined


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def tracking_secret_matches(*, reference: str, secret: str) -> int | None:
    """The id of the case with this reference when `secret` is its tracking link's secret,
    else None. Compared in constant time; a case without a tracking link matches nothing."""
    if not secret or len(secret) > 200 or not REFERENCE.match(reference or ""):
        return None
    row = (
        Case.objects.filter(reference=reference)
        .exclude(tracking_token_hash="")
        .values_list("id", "tracking_token_hash")
        .first()
    )
    given = secret_hash(secret)
    if row is None:
        # Compare anyway, so a wrong reference takes as long as a wrong secret.
        hmac.compare_digest(given, "0" * 64)
        return None
    case_id, stored = row
    return case_id if hmac.compare_digest(given, stored) else None


@dataclass(frozen=True)
class HistoryEntry:
    """One public line of a report's history: when it was made, a status change, or an
    update the department published. Staff notes are never part of it."""

    at: object
    kind: str  # "opened", "status" or "update"
    status: str
    text: str


def report_history(case_id: int) -> list[HistoryEntry]:
    """The public history of a report, oldest first."""
    entries = [
        HistoryEntry(at=at, kind=kind, status=to_status, text="")
        for at, kind, to_status in CaseEvent.objects.filter(
            case_id=case_id, kind__in=[CaseEvent.Kind.OPENED, CaseEvent.Kind.STATUS]
        ).values_list("at", "kind", "to_status")
    ]
    entries += [
        HistoryEntry(at=at, kind="update", status="", text=text)
        for at, text in PublicUpdate.objects.filter(case_id=case_id)
        .exclude(description="")
        .values_list("at", "description")
    ]
    order = {"opened": 0, "status": 1, "update": 2}
    return sorted(entries, key=lambda e: (e.at, order.get(e.kind, 3)))


@dataclass(frozen=True)
class ReportPhoto:
    id: int
    name: str
    content_type: str


def report_photos(case_id: int) -> list[ReportPhoto]:
    """The photos of a report that may be shown to the public."""
    return [
        ReportPhoto(id=pk, name=name, content_type=content_type)
        for pk, name, content_type in Attachment.objects.filter(case_id=case_id, public=True)
        .order_by("uploaded_at", "id")
        .values_list("id", "file", "content_type")
    ]
