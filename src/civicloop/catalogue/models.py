"""The service catalogue: departments, partner organisations, needs and services."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
