"""Identity resolution engine: standardise, train, predict, explain, cluster. No Django.

Takes records as a pyarrow.Table or polars.DataFrame with `record_id` and any of
given_name, family_name, date_of_birth, email, phone, postcode, address (+ `source`),
and returns Polars frames. Training and batch prediction run on Splink with DuckDB;
`explain_pair` scores one pair in pure Python from the same `LinkageModel`, so the
real-time matcher and the review page agree with the batch.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal

import duckdb
import polars as pl
import pyarrow as pa

from civicloop.linkage.clustering import ClusterResult, cluster_pairs
from civicloop.linkage.model import (
    BlockingRule,
    Comparison,
    FrequencyTable,
    LinkageModel,
    PairExplanation,
    default_blocking_rules,
    default_comparisons,
    default_frequencies,
    splink_comparisons,
)
from civicloop.linkage.scoring import connect
from civicloop.linkage.standardise import (
    is_standardised,
    standardise,
    standardise_record,
)

__all__ = [
    "ClusterResult",
    "LinkageModel",
    "PairExplanation",
    "cluster",
    "dedupe",
    "explain_pair",
    "link_files",
    "predict",
    "standardise",
    "train",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

# EM sessions: each blocks on some fields and so trains the comparisons it does not use.
# The first also gives the prior: the share of its pairs that match, scaled back up by how
# often matches share a date of birth. The second, on a shared phone, is mostly households:
# it teaches the date of birth what separates a person from their family.
_EM_SESSIONS = (
    ("l.dob = r.dob", "dob"),
    ("l.phone = r.phone", "phone"),
)


# How many random pairs a level's default u counts for (see _trained_levels).
_U_PRIOR_PAIRS = 1e5


@contextlib.contextmanager
def _splink_quiet():
    """Splink prints some notices; they would break a progress display."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _pairs_sharing(std: pl.DataFrame, column: str) -> int:
    counts = std.get_column(column).drop_nulls().value_counts(name="n").get_column("n")
    return int((counts * (counts - 1) // 2).sum())


def _quiet(progress: Progress | None) -> Progress:
    return progress or (lambda _message: None)


def _standardised(records: pa.Table | pl.DataFrame) -> pl.DataFrame:
    frame = pl.from_arrow(records) if isinstance(records, pa.Table) else records
    if not isinstance(frame, pl.DataFrame):
        raise TypeError("records must be a pyarrow.Table or polars.DataFrame")
    if is_standardised(frame):
        return frame
    return standardise(frame)


def _frequencies(std: pl.DataFrame, templates: Mapping[str, FrequencyTable]) -> dict:
    tables = {}
    for name, template in templates.items():
        values = std.get_column(template.column).drop_nulls()
        total = values.len()
        shares: dict[str, float] = {}
        if total:
            counts = values.value_counts(name="n")
            kept = counts.filter(
                (pl.col("n") / total >= template.min_share) & (pl.col("n") >= template.min_count)
            )
            shares = {
                v: n / total
                for v, n in zip(
                    kept.get_column(template.column).to_list(),
                    kept.get_column("n").to_list(),
                    strict=True,
                )
            }
        tables[name] = FrequencyTable(
            template.column,
            list(template.cuts),
            shares,
            total,
            min_share=template.min_share,
            min_count=template.min_count,
            nickname_groups=template.nickname_groups,
        )
    return tables


def _with_bands(std: pl.DataFrame, model: LinkageModel) -> pl.DataFrame:
    """`std` with the model's <column>_band and <column>_near (see FrequencyTable)."""
    out = std
    for table in model.frequencies.values():
        band, near = f"{table.column}_band", f"{table.column}_near"
        values = out.get_column(table.column).unique().drop_nulls().to_list()
        lookup = pl.DataFrame(
            {
                table.column: values,
                band: [table.band(v) for v in values],
                near: [table.near(v) for v in values],
            },
            schema={table.column: pl.String(), band: pl.Int32(), near: pl.List(pl.String())},
        )
        out = out.drop(band, near, strict=False).join(
            lookup, on=table.column, how="left", maintain_order="left"
        )
    return out


def _connection(threads: int | None, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
    return connect(threads=threads, memory_limit=memory_limit)


def _splink_table(std: pl.DataFrame, model: LinkageModel) -> pa.Table:
    wanted = ["record_id", *model.input_columns()]
    present = [c for c in dict.fromkeys(wanted) if c in std.columns]
    return std.select(present).to_arrow()


def _linker(
    tables: list[pa.Table],
    model: LinkageModel,
    *,
    link_type: Literal["dedupe_only", "link_only"],
    con: duckdb.DuckDBPyConnection,
    max_iterations: int = 25,
):
    from splink import DuckDBAPI, Linker, SettingsCreator
    from splink.blocking_rule_library import CustomRule

    logging.getLogger("splink").setLevel(logging.ERROR)
    db_api = DuckDBAPI(connection=con)
    registered = [
        db_api.register(table, dataset_display_name=f"records_{i}")
        for i, table in enumerate(tables)
    ]
    settings = SettingsCreator(
        link_type=link_type,
        comparisons=list(splink_comparisons(model.comparisons)),
        blocking_rules_to_generate_predictions=[CustomRule(r.sql()) for r in model.blocking_rules],
        probability_two_random_records_match=model.probability_two_random_records_match,
        unique_id_column_name="record_id",
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        max_iterations=max_iterations,
        em_convergence=1e-4,
    )
    return Linker(registered if len(registered) > 1 else registered[0], settings, log_level=None)


def _trained_levels(linker, model: LinkageModel, *, u_pairs_seen: float) -> None:
    """Copy Splink's trained m and u into our model's levels.

    u is blended with the level's default as if the default had been seen on
    `_U_PRIOR_PAIRS` pairs: a register of a few hundred records cannot show how rare a
    shared phone is, a million-record one outweighs the default twenty to one.
    """
    settings = linker.misc.save_model_to_json()
    by_name = {c["output_column_name"]: c for c in settings["comparisons"]}
    for comparison in model.comparisons:
        trained = by_name[comparison.name]["comparison_levels"]
        for level, values in zip(comparison.levels, trained, strict=True):
            if level.is_null:
                continue
            m = values.get("m_probability")
            u = values.get("u_probability")
            # A level training never saw keeps its default.
            if not level.fixed_m and isinstance(m, float | int):
                level.m = float(m)
            if not level.fixed_u and isinstance(u, float | int):
                prior = level.u if level.u is not None else float(u)
                level.u = (float(u) * u_pairs_seen + prior * _U_PRIOR_PAIRS) / (
                    u_pairs_seen + _U_PRIOR_PAIRS
                )


def _apply_confirmed_pairs(
    model: LinkageModel,
    std: pl.DataFrame,
    confirmed_pairs: Any,
    *,
    pseudo_count: float,
) -> dict[str, Any]:
    """Blend m with the levels staff-confirmed matches fall into (EM's m as the prior)."""
    pairs = (
        pl.from_arrow(confirmed_pairs) if isinstance(confirmed_pairs, pa.Table) else confirmed_pairs
    )
    if not isinstance(pairs, pl.DataFrame):
        pairs = pl.DataFrame(
            list(confirmed_pairs), schema=["record_id_l", "record_id_r", "is_match"], orient="row"
        )
    matches = pairs.filter(pl.col("is_match").cast(pl.Boolean))
    wanted = pl.concat([matches.get_column("record_id_l"), matches.get_column("record_id_r")]).cast(
        pl.String()
    )
    subset = std.join(pl.DataFrame({"record_id": wanted}).unique(), on="record_id", how="semi")
    rows = {r["record_id"]: r for r in _with_bands(subset, model).to_dicts()}
    used = 0
    counts: dict[str, dict[int, int]] = {c.name: {} for c in model.comparisons}
    for left_id, right_id in zip(
        matches.get_column("record_id_l").cast(pl.String()).to_list(),
        matches.get_column("record_id_r").cast(pl.String()).to_list(),
        strict=True,
    ):
        left, right = rows.get(left_id), rows.get(right_id)
        if left is None or right is None:
            continue
        used += 1
        for comparison in model.comparisons:
            level = comparison.level_of(left, right)
            if not level.is_null:
                counts[comparison.name][level.gamma] = (
                    counts[comparison.name].get(level.gamma, 0) + 1
                )
    if not used:
        return {"confirmed_matches_used": 0}
    for comparison in model.comparisons:
        observed = counts[comparison.name]
        n = sum(observed.values())
        if not n:
            continue
        for level in comparison.levels:
            if level.is_null or (level.fixed_m and level.fixed_u):
                continue
            prior_m = level.m or 0.0
            level.m = (observed.get(level.gamma, 0) + pseudo_count * prior_m) / (n + pseudo_count)
    return {
        "confirmed_matches_used": used,
        "confirmed_non_matches": pairs.height - matches.height,
    }


def _prior_from_dob_session(std: pl.DataFrame, model: LinkageModel, share_in_block: float) -> float:
    """Probability that two random records match, from EM on pairs with the same birth date.

    matches = (share of same-birth-date pairs that match) x (same-birth-date pairs)
              / P(same birth date | match) / P(both birth dates known | match)
    """
    n = std.height
    dobs = std.get_column("dob").drop_nulls()
    if n < 2 or dobs.len() < 2:
        return 1e-6
    counts = dobs.value_counts(name="n").get_column("n")
    block_pairs = float((counts * (counts - 1) / 2).sum())
    exact = [
        level.m
        for comparison in model.comparisons
        for level in comparison.levels
        if level.when == ["eq", "dob"] and level.m
    ]
    m_exact = exact[0] if exact else 0.9
    known = dobs.len() / n
    matches = share_in_block * block_pairs / m_exact / (known * known)
    total = n * (n - 1) / 2
    return min(max(matches / total, 1e-12), 0.5)


def train(
    records: pa.Table | pl.DataFrame,
    *,
    confirmed_pairs: Any = None,
    seed: int = 42,
    comparisons: list[Comparison] | None = None,
    blocking_rules: list[BlockingRule] | None = None,
    u_pairs: float | None = None,
    em_pairs: float = 2e6,
    max_iterations: int = 25,
    confirmed_weight: float = 200.0,
    min_em_pairs: int = 100,
    threads: int | None = None,
    memory_limit: str | None = None,
    progress: Progress | None = None,
) -> LinkageModel:
    """A model trained on `records`: u by random sampling, m by EM, no labels needed.

    u: Splink's random sampling over `u_pairs` pairs, blended with each level's default.
    m: Splink's EM on pairs sharing a birth date, then on pairs sharing a phone; levels a
    session cannot see keep their defaults, and the policy levels (given names that share
    nothing, birth dates years apart) keep their fixed m. The prior comes from the first
    session (see _prior_from_dob_session). `confirmed_pairs` (record_id_l, record_id_r,
    is_match) from staff, when given, pull each comparison's m towards the levels confirmed
    matches fall in, with the trained m counting as `confirmed_weight` pseudo-pairs.
    """
    say = _quiet(progress)
    std = _standardised(records)
    if u_pairs is None:
        # Enough random pairs to see the common levels; more buys little past two million.
        u_pairs = float(min(2_000_000, max(100_000, 100 * std.height)))
    model = LinkageModel(
        comparisons=comparisons or default_comparisons(),
        blocking_rules=blocking_rules or default_blocking_rules(),
        frequencies=default_frequencies(),
    )
    model.frequencies = _frequencies(std, model.frequencies)
    banded = _with_bands(std, model)
    notes: dict[str, Any] = {"records": std.height, "seed": seed, "u_pairs": u_pairs}
    sessions: dict[str, float] = {}
    con = _connection(threads, memory_limit)
    try:
        linker = _linker(
            [_splink_table(banded, model)],
            model,
            link_type="dedupe_only",
            con=con,
            max_iterations=max_iterations,
        )
        if std.height >= 2:
            say("estimating u by random sampling")
            with _splink_quiet():
                linker.training.estimate_u_using_random_sampling(
                    max_pairs=u_pairs, seed=seed, min_count_per_level=None, num_chunks=1
                )
        for i, (rule, column) in enumerate(_EM_SESSIONS):
            blocked = _pairs_sharing(std, column)
            if blocked < min_em_pairs:
                notes.setdefault("em_skipped", []).append(f"{rule} ({blocked} pairs)")
                continue
            say(f"estimating m by expectation maximisation ({i + 1}/{len(_EM_SESSIONS)})")
            with _splink_quiet():
                session = linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, max_pairs=em_pairs
                )
            sessions[column] = session.core_model_settings.probability_two_random_records_match
        n = std.height
        _trained_levels(linker, model, u_pairs_seen=min(u_pairs, n * (n - 1) / 2))
    finally:
        con.close()
    if "dob" in sessions:
        prior = _prior_from_dob_session(std, model, sessions["dob"])
    else:
        # No EM on birth dates to go by: assume about one duplicate for every two records.
        prior = 0.5 / max(std.height - 1, 1)
    model.probability_two_random_records_match = prior
    notes |= {
        "em_pairs": em_pairs,
        "em_sessions": [rule for rule, column in _EM_SESSIONS if column in sessions],
        "match_share_in_em_blocks": sessions,
    }
    if confirmed_pairs is not None:
        notes |= _apply_confirmed_pairs(model, std, confirmed_pairs, pseudo_count=confirmed_weight)
    model.training = notes
    return model


def _output_columns(model: LinkageModel, linking: bool) -> list[str]:
    columns = ["record_id_l", "record_id_r"]
    if linking:
        columns += ["source_dataset_l", "source_dataset_r"]
    columns += ["match_weight", "match_probability"]
    columns += [f"gamma_{c.name}" for c in model.comparisons]
    for c in model.comparisons:
        columns += [f"mw_{c.name}", f"bf_{c.name}"]
    return columns


def _output_sql(table: str, model: LinkageModel, linking: bool) -> str:
    """Only the columns we return, so the matching columns Splink keeps never leave DuckDB."""
    columns = [
        "CAST(record_id_l AS VARCHAR) AS record_id_l",
        "CAST(record_id_r AS VARCHAR) AS record_id_r",
    ]
    if linking:
        columns += ["source_dataset_l", "source_dataset_r"]
    columns += ["match_weight", "match_probability"]
    columns += [f"CAST(gamma_{c.name} AS TINYINT) AS gamma_{c.name}" for c in model.comparisons]
    columns += [f"mw_{c.name}" for c in model.comparisons]
    return f"SELECT {', '.join(columns)} FROM {table}"


def predict(
    records: pa.Table | pl.DataFrame,
    model: LinkageModel,
    *,
    threshold_probability: float | None = 0.01,
    other: pa.Table | pl.DataFrame | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> pl.DataFrame:
    """Scored candidate pairs at or above `threshold_probability`.

    Columns: record_id_l, record_id_r, match_weight, match_probability, then per comparison
    gamma_<name> (Splink's level number: -1 null, 0 the catch-all) and its contribution as
    mw_<name> (log2) and bf_<name> (the Bayes factor 2**mw). With `other`, links the two
    tables instead (record ids then need not be unique across them; see source_dataset_*).
    """
    tables = [_splink_table(_with_bands(_standardised(records), model), model)]
    if other is not None:
        tables.append(_splink_table(_with_bands(_standardised(other), model), model))
    con = _connection(threads, memory_limit)
    try:
        linker = _linker(
            tables,
            model,
            link_type="dedupe_only" if other is None else "link_only",
            con=con,
        )
        with _splink_quiet():
            result = linker.inference.predict(
                threshold_match_probability=threshold_probability, warning_mode="never"
            )
        frame = pl.from_arrow(
            con.sql(_output_sql(result.physical_name, model, other is not None)).to_arrow_table()
        )
    finally:
        con.close()
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(
        [(2.0 ** pl.col(f"mw_{c.name}")).alias(f"bf_{c.name}") for c in model.comparisons]
    ).select(_output_columns(model, other is not None))


def explain_pair(
    model: LinkageModel, record_a: Mapping[str, Any], record_b: Mapping[str, Any]
) -> PairExplanation:
    """Why two records do (or do not) look like one person; pure Python, no Splink.

    Records are raw dicts (given_name, family_name, date_of_birth, ...) or already
    standardised ones; the result agrees with `predict` for the same pair.
    """
    left = record_a if "given_groups" in record_a else standardise_record(record_a)
    right = record_b if "given_groups" in record_b else standardise_record(record_b)
    return model.explain_standardised(model.enrich(left), model.enrich(right))


def _pairs_frame(pairs: Any) -> pl.DataFrame:
    if isinstance(pairs, pa.Table):
        pairs = pl.from_arrow(pairs)
    if not isinstance(pairs, pl.DataFrame):
        raise TypeError("pairs must be a pyarrow.Table or polars.DataFrame")
    return pairs


def _decisions(confirmed_pairs: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    if confirmed_pairs is None:
        return [], []
    frame = (
        pl.DataFrame(
            list(confirmed_pairs), schema=["record_id_l", "record_id_r", "is_match"], orient="row"
        )
        if not isinstance(confirmed_pairs, pl.DataFrame | pa.Table)
        else _pairs_frame(confirmed_pairs)
    )
    must: list[tuple[str, str]] = []
    cannot: list[tuple[str, str]] = []
    for a, b, is_match in frame.select("record_id_l", "record_id_r", "is_match").iter_rows():
        (must if is_match else cannot).append((str(a), str(b)))
    return must, cannot


def cluster(
    records: pa.Table | pl.DataFrame,
    pairs: pa.Table | pl.DataFrame,
    *,
    merge_threshold: float,
    review_threshold: float,
    max_cluster_size: int = 20,
    min_cohesion: float = 0.5,
    model: LinkageModel | None = None,
    confirmed_pairs: Any = None,
) -> ClusterResult:
    """Clusters of `records` from scored `pairs` (see civicloop.linkage.clustering).

    `clusters` has record_id, cluster_id (the smallest record id of the cluster) and status:
    'merged', 'singleton', or 'review' (a proposed cluster that failed its checks, left
    unmerged). `review_pairs` lists pairs in the uncertain band and the links of failed or
    split clusters, with a `reason`. `model` (required: the one the pairs were predicted
    with) scores the pairs inside each cluster for conflicts and cohesion. `confirmed_pairs`
    (record_id_l, record_id_r, is_match) from staff are kept: confirmed matches always join,
    rejected ones never end up merged together.
    """
    if model is None:
        raise ValueError("cluster needs the model the pairs were predicted with")
    std = _with_bands(_standardised(records), model)
    must, cannot = _decisions(confirmed_pairs)
    return cluster_pairs(
        std,
        _pairs_frame(pairs),
        model,
        merge_threshold=merge_threshold,
        review_threshold=review_threshold,
        max_cluster_size=max_cluster_size,
        min_cohesion=min_cohesion,
        must_link=must,
        cannot_link=cannot,
    )


def _record_probabilities(result: ClusterResult, pairs: pl.DataFrame) -> pl.DataFrame:
    """Each record's strongest link inside its cluster (or, unmerged, its strongest link)."""
    ends = pl.concat(
        [
            pairs.select(
                pl.col("record_id_l").alias("record_id"),
                pl.col("record_id_r").alias("other"),
                "match_probability",
            ),
            pairs.select(
                pl.col("record_id_r").alias("record_id"),
                pl.col("record_id_l").alias("other"),
                "match_probability",
            ),
        ]
    )
    clusters = result.clusters
    joined = ends.join(clusters, on="record_id").join(
        clusters.select(
            pl.col("record_id").alias("other"), pl.col("cluster_id").alias("other_cluster")
        ),
        on="other",
    )
    inside = (
        joined.filter(
            (pl.col("status") != "merged") | (pl.col("cluster_id") == pl.col("other_cluster"))
        )
        .group_by("record_id")
        .agg(pl.col("match_probability").max())
    )
    return clusters.join(inside, on="record_id", how="left", maintain_order="left").select(
        "record_id", "cluster_id", "match_probability", "status"
    )


def dedupe(
    records: pa.Table | pl.DataFrame,
    *,
    model: LinkageModel | None = None,
    merge_threshold: float | None = None,
    review_threshold: float | None = None,
    max_cluster_size: int = 20,
    min_cohesion: float = 0.5,
    confirmed_pairs: Any = None,
    seed: int = 42,
    threads: int | None = None,
    memory_limit: str | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """One row per record: record_id, cluster_id, match_probability, status.

    Trains a model on the records themselves unless one is given. Records in a cluster
    sent to review keep their proposed cluster_id with status 'review' and count as not
    merged.
    """
    say = _quiet(progress)
    std = _standardised(records)
    if model is None:
        model = train(
            std,
            confirmed_pairs=confirmed_pairs,
            seed=seed,
            threads=threads,
            memory_limit=memory_limit,
            progress=progress,
        )
    merge = model.merge_threshold if merge_threshold is None else merge_threshold
    review = model.review_threshold if review_threshold is None else review_threshold
    say("scoring candidate pairs")
    pairs = predict(
        std, model, threshold_probability=review, threads=threads, memory_limit=memory_limit
    )
    say("clustering")
    result = cluster(
        std,
        pairs,
        merge_threshold=merge,
        review_threshold=review,
        max_cluster_size=max_cluster_size,
        min_cohesion=min_cohesion,
        model=model,
        confirmed_pairs=confirmed_pairs,
    )
    return _record_probabilities(result, pairs)


def link_files(
    a: pa.Table | pl.DataFrame,
    b: pa.Table | pl.DataFrame,
    *,
    model: LinkageModel | None = None,
    merge_threshold: float | None = None,
    review_threshold: float | None = None,
    max_cluster_size: int = 20,
    min_cohesion: float = 0.5,
    seed: int = 42,
    threads: int | None = None,
    memory_limit: str | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Link two tables: one row per record of either, with source 'a' or 'b'.

    Columns: source, record_id, cluster_id, match_probability, status. Only pairs across
    the tables are scored; a cluster_id is '<source>:<record_id>' of its smallest member.
    """
    say = _quiet(progress)
    std_a = _standardised(a)
    std_b = _standardised(b)
    both = pl.concat(
        [
            std_a.with_columns(pl.concat_str(pl.lit("a:"), "record_id").alias("record_id")),
            std_b.with_columns(pl.concat_str(pl.lit("b:"), "record_id").alias("record_id")),
        ]
    )
    if model is None:
        model = train(
            both, seed=seed, threads=threads, memory_limit=memory_limit, progress=progress
        )
    merge = model.merge_threshold if merge_threshold is None else merge_threshold
    review = model.review_threshold if review_threshold is None else review_threshold
    say("scoring candidate pairs")
    pairs = predict(
        both.filter(pl.col("record_id").str.starts_with("a:")),
        model,
        other=both.filter(pl.col("record_id").str.starts_with("b:")),
        threshold_probability=review,
        threads=threads,
        memory_limit=memory_limit,
    )
    say("clustering")
    result = cluster(
        both,
        pairs,
        merge_threshold=merge,
        review_threshold=review,
        max_cluster_size=max_cluster_size,
        min_cohesion=min_cohesion,
        model=model,
    )
    out = _record_probabilities(result, pairs)
    return out.select(
        pl.col("record_id").str.slice(0, 1).alias("source"),
        pl.col("record_id").str.slice(2).alias("record_id"),
        "cluster_id",
        "match_probability",
        "status",
    )


def count_candidate_pairs(
    records: pa.Table | pl.DataFrame,
    model: LinkageModel,
    *,
    sample: float = 1.0,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Pairs each blocking rule adds (after the rules before it), counted by Splink."""
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    table = _splink_table(_with_bands(_standardised(records), model), model)
    con = _connection(threads, None)
    try:
        db_api = DuckDBAPI(connection=con)
        registered = db_api.register(table, dataset_display_name="records")
        counts = count_comparisons_from_blocking_rules(
            registered,
            blocking_rules=[r.sql() for r in model.blocking_rules],
            link_type="dedupe_only",
            unique_id_column_name="record_id",
            record_sample_proportion=sample,
        )
    finally:
        con.close()
    return [
        {
            "rule": rule.name,
            "added": int(c["marginal_comparison_count"]),
            "cumulative": int(c["cumulative_comparison_count"]),
        }
        for rule, c in zip(model.blocking_rules, counts, strict=True)
    ]
