"""Person search's conditions, written once and read two ways: as ORM `Q` objects and as SQL.

A name search reads up to six ranks, one statement each, on every request; building each
through the ORM cost more than running it. The ranks are kept here as plain conditions on
`people_person` columns, so the search runs them as plain SQL while the ORM (and the tests'
single ranked query) reads the very same conditions as `Q`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.db.models import Q

# Comparisons a condition may make, as ORM lookups and as SQL on column `p.<column>`.
_LOOKUPS = {"eq": "exact", "gte": "gte", "lt": "lt", "startswith": "startswith"}
_SQL = {"eq": "{} = %s", "gte": "{} >= %s", "lt": "{} < %s", "startswith": "{} LIKE %s ESCAPE '\\'"}


def _joined(operator: str, parts: list[tuple[str, list]]) -> tuple[str, list]:
    """Conditions joined by `operator`, in parentheses, with their parameters in order."""
    return "(" + operator.join(s for s, _ in parts) + ")", [p for _, ps in parts for p in ps]


@dataclass(frozen=True)
class Cond:
    """`column op value` on people_person (the column and the field share a name)."""

    column: str
    op: str
    value: str

    def q(self) -> Q:
        return Q(**{f"{self.column}__{_LOOKUPS[self.op]}": self.value})

    def sql(self, alias: str = "p") -> tuple[str, list]:
        value = self.value
        if self.op == "startswith":
            value = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return _SQL[self.op].format(f"{alias}.{self.column}"), [value]


@dataclass(frozen=True)
class AnyOf:
    """At least one of `conds`."""

    conds: tuple[Cond, ...]

    def q(self) -> Q:
        return reduce(or_, (c.q() for c in self.conds))

    def sql(self) -> tuple[str, list]:
        return _joined(" OR ", [c.sql() for c in self.conds])


@dataclass(frozen=True)
class Rank:
    """Every one of `terms`: one rank of a name search."""

    terms: tuple[Cond | AnyOf, ...]

    def q(self) -> Q:
        return reduce(and_, (t.q() for t in self.terms))

    def sql(self) -> tuple[str, list]:
        return _joined(" AND ", [t.sql() for t in self.terms])


def rank(*terms: Cond | AnyOf | Rank) -> Rank:
    """A rank of these terms; a Rank among them adds its own terms."""
    flat: list[Cond | AnyOf] = []
    for t in terms:
        flat.extend(t.terms if isinstance(t, Rank) else (t,))
    return Rank(tuple(flat))


def starting(prefix: str) -> Rank:
    """Folded names (a-z, 0-9, spaces) starting with `prefix`, also as a range where one
    fits: PostgreSQL reads a range in order through the (family_key, search_name, id)
    index under any collation, where LIKE uses a b-tree only under the C collation and
    otherwise takes the trigram index and sorts. A single letter's range is exact."""
    word = prefix.rstrip()
    last = word[-1:]
    if not "a" <= last < "z":
        return rank(Cond("search_name", "startswith", prefix))
    bounds = rank(
        Cond("search_name", "gte", word),
        Cond("search_name", "lt", word[:-1] + chr(ord(last) + 1)),
    )
    if prefix == word and len(word) == 1:
        return bounds
    return rank(bounds, Cond("search_name", "startswith", prefix))


SEARCH_ORDER_SQL = "p.family_key, p.search_name, p.id"
