"""Benchmark: Open311 `POST requests` sustained through a real HTTP server, on SQLite and PostgreSQL.

For each database: a fresh scratch database with the demo city (its gazetteer, services and
their questions, people in the real-time match index), gunicorn serving civicloop.wsgi, and
16 clients each sending reports back to back on a keep-alive connection for a fixed time
(closed loop), with the rate limits raised for the run. Reports mix the ways clients locate
them (a point, a gazetteer address id, a typed address) and half give a name and an email,
so reporter matching runs. Measured: requests/s answered 200 after a warm-up, p50 and p95
latency, and — for context, in the same run — how fast one process creates the same case
and audit rows through the ORM alone, and through report_submit without HTTP.

Targets on PostgreSQL: at least 100 requests/s with p95 at most 250 ms.

Reproduce:
    .venv/bin/python bench/open311_intake.py --seconds 30 --clients 16 \
        --database-url postgres://postgres@127.0.0.1:5432/civicloop_open311_bench --write-docs
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from _open_loop import percentile  # noqa: E402
from people_scale import Server, admin_url, ensure_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/civicloop_open311_bench"
DOCS_HEADING = "## Open311 intake: POST requests over HTTP (`bench/open311_intake.py`)"
PATH = "/open311/v2/requests.json"
UNLIMITED = {
    scope: "100000000/minute"
    for scope in ("default", "open311.read", "open311.write", "open311.client")
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--database-url", default=DEFAULT_URL, help="PostgreSQL scratch database")
    p.add_argument("--seconds", type=float, default=30.0, help="measured seconds per database")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds left out at the start")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients")
    p.add_argument("--people", type=int, default=2000, help="demo city size")
    p.add_argument("--server", default="2x8", help="gunicorn WORKERSxTHREADS")
    p.add_argument("--orm-seconds", type=float, default=5.0, help="seconds of the in-process runs")
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--skip-postgres", action="store_true")
    p.add_argument(
        "--write-docs", action="store_true", help="write the section in docs/benchmarks.md"
    )
    p.add_argument("--internal", choices=("prepare", "orm", "count"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --- inside a Django process (`--internal`), against the database of the environment -----------


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.settings")
    import django

    django.setup()


def internal_prepare(args) -> dict:
    """Addresses, points and services the clients will report against, and an api key."""
    _django()
    from civicloop.catalogue.models import Service
    from civicloop.core.access import Viewer
    from civicloop.intake.keys import open311_client_create
    from civicloop.places.models import Address

    _client, key = open311_client_create(viewer=Viewer.system("bench"), name="bench")
    addresses = list(
        Address.objects.exclude(area=None)
        .order_by("?")
        .values("uprn", "line1", "line2", "latitude", "longitude")[:2000]
    )
    services = []
    for service in Service.objects.filter(
        place_based=True, public=True, sensitive=False, active=True
    ).prefetch_related("attributes"):
        answers = {}
        for a in service.attributes.all():
            if not (a.required and a.variable):
                continue
            if a.is_list:
                answers[a.code] = a.value_keys()[0]
            elif a.datatype == "number":
                answers[a.code] = "3"
            elif a.datatype == "datetime":
                answers[a.code] = "2026-12-01T10:00:00+00:00"
            else:
                answers[a.code] = "The corner shop"
        services.append({"code": service.code, "answers": answers})
    return {"key": key, "addresses": addresses, "services": services}


def _orm_case_rows(service, address, n: int):
    """The rows report_submit writes for a plain report, through the ORM alone."""
    from django.db import transaction

    from civicloop.cases.models import Case, CaseEvent
    from civicloop.cases.services import new_reference
    from civicloop.core import clock
    from civicloop.core.access import Viewer
    from civicloop.intake.models import ReportOrigin
    from civicloop.trust.audit import audit_record

    viewer = Viewer.system("bench")
    now = clock.now()
    with transaction.atomic():
        case = Case.objects.create(
            reference=new_reference(),
            service=service,
            department_id=service.department_id,
            description=f"Bench report {n}",
            status="new",
            channel="open311",
            opened_at=now,
            updated_at=now,
            latitude=address.latitude,
            longitude=address.longitude,
            address=address,
            area_id=address.area_id,
            reporter_email="bench@example.org",
            tracking_token_hash=f"{n:064d}",
        )
        CaseEvent.objects.create(case=case, kind="opened", at=now, to_status="new")
        ReportOrigin.objects.create(case=case, device_id="bench")
        audit_record(viewer=viewer, action="case.open", object_type="case", object_ids=[case.id])


def internal_orm(args) -> dict:
    """Cases per second in one process: ORM rows alone, then report_submit (no HTTP)."""
    _django()
    from civicloop.catalogue.models import Service
    from civicloop.intake.services import report_submit
    from civicloop.places.models import Address

    services = list(Service.objects.filter(place_based=True, public=True, sensitive=False))
    addresses = list(Address.objects.exclude(area=None)[:500])
    rnd = random.Random(7)
    out = {}
    started, n = time.perf_counter(), 0
    while time.perf_counter() - started < args.orm_seconds:
        _orm_case_rows(rnd.choice(services), rnd.choice(addresses), n)
        n += 1
    out["orm_rows_per_s"] = n / (time.perf_counter() - started)
    plan = json.loads(Path(os.environ["BENCH_PLAN_FILE"]).read_text())
    started, n = time.perf_counter(), 0
    while time.perf_counter() - started < args.orm_seconds:
        fields = report_fields(plan, rnd)
        report_submit(report=report_in(fields), channel="open311")
        n += 1
    out["report_submit_per_s"] = n / (time.perf_counter() - started)
    return out


def internal_count(args) -> dict:
    _django()
    from civicloop.cases.models import Case

    return {"open311_cases": Case.objects.filter(channel="open311").count()}


# --- the reports ---------------------------------------------------------------------------------


def report_fields(plan: dict, rnd: random.Random) -> dict[str, str]:
    """One report's form: 60 % a point near an address, 25 % an address id, 15 % typed text;
    half with a name and an email."""
    service = rnd.choice(plan["services"])
    address = rnd.choice(plan["addresses"])
    fields = {"api_key": plan["key"], "service_code": service["code"]}
    fields.update({f"attribute[{k}]": v for k, v in service["answers"].items()})
    roll = rnd.random()
    if roll < 0.60:
        fields["lat"] = f"{address['latitude'] + rnd.uniform(-0.0002, 0.0002):.6f}"
        fields["long"] = f"{address['longitude'] + rnd.uniform(-0.0002, 0.0002):.6f}"
    elif roll < 0.85:
        fields["address_id"] = address["uprn"]
    else:
        fields["address_string"] = ", ".join(p for p in (address["line1"], address["line2"]) if p)
    fields["description"] = rnd.choice(
        (
            "Deep pothole outside, cars swerving.",
            "Light out for a week, very dark.",
            "Bags dumped by the bins again.",
            "Graffiti on the wall by the bus stop.",
        )
    )
    if rnd.random() < 0.5:
        n = rnd.randrange(10_000_000)
        fields.update(first_name="Sam", last_name=f"Bench{n}", email=f"sam.{n}@example.org")
    return fields


def report_in(fields: dict[str, str]):
    from civicloop.intake.services import ReportIn

    answers = {k[10:-1]: v for k, v in fields.items() if k.startswith("attribute[")}
    return ReportIn(
        service_code=fields["service_code"],
        description=fields.get("description", ""),
        latitude=float(fields["lat"]) if "lat" in fields else None,
        longitude=float(fields["long"]) if "long" in fields else None,
        address_id=fields.get("address_id", ""),
        address_string=fields.get("address_string", ""),
        attributes=answers,
        first_name=fields.get("first_name", ""),
        last_name=fields.get("last_name", ""),
        email=fields.get("email", ""),
    )


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Sample:
    sent: float
    seconds: float
    status: int
    body: bytes = b""


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    measured_seconds: float = 0.0


def closed_loop(
    port: int, plan: dict, *, clients: int, seconds: float, warmup: float
) -> LoadResult:
    """`clients` threads, each sending the next report as soon as the last was answered."""
    start = time.perf_counter()
    measure_from, end = start + warmup, start + warmup + seconds
    result = LoadResult()
    lock = threading.Lock()

    def client(index: int) -> None:
        rnd = random.Random(1000 + index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while (now := time.perf_counter()) < end:
            body = urllib.parse.urlencode(report_fields(plan, rnd))
            try:
                conn.request(
                    "POST",
                    PATH,
                    body=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                data, status = str(error).encode(), 0
            done = time.perf_counter()
            if now >= measure_from:
                mine.append(Sample(now, done - now, status, data if status != 200 else b""))
        conn.close()
        with lock:
            result.samples.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + warmup + 60)
    if result.samples:
        result.measured_seconds = max(s.sent + s.seconds for s in result.samples) - measure_from
    return result


# --- one database --------------------------------------------------------------------------------


def run_internal(step: str, env: dict, args, extra_env: dict | None = None) -> dict:
    argv = [sys.executable, __file__, "--internal", step, "--orm-seconds", str(args.orm_seconds)]
    done = subprocess.run(
        argv,
        env={**env, **(extra_env or {})},
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def civicloop(env: dict, *argv: str) -> None:
    exe = str(Path(sys.executable).with_name("civicloop"))
    done = subprocess.run([exe, *argv], env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"civicloop {' '.join(argv)} failed:\n{done.stderr[-3000:]}")


def bench_database(label: str, env: dict, args) -> dict:
    print(f"[{label}] loading the demo city ({args.people:,} people)...", flush=True)
    t0 = time.perf_counter()
    civicloop(env, "migrate", "--noinput", "-v", "0")
    civicloop(env, "demo", "--people", str(args.people), "--seed", "7", "--months", "3", "-v", "0")
    civicloop(env, "match_index", "rebuild")
    plan = run_internal("prepare", env, args)
    print(f"[{label}] loaded in {time.perf_counter() - t0:.0f} s", flush=True)
    workers, threads = (int(x) for x in args.server.split("x"))
    log_dir = Path(tempfile.mkdtemp(prefix="civicloop-open311-bench-"))
    server = Server(
        workers, threads, {**env, "CIVICLOOP_LOG_LEVEL": "ERROR"}, log_dir, "civicloop.wsgi"
    )
    server.start()
    try:
        server.wait_ready("/open311/v2/services.json", {})
        before = run_internal("count", env, args)["open311_cases"]
        print(f"[{label}] {args.clients} clients for {args.seconds:.0f} s...", flush=True)
        load_before = os.getloadavg()[0]
        load = closed_loop(
            server.port, plan, clients=args.clients, seconds=args.seconds, warmup=args.warmup
        )
    finally:
        server.stop()
    load_after = os.getloadavg()[0]
    after = run_internal("count", env, args)["open311_cases"]
    ok = [s for s in load.samples if s.status == 200]
    failed = [s for s in load.samples if s.status != 200]
    latencies = sorted(s.seconds for s in ok)
    print(f"[{label}] in-process rates...", flush=True)
    print(
        f"[{label}] {len(ok) / load.measured_seconds if load.measured_seconds else 0:.0f} "
        f"requests/s, p95 {percentile(latencies, 95) * 1000:.0f} ms, {len(failed)} errors",
        flush=True,
    )
    plan_file = log_dir / "plan.json"
    plan_file.write_text(json.dumps(plan))
    rates = run_internal("orm", env, args, {"BENCH_PLAN_FILE": str(plan_file)})
    return {
        "label": label,
        "requests": len(load.samples),
        "ok": len(ok),
        "failed": len(failed),
        "failures": sorted({(s.status, s.body[:200].decode(errors="replace")) for s in failed})[:5],
        "throughput": len(ok) / load.measured_seconds if load.measured_seconds else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "cases_written": after - before,
        "server": args.server,
        "load": (load_before, load_after),
        **rates,
    }


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    admin, name = admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.internal:
        step = {"prepare": internal_prepare, "orm": internal_orm, "count": internal_count}
        print(json.dumps(step[args.internal](args)))
        return 0
    _, name = admin_url(args.database_url)
    if name in ("civicloop_bench",):
        raise SystemExit("refusing civicloop_bench: choose another scratch database")
    base_env = {
        **os.environ,
        "CIVICLOOP_RATE_LIMITS": json.dumps(UNLIMITED),
        "DJANGO_SETTINGS_MODULE": "civicloop.settings",
    }
    base_env.pop("DATABASE_URL", None)
    results = []
    if not args.skip_sqlite:
        var = Path(tempfile.mkdtemp(prefix="civicloop-open311-sqlite-"))
        results.append(bench_database("SQLite", {**base_env, "CIVICLOOP_VAR_DIR": str(var)}, args))
    if not args.skip_postgres:
        ensure_database(args.database_url, recreate=True)
        try:
            results.append(
                bench_database("PostgreSQL", {**base_env, "DATABASE_URL": args.database_url}, args)
            )
        finally:
            drop_database(args.database_url)
    command = ".venv/bin/python bench/open311_intake.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    body = report(results, command, args)
    print(body)
    if args.write_docs:
        write_docs(REPO / "docs" / "benchmarks.md", body)
    return 0


def report(results: list[dict], command: str, args) -> str:
    lines = [
        f"Command: `{command.strip()}`",
        "",
        f"Machine: 2 cores, Python {platform.python_version()}, client and server on the same "
        f"machine; gunicorn {args.server.replace('x', ' workers × ')} threads (gthread); demo city "
        f"of {args.people:,} people; rate limits raised for the run. Run on {dt.date.today()}.",
        "",
        "| database | requests/s (200) | p50 | p95 | p99 | errors | cases written | ORM rows alone, 1 process | report_submit, 1 process |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['label']} | {r['throughput']:.0f} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms "
            f"| {r['p99_ms']:.0f} ms | {r['failed']} | {r['cases_written']:,} "
            f"| {r['orm_rows_per_s']:.0f} cases/s | {r['report_submit_per_s']:.0f} reports/s |"
        )
    lines.append("")
    lines.append(
        "Machine load (1-minute average, before and after each run, other engineers' work "
        "included): "
        + "; ".join(f"{r['label']} {r['load'][0]:.1f} → {r['load'][1]:.1f}" for r in results)
        + "."
    )
    for r in results:
        for status, body in r["failures"]:
            lines.append(f"\n{r['label']}: status {status}: `{body}`")
    return "\n".join(lines)


def write_docs(path: Path, body: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md (or append it); the rest untouched."""
    section = f"{DOCS_HEADING}\n\n{body.rstrip()}\n"
    text = path.read_text()
    start = text.find(DOCS_HEADING)
    if start == -1:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(DOCS_HEADING))
        text = text[:start] + section + (text[end:] if end != -1 else "")
    path.write_text(text)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(main())
