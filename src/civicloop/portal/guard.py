"""Protection of every public form: a rate limit per client and form, a honeypot field
that people never see, and a minimum time between showing a form and sending it.

The rate limit is core.ratelimit's; this is the one place the portal calls it.
"""

from __future__ import annotations

import time

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from civicloop.core.ratelimit import RateLimited, rate_limit
from civicloop.portal.conf import portal_setting

HONEYPOT_FIELD = "website"
STARTED_FIELD = "form_started"
_SALT = "civicloop.portal.form-started"


def rate_limited_page(request: HttpRequest, error: RateLimited | None = None) -> HttpResponse:
    """429 with the portal's own page, and Retry-After when the limiter says how long."""
    retry_after = getattr(error, "retry_after", None)
    response = render(
        request,
        "portal/rate_limited.html",
        {"retry_minutes": max(1, -(-int(retry_after) // 60)) if retry_after else None},
        status=429,
    )
    if retry_after:
        response["Retry-After"] = str(int(retry_after))
    return response


def check_rate(request: HttpRequest, scope: str) -> HttpResponse | None:
    """None when the client may go on; the 429 page when it has sent too many requests."""
    try:
        rate_limit(request, scope)
    except RateLimited as error:
        return rate_limited_page(request, error)
    return None


def started_token() -> str:
    """A signed note of when a form was shown, for its hidden field."""
    return signing.dumps({"t": round(time.time(), 3)}, salt=_SALT, compress=False)


def spam_errors(data) -> list[str]:
    """Why a posted form looks like a robot's: its honeypot was filled, or it came back too
    soon (or with no sign of when it was shown). Empty when it looks like a person's."""
    if str(data.get(HONEYPOT_FIELD, "")).strip():
        return [_("We could not accept this form. Please try again.")]
    try:
        shown = signing.loads(
            str(data.get(STARTED_FIELD, "")),
            salt=_SALT,
            max_age=portal_setting("PORTAL_MAX_FORM_AGE_SECONDS"),
        )["t"]
    except (signing.BadSignature, KeyError, TypeError):
        return [_("This page has expired. Check your answer and send it again.")]
    if time.time() - float(shown) < portal_setting("PORTAL_MIN_FORM_SECONDS"):
        return [_("That was quicker than we expected. Check your answer and send it again.")]
    return []
