"""Source records of the demo city written to a CSV (what a department would hand over) and
the truth (which person, which household) to a separate Parquet file the linker never reads.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict
from pathlib import Path

import polars as pl

from civicloop.demo.generator import DemoCity, DemoConfig, ErrorRates

DEMO_NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
# Source records per person in the demo city (people without any record included).
RECORDS_PER_PERSON = 1.16


def error_rates() -> ErrorRates:
    """The error rates of the benchmark population: the demo's, fixed before any tuning."""
    return ErrorRates()


def generate(records: int, seed: int, workdir: Path) -> tuple[Path, Path, dict]:
    """Write `records` source records (or reuse the files of an earlier run); return paths."""
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = workdir / f"records-{records}-seed{seed}.csv"
    truth_path = workdir / f"truth-{records}-seed{seed}.parquet"
    meta_path = workdir / f"meta-{records}-seed{seed}.json"
    if csv_path.exists() and truth_path.exists() and meta_path.exists():
        return csv_path, truth_path, pl.read_json(meta_path).to_dicts()[0]

    started = time.perf_counter()
    people = int(records / RECORDS_PER_PERSON * 1.05) + 100
    city = DemoCity(
        DemoConfig(
            now=DEMO_NOW,
            seed=seed,
            people=people,
            contacts_per_person=0.0,
            error_rates=error_rates(),
        )
    )
    columns: dict[str, list] = {
        name: []
        for name in (
            "record_id",
            "department",
            "given_name",
            "family_name",
            "date_of_birth",
            "email",
            "phone",
            "address",
            "postcode",
        )
    }
    truth: dict[str, list] = {"record_id": [], "person_ref": [], "household_ref": [], "errors": []}
    count = 0
    for household in city.households():
        for row in household.source_records:
            if count >= records:
                break
            count += 1
            columns["record_id"].append(row.local_id)
            columns["department"].append(row.department)
            columns["given_name"].append(row.given_name)
            columns["family_name"].append(row.family_name)
            columns["date_of_birth"].append(
                row.date_of_birth.isoformat() if row.date_of_birth else ""
            )
            columns["email"].append(row.email)
            columns["phone"].append(row.phone)
            columns["address"].append(row.address_text)
            columns["postcode"].append(row.postcode)
            truth["record_id"].append(row.local_id)
            truth["person_ref"].append(row.person_ref)
            truth["household_ref"].append(household.ref)
            truth["errors"].append(",".join(row.attributes.get("demo_errors", [])))
        if count >= records:
            break
    pl.DataFrame(columns).write_csv(csv_path)
    pl.DataFrame(truth).write_parquet(truth_path)
    meta = {
        "records": count,
        "seed": seed,
        "people_configured": people,
        "generated_seconds": round(time.perf_counter() - started, 1),
        **{f"rate_{k}": v for k, v in asdict(error_rates()).items()},
    }
    pl.DataFrame([meta]).write_json(meta_path)
    return csv_path, truth_path, meta
