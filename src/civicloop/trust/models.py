"""The audit log: append-only, hash-chained, ids and field names only.

Rows are written unsealed (seq NULL) in the same transaction as what they
record; the sealer gives each committed row the next `seq` and its hash, in
order, off the request path (see trust/chain.py).
"""

from django.db import models

from civicloop.core import clock


class AuditEvent(models.Model):
    at = models.DateTimeField(default=clock.now)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=60)  # e.g. "person.read", "case.transition"
    object_type = models.CharField(max_length=40, blank=True)
    object_ids = models.JSONField(default=list, blank=True)
    fields = models.JSONField(default=list, blank=True)  # field names, never values
    purpose = models.CharField(max_length=60, blank=True)
    outcome = models.CharField(max_length=20, default="ok")  # ok, denied, not_found
    # Counts and id ranges for bulk work; never names or free text.
    counts = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=40, blank=True)
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], name="audit_unsealed", condition=models.Q(seq__isnull=True)
            ),
            models.Index(fields=["actor_user_id", "at"], name="audit_actor_time"),
        ]


class ChainHead(models.Model):
    """One row: the last sealed seq and hash. The sealer locks it; requests never do."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    sealed_at = models.DateTimeField(null=True, blank=True)
