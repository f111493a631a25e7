"""Score given record pairs with a LinkageModel in DuckDB, without Splink's blocking.

Clustering uses it to look at every pair inside a proposed cluster, not only the pairs
blocking happened to propose; the SQL is the same the Splink settings carry.
"""

from __future__ import annotations

import os

import duckdb
import polars as pl

from civicloop.linkage.model import Comparison, LinkageModel, predicate_sql

# DuckDB would otherwise take 80% of the machine's memory; linking shares it with the app.
DEFAULT_MEMORY_LIMIT = "2GB"


def connect(
    *, threads: int | None = None, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with bounded threads and memory."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 1)}")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET memory_limit = '{memory_limit or DEFAULT_MEMORY_LIMIT}'")
    return con


def gamma_sql(comparison: Comparison) -> str:
    whens = []
    else_gamma = 0
    for level in comparison.levels:
        if level.when is None:
            else_gamma = level.gamma
            continue
        whens.append(f"WHEN {predicate_sql(level.when)} THEN {level.gamma}")
    return f"CASE {' '.join(whens)} ELSE {else_gamma} END"


def weight_sql(comparison: Comparison, gamma_column: str) -> str:
    whens = " ".join(
        f"WHEN {level.gamma} THEN CAST({level.weight!r} AS DOUBLE)" for level in comparison.levels
    )
    return f"CASE {gamma_column} {whens} END"


def score_pairs(
    std: pl.DataFrame,
    pairs: pl.DataFrame,
    model: LinkageModel,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pl.DataFrame:
    """gamma_<name> per comparison, match_weight and match_probability for each pair.

    `std` is standardised and banded; `pairs` has record_id_l and record_id_r.
    """
    own = con is None
    con = con or connect()
    try:
        columns = [c for c in model.input_columns() if c in std.columns]
        con.register("__std", std.select(["record_id", *columns]).to_arrow())
        con.register("__pairs", pairs.select(["record_id_l", "record_id_r"]).to_arrow())
        sides = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in columns)
        gammas = ", ".join(f"{gamma_sql(c)} AS gamma_{c.name}" for c in model.comparisons)
        weights = " + ".join(weight_sql(c, f"gamma_{c.name}") for c in model.comparisons)
        sql = f"""
            WITH joined AS (
                SELECT p.record_id_l, p.record_id_r, {sides}
                FROM __pairs p
                JOIN __std l ON l.record_id = p.record_id_l
                JOIN __std r ON r.record_id = p.record_id_r
            ), levelled AS (
                SELECT record_id_l, record_id_r, {gammas} FROM joined
            )
            SELECT *, {model.prior_weight!r} + {weights} AS match_weight FROM levelled
        """
        frame = pl.from_arrow(con.sql(sql).to_arrow_table())
    finally:
        con.unregister("__std")
        con.unregister("__pairs")
        if own:
            con.close()
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(
        (1.0 / (1.0 + (2.0 ** (-pl.col("match_weight").clip(-60, 60))))).alias("match_probability")
    )
