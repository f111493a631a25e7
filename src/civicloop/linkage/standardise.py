"""Standardised matching fields of a person record: one function per field, used two ways.

`standardise_record` cleans one record (the real-time matcher, the review page);
`standardise` cleans a whole table by running the very same functions once per distinct
raw value, so a batch prediction and a single explanation always see identical keys.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import jellyfish
import polars as pl
import pyarrow as pa

from civicloop.linkage.nicknames import canonical, name_groups

# The roles a record may carry; any of them may be missing.
INPUT_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "email",
    "phone",
    "postcode",
    "address",
)

# The standardised columns, in order, with their Polars types.
STANDARD_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "source": pl.String(),
    "given": pl.String(),
    "given_groups": pl.List(pl.String()),
    "given_key": pl.String(),
    "given_sound": pl.String(),
    "family": pl.String(),
    "family_tokens": pl.List(pl.String()),
    "family_sound": pl.String(),
    "dob": pl.String(),
    "dob_swap": pl.String(),
    "dob_year": pl.Int32(),
    "dob_month": pl.Int32(),
    "dob_day": pl.Int32(),
    "email": pl.String(),
    "email_local": pl.String(),
    "phone": pl.String(),
    "postcode": pl.String(),
    "postcode_out": pl.String(),
    "address_key": pl.String(),
}

_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev"}
_APOSTROPHES = re.compile(r"['’`.]+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGITS = re.compile(r"\D+")
_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][A-Z]{2})$")
_NUMBERISH = re.compile(r"^\d+[a-z]?$")
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d %b %Y",
    "%d %B %Y",
)
_US_DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y%m%d",
    "%b %d %Y",
    "%B %d %Y",
)


def _ascii_lower(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


def name_tokens(text: Any, *, join_hyphens: bool = False) -> list[str]:
    """Folded name tokens: accents and case dropped, apostrophes joined up ("O'Brien")."""
    if text is None:
        return []
    folded = _APOSTROPHES.sub("", _ascii_lower(str(text)))
    if join_hyphens:
        folded = folded.replace("-", "")
    return [t for t in _NON_ALNUM.split(folded) if t]


def slips(word: str) -> tuple[str, ...]:
    """The word and every way of dropping one letter from it.

    Two words one typing slip apart (a letter dropped, added, changed, or two neighbours
    swapped) always share one of these keys, so they index a dictionary for near names.
    """
    return tuple(dict.fromkeys([word, *(word[:i] + word[i + 1 :] for i in range(len(word)))]))


@lru_cache(maxsize=100_000)
def _given_fields(raw: str) -> tuple[str | None, tuple[str, ...], str | None, str | None]:
    # 'Ji-woo' and 'Jean-Luc' are one given name; 'Mary Ann' is a first and a middle name.
    tokens = name_tokens(raw, join_hyphens=True)
    if len(tokens) > 1 and tokens[0] in _TITLES:
        tokens = tokens[1:]
    if not tokens:
        return None, (), None, None
    given = tokens[0]
    sound = jellyfish.metaphone(given)[:12] or given
    return given, name_groups(given), canonical(given), sound


@lru_cache(maxsize=100_000)
def _family_fields(raw: str) -> tuple[str | None, tuple[str, ...], str | None]:
    tokens = name_tokens(raw)
    if not tokens:
        return None, (), None
    family = "".join(tokens)
    sound = jellyfish.metaphone(family)[:12] or family
    return family, tuple(tokens), sound


def parse_date(value: Any, *, dayfirst: bool = True) -> dt.date | None:
    """A date from a date, a datetime or text in the usual forms (day first unless told)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if "T" in text[8:]:
        text = text.split("T", 1)[0]
    text = re.sub(r"\s+", " ", text.replace(",", " ")).strip()
    for fmt in _DATE_FORMATS if dayfirst else _US_DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def swap_day_month(date: dt.date) -> dt.date | None:
    """The date with day and month swapped, or None when that is not a different valid date."""
    if date.day > 12 or date.day == date.month:
        return None
    return date.replace(month=date.day, day=date.month)


def _dob_fields(value: Any, dayfirst: bool) -> tuple:
    date = parse_date(value, dayfirst=dayfirst)
    if date is None:
        return None, None, None, None, None
    swapped = swap_day_month(date)
    return (
        date.isoformat(),
        swapped.isoformat() if swapped else None,
        date.year,
        date.month,
        date.day,
    )


def email_fields(value: Any) -> tuple[str | None, str | None]:
    """Lower-case address and its local part (without any +tag); None unless it has an @."""
    if value is None:
        return None, None
    email = str(value).strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or not domain:
        return None, None
    return email, local.split("+", 1)[0]


def phone_key(value: Any) -> str | None:
    """The last ten digits, so '+44 7700 900123' and '07700 900123' agree; None if too short."""
    if value is None:
        return None
    digits = _DIGITS.sub("", str(value))
    return digits[-10:] if len(digits) >= 7 else None


def postcode_fields(value: Any) -> tuple[str | None, str | None]:
    """Postcode without spaces, upper case, and its outward code (or a ZIP's first three digits)."""
    if value is None:
        return None, None
    code = re.sub(r"[^A-Z0-9]", "", str(value).upper())
    if not code:
        return None, None
    uk = _UK_POSTCODE.match(code)
    if uk:
        return code, uk.group(1)
    if code.isdigit():
        code = code[:5]
        return code, code[:3]
    return code, code[: max(1, len(code) // 2)]


@lru_cache(maxsize=200_000)
def address_key(value: str) -> str | None:
    """House and flat numbers with the first word of the street: '60/5 beech'.

    Robust to abbreviations ('Rd'/'Road'), case and the town, which clerks write freely.
    """
    tokens = name_tokens(value)
    numbers = [t for t in tokens if _NUMBERISH.match(t)]
    if not numbers:
        return None
    last_number = max(i for i, t in enumerate(tokens) if _NUMBERISH.match(t))
    street = next((t for t in tokens[last_number + 1 :] if not t.isdigit()), "")
    return f"{'/'.join(numbers)} {street}".strip()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def standardise_record(record: Mapping[str, Any], *, dayfirst: bool = True) -> dict[str, Any]:
    """The standardised fields of one record (a dict with any of INPUT_FIELDS)."""
    given_raw = _text(record.get("given_name"))
    family_raw = _text(record.get("family_name"))
    given, groups, key, given_sound = (
        _given_fields(given_raw) if given_raw else (None, (), None, None)
    )
    family, tokens, family_sound = _family_fields(family_raw) if family_raw else (None, (), None)
    dob, dob_swap, dob_year, dob_month, dob_day = _dob_fields(record.get("date_of_birth"), dayfirst)
    email, local = email_fields(_text(record.get("email")))
    postcode, outward = postcode_fields(_text(record.get("postcode")))
    address_raw = _text(record.get("address"))
    record_id = record.get("record_id")
    source = record.get("source")
    return {
        "record_id": None if record_id is None else str(record_id),
        "source": None if source is None else str(source),
        "given": given,
        "given_groups": list(groups) if given else None,
        "given_key": key,
        "given_sound": given_sound,
        "family": family,
        "family_tokens": list(tokens) if family else None,
        "family_sound": family_sound,
        "dob": dob,
        "dob_swap": dob_swap,
        "dob_year": dob_year,
        "dob_month": dob_month,
        "dob_day": dob_day,
        "email": email,
        "email_local": local,
        "phone": phone_key(_text(record.get("phone"))),
        "postcode": postcode,
        "postcode_out": outward,
        "address_key": address_key(address_raw) if address_raw else None,
    }


def _as_polars(records: pa.Table | pl.DataFrame) -> pl.DataFrame:
    if isinstance(records, pl.DataFrame):
        return records
    if isinstance(records, pa.Table):
        return pl.from_arrow(records)  # type: ignore[return-value]
    raise TypeError(f"records must be a pyarrow.Table or polars.DataFrame, not {type(records)!r}")


def _map_unique(
    column: pl.Series, fn: Callable[[Any], tuple], names: list[str], dtypes: list[pl.DataType]
) -> pl.DataFrame:
    """Apply `fn` once per distinct value of `column`; one output column per name."""
    uniques = column.unique().drop_nulls()
    results = [fn(v) for v in uniques.to_list()]
    lookup = pl.DataFrame(
        {"__key": uniques}
        | {
            name: pl.Series(name, [r[i] for r in results], dtype=dtype)
            for i, (name, dtype) in enumerate(zip(names, dtypes, strict=True))
        }
    )
    keyed = pl.DataFrame({"__key": column})
    return keyed.join(lookup, on="__key", how="left", maintain_order="left").drop("__key")


def is_standardised(frame: pl.DataFrame) -> bool:
    return all(name in frame.columns for name in STANDARD_SCHEMA)


def standardise(records: pa.Table | pl.DataFrame, *, dayfirst: bool = True) -> pl.DataFrame:
    """The standardised table: one row per input record, columns STANDARD_SCHEMA.

    Input needs `record_id`; every other role (INPUT_FIELDS, `source`) may be absent.
    """
    frame = _as_polars(records)
    if "record_id" not in frame.columns:
        raise ValueError("records need a record_id column")
    n = frame.height

    def text_column(name: str) -> pl.Series:
        if name not in frame.columns:
            return pl.Series(name, [None] * n, dtype=pl.String())
        column = frame.get_column(name)
        if column.dtype == pl.Date:
            return column.dt.to_string("%Y-%m-%d")
        if column.dtype == pl.Datetime:
            return column.dt.date().dt.to_string("%Y-%m-%d")
        column = column.cast(pl.String())
        return column.str.strip_chars().replace("", None)

    def given_row(v: str) -> tuple:
        given, groups, key, sound = _given_fields(v)
        return given, list(groups) if given else None, key, sound

    def family_row(v: str) -> tuple:
        family, tokens, sound = _family_fields(v)
        return family, list(tokens) if family else None, sound

    parts = [
        pl.DataFrame(
            {
                "record_id": frame.get_column("record_id").cast(pl.String()),
                "source": text_column("source"),
            }
        ),
        _map_unique(
            text_column("given_name"),
            given_row,
            ["given", "given_groups", "given_key", "given_sound"],
            [pl.String(), pl.List(pl.String()), pl.String(), pl.String()],
        ),
        _map_unique(
            text_column("family_name"),
            family_row,
            ["family", "family_tokens", "family_sound"],
            [pl.String(), pl.List(pl.String()), pl.String()],
        ),
        _map_unique(
            text_column("date_of_birth"),
            lambda v: _dob_fields(v, dayfirst),
            ["dob", "dob_swap", "dob_year", "dob_month", "dob_day"],
            [pl.String(), pl.String(), pl.Int32(), pl.Int32(), pl.Int32()],
        ),
        _map_unique(
            text_column("email"), email_fields, ["email", "email_local"], [pl.String(), pl.String()]
        ),
        _map_unique(text_column("phone"), lambda v: (phone_key(v),), ["phone"], [pl.String()]),
        _map_unique(
            text_column("postcode"),
            postcode_fields,
            ["postcode", "postcode_out"],
            [pl.String(), pl.String()],
        ),
        _map_unique(
            text_column("address"), lambda v: (address_key(v),), ["address_key"], [pl.String()]
        ),
    ]
    return pl.concat(parts, how="horizontal").select(list(STANDARD_SCHEMA))
