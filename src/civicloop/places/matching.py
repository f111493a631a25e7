"""Matching a typed address against the agency's gazetteer. No outside geocoder.

A query is normalised (case, accents, punctuation, common abbreviations), its postcode
and house numbers narrow the gazetteer to a few candidates, and rapidfuzz scores each
candidate's lines against what is left of the query. The best candidate wins when it
scores at least MIN_SCORE and no different address scores within AMBIGUITY of it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.db.models import Q
from rapidfuzz import fuzz

from civicloop.places.models import Address

MIN_SCORE = 85.0
AMBIGUITY = 2.0
MAX_CANDIDATES = 5000
MAX_QUERY = 300

ABBREVIATIONS = {
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "cl": "close",
    "cres": "crescent",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "gdns": "gardens",
    "gdn": "gardens",
    "tce": "terrace",
    "ter": "terrace",
    "gr": "grove",
    "pk": "park",
    "wy": "way",
    "hse": "house",
    "apt": "flat",
    "apartment": "flat",
}
# A UK-style postcode: outward code, optional space, inward code (digit and two letters).
_POSTCODE = re.compile(r"\b([a-z]{1,2}[0-9][a-z0-9]?)\s*([0-9][a-z]{2})\b")
_NUMBER = re.compile(r"\b([0-9]+[a-z]?)\b")


@dataclass(frozen=True)
class AddressMatch:
    address: Address
    score: float


class AddressNotFound(Exception):
    """No address of the gazetteer is close enough to the text."""


class AddressAmbiguous(Exception):
    """Several addresses fit the text equally well; `addresses` are the best few."""

    def __init__(self, addresses: list[Address]):
        self.addresses = addresses
        super().__init__("; ".join(str(a) for a in addresses))


def fold(text: str) -> str:
    """Lower case, no accents, punctuation as spaces, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def normalise(text: str) -> str:
    """`fold`ed, with abbreviations spelled out; a final 'st' reads as 'street' (a first
    one is usually 'saint', as in St Anne's Road)."""
    words = [ABBREVIATIONS.get(w, w) for w in fold(text).split()]
    if words and words[-1] == "st":
        words[-1] = "street"
    return " ".join(words)


def format_postcode(outward: str, inward: str) -> str:
    return f"{outward} {inward}".upper()


def _lines(address: Address) -> str:
    return normalise(" ".join(p for p in (address.line1, address.line2) if p))


def _street_part(query: str) -> str:
    """The query without its postcode: what the address lines (and town) should say."""
    words = _POSTCODE.sub(" ", query).split()
    if words and words[-1] == "st":
        words[-1] = "street"
    return " ".join(words)


def address_match(text: str) -> AddressMatch:
    """The gazetteer's address that `text` names; AddressNotFound or AddressAmbiguous if none
    or several fit."""
    folded = normalise(text[:MAX_QUERY])
    if not folded:
        raise AddressNotFound(text)
    candidates = Address.objects.all()
    postcode = _POSTCODE.search(folded)
    if postcode:
        candidates = candidates.filter(postcode=format_postcode(*postcode.groups()))
    street = _street_part(folded)
    numbers = _NUMBER.findall(_POSTCODE.sub(" ", folded))[:3]
    if numbers:
        condition = Q()
        for n in numbers:
            condition |= (
                Q(line1__istartswith=f"{n} ")
                | Q(line1__istartswith=f"flat {n},")
                | Q(line1__istartswith=f"flat {n} ")
                | Q(line2__istartswith=f"{n} ")
            )
        candidates = candidates.filter(condition)
    elif not postcode:
        words = sorted((w for w in street.split() if len(w) > 2), key=len, reverse=True)
        if not words:
            raise AddressNotFound(text)
        condition = Q()
        for w in words[:2]:  # the town may be one of them: either word will do
            condition |= Q(line1__icontains=w) | Q(line2__icontains=w)
        candidates = candidates.filter(condition)
    scored: list[AddressMatch] = []
    for address in candidates[:MAX_CANDIDATES]:
        lines = _lines(address)
        first_line = normalise(address.line1)
        town = fold(address.town)
        # With and without the town, and a flat without its street: people write any of them.
        score = max(
            fuzz.token_sort_ratio(street, variant)
            for variant in (lines, f"{lines} {town}", first_line, f"{first_line} {town}")
        )
        if numbers and not set(numbers) <= set(_NUMBER.findall(lines)):
            continue  # a different house number is a different house, however alike the street
        scored.append(AddressMatch(address=address, score=float(score)))
    if numbers:
        # Flat 2 of number 24 is not what "Flat 24, ... 24 Birch Street" names: prefer the
        # addresses whose own first line has no number the text does not give.
        exact = [
            m for m in scored if set(_NUMBER.findall(normalise(m.address.line1))) <= set(numbers)
        ]
        scored = exact or scored
    if postcode and not street and len(scored) == 1:
        return scored[0]
    scored.sort(key=lambda m: (-m.score, m.address.pk))
    if not scored or scored[0].score < MIN_SCORE:
        raise AddressNotFound(text)
    rivals = [m for m in scored[1:4] if scored[0].score - m.score < AMBIGUITY]
    if rivals:
        raise AddressAmbiguous([scored[0].address, *(m.address for m in rivals)])
    return scored[0]
