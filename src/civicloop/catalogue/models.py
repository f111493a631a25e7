"""The service catalogue: departments, partner organisations, needs and services."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

ATTRIBUTE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,60}$")


class Department(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerOrganisation(models.Model):
    """A charity, provider or other body outside government that takes referrals."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    website = models.URLField(blank=True)
    departments = models.ManyToManyField(Department, blank=True, related_name="partners")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Need(models.Model):
    """A need in the taxonomy (housing, income, employment, childcare, …)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """A service in the catalogue. Its `code` is its Open311 service_code."""

    class Kind(models.TextChoices):
        REALTIME = "realtime", _("Real time")
        BATCH = "batch", _("Batch")
        BLACKBOX = "blackbox", _("Black box")

    code = models.CharField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="services")
    needs = models.ManyToManyField(Need, blank=True, related_name="services")
    group = models.CharField(max_length=100, blank=True)
    keywords = models.CharField(max_length=400, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REALTIME)
    place_based = models.BooleanField(
        default=False, help_text=_("Reports need a location (e.g. a pothole).")
    )
    public = models.BooleanField(
        default=True, help_text=_("Offered to the public through Open311 and the portal.")
    )
    sensitive = models.BooleanField(
        default=False,
        help_text=_(
            "Health, child protection, domestic abuse: never visible outside its department without consent."
        ),
    )
    sla_days = models.PositiveIntegerField(null=True, blank=True)
    # Optional workflow override: {"statuses": [...], "transitions": {status: [status, ...]}}.
    workflow = models.JSONField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["department__name", "name"]

    def __str__(self) -> str:
        return self.name


class ServiceAttribute(models.Model):
    """A question a service asks of each report (an Open311 attribute), answered by its code."""

    class Datatype(models.TextChoices):
        STRING = "string", _("Short text")
        NUMBER = "number", _("Number")
        DATETIME = "datetime", _("Date and time")
        TEXT = "text", _("Long text")
        SINGLE = "singlevaluelist", _("One choice from a list")
        MULTI = "multivaluelist", _("Several choices from a list")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="attributes")
    code = models.CharField(
        max_length=60, help_text=_("Letters, digits, '-' and '_'; unique within the service.")
    )
    # False: shown to the reporter as information only, never answered.
    variable = models.BooleanField(default=True)
    datatype = models.CharField(max_length=20, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=1)
    description = models.CharField(
        max_length=400, help_text=_("The question, as the public reads it.")
    )
    datatype_description = models.CharField(max_length=200, blank=True)
    # For the list types: [{"key": "...", "name": "..."}, ...] in the order shown.
    values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["service", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="service_attribute_code")
        ]

    def __str__(self) -> str:
        return f"{self.service.code}: {self.code}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not ATTRIBUTE_CODE.match(self.code or ""):
            errors["code"] = _("Use letters, digits, '-' and '_' only.")
        if self.is_list:
            values = self.values if isinstance(self.values, list) else None
            keys = [v.get("key") for v in values or [] if isinstance(v, dict)]
            names = [v.get("name") for v in values or [] if isinstance(v, dict)]
            if (
                not values
                or len(keys) != len(values)
                or not all(isinstance(k, str) and k for k in keys)
                or not all(isinstance(n, str) and n for n in names)
                or len(set(keys)) != len(keys)
            ):
                errors["values"] = _(
                    'Give the choices as a list of {"key": ..., "name": ...}, with different keys.'
                )
        elif self.values:
            errors["values"] = _("Only list questions have choices.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_list(self) -> bool:
        return self.datatype in (self.Datatype.SINGLE, self.Datatype.MULTI)

    def value_keys(self) -> list[str]:
        return [str(v.get("key", "")) for v in self.values or [] if isinstance(v, dict)]
