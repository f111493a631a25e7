"""Cases, their history (CaseEvent) and every touchpoint (Interaction)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core import clock


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    IN_PERSON = "in_person", _("In person")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    WEB = "web", _("Web portal")
    SMS = "sms", _("Text message")
    OPEN311 = "open311", _("Open311 app")


class NotifyChannel(models.TextChoices):
    NONE = "none", _("Do not contact me")
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")


class Case(models.Model):
    """A person's (or an anonymous reporter's) matter with one service."""

    reference = models.CharField(max_length=30, unique=True)
    service = models.ForeignKey("catalogue.Service", on_delete=models.PROTECT, related_name="cases")
    department = models.ForeignKey(
        "catalogue.Department", on_delete=models.PROTECT, related_name="cases"
    )
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    reporter_name = models.CharField(max_length=200, blank=True)
    reporter_email = models.CharField(max_length=254, blank=True)
    reporter_phone = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=30, default="new")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.PHONE)
    assignee = models.ForeignKey(
        "staff.StaffMember",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    opened_at = models.DateTimeField(default=clock.now)
    due_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=clock.now)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    address = models.ForeignKey(
        "places.Address", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        "places.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    reopen_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    # -- what arrived through a public channel (Open311, the portal, email) --
    # Answers to the service's own questions (Open311 attributes), by attribute code.
    attributes = models.JSONField(default=dict, blank=True)
    # A picture the reporter links to: stored and shown as a link, never fetched by the server.
    media_url = models.CharField(max_length=1000, blank=True)
    # A report of the same problem as an open one: it follows the original's status.
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    # An anonymous reporter whose contact details may be a known person: staff decide.
    identity_review = models.BooleanField(default=False)
    reporter_language = models.CharField(max_length=10, blank=True)
    # The reporter agreed to be contacted about this case, and how.
    contact_consent = models.BooleanField(default=False)
    notify_channel = models.CharField(
        max_length=10, choices=NotifyChannel.choices, default=NotifyChannel.NONE
    )
    # SHA-256 of the secret in the tracking link sent to the reporter (never the secret).
    tracking_token_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["service", "status", "opened_at"], name="case_service_open"),
            models.Index(fields=["department", "status", "due_at"], name="case_queue"),
            models.Index(fields=["person", "opened_at"], name="case_person_time"),
            models.Index(fields=["assignee", "status"], name="case_assignee"),
        ]

    def __str__(self) -> str:
        return self.reference


class CaseEvent(models.Model):
    """One entry of a case's history: opened, status change, assignment, note."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        NOTE = "note", _("Note")
        EDITED = "edited", _("Edited")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=clock.now)
    actor = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30, blank=True)
    assignee = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_time")]


class Interaction(models.Model):
    """A touchpoint: a call, visit, email or letter, in or out, maybe about a case."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("From the citizen")
        OUTBOUND = "outbound", _("To the citizen")

    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interactions",
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="interactions"
    )
    department = models.ForeignKey(
        "catalogue.Department", on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.INBOUND
    )
    at = models.DateTimeField(default=clock.now)
    actor = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(blank=True)
    is_chasing = models.BooleanField(
        default=False, help_text=_("The citizen is chasing progress on something already asked.")
    )

    class Meta:
        indexes = [
            models.Index(fields=["person", "at"], name="interaction_person_time"),
            models.Index(fields=["case", "at"], name="interaction_case_time"),
        ]


class Attachment(models.Model):
    """A file a reporter or staff member added to a case (a photo of the problem),
    kept through Django's storage API, with location metadata already stripped."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="case-media/%Y/%m/")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    # Shown on the public report page (a reporter's photo of the problem is public).
    public = models.BooleanField(default=True)
    uploaded_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["case", "uploaded_at"], name="attachment_case")]

    def __str__(self) -> str:
        return self.file.name
