"""The survivorship rule: which department's value each golden field of a person takes.

Names and date of birth by the most frequent value (typos are rare, so the true value recurs),
contacts and address by the most recent (people move and change numbers). A value entered by
staff or loaded as it was is never overwritten by the rule, only filled in when empty.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from civicloop.core import clock
from civicloop.people import keys
from civicloop.people.models import Person, PersonFieldSource, SourceRecord
from civicloop.places.models import Address

GOLDEN_FIELDS = ("given_name", "family_name", "date_of_birth", "email", "phone", "address")
MOST_FREQUENT_FIELDS = frozenset({"given_name", "family_name", "date_of_birth"})
# Golden fields with no counterpart in a department's record: filled from the merged person.
PERSON_ONLY_FIELDS = ("middle_names", "accessibility_needs")
KEY_FIELDS: tuple[str, ...] = ("search_name", "family_key", "family_phonetic", "given_phonetic")
KEY_FIELDS += ("phone_key", "email_key")


@dataclass(frozen=True)
class RecordFields:
    """What survivorship reads of a department's record."""

    record_id: int
    received_at: dt.datetime
    given_name: str = ""
    family_name: str = ""
    date_of_birth: dt.date | None = None
    email: str = ""
    phone: str = ""
    address_text: str = ""
    postcode: str = ""

    @classmethod
    def of(cls, record: SourceRecord) -> RecordFields:
        return cls(
            record_id=record.id,
            received_at=record.received_at,
            given_name=record.given_name,
            family_name=record.family_name,
            date_of_birth=record.date_of_birth,
            email=record.email,
            phone=record.phone,
            address_text=record.address_text,
            postcode=record.postcode,
        )


@dataclass(frozen=True)
class Survivor:
    value: Any  # for "address", the id of the gazetteer Address
    record_id: int


def _postcode_key(postcode: str) -> str:
    return "".join((postcode or "").upper().split())


class AddressResolver:
    """Finds the gazetteer address a department's address text names, within its postcode.

    Tokens of the folded text are matched from the start until one address of the postcode
    is left ("12 high st" finds "12 High Street"); no match or a tie gives None.
    """

    def __init__(self) -> None:
        self._by_postcode: dict[str, list[tuple[int, list[str]]]] = {}

    def preload(self, postcodes: Iterable[str]) -> None:
        """Read the addresses of these postcodes in a few queries rather than one each."""
        codes = {_postcode_key(p) for p in postcodes} - set(self._by_postcode) - {""}
        forms = sorted({form for code in codes for form in (code, self._spaced(code))})
        for code in codes:
            self._by_postcode[code] = []
        for start in range(0, len(forms), 500):
            for address in Address.objects.filter(postcode__in=forms[start : start + 500]):
                self._add(address)

    @staticmethod
    def _spaced(code: str) -> str:
        """'RV34AB' as the gazetteer writes it, 'RV3 4AB'."""
        return f"{code[:-3]} {code[-3:]}" if len(code) > 3 else code

    def _add(self, address: Address) -> None:
        text = ", ".join(p for p in (address.line1, address.line2, address.town) if p)
        entry = (address.id, keys.fold(text).split())
        bucket = self._by_postcode.setdefault(_postcode_key(address.postcode), [])
        if entry not in bucket:
            bucket.append(entry)

    def resolve(self, address_text: str, postcode: str) -> int | None:
        code = _postcode_key(postcode)
        tokens = keys.fold(address_text).split()
        if not code or not tokens:
            return None
        if code not in self._by_postcode:
            self.preload([postcode])
        candidates = self._by_postcode.get(code, [])
        for n in range(1, len(tokens) + 1):
            candidates = [c for c in candidates if c[1][:n] == tokens[:n]]
            if len(candidates) <= 1:
                break
        if len(candidates) == 1:
            return candidates[0][0]
        exact = [c for c in candidates if c[1] == tokens]
        return exact[0][0] if len(exact) == 1 else None


def _candidates(record: RecordFields, name: str, resolver: AddressResolver | None):
    """(comparison key, value) of one field of a record, or None when empty."""
    if name in ("given_name", "family_name"):
        raw = getattr(record, name).strip()
        return (keys.fold(raw), raw) if keys.fold(raw) else None
    if name == "date_of_birth":
        return (record.date_of_birth, record.date_of_birth) if record.date_of_birth else None
    if name == "email":
        raw = record.email.strip()
        return (keys.email_key(raw), raw) if raw else None
    if name == "phone":
        raw = record.phone.strip()
        return (keys.phone_key(raw), raw) if keys.phone_key(raw) else None
    if name == "address" and resolver is not None:
        address_id = resolver.resolve(record.address_text, record.postcode)
        return (address_id, address_id) if address_id else None
    return None


def _mixed_case(value: Any) -> bool:
    """'Okafor' reads better than 'OKAFOR', which housing clerks often type."""
    return not isinstance(value, str) or value != value.upper()


def survivorship(
    records: Sequence[RecordFields], resolver: AddressResolver | None = None
) -> dict[str, Survivor]:
    """The value of each golden field the records agree on, and the record it comes from.

    Names and date of birth: the most frequent value (folded), then the most recent.
    Email, phone and address: the most recent, then the most frequent. Ties go to the
    lower record id, so the answer never depends on the order the records came in.
    """
    survivors: dict[str, Survivor] = {}
    for name in GOLDEN_FIELDS:
        groups: dict[Any, list[tuple[Any, RecordFields]]] = defaultdict(list)
        for record in records:
            found = _candidates(record, name, resolver)
            if found is not None:
                groups[found[0]].append((found[1], record))
        if not groups:
            continue

        def group_rank(item, name=name):
            _key, members = item
            latest = max(m[1].received_at for m in members)
            first_id = min(m[1].record_id for m in members)
            if name in MOST_FREQUENT_FIELDS:
                return (-len(members), -latest.timestamp(), first_id)
            return (-latest.timestamp(), -len(members), first_id)

        _key, members = min(groups.items(), key=group_rank)
        raw_counts = Counter(value for value, _record in members)

        def member_rank(member, raw_counts=raw_counts):
            value, record = member
            return (
                not _mixed_case(value),
                -raw_counts[value],
                -record.received_at.timestamp(),
                record.record_id,
            )

        value, record = min(members, key=member_rank)
        survivors[name] = Survivor(value=value, record_id=record.record_id)
    return survivors


def _attname(name: str) -> str:
    return "address_id" if name == "address" else name


def _empty(value: Any) -> bool:
    return value is None or value == ""


@dataclass(frozen=True)
class GoldenChange:
    name: str  # golden field: "given_name", "address"
    before: Any
    after: Any
    record_id: int | None


def golden_changes(
    person: Person,
    survivors: dict[str, Survivor],
    provenance: dict[str, PersonFieldSource],
    *,
    fallback: Person | None = None,
) -> list[GoldenChange]:
    """What the survivorship rule changes in a golden record.

    A field is set from the records when it is empty or its current value was itself
    chosen from a record (its provenance names one); a value staff entered, or one loaded
    as it was, is kept. With `fallback` (the merged person), fields still empty are filled
    from its golden record.
    """
    changes = []
    for name in GOLDEN_FIELDS:
        current = getattr(person, _attname(name))
        source = provenance.get(name)
        from_record = source is not None and source.source_record_id is not None
        survivor = survivors.get(name)
        if survivor is not None and (_empty(current) or from_record):
            if survivor.value != current:
                changes.append(GoldenChange(name, current, survivor.value, survivor.record_id))
        elif fallback is not None and _empty(current):
            other = getattr(fallback, _attname(name))
            if not _empty(other):
                changes.append(GoldenChange(name, current, other, None))
    if fallback is not None:
        for name in PERSON_ONLY_FIELDS:
            current, other = getattr(person, name), getattr(fallback, name)
            if _empty(current) and not _empty(other):
                changes.append(GoldenChange(name, current, other, None))
    return changes


def current_provenance(person_ids: Iterable[int]) -> dict[int, dict[str, PersonFieldSource]]:
    """The newest PersonFieldSource of each field of each person."""
    found: dict[int, dict[str, PersonFieldSource]] = defaultdict(dict)
    ids = list(person_ids)
    for start in range(0, len(ids), 500):
        rows = PersonFieldSource.objects.filter(person_id__in=ids[start : start + 500]).order_by(
            "person_id", "field", "set_at", "id"
        )
        for row in rows:
            found[row.person_id][row.field] = row
    return found


def apply_golden_changes(person: Person, changes: Sequence[GoldenChange]) -> dict[str, Any]:
    """Set the changed fields on `person` (in memory) with its search keys, version and time.

    Returns {attname: new value} of every field that changed, keys included.
    """
    if not changes:
        return {}
    before = {f: getattr(person, f) for f in KEY_FIELDS}
    updates: dict[str, Any] = {}
    for change in changes:
        setattr(person, _attname(change.name), change.after)
        updates[_attname(change.name)] = change.after
    for key, value in keys.person_keys(
        given_name=person.given_name,
        family_name=person.family_name,
        phone=person.phone,
        email=person.email,
    ).items():
        setattr(person, key, value)
        if before[key] != value:
            updates[key] = value
    person.version += 1
    person.updated_at = clock.now()
    updates["version"] = person.version
    updates["updated_at"] = person.updated_at
    return updates
