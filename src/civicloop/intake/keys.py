"""Open311 api keys: one per client application, issued by an admin, shown once.

Only the SHA-256 of a key is stored, with its first characters so that admins can tell
keys apart. A revoked key stops working at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from civicloop.core import clock
from civicloop.core.access import ValidationFailed, Viewer
from civicloop.intake.models import Open311Client
from civicloop.trust.audit import audit_record

KEY_PREFIX = "o311_"
PREFIX_LENGTH = 10
MAX_NAME = 200
# A key's last use is written at most this often, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open311_client_create(
    *, viewer: Viewer, name: str, created_by_id: int | None = None
) -> tuple[Open311Client, str]:
    """Issue a key for a client application: (the client, the key — shown once, never stored)."""
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": _("Enter the name of the application.")})
    if len(name) > MAX_NAME:
        raise ValidationFailed(
            {"name": _("Keep the name under %(n)d characters.") % {"n": MAX_NAME}}
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        client = Open311Client.objects.create(
            name=name,
            key_prefix=key[:PREFIX_LENGTH],
            key_hash=key_hash(key),
            created_by_id=created_by_id,
        )
        audit_record(
            viewer=viewer,
            action="open311.key_issue",
            object_type="open311_client",
            object_ids=[client.id],
            fields=["name", "key"],
        )
    return client, key


def open311_client_revoke(*, viewer: Viewer, client_id: int) -> Open311Client:
    with transaction.atomic():
        client = Open311Client.objects.select_for_update().get(pk=client_id)
        if client.active:
            client.active = False
            client.revoked_at = clock.now()
            client.save(update_fields=["active", "revoked_at"])
            audit_record(
                viewer=viewer,
                action="open311.key_revoke",
                object_type="open311_client",
                object_ids=[client.id],
                fields=["active"],
            )
    return client


def open311_client_for_key(key: str) -> Open311Client | None:
    """The active client application holding this key, or None."""
    if not key or len(key) > 200:
        return None
    client = Open311Client.objects.filter(key_hash=key_hash(key), active=True).first()
    if client is not None:
        now = clock.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
            Open311Client.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
    return client
