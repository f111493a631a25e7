"""What arrives through the public channels before and beside a case: Open311 client
applications and their keys, tokens of requests answered later, and inbound messages
waiting for triage."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core import clock


class Open311Client(models.Model):
    """A client application allowed to POST service requests (Open311 `api_key`).

    The key is shown once when issued; only its SHA-256 is kept, with a short prefix
    so that admins can tell keys apart."""

    name = models.CharField(max_length=200)
    key_prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class ServiceRequestToken(models.Model):
    """Open311 `token` for a request to a service answered asynchronously: the
    `service_request_id` appears once the case exists."""

    token = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(
        Open311Client, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.token


class TriageItem(models.Model):
    """An inbound message that names no case it belongs to: staff route it to a
    department, open a case from it, or attach it to one."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for triage")
        CASE_OPENED = "case_opened", _("Case opened")
        ATTACHED = "attached", _("Added to a case")
        CLOSED = "closed", _("Closed without a case")

    channel = models.CharField(max_length=20, default="email")
    message_id = models.CharField(max_length=400, unique=True)
    received_at = models.DateTimeField(default=clock.now)
    sender_email = models.CharField(max_length=254, blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=400, blank=True)
    body = models.TextField(blank=True)
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "catalogue.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)

    class Meta:
        indexes = [models.Index(fields=["status", "received_at"], name="triage_queue")]

    def __str__(self) -> str:
        return self.message_id
