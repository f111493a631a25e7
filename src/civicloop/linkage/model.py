"""The linkage model as plain data: comparisons, their levels, trained m and u, the prior.

Each comparison level is a small predicate over standardised columns (see `Predicate`),
written once and compiled two ways: to SQL for Splink/DuckDB over millions of pairs, and
to a Python function for one pair at a time. Both follow SQL's three-valued logic, so a
pair scored in a batch and the same pair explained on a page land in the same level.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from rapidfuzz.distance import DamerauLevenshtein

from civicloop.linkage.nicknames import name_groups
from civicloop.linkage.standardise import slips

FORMAT = "civicloop.linkage.model/1"

# A predicate is JSON: ["eq", "given"], ["and", p, q], ... (see _SQL and _evaluate).
Predicate = list

# The weight given to a level whose m or u was never observed in training.
M_FLOOR = 1e-6
U_FLOOR = 1e-8


def _sql(p: Predicate) -> str:
    op, *args = p
    if op == "missing":
        (col,) = args
        return f"({col}_l IS NULL OR {col}_r IS NULL)"
    if op == "eq":
        (col,) = args
        return f"{col}_l = {col}_r"
    if op == "eq_swap":
        col, swap = args
        return f"({col}_l = {swap}_r OR {swap}_l = {col}_r)"
    if op == "crossed":
        a, b = args
        return f"({a}_l = {b}_r AND {b}_l = {a}_r)"
    if op == "overlap":
        (col,) = args
        return f"list_has_any({col}_l, {col}_r)"
    if op == "dl_le":
        col, k = args
        left, right = f"{col}_l", f"{col}_r"
        # Cheap necessary conditions first, so the edit distance runs on few pairs: lengths
        # within k and, for k = 1 and words of 3+ letters, the first or the last letter kept.
        guard = f"abs(length({left}) - length({right})) <= {int(k)}"
        if int(k) == 1:
            guard += (
                f" AND (least(length({left}), length({right})) <= 2"
                f" OR substr({left}, 1, 1) = substr({right}, 1, 1)"
                f" OR substr({left}, -1, 1) = substr({right}, -1, 1))"
            )
        return f"({guard} AND damerau_levenshtein({left}, {right}) <= {int(k)})"
    if op == "absdiff_le":
        col, k = args
        return f"abs({col}_l - {col}_r) <= {int(k)}"
    if op == "initial":
        (col,) = args
        return (
            f"((length({col}_l) = 1 OR length({col}_r) = 1) "
            f"AND substr({col}_l, 1, 1) = substr({col}_r, 1, 1))"
        )
    if op == "ge":
        col, k = args
        return f"{col}_l >= {int(k)}"
    if op in ("and", "or"):
        joiner = " AND " if op == "and" else " OR "
        return "(" + joiner.join(_sql(a) for a in args) + ")"
    if op == "not":
        (inner,) = args
        return f"(NOT {_sql(inner)})"
    raise ValueError(f"unknown predicate {op!r}")


def predicate_sql(p: Predicate | None) -> str:
    """The SQL condition of a level, on Splink's `<column>_l` / `<column>_r` names."""
    return "ELSE" if p is None else _sql(p)


def _and(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def evaluate(p: Predicate, left: Mapping[str, Any], right: Mapping[str, Any]) -> bool | None:
    """A predicate on one pair of standardised records, with SQL NULL semantics."""
    op, *args = p
    if op == "missing":
        return left.get(args[0]) is None or right.get(args[0]) is None
    if op == "eq":
        a, b = left.get(args[0]), right.get(args[0])
        return None if a is None or b is None else a == b
    if op == "eq_swap":
        col, swap = args
        return _or(
            [
                evaluate(["eq2", col, swap], left, right),
                evaluate(["eq2", swap, col], left, right),
            ]
        )
    if op == "crossed":
        a, b = args
        return _and([evaluate(["eq2", a, b], left, right), evaluate(["eq2", b, a], left, right)])
    if op == "eq2":
        a, b = left.get(args[0]), right.get(args[1])
        return None if a is None or b is None else a == b
    if op == "overlap":
        a, b = left.get(args[0]), right.get(args[0])
        return None if a is None or b is None else not set(a).isdisjoint(b)
    if op == "dl_le":
        a, b = left.get(args[0]), right.get(args[0])
        if a is None or b is None:
            return None
        return DamerauLevenshtein.distance(a, b) <= int(args[1])
    if op == "absdiff_le":
        a, b = left.get(args[0]), right.get(args[0])
        return None if a is None or b is None else abs(a - b) <= int(args[1])
    if op == "initial":
        a, b = left.get(args[0]), right.get(args[0])
        short = _or([None if a is None else len(a) == 1, None if b is None else len(b) == 1])
        same = None if a is None or b is None else a[:1] == b[:1]
        return _and([short, same])
    if op == "ge":
        a = left.get(args[0])
        return None if a is None else a >= int(args[1])
    if op == "and":
        return _and([evaluate(a, left, right) for a in args])
    if op == "or":
        return _or([evaluate(a, left, right) for a in args])
    if op == "not":
        inner = evaluate(args[0], left, right)
        return None if inner is None else not inner
    raise ValueError(f"unknown predicate {op!r}")


def predicate_columns(p: Predicate | None) -> set[str]:
    if p is None:
        return set()
    op, *args = p
    if op in ("and", "or", "not"):
        return set().union(*(predicate_columns(a) for a in args))
    if op in ("eq_swap", "crossed"):
        return {args[0], args[1]}
    return {args[0]}


@dataclass(slots=True)
class Level:
    """One outcome of a comparison. `when` is None for the final, catch-all level."""

    label: str
    when: Predicate | None
    is_null: bool = False
    m: float | None = None
    u: float | None = None
    # Policy: a fixed m (or u) is set by design, not by training (see default_comparisons).
    fixed_m: bool = False
    fixed_u: bool = False
    # Evidence that two records are different people, whatever else they share.
    conflict: bool = False
    gamma: int = 0

    def effective_m_u(self) -> tuple[float, float]:
        """m and u as scored: floored, and neutral (m = u) when training never saw the level."""
        if self.m is None and self.u is None:
            return 1e-3, 1e-3
        m = max(self.m if self.m is not None else M_FLOOR, M_FLOOR)
        u = max(self.u if self.u is not None else U_FLOOR, U_FLOOR)
        return m, u

    @property
    def weight(self) -> float:
        """log2(m/u): this level's contribution to the match weight (0 for a null level)."""
        if self.is_null:
            return 0.0
        m, u = self.effective_m_u()
        return math.log2(m / u)


@dataclass(slots=True)
class Comparison:
    name: str
    description: str
    levels: list[Level]

    def __post_init__(self) -> None:
        # Splink's numbering: the null level is -1, the others count down to 0 (the else level).
        ranked = [lv for lv in self.levels if not lv.is_null]
        for i, level in enumerate(ranked):
            level.gamma = len(ranked) - 1 - i
        for level in self.levels:
            if level.is_null:
                level.gamma = -1

    def level_of(self, left: Mapping[str, Any], right: Mapping[str, Any]) -> Level:
        for level in self.levels:
            if level.when is None or evaluate(level.when, left, right) is True:
                return level
        return self.levels[-1]

    def by_gamma(self, gamma: int) -> Level:
        for level in self.levels:
            if level.gamma == gamma:
                return level
        raise KeyError(gamma)

    def columns(self) -> set[str]:
        return set().union(*(predicate_columns(lv.when) for lv in self.levels))


@dataclass(slots=True)
class BlockingRule:
    """Pairs are compared when every (left column, right column) pair is equal and present."""

    name: str
    equal: list[tuple[str, str]]

    def sql(self) -> str:
        return " AND ".join(f"l.{a} = r.{b}" for a, b in self.equal)

    def admits(self, left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
        def one_way(x: Mapping[str, Any], y: Mapping[str, Any]) -> bool:
            return all(x.get(a) is not None and x.get(a) == y.get(b) for a, b in self.equal)

        return one_way(left, right) or one_way(right, left)


@dataclass(slots=True)
class FrequencyTable:
    """How common the values of a column are, for values seen at least `min_count` times
    and in at least `min_share` of records: the register's own dictionary of names.

    A value's band is the number of `cuts` its share reaches (unlisted values: band 0).
    `near` lists the dictionary names one typing slip from a value, so two different
    misspellings of one name ('Lauura', 'Laufa') still meet at 'laura'.
    """

    column: str
    cuts: list[float]
    shares: dict[str, float] = field(default_factory=dict)
    records: int = 0
    min_share: float = 1e-4
    min_count: int = 5
    nickname_groups: bool = False
    _index: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)

    def band(self, value: str | None) -> int | None:
        if value is None:
            return None
        share = self.shares.get(value, 0.0)
        return sum(1 for cut in self.cuts if share >= cut)

    def near(self, value: str | None) -> list[str] | None:
        """The value and dictionary names one slip away (as name groups for given names)."""
        if value is None:
            return None
        if self._index is None:
            index: dict[str, list[str]] = {}
            for name in sorted(self.shares):
                for key in slips(name):
                    index.setdefault(key, []).append(name)
            self._index = index
        candidates = {n for key in slips(value) for n in self._index.get(key, ())}
        names = sorted(
            {value, *(n for n in candidates if DamerauLevenshtein.distance(n, value) <= 1)}
        )
        if not self.nickname_groups:
            return names
        groups: list[str] = []
        for name in [value, *(n for n in names if n != value)]:
            groups.extend(g for g in name_groups(name) if g not in groups)
        return groups


class Contribution(NamedTuple):
    comparison: str
    label: str
    weight: float  # log2 Bayes factor


@dataclass(slots=True)
class PairExplanation:
    match_weight: float
    match_probability: float
    prior_weight: float
    contributions: list[Contribution]
    gammas: dict[str, int]


@dataclass(slots=True)
class LinkageModel:
    """Everything needed to score a pair: comparisons with m and u, the prior, frequencies."""

    comparisons: list[Comparison]
    blocking_rules: list[BlockingRule]
    frequencies: dict[str, FrequencyTable]
    probability_two_random_records_match: float = 1e-6
    merge_threshold: float = 0.95
    review_threshold: float = 0.5
    training: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT

    @property
    def prior_weight(self) -> float:
        p = self.probability_two_random_records_match
        return math.log2(p / (1 - p))

    def comparison(self, name: str) -> Comparison:
        for c in self.comparisons:
            if c.name == name:
                return c
        raise KeyError(name)

    def input_columns(self) -> list[str]:
        cols: set[str] = set()
        for c in self.comparisons:
            cols |= c.columns()
        for rule in self.blocking_rules:
            for a, b in rule.equal:
                cols |= {a, b}
        return sorted(cols)

    def enrich(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A standardised record with the model's `<column>_band` and `<column>_near`."""
        out = dict(record)
        for table in self.frequencies.values():
            value = record.get(table.column)
            out[f"{table.column}_band"] = table.band(value)
            out[f"{table.column}_near"] = table.near(value)
        return out

    def explain_standardised(
        self, left: Mapping[str, Any], right: Mapping[str, Any]
    ) -> PairExplanation:
        contributions = []
        gammas = {}
        total = self.prior_weight
        for comparison in self.comparisons:
            level = comparison.level_of(left, right)
            weight = level.weight
            total += weight
            gammas[comparison.name] = level.gamma
            contributions.append(Contribution(comparison.name, level.label, weight))
        return PairExplanation(
            match_weight=total,
            match_probability=weight_to_probability(total),
            prior_weight=self.prior_weight,
            contributions=contributions,
            gammas=gammas,
        )

    # -- serialisation ------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "probability_two_random_records_match": self.probability_two_random_records_match,
            "merge_threshold": self.merge_threshold,
            "review_threshold": self.review_threshold,
            "comparisons": [
                {
                    "name": c.name,
                    "description": c.description,
                    "levels": [
                        {k: v for k, v in asdict(lv).items() if k != "gamma"} | {"gamma": lv.gamma}
                        for lv in c.levels
                    ],
                }
                for c in self.comparisons
            ],
            "blocking_rules": [
                {"name": r.name, "equal": [list(pair) for pair in r.equal]}
                for r in self.blocking_rules
            ],
            "frequencies": {
                name: {
                    "column": t.column,
                    "cuts": t.cuts,
                    "records": t.records,
                    "min_share": t.min_share,
                    "min_count": t.min_count,
                    "nickname_groups": t.nickname_groups,
                    "shares": t.shares,
                }
                for name, t in self.frequencies.items()
            },
            "training": self.training,
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkageModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: {data.get('format')!r}")
        comparisons = [
            Comparison(
                name=c["name"],
                description=c.get("description", ""),
                levels=[
                    Level(
                        label=lv["label"],
                        when=lv["when"],
                        is_null=lv.get("is_null", False),
                        m=lv.get("m"),
                        u=lv.get("u"),
                        fixed_m=lv.get("fixed_m", False),
                        fixed_u=lv.get("fixed_u", False),
                        conflict=lv.get("conflict", False),
                    )
                    for lv in c["levels"]
                ],
            )
            for c in data["comparisons"]
        ]
        return cls(
            comparisons=comparisons,
            blocking_rules=[
                BlockingRule(r["name"], [tuple(pair) for pair in r["equal"]])
                for r in data["blocking_rules"]
            ],
            frequencies={
                name: FrequencyTable(
                    column=t["column"],
                    cuts=list(t["cuts"]),
                    shares=dict(t["shares"]),
                    records=t.get("records", 0),
                    min_share=t.get("min_share", 1e-4),
                    min_count=t.get("min_count", 5),
                    nickname_groups=t.get("nickname_groups", False),
                )
                for name, t in data["frequencies"].items()
            },
            probability_two_random_records_match=data["probability_two_random_records_match"],
            merge_threshold=data.get("merge_threshold", 0.95),
            review_threshold=data.get("review_threshold", 0.5),
            training=dict(data.get("training", {})),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> LinkageModel:
        return cls.from_dict(json.loads(text))


def weight_to_probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    odds = 2.0**weight
    return odds / (1 + odds)


def probability_to_weight(p: float) -> float:
    p = min(max(p, 1e-15), 1 - 1e-15)
    return math.log2(p / (1 - p))


# -- the comparisons CivicLoop uses ---------------------------------------------------------

# Given names that could be the same person's: same, nickname, a slip of the keyboard, sounds
# alike, or an initial.
GIVEN_COMPATIBLE: Predicate = [
    "or",
    ["missing", "given"],
    ["eq", "given"],
    ["overlap", "given_groups"],
    ["dl_le", "given", 1],
    ["overlap", "given_near"],
    ["eq", "given_sound"],
    ["initial", "given"],
]

# Two of day, month and year agree: one part mistyped. A year is only "mistyped" within ten
# years: a parent and a junior can share a birthday a generation apart.
TWO_OF_THREE_DATE_PARTS: Predicate = [
    "or",
    ["and", ["eq", "dob_year"], ["eq", "dob_month"]],
    ["and", ["eq", "dob_year"], ["eq", "dob_day"]],
    ["and", ["eq", "dob_month"], ["eq", "dob_day"], ["absdiff_le", "dob_year", 10]],
]

# Same date, day and month swapped, or one part mistyped. Written on the date's parts, not
# on `dob` itself, so EM blocked on `dob` still trains the comparisons gated by it.
DOB_COMPATIBLE: Predicate = [
    "or",
    ["missing", "dob_year"],
    TWO_OF_THREE_DATE_PARTS,
    ["and", ["eq", "dob_year"], ["crossed", "dob_month", "dob_day"]],
]

# A household shares its surname, address, phone and sometimes an email built from a shared
# name; such agreement is only evidence of one person between compatible given names and
# dates of birth. Elsewhere it is neutral, so twins and a junior never add it up.
SAME_PERSON_POSSIBLE: Predicate = ["and", GIVEN_COMPATIBLE, DOB_COMPATIBLE]

# Policy values (fixed, not trained). EM cannot learn them on household data: twins and
# juniors look like duplicates on every other field, so EM would call them matches.
DIFFERENT_GIVEN_NAMES_M = 0.005  # staff-entered given names that share nothing
DOB_YEARS_APART_M = 1e-4  # 2-15 years apart: a mistyped year (one digit is a level above)
DOB_DECADES_APART_M = 1e-5  # juniors and parents
NEUTRAL = 1e-3  # m = u: the level says nothing either way


def _exact_by_band(column: str, noun: str) -> list[Level]:
    band = f"{column}_band"
    return [
        Level(f"Same {noun}, common", ["and", ["eq", column], ["ge", band, 2]], m=0.15, u=4e-3),
        Level(
            f"Same {noun}, fairly common",
            ["and", ["eq", column], ["ge", band, 1]],
            m=0.4,
            u=2e-3,
        ),
        Level(f"Same {noun}, rare", ["eq", column], m=0.1, u=1e-4),
    ]


def _neutral(label: str, when: Predicate) -> Level:
    return Level(label, when, m=NEUTRAL, u=NEUTRAL, fixed_m=True, fixed_u=True)


def default_comparisons() -> list[Comparison]:
    """Comparisons built so that a household's shared surname, address, phone and email
    never make two people one: date of birth and given name carry the decision.
    """
    return [
        Comparison(
            "given_name",
            "Given name: exact (by how common), nickname, typing slip, sounds alike, initial",
            [
                Level("Given name missing", ["missing", "given"], is_null=True),
                *_exact_by_band("given", "given name"),
                Level("Nickname of the same name", ["overlap", "given_groups"], m=0.15, u=3e-3),
                Level("One typing slip apart", ["dl_le", "given", 1], m=0.1, u=6e-4),
                Level(
                    "Both close to one name on the register",
                    ["overlap", "given_near"],
                    m=0.02,
                    u=5e-3,
                ),
                Level("Sounds alike", ["eq", "given_sound"], m=0.01, u=1e-3),
                Level("Initial agrees", ["initial", "given"], m=0.01, u=1e-3),
                Level(
                    "Different given names",
                    None,
                    m=DIFFERENT_GIVEN_NAMES_M,
                    u=0.98,
                    fixed_m=True,
                    conflict=True,
                ),
            ],
        ),
        Comparison(
            "family_name",
            "Family name: exact (by how common), typing slip, sounds alike or shares a part",
            [
                Level("Family name missing", ["missing", "family"], is_null=True),
                *_exact_by_band("family", "family name"),
                Level("One typing slip apart", ["dl_le", "family", 1], m=0.1, u=2e-3),
                Level(
                    "Both close to one name on the register",
                    ["overlap", "family_near"],
                    m=0.02,
                    u=3e-4,
                ),
                Level(
                    "Sounds alike or shares a part",
                    ["or", ["eq", "family_sound"], ["overlap", "family_tokens"]],
                    m=0.01,
                    u=6e-4,
                ),
                Level("Different family names", None, m=0.1, u=0.99),
            ],
        ),
        Comparison(
            "date_of_birth",
            "Date of birth: exact, day and month swapped, one part differs, years apart",
            [
                Level("Date of birth missing", ["missing", "dob"], is_null=True),
                Level("Same date of birth", ["eq", "dob"], m=0.88, u=4e-5),
                Level("Day and month swapped", ["eq_swap", "dob", "dob_swap"], m=0.05, u=1.2e-5),
                Level("Two of day, month and year agree", TWO_OF_THREE_DATE_PARTS, m=0.03, u=4e-3),
                Level("Within a year", ["absdiff_le", "dob_year", 1], m=0.01, u=0.04),
                Level(
                    "2 to 15 years apart",
                    ["absdiff_le", "dob_year", 15],
                    m=DOB_YEARS_APART_M,
                    u=0.32,
                    fixed_m=True,
                    conflict=True,
                ),
                Level(
                    "More than 15 years apart",
                    None,
                    m=DOB_DECADES_APART_M,
                    u=0.63,
                    fixed_m=True,
                    conflict=True,
                ),
            ],
        ),
        Comparison(
            "household",
            "Phone, address and postcode: evidence only between compatible names and birth dates",
            [
                Level(
                    "No phone, address or postcode to compare",
                    [
                        "and",
                        ["missing", "phone"],
                        ["missing", "address_key"],
                        ["missing", "postcode"],
                    ],
                    is_null=True,
                ),
                _neutral(
                    "Same home, different person's name or birth date",
                    [
                        "and",
                        ["or", ["eq", "phone"], ["eq", "address_key"], ["eq", "postcode"]],
                        ["not", SAME_PERSON_POSSIBLE],
                    ],
                ),
                Level(
                    "Same phone and address",
                    ["and", ["eq", "phone"], ["eq", "address_key"]],
                    m=0.5,
                    u=4e-6,
                ),
                Level("Same phone", ["eq", "phone"], m=0.2, u=2e-6),
                Level("Same address", ["eq", "address_key"], m=0.15, u=2e-6),
                Level("Same postcode", ["eq", "postcode"], m=0.02, u=1e-5),
                Level("Different phones", ["not", ["missing", "phone"]], m=0.05, u=0.73),
                Level("Different address, no phone to compare", None, m=0.08, u=0.27),
            ],
        ),
        Comparison(
            "email",
            "Email: exact or same mailbox name, evidence only between compatible people",
            [
                Level("Email missing", ["missing", "email"], is_null=True),
                _neutral(
                    "Same email, different person's name or birth date",
                    [
                        "and",
                        ["or", ["eq", "email"], ["eq", "email_local"]],
                        ["not", SAME_PERSON_POSSIBLE],
                    ],
                ),
                Level("Same email", ["eq", "email"], m=0.9, u=1e-5),
                Level("Same mailbox name", ["eq", "email_local"], m=0.02, u=1e-6),
                Level("Different emails", None, m=0.05, u=1.0),
            ],
        ),
    ]


def default_blocking_rules() -> list[BlockingRule]:
    """Candidate pairs: each rule is cheap and narrow; together they find nearly every match."""
    return [
        BlockingRule("dob+family_sound", [("dob", "dob"), ("family_sound", "family_sound")]),
        BlockingRule("dob+given_key", [("dob", "dob"), ("given_key", "given_key")]),
        BlockingRule("dob+given_sound", [("dob", "dob"), ("given_sound", "given_sound")]),
        BlockingRule(
            "dob_swap+family_sound", [("dob", "dob_swap"), ("family_sound", "family_sound")]
        ),
        BlockingRule("dob_swap+given_key", [("dob", "dob_swap"), ("given_key", "given_key")]),
        BlockingRule("email", [("email", "email")]),
        BlockingRule("phone+birth_year", [("phone", "phone"), ("dob_year", "dob_year")]),
        BlockingRule("postcode+dob", [("postcode", "postcode"), ("dob", "dob")]),
        # Lists without dates of birth still get their same-name neighbours compared.
        BlockingRule(
            "given_key+family_sound+postcode",
            [
                ("given_key", "given_key"),
                ("family_sound", "family_sound"),
                ("postcode", "postcode"),
            ],
        ),
        BlockingRule(
            "names_sound+birth_year",
            [
                ("given_sound", "given_sound"),
                ("family_sound", "family_sound"),
                ("dob_year", "dob_year"),
            ],
        ),
    ]


def default_frequencies() -> dict[str, FrequencyTable]:
    return {
        "given": FrequencyTable("given", [0.001, 0.01], nickname_groups=True),
        "family": FrequencyTable("family", [0.001, 0.01]),
    }


def splink_comparisons(comparisons: Sequence[Comparison]) -> list[dict[str, Any]]:
    """Splink comparison dicts. Every level carries the m and u we score with (before
    training: the defaults, EM's starting point), so Splink's predict and `explain_pair` agree.
    """
    out = []
    for c in comparisons:
        levels = []
        for lv in c.levels:
            level: dict[str, Any] = {
                "sql_condition": predicate_sql(lv.when),
                "label_for_charts": lv.label,
            }
            if lv.is_null:
                level["is_null_level"] = True
            else:
                m, u = lv.effective_m_u()
                level["m_probability"] = m
                level["u_probability"] = u
                level["fix_m_probability"] = lv.fixed_m
                level["fix_u_probability"] = lv.fixed_u
            levels.append(level)
        out.append({"output_column_name": c.name, "comparison_levels": levels})
    return out
