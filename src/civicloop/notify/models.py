"""Messages to a reporter about their case: one row per case, event and channel.

A row holds what is needed to send and retry, not the message: subject and body are
rendered at each attempt from the case, so the reporter's address and the text never
rest here. The two personal items a row may hold until it is settled — the tracking
secret of the opening message and the text of a public update — are blanked once it is
sent, given up or cancelled; what stays is a SHA-256 of the address it went to.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core import clock


class Notification(models.Model):
    class Kind(models.TextChoices):
        OPENED = "opened", _("Report received")
        STATUS_CHANGED = "status_changed", _("Status changed")
        UPDATE_ADDED = "update_added", _("Update added")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("Text message")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Given up")
        CANCELLED = "cancelled", _("Not sent")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # What happened, once: "opened", "status:<case event id>", "update:<update id>".
    event_key = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # The status the case moved to, for a status message (not personal).
    to_status = models.CharField(max_length=30, blank=True)
    tracking_secret = models.CharField(max_length=200, blank=True)
    update_text = models.TextField(blank=True)
    language = models.CharField(max_length=10, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why the last attempt failed or the message was not sent, with addresses masked.
    reason = models.CharField(max_length=500, blank=True)
    recipient_hash = models.CharField(max_length=64, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "event_key", "channel"], name="notification_once"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["case", "created_at"], name="notification_case"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} #{self.pk}"
