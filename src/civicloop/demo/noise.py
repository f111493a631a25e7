"""The errors departments make when they record a person: typos, nicknames, swaps.

Pure functions of a random.Random, so a seed reproduces every error. The rates
are what identity resolution has to cope with; `ErrorRates` documents them and
the generator keeps them as shares of all source records.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from civicloop.demo.names import NICKNAME_SHARE, NICKNAMES

# Neighbouring keys on a UK keyboard, for substitution typos.
_KEYBOARD = {
    "q": "wa",
    "w": "qes",
    "e": "wrd",
    "r": "etf",
    "t": "ryg",
    "y": "tuh",
    "u": "yij",
    "i": "uok",
    "o": "ipl",
    "p": "ol",
    "a": "qsz",
    "s": "adwx",
    "d": "sfec",
    "f": "dgrv",
    "g": "fhtb",
    "h": "gjyn",
    "j": "hkum",
    "k": "jlim",
    "l": "kop",
    "z": "asx",
    "x": "zsdc",
    "c": "xdfv",
    "v": "cfgb",
    "b": "vghn",
    "n": "bhjm",
    "m": "njk",
}
# Share of dates whose day and month can be swapped into another valid date (day <= 12, day != month).
SWAPPABLE_DATE_SHARE = (12 * 12 - 12) / 365.25


@dataclass(frozen=True, slots=True)
class ErrorRates:
    """Shares of source records that carry each error against the golden record."""

    given_typo: float = 0.15
    family_typo: float = 0.10
    nickname: float = 0.08
    dob_swap: float = 0.06
    moved: float = 0.20  # an old address
    missing_contact: float = 0.25  # email or phone (or both) left out
    changed_family: float = 0.05  # a former surname, e.g. before marriage
    duplicate_record: float = 0.04  # a second record of the same person in one department


def typo(rng: random.Random, word: str) -> str:
    """One keying error: a swap, a dropped, doubled or wrong letter. Never returns `word`."""
    if len(word) < 2:
        return word + rng.choice("aeiou")
    for _ in range(10):
        chars = list(word)
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.3 and len(chars) >= 3:
            j = min(i, len(chars) - 2)
            chars[j], chars[j + 1] = chars[j + 1], chars[j]
        elif op < 0.55 and len(chars) >= 4:
            del chars[max(i, 1)]
        elif op < 0.75:
            chars.insert(i, chars[i].lower())
        else:
            c = chars[i].lower()
            choice = rng.choice(_KEYBOARD.get(c, "aeiou"))
            chars[i] = choice.upper() if chars[i].isupper() else choice
        candidate = "".join(chars)
        if candidate.lower() != word.lower():
            return candidate
    return word + "e"


def swap_day_month(date: dt.date) -> dt.date | None:
    """The date with day and month swapped, or None if that is not another valid date."""
    if date.day > 12 or date.day == date.month:
        return None
    try:
        return date.replace(month=date.day, day=date.month)
    except ValueError:
        return None


class RecordNoise:
    """Draws the errors of one source record so that shares over all records match `rates`.

    Nicknames and day/month swaps only apply to some people, so their chance is
    raised where they apply; the exclusive pairs (nickname or typo, changed name
    or typo) are drawn so that each keeps its own overall share.
    """

    def __init__(self, rates: ErrorRates):
        self.rates = rates
        self.p_nickname = min(0.95, rates.nickname / NICKNAME_SHARE)
        self.p_given_typo = rates.given_typo / (1 - rates.nickname)
        self.p_family_typo = rates.family_typo / (1 - rates.changed_family)
        self.p_swap = min(0.95, rates.dob_swap / SWAPPABLE_DATE_SHARE)

    def given_name(self, rng: random.Random, given: str, errors: list[str]) -> str:
        nicks = NICKNAMES.get(given)
        if nicks and rng.random() < self.p_nickname:
            errors.append("nickname")
            return rng.choice(nicks)
        if rng.random() < self.p_given_typo:
            errors.append("given_typo")
            return typo(rng, given)
        return given

    def family_name(self, rng: random.Random, family: str, former: str, errors: list[str]) -> str:
        if former and rng.random() < self.rates.changed_family:
            errors.append("changed_family")
            return former
        if rng.random() < self.p_family_typo:
            errors.append("family_typo")
            return typo(rng, family)
        return family

    def date_of_birth(self, rng: random.Random, dob: dt.date, errors: list[str]) -> dt.date:
        swapped = swap_day_month(dob)
        if swapped is not None and rng.random() < self.p_swap:
            errors.append("dob_swap")
            return swapped
        return dob

    def moved(self, rng: random.Random, errors: list[str]) -> bool:
        if rng.random() < self.rates.moved:
            errors.append("moved")
            return True
        return False

    def contacts(
        self, rng: random.Random, email: str, phone: str, errors: list[str]
    ) -> tuple[str, str]:
        if rng.random() >= self.rates.missing_contact:
            return email, phone
        errors.append("missing_contact")
        which = rng.random()
        if which < 0.45:
            return "", phone
        if which < 0.85:
            return email, ""
        return "", ""


def phone_style(rng: random.Random, phone: str) -> str:
    """The same number as different systems write it (not an error: same phone key)."""
    digits = "".join(c for c in phone if c.isdigit())
    style = rng.random()
    if style < 0.6:
        return phone
    if style < 0.8:
        return digits
    return "+44 " + digits[1:5] + " " + digits[5:]


def email_style(rng: random.Random, email: str) -> str:
    if email and rng.random() < 0.1:
        local, _, domain = email.partition("@")
        return local.title() + "@" + domain.upper()
    return email


_ABBREVIATIONS = {
    " Road": " Rd",
    " Street": " St",
    " Avenue": " Ave",
    " Lane": " Ln",
    " Crescent": " Cres",
    " Gardens": " Gdns",
    " Terrace": " Terr",
    " Drive": " Dr",
    " Place": " Pl",
    " Close": " Cl",
}


def address_style(rng: random.Random, text: str) -> str:
    """Abbreviations and case as clerks type them (not an error: the same address)."""
    style = rng.random()
    if style < 0.15:
        for long, short in _ABBREVIATIONS.items():
            text = text.replace(long, short)
    elif style < 0.22:
        text = text.upper()
    return text
