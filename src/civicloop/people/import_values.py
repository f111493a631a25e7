"""What a value read from an import file becomes in a source record's field, or why it
is refused: one rule for every row and for the mapping's constants."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from civicloop.people.models import Identifier, SourceRecord

FIELDS = (
    "local_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "email",
    "phone",
    "address_text",
    "postcode",
)
MAX_LENGTH = {f: SourceRecord._meta.get_field(f).max_length for f in FIELDS if f != "date_of_birth"}
IDENTIFIER_MAX_LENGTH = Identifier._meta.get_field("value").max_length
IDENTIFIERS_KEY = "identifiers"  # attributes[IDENTIFIERS_KEY] = {scheme: value}
EARLIEST_BIRTH = dt.date(1890, 1, 1)
SAMPLE_DATE = dt.date(1987, 6, 25)  # day > 12, so examples of a format are unambiguous
_PHONE = re.compile(r"\+?[0-9 ()./-]+")
_NOT_DIGIT = re.compile(r"[^0-9]")


def _as_text(value: Any) -> tuple[str, str]:
    """A value as text, or why it is not text (JSON lines hold other types)."""
    if value is None:
        return "", ""
    if isinstance(value, str):
        return value.strip(), ""
    if isinstance(value, bool):
        return "", "is true/false, not text"
    if isinstance(value, int):
        return str(value), ""
    kind = {float: "a number with a fraction", list: "a list", dict: "an object"}
    return "", f"is {kind.get(type(value), type(value).__name__)}, not text"


def _parse_date(text: str, formats: tuple[str, ...]) -> dt.date | None:
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _clean(
    field_name: str, value: Any, formats: tuple[str, ...], today: dt.date
) -> tuple[Any, str]:
    """The value a SourceRecord field gets, or why the value is not acceptable."""
    parsed: dt.date | None
    if field_name == "date_of_birth" and isinstance(value, dt.date):
        parsed = value  # a YAML constant is already a date
    else:
        text, problem = _as_text(value)
        if problem:
            return None, problem
        if field_name != "date_of_birth":
            return _clean_text(field_name, text)
        if not text:
            return None, ""
        parsed = _parse_date(text, formats)
        if parsed is None:
            examples = " or ".join(SAMPLE_DATE.strftime(f) for f in formats)
            return None, f"is not a date like {examples}"
    if parsed > today:
        return None, "is in the future"
    if parsed < EARLIEST_BIRTH:
        return None, "is before 1890"
    return parsed, ""


def _clean_text(field_name: str, text: str) -> tuple[str, str]:
    limit = MAX_LENGTH[field_name]
    if len(text) > limit:
        return "", f"is {len(text)} characters long; at most {limit} fit"
    if not text:
        return "", ""
    if field_name == "email":
        try:
            validate_email(text)
        except ValidationError:
            return "", "does not look like an email address"
    elif field_name == "phone":
        if not _PHONE.fullmatch(text):
            return "", "may only hold digits, spaces and + ( ) - . /"
        digits = len(_NOT_DIGIT.sub("", text))
        if not 6 <= digits <= 15:
            return "", f"has {digits} digits; a phone number has 6 to 15"
    return text, ""
