"""Reads of the catalogue. Not personal data: no audit needed."""

from django.db.models import QuerySet

from civicloop.catalogue.models import Department, Need, PartnerOrganisation, Service


def department_list() -> QuerySet[Department]:
    return Department.objects.order_by("name")


def partner_list() -> QuerySet[PartnerOrganisation]:
    return PartnerOrganisation.objects.order_by("name")


def service_list(
    *, department_id: int | None = None, include_sensitive: bool = True, public_only: bool = False
) -> QuerySet[Service]:
    qs = (
        Service.objects.filter(active=True)
        .select_related("department")
        .order_by("department__name", "name")
    )
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    if not include_sensitive:
        qs = qs.filter(sensitive=False)
    if public_only:
        qs = qs.filter(public=True)
    return qs


def need_list() -> QuerySet[Need]:
    return Need.objects.order_by("name")
