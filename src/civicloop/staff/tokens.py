"""Personal access tokens for the staff API.

A token is shown once, when issued: `cl_` and 43 random URL-safe characters.
Only its SHA-256 is stored, with its first characters as a prefix to find it
and to show staff which token is which. Expired and revoked tokens, and tokens
of staff who are no longer active, authenticate no one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from civicloop.core import clock
from civicloop.core.access import NotVisible, ValidationFailed, Viewer
from civicloop.core.sql import aware, fetch_rows
from civicloop.staff.models import ApiToken, StaffMember
from civicloop.trust.audit import audit_record

TOKEN_PREFIX = "cl_"
PREFIX_LENGTH = 12  # "cl_" and nine characters: ApiToken.prefix
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
MAX_NAME_LENGTH = 100


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _staff_viewer(staff: StaffMember) -> Viewer:
    return Viewer(user_id=staff.user_id, role=staff.role, staff_id=staff.id, purpose="security")


def token_issue(
    *, staff: StaffMember, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `staff`: the stored row and the plaintext, which is never kept."""
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Name the token, for example after the script that will use it.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = _("Keep the name under %(n)d characters.") % {"n": MAX_NAME_LENGTH}
    if expires_at is not None and expires_at <= clock.now():
        errors["expires_at"] = _("Choose an expiry date in the future.")
    if not staff.active:
        errors["staff"] = _("Only active staff members can have API tokens.")
    if errors:
        raise ValidationFailed(errors)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            staff=staff,
            name=name,
            prefix=raw[:PREFIX_LENGTH],
            token_hash=token_hash(raw),
            created_at=clock.now(),
            expires_at=expires_at,
        )
        audit_record(
            viewer=_staff_viewer(staff),
            action="token.issue",
            object_type="api_token",
            object_ids=[token.id, staff.id],
            fields=["expires_at"] if expires_at else [],
        )
    return token, raw


def token_revoke(*, token_id: int, staff: StaffMember | None = None) -> ApiToken:
    """Revoke a token (of `staff`, when given). Revoking twice keeps the first time."""
    with transaction.atomic():
        qs = ApiToken.objects.select_for_update().select_related("staff")
        if staff is not None:
            qs = qs.filter(staff=staff)
        token = qs.filter(pk=token_id).first()
        if token is None:
            raise NotVisible("api_token")
        if token.revoked_at is None:
            token.revoked_at = clock.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                viewer=_staff_viewer(token.staff),
                action="token.revoke",
                object_type="api_token",
                object_ids=[token.id, token.staff_id],
            )
    return token


def token_viewer(raw: str, *, purpose: str = "casework") -> Viewer | None:
    """The Viewer a token authenticates now, or None for any token that is not good now.

    One statement reads the token, its staff member, their user and departments: this runs
    on every API request, where the ORM's three queries cost more than the request's work."""
    raw = (raw or "").strip()
    if not raw.startswith(TOKEN_PREFIX) or len(raw) < PREFIX_LENGTH + 20 or len(raw) > 200:
        return None
    digest = token_hash(raw)
    now = clock.now()
    memberships = StaffMember.departments.through._meta.db_table
    users = get_user_model()._meta.db_table
    rows = fetch_rows(
        "SELECT t.id, t.token_hash, t.revoked_at, t.expires_at, t.last_used_at,"
        " s.id, s.role, s.active, s.user_id, u.is_active, m.department_id"
        f" FROM {ApiToken._meta.db_table} t"
        f" JOIN {StaffMember._meta.db_table} s ON s.id = t.staff_id"
        f" JOIN {users} u ON u.id = s.user_id"
        f" LEFT JOIN {memberships} m ON m.staffmember_id = s.id"
        " WHERE t.prefix = %s",
        [raw[:PREFIX_LENGTH]],
    )
    mine = [r for r in rows if hmac.compare_digest(r[1], digest)]
    if not mine:
        return None
    token_id, _hash, revoked_at, expires_at, last_used_at, staff_id, role, active, user_id, \
        user_active, _dept = mine[0]  # fmt: skip
    expires_at = aware(expires_at)
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    if not active or not user_active:
        return None
    # One write a minute at most, not one per request.
    last_used_at = aware(last_used_at)
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return Viewer(
        user_id=user_id,
        role=role,
        department_ids=frozenset(r[10] for r in mine if r[10] is not None),
        staff_id=staff_id,
        purpose=purpose,
    )


def token_authenticate(raw: str) -> StaffMember | None:
    """The active staff member a token belongs to, or None for any token that is not good now."""
    viewer = token_viewer(raw)
    return None if viewer is None else StaffMember.objects.get(pk=viewer.staff_id)


def token_list(*, staff: StaffMember):
    return ApiToken.objects.filter(staff=staff).order_by("-created_at", "-id")
