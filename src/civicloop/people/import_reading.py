"""Reading an import file (CSV or JSON lines) into checked candidate records and rejected
rows; a file that is bad as a whole raises before anything is written."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civicloop.core import clock
from civicloop.people.import_mapping import Mapping, _did_you_mean
from civicloop.people.import_outcomes import ImportFileError, ImportReport, RowProblem
from civicloop.people.import_values import IDENTIFIER_MAX_LENGTH, IDENTIFIERS_KEY, _as_text, _clean

EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
DELIMITERS = ",;\t"

# progress(phase, completed, total): phase "read" counts bytes, "write" counts records.
Progress = Callable[[str, int, int], None]


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
                kinds: dict[type, str] = {list: "a list", str: "a string"}
                kind = kinds.get(type(value), "not an object")
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
