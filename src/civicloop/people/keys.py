"""Search keys for people: folded names, phonetic codes, phone and email keys.

Pure functions, shared by the services that write people, the demo and bulk
loaders, and search, so that a key is always computed the same way.
"""

from __future__ import annotations

import re
import unicodedata

import jellyfish

_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\D+")


def fold(text: str) -> str:
    """Lower case, accents stripped, punctuation dropped, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    ascii_text = ascii_text.replace("-", " ").replace("'", "")
    return _SPACES.sub(" ", _NON_ALNUM.sub(" ", ascii_text)).strip()


def phonetic(name: str) -> str:
    """Metaphone of the folded first token: 'Smyth' and 'Smith' share a key."""
    folded = fold(name).replace(" ", "")
    if not folded:
        return ""
    return jellyfish.metaphone(folded)[:20]


def phone_key(phone: str) -> str:
    """The last ten digits, so '+44 20 7946 0000' and '020 7946 0000' agree."""
    digits = _DIGITS.sub("", phone or "")
    return digits[-10:]


def email_key(email: str) -> str:
    return (email or "").strip().lower()


def person_keys(
    *, given_name: str, family_name: str, phone: str = "", email: str = ""
) -> dict[str, str]:
    """Every search key of a Person, as a dict of model field names."""
    return {
        "search_name": f"{fold(given_name)} {fold(family_name)}".strip(),
        "family_key": fold(family_name),
        "family_phonetic": phonetic(family_name),
        "given_phonetic": phonetic(given_name),
        "phone_key": phone_key(phone),
        "email_key": email_key(email),
    }
