"""The YAML mapping from a department's columns to source record fields: checked whole
before any file is read, so a bad mapping reports every mistake and writes nothing."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from civicloop.core import clock
from civicloop.people.import_outcomes import MappingError
from civicloop.people.import_values import FIELDS, IDENTIFIERS_KEY, SAMPLE_DATE, _clean

# What people call the fields, for "did you mean" in mapping errors.
FIELD_SYNONYMS = {
    **dict.fromkeys(("id", "ref", "record_id", "reference"), "local_id"),
    **dict.fromkeys(("first_name", "forename", "firstname"), "given_name"),
    **dict.fromkeys(("surname", "last_name", "lastname"), "family_name"),
    **dict.fromkeys(("dob", "birth_date", "birthdate", "date_of_birth"), "date_of_birth"),
    **dict.fromkeys(("telephone", "mobile", "tel", "phone_number"), "phone"),
    **dict.fromkeys(("address", "address_line", "street"), "address_text"),
    **dict.fromkeys(("zip", "zip_code", "post_code", "postal_code"), "postcode"),
}
SECTIONS = ("fields", "date_formats", "constants", "attributes", "identifiers")
DEFAULT_DATE_FORMATS = ("%Y-%m-%d",)
_SCHEME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class Mapping:
    """Which input column feeds each SourceRecord field, and what else to keep."""

    fields: dict[str, str]  # SourceRecord field -> column
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    constants: dict[str, Any] = field(default_factory=dict)  # field -> clean value
    constant_attributes: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)  # attribute key -> column
    other_columns_to_attributes: bool = False  # attributes: "*"
    identifiers: dict[str, str] = field(default_factory=dict)  # scheme -> column

    @property
    def columns(self) -> set[str]:
        return {*self.fields.values(), *self.attributes.values(), *self.identifiers.values()}

    @property
    def record_fields(self) -> list[str]:
        """The fields besides local_id that an import sets; the others are left alone."""
        return [f for f in FIELDS[1:] if f in self.fields or f in self.constants]


def load_mapping(path: str | os.PathLike) -> Mapping:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MappingError([f"Cannot read the mapping {path}: {e.strerror or e}."]) from e
    except UnicodeDecodeError as e:
        raise MappingError([f"The mapping {path} is not UTF-8 text."]) from e
    except yaml.YAMLError as e:
        raise MappingError([f"The mapping {path} is not valid YAML: {e}"]) from e
    return parse_mapping(data)


def parse_mapping(data: Any) -> Mapping:
    """Check a mapping as loaded from YAML; every mistake is reported, not just the first."""
    if not isinstance(data, dict):
        raise MappingError(["The mapping must be a YAML mapping with a 'fields' section."])
    errors = [
        f"Unknown section {key!r}{_did_you_mean(key, SECTIONS)}; sections are {', '.join(SECTIONS)}."
        for key in data
        if key not in SECTIONS
    ]
    fields = _mapping_fields(data.get("fields"), errors)
    formats = _mapping_date_formats(data.get("date_formats", list(DEFAULT_DATE_FORMATS)), errors)
    constants, constant_attributes = _mapping_constants(
        data.get("constants") or {}, fields, formats, errors
    )
    attributes, other_columns = _mapping_attributes(data.get("attributes") or {}, errors)
    identifiers = _mapping_identifiers(data.get("identifiers") or {}, errors)
    if identifiers and IDENTIFIERS_KEY in {*attributes, *constant_attributes}:
        errors.append(f"attributes: {IDENTIFIERS_KEY!r} is where identifiers go; use another key.")
    for key in set(attributes) & set(constant_attributes):
        errors.append(f"attributes: {key!r} is both copied from a column and a constant.")
    if errors:
        raise MappingError(errors)
    return Mapping(
        fields=fields,
        date_formats=formats,
        constants=constants,
        constant_attributes=constant_attributes,
        attributes=attributes,
        other_columns_to_attributes=other_columns,
        identifiers=identifiers,
    )


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_column(name: Any) -> bool:
    return isinstance(name, str) and bool(name.strip())


def _mapping_fields(section: Any, errors: list[str]) -> dict[str, str]:
    if not isinstance(section, dict):
        errors.append("'fields' must map record fields to columns, e.g. 'local_id: client_ref'.")
        return {}
    fields = {}
    for target, column in section.items():
        if target not in FIELDS:
            synonym = FIELD_SYNONYMS.get(str(target).lower())
            hint = f" (did you mean {synonym!r}?)" if synonym else _did_you_mean(target, FIELDS)
            errors.append(
                f"fields: {target!r} is not a field of a source record{hint};"
                f" fields are {', '.join(FIELDS)}."
            )
        elif not _is_column(column):
            errors.append(f"fields: {target} must name a column of the file (quote numbers).")
        else:
            fields[target] = column.strip()
    if "local_id" not in section:
        errors.append("fields: local_id is required: name the column of the department's own id.")
    return fields


def _mapping_date_formats(section: Any, errors: list[str]) -> tuple[str, ...]:
    formats = [section] if isinstance(section, str) else section
    if not isinstance(formats, list) or not formats:
        errors.append("date_formats must be a list of formats, e.g. ['%Y-%m-%d', '%d/%m/%Y'].")
        return DEFAULT_DATE_FORMATS
    for fmt in formats:
        try:
            ok = isinstance(fmt, str) and "%" in fmt
            ok = ok and dt.datetime.strptime(SAMPLE_DATE.strftime(fmt), fmt).date() == SAMPLE_DATE
        except ValueError:
            ok = False
        if not ok:
            errors.append(
                f"date_formats: {fmt!r} is not a date format with a year, month and day, "
                "like '%Y-%m-%d' or '%d/%m/%Y'."
            )
    return tuple(f for f in formats if isinstance(f, str))


def _mapping_constants(
    section: Any, fields: dict[str, str], formats: tuple[str, ...], errors: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(section, dict):
        errors.append("constants must map record fields (or 'attributes') to values.")
        return {}, {}
    constants: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for target, value in section.items():
        if target == "attributes":
            if isinstance(value, dict) and all(isinstance(k, str) for k in value):
                attributes = {k: _json_safe(v) for k, v in value.items()}
            else:
                errors.append("constants: attributes must map attribute names to values.")
        elif target not in FIELDS or target == "local_id":
            errors.append(
                f"constants: {target!r} is not a field that can be a constant"
                f"{_did_you_mean(target, FIELDS[1:])}."
            )
        elif target in fields:
            errors.append(f"constants: {target} is also read from column {fields[target]!r}.")
        else:
            clean, problem = _clean(target, value, formats, clock.today())
            if problem:
                errors.append(f"constants: {target} {problem}.")
            else:
                constants[target] = clean
    return constants, attributes


def _json_safe(value: Any) -> Any:
    """A YAML value as JSON can hold it: YAML's dates become ISO text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _mapping_attributes(section: Any, errors: list[str]) -> tuple[dict[str, str], bool]:
    if section == "*":
        return {}, True
    if isinstance(section, list) and all(_is_column(c) for c in section):
        return {c.strip(): c.strip() for c in section}, False
    if isinstance(section, dict) and all(
        isinstance(k, str) and _is_column(c) for k, c in section.items()
    ):
        return {k: c.strip() for k, c in section.items()}, False
    errors.append(
        "attributes must be a list of columns, a map of attribute names to columns, "
        "or '*' for every column not mapped elsewhere."
    )
    return {}, False


def _mapping_identifiers(section: Any, errors: list[str]) -> dict[str, str]:
    if not isinstance(section, dict):
        errors.append("identifiers must map identifier schemes to columns, e.g. 'nhs: nhs_no'.")
        return {}
    identifiers = {}
    for scheme, column in section.items():
        if not (isinstance(scheme, str) and _SCHEME.fullmatch(scheme) and len(scheme) <= 40):
            errors.append(
                f"identifiers: {scheme!r} is not a scheme name (lower-case letters, digits, "
                "'_' and '-', at most 40)."
            )
        elif not _is_column(column):
            errors.append(f"identifiers: {scheme} must name a column of the file.")
        else:
            identifiers[scheme] = column.strip()
    return identifiers
