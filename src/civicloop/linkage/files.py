"""Linking people in files an agency hands over: read, check, guess column roles, write.

Django-free, so `civicloop dedupe` and `civicloop link-files` are thin wrappers and the
same checks run wherever a file comes in. A bad file raises `LinkageFileError` with a
message for the person who made the file, and no output is written.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from civicloop.linkage.standardise import INPUT_FIELDS

Progress = Callable[[str], None]

# Header names (normalised: lower case, runs of other characters as "_") for each role.
ROLE_HEADERS: dict[str, tuple[str, ...]] = {
    "given_name": (
        "given_name",
        "given_names",
        "given",
        "first_name",
        "firstname",
        "first_names",
        "forename",
        "forenames",
        "first",
        "fname",
        "christian_name",
        "name_first",
    ),
    "family_name": (
        "family_name",
        "surname",
        "last_name",
        "lastname",
        "family",
        "lname",
        "second_name",
        "name_last",
        "last",
    ),
    "date_of_birth": (
        "date_of_birth",
        "dob",
        "birth_date",
        "birthdate",
        "date_birth",
        "birthday",
        "d_o_b",
        "born",
        "dateofbirth",
    ),
    "email": ("email", "email_address", "e_mail", "mail", "emailaddress"),
    "phone": (
        "phone",
        "telephone",
        "phone_number",
        "tel",
        "mobile",
        "mobile_number",
        "contact_number",
        "phone_no",
        "telephone_number",
        "phonenumber",
    ),
    "postcode": (
        "postcode",
        "post_code",
        "zip",
        "zip_code",
        "zipcode",
        "postal_code",
        "postalcode",
    ),
    "address": (
        "address",
        "address_text",
        "street_address",
        "address_line_1",
        "address_line1",
        "address1",
        "addr",
        "street",
        "line1",
        "address_1",
        "home_address",
    ),
    "source": ("source", "department", "dept", "system", "dataset", "agency"),
}

# Roles that can tell people apart; a file needs at least one of them.
_IDENTIFYING = ("given_name", "family_name", "date_of_birth", "email", "phone")


class LinkageFileError(ValueError):
    """A file that cannot be linked, with a message for the person who made it."""


def normalise_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def guess_roles(
    columns: list[str], *, id_column: str, overrides: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """Role -> column, from header names; `overrides` (role -> column) win."""
    chosen = {k: v for k, v in (overrides or {}).items() if v}
    unknown_roles = set(chosen) - set(ROLE_HEADERS)
    if unknown_roles:
        raise LinkageFileError(f"unknown column roles: {', '.join(sorted(unknown_roles))}")
    for role, column in chosen.items():
        if column not in columns:
            raise LinkageFileError(
                f"the {role.replace('_', ' ')} column '{column}' is not in the file; "
                f"its columns are: {', '.join(columns)}"
            )
    roles: dict[str, str] = dict(chosen)
    taken = {id_column, *roles.values()}
    by_normal: dict[str, str] = {}
    for column in columns:
        by_normal.setdefault(normalise_header(column), column)
    for role, names in ROLE_HEADERS.items():
        if role in roles:
            continue
        for name in names:
            found = by_normal.get(name)
            if found is not None and found not in taken:
                roles[role] = found
                taken.add(found)
                break
    return roles


def _check_utf8(path: Path) -> None:
    line = 1
    offset = 0
    with path.open("rb") as handle:
        tail = b""
        while chunk := handle.read(1 << 20):
            data = tail + chunk
            try:
                data.decode("utf-8")
                tail = b""
            except UnicodeDecodeError as error:
                # A character split across the chunk boundary is fine; anything else is not.
                if error.start >= len(data) - 3 and error.reason == "unexpected end of data":
                    tail = data[error.start :]
                    data = data[: error.start]
                else:
                    bad = offset + error.start
                    line += data[: error.start].count(b"\n")
                    raise LinkageFileError(
                        f"{path.name} is not UTF-8 text (byte {bad:,}, line {line:,}); "
                        "save it as UTF-8 CSV and try again"
                    ) from None
            line += data.count(b"\n")
            offset += len(data)
        if tail:
            raise LinkageFileError(f"{path.name} is not UTF-8 text: it ends inside a character")


def read_table(path: Path | str) -> pl.DataFrame:
    """Every column as text. CSV (any extension but .parquet), UTF-8, with a header row."""
    path = Path(path)
    if not path.exists():
        raise LinkageFileError(f"{path} does not exist")
    if path.is_dir():
        raise LinkageFileError(f"{path} is a folder, not a file")
    if path.suffix.lower() == ".parquet":
        try:
            frame = pl.read_parquet(path)
        except Exception as error:  # noqa: BLE001 - any reader failure is a bad file
            raise LinkageFileError(f"{path.name} is not a readable Parquet file: {error}") from None
        return frame.with_columns(pl.all().cast(pl.String()))
    if path.stat().st_size == 0:
        raise LinkageFileError(f"{path.name} is empty: no header and no records")
    _check_utf8(path)
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except pl.exceptions.NoDataError:
        raise LinkageFileError(f"{path.name} is empty: no header and no records") from None
    except (pl.exceptions.ComputeError, pl.exceptions.ShapeError) as error:
        raise LinkageFileError(f"{path.name} is not a well-formed CSV file: {error}") from None
    return frame


@dataclass(slots=True)
class PreparedFile:
    records: pl.DataFrame  # record_id + the roles found
    roles: dict[str, str]
    path: Path
    notes: list[str] = field(default_factory=list)


def prepare(
    path: Path | str,
    *,
    id_column: str,
    overrides: Mapping[str, str | None] | None = None,
) -> PreparedFile:
    """Read `path`, check it, and return its records under the engine's column names."""
    path = Path(path)
    frame = read_table(path)
    if id_column not in frame.columns:
        raise LinkageFileError(
            f"{path.name} has no id column '{id_column}'; its columns are: "
            f"{', '.join(frame.columns)} (choose one with --id-column)"
        )
    if frame.height == 0:
        raise LinkageFileError(f"{path.name} has a header but no records")
    ids = frame.get_column(id_column)
    blank = ids.is_null() | (ids.str.strip_chars() == "")
    if blank.any():
        rows = (blank.arg_true() + 2).head(5).to_list()  # +2: 1-based, after the header
        raise LinkageFileError(
            f"{path.name} has {int(blank.sum()):,} records without an id in '{id_column}' "
            f"(lines {', '.join(map(str, rows))}{' …' if blank.sum() > 5 else ''})"
        )
    counts = frame.group_by(id_column).len().filter(pl.col("len") > 1)
    if counts.height:
        examples = ", ".join(f"'{v}'" for v in counts.get_column(id_column).head(5).to_list())
        raise LinkageFileError(
            f"{path.name} has {counts.height:,} ids used more than once in '{id_column}', "
            f"e.g. {examples}; each record needs its own id"
        )
    roles = guess_roles(frame.columns, id_column=id_column, overrides=overrides)
    if not any(role in roles for role in _IDENTIFYING):
        raise LinkageFileError(
            f"no column of {path.name} looks like a name, date of birth, email or phone; "
            f"name them with --given-name, --surname, --dob, --email, --phone"
        )
    records = frame.select(
        pl.col(id_column).str.strip_chars().alias("record_id"),
        *(pl.col(column).alias(role) for role, column in roles.items()),
    )
    notes = [f"{role.replace('_', ' ')} ← {column}" for role, column in roles.items()]
    missing = [r for r in INPUT_FIELDS if r not in roles]
    if missing:
        notes.append("not in the file: " + ", ".join(r.replace("_", " ") for r in missing))
    return PreparedFile(records=records, roles=roles, path=path, notes=notes)


def write_atomically(frame: pl.DataFrame, out: Path | str) -> None:
    """Write a CSV next to `out` and move it into place, so a failure leaves no output."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        frame.write_csv(temporary)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _rounded(result: pl.DataFrame) -> pl.DataFrame:
    return result.with_columns(pl.col("match_probability").round(6))


@dataclass(slots=True)
class LinkSummary:
    records: int
    clusters_merged: int
    records_merged: int
    records_in_review: int
    seconds: float
    notes: list[str]


def _summary(result: pl.DataFrame, started: float, notes: list[str]) -> LinkSummary:
    merged = result.filter(pl.col("status") == "merged")
    return LinkSummary(
        records=result.height,
        clusters_merged=merged.get_column("cluster_id").n_unique(),
        records_merged=merged.height,
        records_in_review=int((result.get_column("status") == "review").sum()),
        seconds=time.perf_counter() - started,
        notes=notes,
    )


def dedupe_file(
    input_path: Path | str,
    out: Path | str,
    *,
    id_column: str,
    overrides: Mapping[str, str | None] | None = None,
    merge_threshold: float | None = None,
    review_threshold: float | None = None,
    dayfirst: bool = True,
    model_out: Path | str | None = None,
    progress: Progress | None = None,
) -> LinkSummary:
    """`civicloop dedupe`: record_id, cluster_id, match_probability, status to `out`."""
    from civicloop.linkage import engine

    say = progress or (lambda _m: None)
    started = time.perf_counter()
    say("reading and checking the file")
    prepared = prepare(input_path, id_column=id_column, overrides=overrides)
    say("standardising")
    std = engine.standardise(prepared.records, dayfirst=dayfirst)
    model = engine.train(std, progress=say)
    result = engine.dedupe(
        std,
        model=model,
        merge_threshold=merge_threshold,
        review_threshold=review_threshold,
        progress=say,
    )
    say("writing")
    write_atomically(_rounded(result), out)
    if model_out:
        Path(model_out).write_text(model.to_json(indent=1))
    return _summary(result, started, prepared.notes)


def link_two_files(
    a_path: Path | str,
    b_path: Path | str,
    out: Path | str,
    *,
    id_column: str,
    id_column_b: str | None = None,
    overrides: Mapping[str, str | None] | None = None,
    overrides_b: Mapping[str, str | None] | None = None,
    merge_threshold: float | None = None,
    review_threshold: float | None = None,
    dayfirst: bool = True,
    progress: Progress | None = None,
) -> LinkSummary:
    """`civicloop link-files`: source ('a' or 'b'), record_id, cluster_id, ... to `out`."""
    from civicloop.linkage import engine

    say = progress or (lambda _m: None)
    started = time.perf_counter()
    say("reading and checking the files")
    overrides = dict(overrides or {})
    # A role named once applies to whichever file has that column.
    columns_a = read_table(a_path).columns
    columns_b = read_table(b_path).columns
    for role, column in overrides.items():
        if column and column not in columns_a and column not in columns_b:
            raise LinkageFileError(
                f"the {role.replace('_', ' ')} column '{column}' is in neither file"
            )
    a = prepare(
        a_path,
        id_column=id_column,
        overrides={r: c for r, c in overrides.items() if c in columns_a},
    )
    b = prepare(
        b_path,
        id_column=id_column_b or id_column,
        overrides=overrides_b or {r: c for r, c in overrides.items() if c in columns_b},
    )
    say("standardising")
    result = engine.link_files(
        engine.standardise(a.records, dayfirst=dayfirst),
        engine.standardise(b.records, dayfirst=dayfirst),
        merge_threshold=merge_threshold,
        review_threshold=review_threshold,
        progress=say,
    )
    say("writing")
    write_atomically(_rounded(result), out)
    notes = [f"A: {n}" for n in a.notes] + [f"B: {n}" for n in b.notes]
    return _summary(result, started, notes)
