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

import csv
import json
import os
import tempfile
import time
from pathlib import Path

from django.db import IntegrityError, transaction

from civicloop.catalogue.models import Department
from civicloop.core.events import DomainEvent, publish
from civicloop.people.import_mapping import (
    DEFAULT_DATE_FORMATS,
    FIELD_SYNONYMS,
    SECTIONS,
    Mapping,
    _did_you_mean,
    load_mapping,
    parse_mapping,
)
from civicloop.people.import_outcomes import (
    ImportFailed,
    ImportFileError,
    ImportReport,
    MappingError,
    RowProblem,
    RowsRejected,
)
from civicloop.people.import_reading import (
    DELIMITERS,
    EXTENSIONS,
    Progress,
    _CsvRows,
    _JsonLines,
    _read,
    _Row,
)
from civicloop.people.import_values import (
    EARLIEST_BIRTH,
    FIELDS,
    IDENTIFIER_MAX_LENGTH,
    IDENTIFIERS_KEY,
    MAX_LENGTH,
    SAMPLE_DATE,
)
from civicloop.people.import_writing import VIEWER, _Writer

# The names callers and tests have always imported from here.
__all__ = [
    "DEFAULT_DATE_FORMATS",
    "DELIMITERS",
    "EARLIEST_BIRTH",
    "EXTENSIONS",
    "FIELDS",
    "FIELD_SYNONYMS",
    "IDENTIFIERS_KEY",
    "IDENTIFIER_MAX_LENGTH",
    "MAX_LENGTH",
    "SAMPLE_DATE",
    "SECTIONS",
    "VIEWER",
    "ImportFailed",
    "ImportFileError",
    "ImportReport",
    "Mapping",
    "MappingError",
    "Progress",
    "RowProblem",
    "RowsRejected",
    "default_rejects_path",
    "file_format_of",
    "import_records",
    "load_mapping",
    "parse_mapping",
]


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
    rejects_target: Path | None = None
    if skip_invalid:
        rejects_target = report.rejects_path = (
            Path(rejects_path) if rejects_path else default_rejects_path(path, file_format)
        )
        if rejects_target.resolve() == path.resolve():
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
    pending = None
    if rejects_target is not None:
        pending = _write_rejects_aside(rejects_target, source, rejects)
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
    if pending is not None and rejects_target is not None:
        os.replace(pending, rejects_target)
    report.committed = True
    report.seconds = time.perf_counter() - started
    return report
