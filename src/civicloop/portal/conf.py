"""The portal's settings, read from settings.CIVICLOOP with defaults that suit a laptop.

Every value can be set in the settings module (see docs/portal.md for the environment
variables that feed them).
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # Largest photo a citizen may upload, before it is checked and re-encoded.
    "PORTAL_MAX_PHOTO_BYTES": 8 * 1024 * 1024,
    # Photos are shrunk to fit this many pixels on their longest side.
    "PORTAL_MAX_PHOTO_SIDE": 2048,
    # A form sent back sooner than this after it was shown is taken for a robot's.
    "PORTAL_MIN_FORM_SECONDS": 2.0,
    # A form older than this is refused (its page is shown again, freshly).
    "PORTAL_MAX_FORM_AGE_SECONDS": 24 * 3600,
    "PORTAL_PAGE_SIZE": 20,
    # Photos chosen for a report not yet sent are kept this long (civicloop portal_purge_drafts).
    "PORTAL_DRAFT_TTL_HOURS": 24,
}


def portal_setting(name: str):
    """A portal setting: settings.CIVICLOOP[name] when set, else the default above."""
    return getattr(settings, "CIVICLOOP", {}).get(name, DEFAULTS[name])
