"""Why a message could not go out, in words safe to keep: addresses and numbers masked."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\+?\d[\d ()-]{5,}\d")


def mask_personal(text: str, limit: int = 480) -> str:
    """`text` with email addresses and phone-like numbers replaced, cut to `limit` characters."""
    text = _EMAIL.sub("[address]", str(text))
    text = _NUMBER.sub("[number]", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SendFailed(Exception):
    """A message did not go out. A permanent failure is not retried (a refused address,
    a number the gateway will never accept); anything else is tried again later."""

    def __init__(self, reason: str, *, permanent: bool = False):
        self.reason = mask_personal(reason)
        self.permanent = permanent
        super().__init__(self.reason)
