"""Answers to a service's own questions (Open311 attributes), checked against its definition.

Answers arrive by attribute code as text (one value) or a list of texts (multivaluelist).
They are kept as text: numbers in their plain decimal form, date-times in ISO 8601 with
their offset, list answers as the chosen keys. Errors are keyed `attribute[CODE]`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from civicloop.catalogue.models import ServiceAttribute

MAX_STRING = 1000
MAX_TEXT = 4000
MAX_CHOICES = 100

Datatype = ServiceAttribute.Datatype


def error_field(code: str) -> str:
    return f"attribute[{code}]"


def _number(value: str) -> str | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return format(number.normalize(), "f") if number != 0 else "0"


def _datetime(value: str) -> str | None:
    value = value.strip()
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return None
        return day.isoformat()
    return parsed.isoformat()


def _check_one(attribute: ServiceAttribute, value: str) -> tuple[str | None, str]:
    """(the answer as kept, or None; the error message if None)."""
    if "\x00" in value:
        return None, _("Remove the control characters.")
    kind = attribute.datatype
    if kind == Datatype.NUMBER:
        number = _number(value)
        return number, "" if number is not None else _("Enter a number, like 3 or 2.5.")
    if kind == Datatype.DATETIME:
        when = _datetime(value)
        return when, "" if when is not None else _(
            "Enter a date and time in ISO 8601, like 2026-03-14T09:30:00+00:00."
        )
    if kind == Datatype.SINGLE or kind == Datatype.MULTI:
        if value not in attribute.value_keys():
            return None, _("Choose one of the listed values.")
        return value, ""
    limit = MAX_TEXT if kind == Datatype.TEXT else MAX_STRING
    if len(value) > limit:
        return None, _("Keep this under %(n)d characters.") % {"n": limit}
    return value.strip(), ""


def attributes_clean(
    attributes: Iterable[ServiceAttribute], answers: Mapping[str, str | list[str]]
) -> tuple[dict[str, str | list[str]], dict[str, list[str]]]:
    """(answers as kept, errors by `attribute[CODE]`) for a service's attributes.

    Required questions need an answer; answers to questions the service does not ask, or
    to informational ones (variable false), are errors rather than silently dropped, so
    a client with a stale definition finds out.
    """
    by_code = {a.code: a for a in attributes}
    kept: dict[str, str | list[str]] = {}
    errors: dict[str, list[str]] = {}
    for code, raw in answers.items():
        attribute = by_code.get(code)
        if attribute is None or not attribute.variable:
            errors[error_field(code)] = [_("This service has no question with this code.")]
            continue
        values = raw if isinstance(raw, list) else [raw]
        values = [v for v in values if isinstance(v, str) and v.strip() != ""]
        if not values:
            continue  # an empty answer is no answer: required ones are caught below
        if attribute.datatype != Datatype.MULTI and len(values) > 1:
            errors[error_field(code)] = [_("Give one answer only.")]
            continue
        if len(values) > MAX_CHOICES:
            errors[error_field(code)] = [_("Choose fewer values.")]
            continue
        checked = [_check_one(attribute, v) for v in values]
        problems = [message for value, message in checked if value is None]
        if problems:
            errors[error_field(code)] = [problems[0]]
            continue
        answers_kept = [value for value, _message in checked if value is not None]
        if attribute.datatype == Datatype.MULTI:
            kept[code] = list(dict.fromkeys(answers_kept))
        else:
            kept[code] = answers_kept[0]
    for attribute in by_code.values():
        if attribute.variable and attribute.required and attribute.code not in kept:
            errors.setdefault(
                error_field(attribute.code),
                [_("Answer this question: %(question)s") % {"question": attribute.description}],
            )
    return kept, errors
