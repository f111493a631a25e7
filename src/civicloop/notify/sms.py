"""Text messages: a provider interface, a logging provider for development and an
adapter for Twilio-compatible REST gateways, chosen by settings CIVICLOOP["SMS"]."""

from __future__ import annotations

import base64
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from civicloop.notify.errors import SendFailed

logger = logging.getLogger("civicloop.notify.sms")


class SmsProvider(Protocol):
    def send(self, *, to: str, body: str) -> str:
        """Send `body` to the number `to` (E.164); return the provider's message id.

        Raises SendFailed, permanent when trying again cannot help."""
        ...


def e164(phone: str, default_country_code: str = "") -> str:
    """`phone` as +<country><number>; a national number ('07700 900123') takes the
    default country code. Raises SendFailed (permanent) for anything else."""
    digits = re.sub(r"[\s().-]", "", phone or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0") and default_country_code:
        digits = f"+{default_country_code.lstrip('+')}{digits[1:]}"
    if not re.fullmatch(r"\+[1-9]\d{6,14}", digits):
        raise SendFailed("the phone number cannot receive text messages", permanent=True)
    return digits


class LoggingSmsProvider:
    """Writes each message to the log instead of sending it: for development and demos."""

    def send(self, *, to: str, body: str) -> str:
        message_id = f"log-{uuid.uuid4().hex[:12]}"
        logger.warning("SMS %s to …%s: %s", message_id, to[-3:], body)
        return message_id


class TwilioCompatibleSmsProvider:
    """POSTs to {url}/2010-04-01/Accounts/{account}/Messages.json with HTTP basic auth
    (account, token) and form fields To, From, Body, as Twilio and gateways that copy its
    API expect; a 2xx answer carries the message's `sid`."""

    def __init__(self, *, url: str, account: str, token: str, sender: str, timeout: float):
        if not (url and account and token and sender):
            raise ImproperlyConfigured(
                "SMS: the twilio provider needs CIVICLOOP_SMS_URL, CIVICLOOP_SMS_ACCOUNT, "
                "CIVICLOOP_SMS_TOKEN and CIVICLOOP_SMS_FROM"
            )
        account_path = urllib.parse.quote(account, safe="")
        self.endpoint = f"{url.rstrip('/')}/2010-04-01/Accounts/{account_path}/Messages.json"
        credentials = base64.b64encode(f"{account}:{token}".encode()).decode()
        self.authorization = f"Basic {credentials}"
        self.sender = sender
        self.timeout = timeout

    def send(self, *, to: str, body: str) -> str:
        form = urllib.parse.urlencode({"To": to, "From": self.sender, "Body": body}).encode()
        request = urllib.request.Request(
            self.endpoint,
            data=form,
            method="POST",
            headers={
                "Authorization": self.authorization,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = _json(response.read())
        except urllib.error.HTTPError as error:
            detail = _json(error.read()).get("message", "")
            # 408 and 429 ask us to come back later; other 4xx will never succeed.
            permanent = 400 <= error.code < 500 and error.code not in (408, 429)
            raise SendFailed(
                f"SMS gateway answered {error.code}: {detail}".strip(), permanent=permanent
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise SendFailed(f"SMS gateway unreachable: {reason}") from None
        return str(answer.get("sid") or answer.get("id") or "")


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def sms_provider() -> SmsProvider:
    """The provider named by CIVICLOOP["SMS"]["PROVIDER"]: 'log' (default) or 'twilio'."""
    config = settings.CIVICLOOP.get("SMS", {})
    name = config.get("PROVIDER", "log")
    if name == "log":
        return LoggingSmsProvider()
    if name == "twilio":
        return TwilioCompatibleSmsProvider(
            url=config.get("URL", ""),
            account=config.get("ACCOUNT", ""),
            token=config.get("TOKEN", ""),
            sender=config.get("FROM", ""),
            timeout=float(config.get("TIMEOUT", 10)),
        )
    raise ImproperlyConfigured(f"SMS: unknown provider {name!r} (use 'log' or 'twilio')")
