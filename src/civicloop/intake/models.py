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

    class CloseReason(models.TextChoices):
        """Why an item was closed without a case: codes, so the audit log can keep them."""

        SPAM = "spam", _("Spam or junk mail")
        NOT_FOR_US = "not_for_us", _("Not for us: the sender was told where to go")
        DUPLICATE = "duplicate", _("A copy of a message already dealt with")
        NO_ACTION = "no_action", _("No action needed (for example a thank-you)")

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
    # Who last acted on the item (routed it, opened a case, added it to one, closed it), when.
    handled_by = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=20, choices=CloseReason.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "received_at"], name="triage_queue")]

    def __str__(self) -> str:
        return self.message_id


class PublicUpdate(models.Model):
    """An update on a report that the public may read (its text becomes the report's
    status notes): pushed by a back-office system through Open311 `servicerequestupdates`,
    or written by staff."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    # The status the update reported, in Open311's words (open, closed, fixed, ...).
    status = models.CharField(max_length=40)
    description = models.TextField(blank=True)
    at = models.DateTimeField(default=clock.now)
    client = models.ForeignKey(
        Open311Client, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The client's own id of the update: sending it again changes nothing.
    external_id = models.CharField(max_length=100, blank=True)
    # The status change this update made, if it made one (so the feed lists it once).
    case_event = models.OneToOneField(
        "cases.CaseEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [
            models.Index(fields=["case", "at"], name="publicupdate_case"),
            models.Index(fields=["at"], name="publicupdate_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_id"],
                condition=~models.Q(external_id=""),
                name="publicupdate_client_external_id",
            )
        ]


class PossibleDuplicate(models.Model):
    """A new report (`case`) close in place and time to an open one of the same service
    (`candidate`): staff confirm it is the same problem (case_mark_duplicate) or dismiss it."""

    class Resolution(models.TextChoices):
        OPEN = "open", _("Waiting for review")
        CONFIRMED = "confirmed", _("Same problem")
        DISMISSED = "dismissed", _("Not the same problem")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    distance_m = models.FloatField()
    created_at = models.DateTimeField(default=clock.now)
    resolution = models.CharField(
        max_length=20, choices=Resolution.choices, default=Resolution.OPEN
    )
    resolved_by = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "candidate"], name="possible_duplicate_pair")
        ]
        indexes = [
            models.Index(fields=["resolution", "created_at"], name="possible_duplicate_queue")
        ]


class RateLimitCounter(models.Model):
    """Requests counted in the current window for one scope and client (core/ratelimit.py).

    One row per scope and client, shared by every process through the database; `bucket`
    is a hash, so no address or api key is stored."""

    bucket = models.CharField(max_length=64, unique=True)
    window_start = models.BigIntegerField()  # seconds since the epoch
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["window_start"], name="ratelimit_window")]


class ReportOrigin(models.Model):
    """Where a public report came from: the Open311 client application, and the ids that
    application gave its device and its user (Open311 `device_id`, `account_id`)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(
        Open311Client, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
