"""Real-time matching at intake: latency against a large index, and agreement with batch linking.

The population is bench/linkage.py's (same generator, error rates and seed; its files are
reused when present). Batch linking's clusters are the golden people; every source record
is filed in a SQLite index under the model's blocking keys (linkage.realtime), the same
rows the CRM keeps in MatchKey. Then sampled source records arrive "new": each is matched
with its own row hidden, and we time the whole call (key lookup, loading the candidates'
records, standardising and scoring them) and compare its decision with the batch's:
batch merged the record into a golden person (cluster of 2+) or left it alone.

    .venv/bin/python bench/realtime_matching.py --records 1000000 --queries 5000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import polars as pl

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent / "src"))

from _linkage_data import generate  # noqa: E402

from civicloop.linkage.model import LinkageModel  # noqa: E402
from civicloop.linkage.realtime import SEPARATOR, match_record  # noqa: E402

RAW = ["given_name", "family_name", "date_of_birth", "email", "phone", "postcode", "address"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/civicloop-bench-linkage"))
    parser.add_argument("--index", type=Path, default=None, help="SQLite file (default: workdir)")
    parser.add_argument(
        "--reuse-index",
        action="store_true",
        help="query the index file an earlier run built (same records and seed) instead of rebuilding it",
    )
    parser.add_argument("--docs", action="store_true", help="write docs/benchmarks.md section")
    return parser.parse_args()


def batch_result(csv_path: Path, run_dir: Path) -> tuple[LinkageModel, pl.DataFrame, float | None]:
    """The trained model and clusters of batch linking (bench/linkage.py's, else made here)."""
    model_path, clusters_path = run_dir / "model.json", run_dir / "clusters.parquet"
    if model_path.exists() and clusters_path.exists():
        return (
            LinkageModel.from_json(model_path.read_text()),
            pl.read_parquet(clusters_path),
            None,
        )
    from civicloop.linkage import engine
    from civicloop.linkage.files import read_table

    started = time.perf_counter()
    std = engine.standardise(read_table(csv_path).rename({"department": "source"}))
    model = engine.train(std)
    pairs = engine.predict(std, model, threshold_probability=model.review_threshold)
    result = engine.cluster(
        std,
        pairs,
        merge_threshold=model.merge_threshold,
        review_threshold=model.review_threshold,
        model=model,
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    model_path.write_text(model.to_json(indent=1))
    result.clusters.write_parquet(clusters_path)
    return model, result.clusters, time.perf_counter() - started


def key_frame(std: pl.DataFrame, model: LinkageModel) -> pl.DataFrame:
    """(kind, value, row) for every record: linkage.realtime.stored_keys, vectorised."""
    parts = []
    for rule in model.blocking_rules:
        sides = [("", [a for a, _ in rule.equal])]
        if any(a != b for a, b in rule.equal):
            sides = [(":l", [a for a, _ in rule.equal]), (":r", [b for _, b in rule.equal])]
        for suffix, columns in sides:
            value = pl.concat_str([pl.col(c).cast(pl.String) for c in columns], separator=SEPARATOR)
            parts.append(
                std.select(
                    pl.lit(rule.name + suffix).alias("kind"),
                    value.alias("value"),
                    pl.col("row"),
                ).drop_nulls("value")
            )
    return pl.concat(parts).unique()


def numbered(frame: pl.DataFrame, clusters: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Each record's row number and golden person id (batch clusters, numbered in order)."""
    frame = frame.join(clusters.select("record_id", "cluster_id"), on="record_id", how="left")
    person_ids = {c: i for i, c in enumerate(frame.get_column("cluster_id").unique().sort(), 1)}
    frame = frame.with_columns(
        pl.col("cluster_id").replace_strict(person_ids, return_dtype=pl.Int64).alias("person"),
        pl.int_range(1, frame.height + 1).alias("row"),
    )
    return frame, len(person_ids)


def build_index(
    path: Path, frame: pl.DataFrame, clusters: pl.DataFrame, model, *, reuse: bool = False
) -> tuple[dict, pl.DataFrame]:
    """The SQLite index: record(row, person, raw fields) and match_key(kind, value, person)."""
    from civicloop.linkage.engine import standardise

    started = time.perf_counter()
    frame, people = numbered(frame, clusters)
    if reuse and path.exists():
        con = sqlite3.connect(path)
        (keys_count,) = con.execute("SELECT COUNT(*) FROM match_key").fetchone()
        con.close()
        return {
            "seconds": None,
            "people": people,
            "records": frame.height,
            "keys": keys_count,
            "bytes": path.stat().st_size,
        }, frame.select("row", "person", "record_id", "cluster_id")
    if path.exists():
        path.unlink()
    std = standardise(frame.select("record_id", *RAW)).with_columns(frame.get_column("row"))
    # A person is filed once under each of their keys, however many records give it.
    keys = (
        key_frame(std, model)
        .join(frame.select("row", "person"), on="row")
        .select("kind", "value", "person")
        .unique()
    )
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.execute(
        "CREATE TABLE record (row INTEGER PRIMARY KEY, person INTEGER NOT NULL, record_id TEXT,"
        + ", ".join(f"{c} TEXT" for c in RAW)
        + ")"
    )
    con.execute("CREATE TABLE match_key (kind TEXT NOT NULL, value TEXT NOT NULL, person INTEGER)")
    con.executemany(
        f"INSERT INTO record VALUES ({', '.join('?' * (3 + len(RAW)))})",
        frame.select("row", "person", "record_id", *RAW)
        .with_columns(pl.col(RAW).cast(pl.String))
        .iter_rows(),
    )
    con.executemany(
        "INSERT INTO match_key VALUES (?, ?, ?)",
        keys.iter_rows(),
    )
    con.execute("CREATE INDEX match_key_lookup ON match_key (kind, value)")
    con.execute("CREATE INDEX record_person ON record (person)")
    con.commit()
    con.close()
    return {
        "seconds": time.perf_counter() - started,
        "people": people,
        "records": frame.height,
        "keys": keys.height,
        "bytes": path.stat().st_size,
    }, frame.select("row", "person", "record_id", "cluster_id")


class SqliteIndex:
    """linkage.realtime.CandidateIndex over the benchmark's file; one row may be hidden."""

    def __init__(self, path: Path):
        self.con = sqlite3.connect(path, check_same_thread=False)
        self.hidden: int | None = None

    def lookup(self, keys):
        keys = list(keys)
        if not keys:
            return {}
        where = " OR ".join("(kind = ? AND value = ?)" for _ in keys)
        hits: dict = {}
        params = [x for key in keys for x in key]
        for kind, value, person in self.con.execute(
            f"SELECT kind, value, person FROM match_key WHERE {where}", params
        ):
            hits.setdefault((kind, value), []).append(person)
        return hits

    def records(self, person_ids):
        ids = list(person_ids)
        out: dict = {}
        rows = self.con.execute(
            f"SELECT row, person, {', '.join(RAW)} FROM record "
            f"WHERE person IN ({', '.join('?' * len(ids))})",
            ids,
        )
        for row, person, *values in rows:
            if row == self.hidden:
                continue
            out.setdefault(person, []).append(dict(zip(RAW, values, strict=True)))
        return out

    def record(self, row: int) -> dict:
        values = self.con.execute(
            f"SELECT {', '.join(RAW)} FROM record WHERE row = ?", (row,)
        ).fetchone()
        return dict(zip(RAW, values, strict=True))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    args = parse_args()
    command = " ".join([".venv/bin/python", *sys.argv])
    csv_path, _truth, meta = generate(args.records, args.seed, args.workdir)
    run_dir = args.workdir / f"run-engine-{args.records}-seed{args.seed}"
    model, clusters, batch_seconds = batch_result(csv_path, run_dir)
    frame = pl.read_csv(csv_path, infer_schema=False)
    index_path = (
        args.index or args.workdir / f"realtime-index-{args.records}-seed{args.seed}.sqlite3"
    )
    built, rows = build_index(index_path, frame, clusters, model, reuse=args.reuse_index)
    took = "reused" if built["seconds"] is None else f"built in {built['seconds']:.0f} s"
    print(
        f"index: {built['people']:,} golden people, {built['records']:,} records, "
        f"{built['keys']:,} keys, {built['bytes'] / 1e6:.0f} MB, {took}",
        flush=True,
    )

    sizes = clusters.group_by("cluster_id").len("size")
    status = clusters.join(sizes, on="cluster_id").select("record_id", "status", "size")
    rows = rows.join(status, on="record_id")
    picks = random.Random(args.seed).sample(range(rows.height), args.queries)
    sample = rows[picks]
    index = SqliteIndex(index_path)
    latencies: list[float] = []
    agree = matched = 0
    disagreements: list[str] = []
    for row, person, record_id, _cluster, state, size in sample.iter_rows():
        record = index.record(row)
        index.hidden = row
        started = time.perf_counter()
        found = match_record(model, record, index, top=5)
        latencies.append((time.perf_counter() - started) * 1000)
        realtime = found[0].person_id if found and found[0].is_match else None
        batch = person if state == "merged" and size > 1 else None
        matched += batch is not None
        if realtime == batch:
            agree += 1
        elif len(disagreements) < 10:
            disagreements.append(record_id)
    figures = {
        "records": built["records"],
        "people": built["people"],
        "keys": built["keys"],
        "index_mb": round(built["bytes"] / 1e6),
        "index_seconds": None if built["seconds"] is None else round(built["seconds"], 1),
        "batch_seconds": None if batch_seconds is None else round(batch_seconds, 1),
        "queries": args.queries,
        "queries_matched_in_batch": matched,
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "agreement": round(agree / args.queries, 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cpus": os.cpu_count(),
        "error_rates": meta.get("error_rates") if isinstance(meta, dict) else None,
    }
    print(json.dumps(figures, indent=1))
    print("disagreeing records (first 10):", ", ".join(disagreements))
    print("command:", command)


if __name__ == "__main__":
    main()
