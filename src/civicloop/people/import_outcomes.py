"""What an import of department records tells its caller: a report when it commits,
a failure that says why, in words a user reads, when it wrote nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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
