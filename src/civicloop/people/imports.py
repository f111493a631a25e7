"""Imports of a department's own records from CSV or JSON lines, through a YAML mapping.

The contract: an import is idempotent by the department's local id (the same values
leave a record untouched, changed values update it, records missing from the file
are kept), and it writes all it was asked to or nothing. One bad row aborts it
unless `skip_invalid`; a bad mapping or a bad file never writes a thing. Only source
records are written: `civicloop link` joins them to people, unless the caller asks
for a new person for each new record. This is the bulk path, like the demo loader:
bulk writes in batches, one audit event per batch, no per-row domain events.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import itertools
import json
import os
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Model

from civicloop.catalogue.models import Department
from civicloop.core import clock
from civicloop.core.access import Viewer
from civicloop.core.events import DomainEvent, publish
from civicloop.people import merge as merging
from civicloop.people.keys import person_keys
from civicloop.people.models import (
    Identifier,
    Link,
    Person,
    PersonDepartment,
    PersonFieldSource,
    SourceRecord,
)
from civicloop.trust.audit import audit_bulk

VIEWER = Viewer.system("import")
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
EARLIEST_BIRTH = dt.date(1890, 1, 1)
SAMPLE_DATE = dt.date(1987, 6, 25)  # day > 12, so examples of a format are unambiguous
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
DELIMITERS = ",;\t"
_PHONE = re.compile(r"\+?[0-9 ()./-]+")
_NOT_DIGIT = re.compile(r"[^0-9]")
_SCHEME = re.compile(r"[a-z0-9][a-z0-9_-]*")

# progress(phase, completed, total): phase "read" counts bytes, "write" counts records.
Progress = Callable[[str, int, int], None]


# -- outcomes -------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    line: int
    local_id: str  # "" when the row has none, or could not be read
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        who = f" (local id {self.local_id})" if self.local_id else ""
        return f"line {self.line}{who}: {'; '.join(self.reasons)}"


@dataclass
class ImportReport:
    path: Path
    department_code: str
    file_format: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects_path: Path | None = None
    people_created: int = 0
    records_without_person: int = 0  # new records with no given or family name
    identifiers_created: int = 0
    identifiers_skipped: int = 0  # already held by a person
    audit_events: int = 0
    committed: bool = False
    seconds: float = 0.0


class ImportFailed(Exception):
    """Nothing was written. `problems` says why, one line each, as a user reads them."""

    def __init__(self, problems: list[str], report: ImportReport | None = None):
        self.problems = problems
        self.report = report
        super().__init__("\n".join(problems))


class MappingError(ImportFailed):
    """The mapping file is not usable."""


class ImportFileError(ImportFailed):
    """The input file (or the department named) is not usable."""


class RowsRejected(ImportFailed):
    """Some rows are malformed and the import was all-or-nothing."""


# -- the mapping ------------------------------------------------------------------


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


# -- values -------------------------------------------------------------------------


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
    if field_name == "date_of_birth" and isinstance(value, dt.date):
        parsed: dt.date | None = value  # a YAML constant is already a date
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


# -- reading ------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    line: int
    values: dict[str, Any] | None  # None: the row could not be read
    raw: Any  # as in the file: the CSV fields, or the JSON line's text
    problem: str = ""
    local_id: str = ""  # a guess, for rows that could not be read


@dataclass(slots=True)
class _Candidate:
    line: int
    local_id: str
    values: dict[str, Any]
    attributes: dict[str, Any]


def _lines(path: Path, progress: Progress | None) -> Iterator[tuple[int, str]]:
    """Numbered lines of a UTF-8 file (a BOM is dropped); one that is not UTF-8 stops it."""
    size = path.stat().st_size
    done = 0
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            done += len(raw)
            if number == 1:
                if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    raise ImportFileError(
                        [f"{path.name} is UTF-16 text, not UTF-8: save it as UTF-8 (CSV UTF-8)."]
                    )
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ImportFileError(
                    [
                        f"{path.name} is not UTF-8 text: line {number} has the byte "
                        f"0x{raw[e.start]:02X} at position {e.start + 1}. Save the file as UTF-8."
                    ]
                ) from e
            if progress is not None and number % 2000 == 0:
                progress("read", done, size)
            yield number, text
    if progress is not None:
        progress("read", size, size)


class _CsvRows:
    """Rows of a CSV file by its header; the delimiter is sniffed (comma, semicolon, tab)."""

    def __init__(self, lines: Iterator[tuple[int, str]], mapping: Mapping, name: str):
        head = list(itertools.islice(lines, 50))
        first = next((text for _, text in head if text.strip(" \t\r\n,;")), None)
        if first is None:
            raise ImportFileError([f"{name} is empty: it has no header and no records."])
        self.delimiter = _sniff_delimiter("".join(t for _, t in head), first, mapping.columns)
        texts = itertools.chain((t for _, t in head), (t for _, t in lines))
        self.reader = csv.reader(texts, delimiter=self.delimiter)
        self.name = name
        self.last_line = 0
        self.header: list[str] = []
        self.warnings: list[str] = []
        for _, names in self._records():
            self.header = [name.strip() for name in names]
            break
        self._check_header(mapping)
        taken = mapping.columns
        self.extra_columns = (
            [c for c in dict.fromkeys(self.header) if c and c not in taken]
            if mapping.other_columns_to_attributes
            else []
        )
        self.local_id_index = self.header.index(mapping.fields["local_id"])

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        try:
            for fields in self.reader:
                start, self.last_line = self.last_line + 1, self.reader.line_num
                if any(f.strip() for f in fields):  # blank lines and lines of bare commas
                    yield start, fields
        except csv.Error as e:
            raise ImportFileError(
                [f"{self.name} is not readable CSV at line {self.reader.line_num}: {e}."]
            ) from e

    def _check_header(self, mapping: Mapping) -> None:
        present = set(self.header)
        errors = [
            f"The header has no column {c!r}{_did_you_mean(c, present)}."
            for c in sorted(mapping.columns - present)
        ]
        errors += [
            f"The header names column {c!r} more than once."
            for c in sorted(mapping.columns)
            if self.header.count(c) > 1
        ]
        if errors:
            delimiter = {",": "comma", ";": "semicolon", "\t": "tab"}[self.delimiter]
            columns = ", ".join(repr(h) for h in self.header)
            errors.append(f"Columns found (read with {delimiter} as the separator): {columns}.")
            raise ImportFileError(errors)

    def __iter__(self) -> Iterator[_Row]:
        width = len(self.header)
        for line, fields in self._records():
            if len(fields) == width:
                yield _Row(line, dict(zip(self.header, fields, strict=True)), fields)
            else:
                guess = fields[self.local_id_index] if self.local_id_index < len(fields) else ""
                problem = f"has {len(fields)} values but the header has {width} columns"
                yield _Row(line, None, fields, problem, guess.strip()[:100])

    def columns_of(self, row: _Row) -> list[str]:
        return self.extra_columns

    def check_columns(self, mapping: Mapping) -> None:
        """Checked when the header was read."""


def _sniff_delimiter(sample: str, header_line: str, wanted: set[str]) -> str:
    """The delimiter under which the header holds the mapped columns; else the likeliest."""
    candidates = []
    try:
        candidates.append(csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter)
    except csv.Error:
        pass
    candidates += sorted(DELIMITERS, key=lambda d: -header_line.count(d))
    for delimiter in candidates:
        header = next(csv.reader([header_line], delimiter=delimiter), [])
        if wanted <= {h.strip() for h in header}:
            return delimiter
    return candidates[0]


class _JsonLines:
    """Rows of a JSON lines file: one object per line. A key left out is not given (an
    existing record keeps its value); a null or empty value is given as empty."""

    def __init__(self, lines: Iterator[tuple[int, str]], mapping: Mapping, name: str):
        self.lines = lines
        self.name = name
        self.keys: set[str] = set()
        self.objects = 0
        self.first_text = ""
        self.taken = mapping.columns
        self.other_columns = mapping.other_columns_to_attributes
        self.warnings: list[str] = []

    def __iter__(self) -> Iterator[_Row]:
        for line, text in self.lines:
            stripped = text.strip()
            if not stripped:
                continue
            self.first_text = self.first_text or stripped
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError as e:
                yield _Row(line, None, stripped, f"is not valid JSON ({e.msg}, column {e.colno})")
                continue
            if not isinstance(value, dict):
                kind = {list: "a list", str: "a string"}.get(type(value), "not an object")
                yield _Row(line, None, stripped, f"is {kind}: each line must be a JSON object")
                continue
            self.objects += 1
            self.keys.update(value)
            yield _Row(line, value, stripped)

    def columns_of(self, row: _Row) -> list[str]:
        if not self.other_columns or row.values is None:
            return []
        return [k for k in row.values if k not in self.taken]

    def check_columns(self, mapping: Mapping) -> None:
        if self.objects == 0:
            if self.first_text.startswith("["):
                raise ImportFileError(
                    [f"{self.name} looks like one JSON array, not JSON lines: one object a line."]
                )
            return  # every row is reported as unreadable
        id_column = mapping.fields["local_id"]
        if id_column not in self.keys:
            raise ImportFileError(
                [
                    f"No record in the file has the field {id_column!r}"
                    f"{_did_you_mean(id_column, self.keys)}: every record needs its local id."
                ]
            )
        for column in sorted(mapping.columns - self.keys):
            self.warnings.append(
                f"No record in the file has the field {column!r}"
                f"{_did_you_mean(column, self.keys)}: nothing was read from it."
            )


def _validate(
    row: _Row, mapping: Mapping, extra_columns: list[str], today: dt.date
) -> tuple[_Candidate | None, list[str], str]:
    """The record a readable row gives, or why it gives none; and its local id if known."""
    row_values = row.values or {}
    reasons = []
    values = dict(mapping.constants)
    for target, column in mapping.fields.items():
        if column not in row_values and target != "local_id":
            continue  # a key a JSON object leaves out is not given: the record keeps its value
        clean, problem = _clean(target, row_values.get(column), mapping.date_formats, today)
        if problem:
            reasons.append(f"{column!r} {problem}")
        else:
            values[target] = clean
    id_column = mapping.fields["local_id"]
    local_id = values.get("local_id", "")
    if "local_id" in values and not local_id:
        reasons.insert(0, f"{id_column!r} is empty: every record needs its local id")
    attributes = dict(mapping.constant_attributes)
    for key, column in mapping.attributes.items():
        if column in row_values:
            attributes[key] = _attribute(row_values[column])
    for column in extra_columns:
        attributes[column] = _attribute(row_values[column])
    identifiers = {}
    for scheme, column in mapping.identifiers.items():
        text, problem = _as_text(row_values.get(column))
        if not problem and len(text) > IDENTIFIER_MAX_LENGTH:
            problem = f"is {len(text)} characters long; at most {IDENTIFIER_MAX_LENGTH} fit"
        if problem:
            reasons.append(f"{column!r} {problem}")
        elif text:
            identifiers[scheme] = text
    if identifiers:
        attributes[IDENTIFIERS_KEY] = identifiers
    if reasons:
        return None, reasons, local_id or _as_text(row_values.get(id_column))[0][:100]
    return _Candidate(row.line, local_id, values, attributes), reasons, local_id


def _attribute(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _read(
    path: Path, file_format: str, mapping: Mapping, report: ImportReport, progress: Progress | None
) -> tuple[list[_Candidate], list[tuple[_Row, list[str]]], _CsvRows | _JsonLines]:
    """Every row read and checked; a file that is bad as a whole raises ImportFileError."""
    if not path.is_file():
        raise ImportFileError([f"{path} does not exist or is not a file."])
    if path.stat().st_size == 0:
        raise ImportFileError([f"{path.name} is empty."])
    lines = _lines(path, progress)
    source = (_CsvRows if file_format == "csv" else _JsonLines)(lines, mapping, path.name)
    today = clock.today()
    candidates: list[_Candidate] = []
    rejects: list[tuple[_Row, list[str]]] = []
    first_line: dict[str, int] = {}
    duplicates: dict[str, list[int]] = {}
    for row in source:
        report.rows += 1
        if row.values is None:
            candidate, reasons, local_id = None, [row.problem], row.local_id
        else:
            candidate, reasons, local_id = _validate(row, mapping, source.columns_of(row), today)
        if local_id in first_line:
            duplicates.setdefault(local_id, [first_line[local_id]]).append(row.line)
        elif local_id:
            first_line[local_id] = row.line
        if candidate is None:
            report.problems.append(RowProblem(row.line, local_id, tuple(reasons)))
            rejects.append((row, reasons))
        else:
            candidates.append(candidate)
    if report.rows == 0:
        below = " below its header" if file_format == "csv" else ""
        raise ImportFileError([f"{path.name} has no records{below}."])
    source.check_columns(mapping)
    report.warnings.extend(source.warnings)
    if duplicates:
        raise ImportFileError(
            [
                f"{path.name} holds {len(duplicates)} local ids on more than one line; "
                "each record must appear once.",
                *(
                    f"local id {i} is on lines {', '.join(map(str, at))}"
                    for i, at in duplicates.items()
                ),
            ],
            report,
        )
    report.rejected = len(rejects)
    return candidates, rejects, source


# -- writing --------------------------------------------------------------------------


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _merge_attributes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The file's attributes over the record's: keys the file does not carry are kept."""
    merged = {**old, **new}
    if IDENTIFIERS_KEY in new and isinstance(old.get(IDENTIFIERS_KEY), dict):
        merged[IDENTIFIERS_KEY] = {**old[IDENTIFIERS_KEY], **new[IDENTIFIERS_KEY]}
    return merged


def _update(records: list[SourceRecord], fields: list[str]) -> None:
    """UPDATE each record by id through executemany.

    Django's bulk_update builds one CASE per field over the whole batch, which SQLite
    evaluates for every row: 100,000 updates took two minutes, this takes seconds.
    """
    meta = SourceRecord._meta
    connection = connections[router.db_for_write(SourceRecord)]
    quote = connection.ops.quote_name
    model_fields = [meta.get_field(f) for f in fields]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in model_fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    rows = [
        [f.get_db_prep_save(getattr(r, f.attname), connection) for f in model_fields] + [r.pk]
        for r in records
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert(
    model: type[Model], fields: list[str], rows: list[tuple], constants: dict[str, Any]
) -> None:
    """INSERT rows of plain ids and text, each with the same `constants`, many a statement.

    For rows nobody needs the ids of: five or six provenance rows per new person made
    bulk_create, which prepares every value in Python, the slowest part of linking.
    """
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    fixed = tuple(meta.get_field(f).get_db_prep_save(v, connection) for f, v in constants.items())
    width = len(fields) + len(fixed)
    columns = ", ".join(quote(meta.get_field(f).column) for f in [*fields, *constants])
    one = "(" + ", ".join(["%s"] * width) + ")"
    per_statement = min(2000, (connection.features.max_query_params or 65535) // width)
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, per_statement):
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "
                + ", ".join([one] * len(chunk)),
                [value for row in chunk for value in (*row, *fixed)],
            )


def _person_of(values: dict[str, Any], now: dt.datetime) -> Person:
    given, family = values["given_name"], values["family_name"]
    email, phone = values.get("email", ""), values.get("phone", "")
    return Person(
        given_name=given,
        family_name=family,
        date_of_birth=values.get("date_of_birth"),
        email=email,
        phone=phone,
        address_id=values.get("address"),
        created_at=now,
        updated_at=now,
        **person_keys(given_name=given, family_name=family, phone=phone, email=email),
    )


class _Writer:
    """Writes checked records of one department in batches, one audit event per batch."""

    def __init__(
        self,
        *,
        department: Department,
        mapping: Mapping,
        report: ImportReport,
        batch_size: int,
        progress: Progress | None,
    ):
        self.department_id = department.pk
        self.mapping = mapping
        self.report = report
        self.batch_size = batch_size
        self.progress = progress or (lambda phase, done, total: None)
        self.now = clock.now()
        self.addresses = merging.AddressResolver()
        # People whose records this import created or changed: real-time matching re-files them.
        self.people_touched: set[int] = set()

    def write(self, candidates: list[_Candidate], *, link_new_as_people: bool) -> None:
        fields = self.mapping.record_fields
        new = {c.local_id: c for c in candidates}  # what is left once existing records are found
        updates: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        for pk, local_id, old_attributes, *old in self._existing(new, fields):
            c = new.pop(local_id)
            old_values = dict(zip(fields, old, strict=True))
            old_attributes = old_attributes if isinstance(old_attributes, dict) else {}
            attributes = _merge_attributes(old_attributes, c.attributes)
            values = {**old_values, **c.values}
            if attributes != old_attributes or any(old_values[f] != values[f] for f in fields):
                updates.append((pk, values, attributes))
        creates = list(new.values())
        self.report.unchanged = len(candidates) - len(creates) - len(updates)
        done, total = self.report.unchanged, len(candidates)
        self.progress("write", done, total)
        # Model instances are built a batch at a time: a big import holds only its rows.
        for batch in _chunks(creates, self.batch_size):
            records = [
                SourceRecord(
                    department_id=self.department_id,
                    attributes=c.attributes,
                    received_at=self.now,
                    **c.values,
                )
                for c in batch
            ]
            SourceRecord.objects.bulk_create(records)
            self._audit("create", "source_record", [r.pk for r in records])
            self.report.created += len(records)
            if link_new_as_people:
                self._link_as_people(records)
            done += len(records)
            self.progress("write", done, total)
        for batch in _chunks(updates, self.batch_size):
            records = [
                SourceRecord(
                    pk=pk,
                    attributes=attributes,
                    received_at=self.now,
                    **{f: values[f] for f in fields},
                )
                for pk, values, attributes in batch
            ]
            _update(records, [*fields, "attributes", "received_at"])
            self._audit("update", "source_record", [r.pk for r in records])
            self.people_touched.update(
                Link.objects.filter(
                    source_record_id__in=[r.pk for r in records], active=True
                ).values_list("person_id", flat=True)
            )
            self.report.updated += len(records)
            done += len(records)
            self.progress("write", done, total)

    def _existing(self, wanted: dict[str, _Candidate], fields: list[str]) -> Iterator[tuple]:
        """(pk, local_id, attributes, *fields) of the department's records in `wanted`."""
        records = SourceRecord.objects.filter(department_id=self.department_id)
        columns = ("pk", "local_id", "attributes", *fields)
        if len(wanted) * 4 >= records.count():
            # One pass over the department beats many long IN lists (PostgreSQL: 5x).
            for row in records.values_list(*columns).iterator(chunk_size=5000):
                if row[1] in wanted:
                    yield row
            return
        # Small chunks: SQLite builds may cap a statement at 999 parameters.
        for chunk in _chunks(list(wanted), 900):
            yield from records.filter(local_id__in=chunk).values_list(*columns)

    def _audit(self, operation: str, object_type: str, ids: list[int]) -> None:
        audit_bulk(
            viewer=VIEWER,
            action=f"import.{operation}",
            object_type=object_type,
            ids=ids,
            extra={"department_id": self.department_id},
        )
        self.report.audit_events += 1

    def _link_as_people(self, records: list[SourceRecord]) -> None:
        """A golden person for each new record, linked as created with it, served by the
        department; its fields and their provenance as batch linking gives a one-record
        cluster (survivorship, the address found in the gazetteer)."""
        self.addresses.preload(r.postcode for r in records)
        chosen = []
        for record in records:
            survivors = merging.survivorship([merging.RecordFields.of(record)], self.addresses)
            if "given_name" in survivors and "family_name" in survivors:
                chosen.append((record, survivors))
        self.report.records_without_person += len(records) - len(chosen)
        if not chosen:
            return
        people = [
            _person_of({k: s.value for k, s in survivors.items()}, self.now)
            for _, survivors in chosen
        ]
        Person.objects.bulk_create(people)
        self._audit("create", "person", [p.pk for p in people])
        _insert(
            PersonFieldSource,
            ["person", "field", "source_record"],
            [
                (person.pk, name, survivor.record_id)
                for person, (_, survivors) in zip(people, chosen, strict=True)
                for name, survivor in survivors.items()
            ],
            {"set_at": self.now, "method": PersonFieldSource.Method.SURVIVORSHIP.value},
        )
        pairs = [(record, person) for (record, _), person in zip(chosen, people, strict=True)]
        links = [
            Link(
                source_record_id=r.pk,
                person_id=p.pk,
                method=Link.Method.CREATED,
                created_at=self.now,
            )
            for r, p in pairs
        ]
        Link.objects.bulk_create(links)
        self._audit("create", "link", [link.pk for link in links])
        served = [
            PersonDepartment(person_id=p.pk, department_id=self.department_id, since=self.now)
            for p in people
        ]
        PersonDepartment.objects.bulk_create(served)
        self._audit("create", "person_department", [s.pk for s in served])
        identifiers = self._new_identifiers(pairs)
        if identifiers:
            Identifier.objects.bulk_create(identifiers)
            self._audit("create", "identifier", [i.pk for i in identifiers])
        self.report.people_created += len(people)
        self.people_touched.update(p.pk for p in people)
        self.report.identifiers_created += len(identifiers)

    def _new_identifiers(self, pairs: list[tuple[SourceRecord, Person]]) -> list[Identifier]:
        """Identifiers of the new people, except those a person already holds (scheme, value)."""
        wanted = [
            (scheme, value, person.pk)
            for record, person in pairs
            for scheme, value in (record.attributes.get(IDENTIFIERS_KEY) or {}).items()
        ]
        by_scheme: dict[str, set[str]] = defaultdict(set)
        for scheme, value, _ in wanted:
            by_scheme[scheme].add(value)
        held: set[tuple[str, str]] = set()
        for scheme, values in by_scheme.items():
            for chunk in _chunks(sorted(values), 900):
                found = Identifier.objects.filter(scheme=scheme, value__in=chunk)
                held.update((scheme, v) for v in found.values_list("value", flat=True))
        identifiers = []
        for scheme, value, person_id in wanted:
            if (scheme, value) in held:
                self.report.identifiers_skipped += 1
                continue
            held.add((scheme, value))
            identifiers.append(
                Identifier(
                    person_id=person_id,
                    scheme=scheme,
                    value=value,
                    department_id=self.department_id,
                    created_at=self.now,
                )
            )
        return identifiers


# -- rejects ----------------------------------------------------------------------------


def default_rejects_path(path: Path, file_format: str) -> Path:
    """`<name>.rejects.csv` (or .jsonl) beside the input."""
    suffix = path.suffix if EXTENSIONS.get(path.suffix.lower()) == file_format else ""
    suffix = suffix or (".csv" if file_format == "csv" else ".jsonl")
    return path.with_name(f"{path.stem}.rejects{suffix}")


def _write_rejects_aside(
    target: Path, source: _CsvRows | _JsonLines, rejects: list[tuple[_Row, list[str]]]
) -> Path:
    """The rejected rows, as read plus their reasons, in a temporary file beside `target`.

    It is moved into place once the import commits, so a failed import leaves no
    rejects file that describes an import that did not happen.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as e:
        raise ImportFileError([f"Cannot write the rejects file {target}: {e.strerror}."]) from e
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        if isinstance(source, _CsvRows):
            column = "import_reasons" if "reasons" in source.header else "reasons"
            writer = csv.writer(out, delimiter=source.delimiter)
            writer.writerow([column, *source.header])
            writer.writerows(["; ".join(reasons), *row.raw] for row, reasons in rejects)
        else:
            for row, reasons in rejects:
                record = dict(row.values) if row.values is not None else {"line_text": row.raw}
                record["import_reasons" if "reasons" in record else "reasons"] = reasons
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return Path(name)


# -- the import -------------------------------------------------------------------------


def file_format_of(path: Path, given: str | None = None) -> str:
    if given:
        if given not in ("csv", "jsonl"):
            raise ImportFileError([f"Unknown format {given!r}: use csv or jsonl."])
        return given
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise ImportFileError(
            [
                f"Cannot tell the format of {path.name} from its name: call it .csv, .tsv, "
                ".jsonl or .ndjson, or give the format (csv or jsonl)."
            ]
        )
    return found


def import_records(
    *,
    path: str | os.PathLike,
    department_code: str,
    mapping: Mapping | str | os.PathLike,
    skip_invalid: bool = False,
    rejects_path: str | os.PathLike | None = None,
    link_new_as_people: bool = False,
    progress: Progress | None = None,
    file_format: str | None = None,
    batch_size: int = 2000,
) -> ImportReport:
    """Import a department's own records from a CSV or JSON lines file, in one transaction.

    Raises MappingError, ImportFileError or RowsRejected (a subclass each of
    ImportFailed), having written nothing to the database or the rejects file.
    """
    started = time.perf_counter()
    path = Path(path)
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    file_format = file_format_of(path, file_format)
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        codes = list(Department.objects.order_by("code").values_list("code", flat=True)[:40])
        raise ImportFileError(
            [
                f"There is no department with the code {department_code!r}"
                f"{_did_you_mean(department_code, codes)}; codes are: {', '.join(codes) or 'none'}."
            ]
        )
    report = ImportReport(path=path, department_code=department_code, file_format=file_format)
    if skip_invalid:
        report.rejects_path = (
            Path(rejects_path) if rejects_path else default_rejects_path(path, file_format)
        )
        if report.rejects_path.resolve() == path.resolve():
            raise ImportFileError(["The rejects file cannot be the file being imported."])
    candidates, rejects, source = _read(path, file_format, mapping, report, progress)
    if rejects and not skip_invalid:
        raise RowsRejected(
            [
                f"Nothing was imported: {len(rejects)} of {report.rows} rows have problems.",
                *map(str, report.problems),
            ],
            report,
        )
    pending = _write_rejects_aside(report.rejects_path, source, rejects) if skip_invalid else None
    writer = _Writer(
        department=department,
        mapping=mapping,
        report=report,
        batch_size=batch_size,
        progress=progress,
    )
    try:
        with transaction.atomic():
            # One import of a department at a time (PostgreSQL; SQLite has one writer anyway).
            Department.objects.select_for_update().filter(pk=department.pk).first()
            writer.write(candidates, link_new_as_people=link_new_as_people)
            if writer.people_touched:
                publish(
                    DomainEvent(
                        name="people.records_imported",
                        object_type="department",
                        object_id=department.pk,
                        data={"person_ids": sorted(writer.people_touched)},
                    )
                )
    except BaseException as e:
        if pending is not None:
            pending.unlink(missing_ok=True)
        if isinstance(e, IntegrityError):
            raise ImportFailed(
                [
                    "Nothing was imported: another change to this department's records or "
                    f"identifiers got in first ({e}). Run the import again."
                ],
                report,
            ) from e
        raise
    if pending is not None:
        os.replace(pending, report.rejects_path)
    report.committed = True
    report.seconds = time.perf_counter() - started
    return report
