"""The comparison point: Splink with a generic configuration, as its tutorials set one up.

Library comparisons on each field (names with term-frequency adjustment, date of birth,
email, phone, postcode, address), blocking on each field's common keys, u by random
sampling, m by EM, prior from a deterministic rule, clusters by connected components at
0.95. Light cleaning only (case, spaces, phone digits). Same child contract as the
CivicLoop run: reads the CSV, writes clusters.parquet and timings.json.
"""

from __future__ import annotations

import json
import logging
import time


def child_baseline(args) -> None:
    import polars as pl
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    stages: dict[str, float] = {}
    started = time.perf_counter()
    t = started

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        stages[name] = round(now - t, 2)
        t = now

    frame = pl.read_csv(args.input, infer_schema=False)
    lap("read")
    text = [
        pl.col(c).str.strip_chars().str.to_lowercase().replace("", None).alias(c)
        for c in ("given_name", "family_name", "email", "address", "postcode")
    ]
    frame = frame.select(
        pl.col("record_id"),
        *text,
        pl.col("date_of_birth").replace("", None),
        pl.col("phone").str.replace_all(r"\D", "").str.slice(-10).replace("", None).alias("phone"),
    )
    lap("clean")

    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {int(args.threads)}")
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    db_api = DuckDBAPI(connection=con)
    table = db_api.register(frame.to_arrow(), dataset_display_name="records")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("family_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("postcode"),
            cl.LevenshteinAtThresholds("address", 2),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "family_name"),
            block_on("date_of_birth"),
            block_on("email"),
            block_on("phone"),
            block_on("postcode", "given_name"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(table, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "family_name", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "family_name")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    lap("train")
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    lap("predict")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.95
    )
    result = pl.from_arrow(clusters.as_pyarrow_table()).select(
        pl.col("record_id").cast(pl.String()),
        pl.col("cluster_id").cast(pl.String()),
    )
    sizes = result.group_by("cluster_id").len()
    result = result.join(sizes, on="cluster_id").select(
        "record_id",
        "cluster_id",
        pl.when(pl.col("len") > 1)
        .then(pl.lit("merged"))
        .otherwise(pl.lit("singleton"))
        .alias("status"),
    )
    lap("cluster")
    result.write_parquet(args.output / "clusters.parquet")
    lap("write")
    (args.output / "timings.json").write_text(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - started, 1),
                "stages": stages,
                "pairs_scored": con.sql(
                    f"SELECT count(*) FROM {predictions.physical_name}"
                ).fetchall()[0][0],
                "records": frame.height,
            },
            indent=1,
        )
    )
