"""Benchmark: person search and the 360° view over a city of a million people, through real HTTP.

Loads the demo city (civicloop.demo.generator, streamed) into a scratch PostgreSQL
database with COPY — people, households, departments' records and links, needs,
cases with their histories, and contacts skewed per person (Pareto: most a few,
some hundreds) — then starts gunicorn serving civicloop.wsgi and offers an
open-loop load at a constant rate: half person searches by name (common and rare
surnames, with and without a given name, some misspelt), half 360° views with the
first timeline page, as one caseworker of two departments with a personal access
token. Latency is measured from each request's scheduled send time; the warm-up
is left out. Results go to docs/benchmarks.md.

Reproduce (full scale; about half an hour to load on 2 cores):
    .venv/bin/python bench/people_scale.py \
        --database-url postgres://postgres@127.0.0.1:5432/civicloop_bench \
        --people 1000000 --contacts 10000000 --rate 50 --duration 120 --warmup 20
Again on the loaded database: add --skip-load. Quick run: the defaults (20,000 people).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/civicloop_bench"
PROTECTED_DATABASES = {"postgres", "test", "test_test", "template0", "template1"}
BENCH_USERNAME = "bench.caseworker"
DOCS_HEADING = "## People at scale: search and the 360° view over HTTP (bench/people_scale.py)"
SEED = 42
# Demo time is fixed so that a database loaded once and a later --skip-load run agree.
DEMO_NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--database-url", default=DEFAULT_URL, help="scratch database; created if missing"
    )
    p.add_argument("--people", type=int, default=20_000)
    p.add_argument(
        "--contacts",
        type=int,
        default=None,
        help="target number of contacts (default 10 per person)",
    )
    p.add_argument(
        "--contacts-per-person",
        type=float,
        default=None,
        help="the generator's Pareto mean; default: calibrated to hit --contacts",
    )
    p.add_argument(
        "--contact-skew", type=float, default=1.3, help="Pareto shape of contacts per person"
    )
    p.add_argument("--chunk-people", type=int, default=20_000, help="people per load transaction")
    p.add_argument(
        "--keep-indexes",
        action="store_true",
        help="load with every index and foreign key in place (default: drop secondary indexes and "
        "foreign keys of the loaded tables, build them after the data, as pg_restore does)",
    )
    p.add_argument("--skip-load", action="store_true", help="reuse the loaded database")
    p.add_argument(
        "--load-only", action="store_true", help="load, then stop before the HTTP benchmark"
    )
    p.add_argument(
        "--reload", action="store_true", help="drop and recreate the database, then load"
    )
    p.add_argument(
        "--departments",
        default="housing,social-care",
        help="the bench caseworker's departments (codes)",
    )
    p.add_argument("--rate", type=float, default=50.0, help="offered requests per second")
    p.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=10.0, help="seconds of load before measuring")
    p.add_argument(
        "--servers",
        default="2x4",
        help="gunicorn settings to try, WORKERSxTHREADS, comma separated (e.g. 2x4,3x2,4x4)",
    )
    p.add_argument(
        "--wsgi-app",
        default="civicloop.wsgi",
        help="the WSGI application gunicorn serves (to measure a proposed change; on PYTHONPATH)",
    )
    p.add_argument(
        "--concurrency", type=int, default=64, help="client connections (never the bottleneck)"
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="on a shared machine, wait up to this long before each run for other processes to use "
        "less than --quiet-cores",
    )
    p.add_argument("--quiet-cores", type=float, default=0.3)
    p.add_argument(
        "--attempts",
        type=int,
        default=1,
        help="run each server setting up to this many times while other processes used more than "
        "--max-other-cores during the run; report the least disturbed run",
    )
    p.add_argument("--max-other-cores", type=float, default=0.4)
    p.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    p.add_argument(
        "--heavy-share",
        type=float,
        default=0.1,
        help="share of 360° views of people with at least --heavy-contacts contacts",
    )
    p.add_argument("--heavy-contacts", type=int, default=200)
    p.add_argument("--docs", default=str(REPO / "docs" / "benchmarks.md"))
    p.add_argument(
        "--no-docs", action="store_true", help="print only; do not write docs/benchmarks.md"
    )
    p.add_argument(
        "--notes", help="a Markdown file appended to the section (profile, proposed changes)"
    )
    args = p.parse_args()
    if args.contacts is None:
        args.contacts = args.people * 10
    if args.rate <= 0 or args.duration <= 0 or args.warmup < 0:
        p.error("--rate and --duration must be positive, --warmup not negative")
    return args


# --- the database ---------------------------------------------------------------------------------


def admin_url(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("--database-url must name a database")
    if name in PROTECTED_DATABASES:
        raise SystemExit(
            f"refusing to use the database {name!r}: choose a scratch database such as civicloop_bench"
        )
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), name


def ensure_database(url: str, *, recreate: bool) -> bool:
    """Create the database if missing (or drop it first with `recreate`); True if it was created."""
    admin, name = admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )
        if exists and recreate:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = False
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return not exists


def database_note(url: str, note: dict | None = None) -> dict:
    """Load figures kept as the database's comment, so a --skip-load run can report them."""
    _, name = admin_url(url)
    with psycopg.connect(url, autocommit=True) as conn:
        if note is not None:
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(name), sql.Literal(json.dumps(note))
                )
            )
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    try:
        return json.loads(row[0]) if row and row[0] else {}
    except ValueError:
        return {}


# --- loading --------------------------------------------------------------------------------------


def progress_bar():
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )


def sample_contacts(cpp: float, people: int, skew: float) -> float:
    """Contacts per person the generator yields for `cpp` (the Pareto mean), on a prefix of the city."""
    from civicloop.demo.generator import DemoCity, DemoConfig

    city = DemoCity(
        DemoConfig(
            now=DEMO_NOW, seed=SEED, people=people, contacts_per_person=cpp, contact_skew=skew
        )
    )
    n = sum(len(b.interactions) for b in city.households())
    return n / people


def calibrate(target_per_person: float, skew: float, people: int) -> float:
    """The Pareto mean that gives `target_per_person` contacts: secant steps on a sample of the city."""
    sample = min(people, 20_000)
    a, b = 4.0, 12.0
    fa, fb = sample_contacts(a, sample, skew), sample_contacts(b, sample, skew)
    for _ in range(2):
        if abs(fb - fa) < 1e-9:
            break
        c = max(0.5, b + (target_per_person - fb) * (b - a) / (fb - fa))
        a, fa, b, fb = b, fb, c, sample_contacts(c, sample, skew)
    return b


def load(args, console) -> dict:
    from _bulk_pg import (
        PEOPLE_TABLES,
        BulkLoader,
        create_deferred,
        db_table,
        deferrable,
        drop_deferred,
    )
    from django.db import connection

    from civicloop.demo.generator import DemoCity, DemoConfig
    from civicloop.people.models import Person

    if Person.objects.exists():
        raise SystemExit(
            "The database already holds people: use --skip-load to reuse it, or --reload to start again."
        )
    cpp = args.contacts_per_person
    t = time.perf_counter()
    if cpp is None:
        with console.status("Calibrating contacts per person on a sample of the city…"):
            cpp = calibrate(args.contacts / args.people, args.contact_skew, args.people)
    calibrate_s = time.perf_counter() - t
    console.print(
        f"Generator: {args.people:,} people, Pareto mean {cpp:.2f} contacts per person "
        f"(shape {args.contact_skew}), target {args.contacts:,} contacts; calibrated in {calibrate_s:.1f} s"
    )
    city = DemoCity(
        DemoConfig(
            now=DEMO_NOW,
            seed=SEED,
            people=args.people,
            contacts_per_person=cpp,
            contact_skew=args.contact_skew,
        )
    )
    tables = [db_table(n) for n in PEOPLE_TABLES] + [db_table("address")]
    deferred = [] if args.keep_indexes else deferrable(tables)
    started = time.perf_counter()
    phases = {}
    with progress_bar() as progress:
        tasks = {
            "places": progress.add_task("Addresses", total=city.gazetteer.size),
            "people": progress.add_task("People and their data", total=args.people),
        }
        if deferred:
            tasks["indexes"] = progress.add_task("Indexes, foreign keys", total=len(deferred))
            drop_deferred(deferred)

        def advance(phase: str, n: int) -> None:
            progress.advance(tasks[phase], n)

        loader = BulkLoader(city, chunk_people=args.chunk_people, advance=advance)
        try:
            result = loader.load()
        except BaseException:
            if deferred:
                connection.close()  # the writer's error may have left a transaction open
                create_deferred(deferred)
            raise
        phases.update(result.phase_seconds)
        if deferred:
            t = time.perf_counter()
            create_deferred(deferred, advance)
            phases["indexes and foreign keys"] = time.perf_counter() - t
    t = time.perf_counter()
    with console.status("VACUUM ANALYZE…"), connection.cursor() as cur:
        for table in tables:
            cur.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    phases["vacuum analyze"] = time.perf_counter() - t
    total = time.perf_counter() - started
    note = {
        "loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "people": args.people,
        "contacts_target": args.contacts,
        "contacts_per_person": round(cpp, 3),
        "contact_skew": args.contact_skew,
        "seed": SEED,
        "deferred_indexes": bool(deferred),
        "deferred": {
            "indexes": sum(d.kind == "index" for d in deferred),
            "foreign keys": sum(d.kind == "foreign key" for d in deferred),
        },
        "chunk_people": args.chunk_people,
        "load_seconds": round(total, 1),
        "phase_seconds": {k: round(v, 1) for k, v in phases.items()},
        "audit_events": result.audit_events,
        "rows": dict(result.counts),
    }
    console.print(
        f"Loaded in {total:,.0f} s: " + ", ".join(f"{k} {v:,.0f} s" for k, v in phases.items())
    )
    return note


# --- the caseworker, the population sample --------------------------------------------------------


def bench_token(departments: list[str]) -> tuple[str, frozenset[int]]:
    """A caseworker in `departments` (created once) and a fresh personal access token."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from civicloop.catalogue.models import Department
    from civicloop.staff.models import StaffMember
    from civicloop.staff.tokens import token_issue

    depts = list(Department.objects.filter(code__in=departments))
    if len(depts) != len(departments):
        raise SystemExit(
            f"unknown departments in {departments}: have {list(Department.objects.values_list('code', flat=True))}"
        )
    with transaction.atomic():
        user, _ = get_user_model().objects.get_or_create(
            username=BENCH_USERNAME, defaults={"is_active": True}
        )
        staff, _ = StaffMember.objects.update_or_create(
            user=user,
            defaults={"role": "caseworker", "display_name": "Bench Caseworker", "active": True},
        )
        staff.departments.set(depts)
    _, raw = token_issue(
        staff=staff, name=f"people_scale {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S}"
    )
    return raw, frozenset(d.id for d in depts)


@dataclass
class Population:
    people: int
    visible: int
    common: list[str]  # most frequent surnames among the visible
    rare: list[str]
    names: dict[str, list[tuple[str, str]]]  # class -> (given, family) of visible people
    view_ids: list[int]
    heavy_ids: list[int]
    surname_counts: dict[str, int]
    heavy_people: int


def sample_population(dept_ids: frozenset[int], heavy_contacts: int) -> Population:
    from django.db import connection

    rnd = random.Random(SEED)
    depts = sorted(dept_ids)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0) FROM people_person"
        )
        people, lo, hi = cur.fetchone()
        cur.execute(
            "SELECT count(DISTINCT person_id) FROM people_persondepartment WHERE department_id = ANY(%s)",
            [depts],
        )
        visible = cur.fetchone()[0]
        cur.execute(
            "SELECT p.family_key, count(*) FROM people_person p WHERE EXISTS (SELECT 1 FROM people_persondepartment d "
            "WHERE d.person_id = p.id AND d.department_id = ANY(%s)) GROUP BY 1 ORDER BY 2 DESC, 1",
            [depts],
        )
        counts = dict(cur.fetchall())
        keys = list(counts)
        common = keys[:10]
        rare = keys[len(keys) // 2 :]
        names: dict[str, list[tuple[str, str]]] = {}
        for cls, fam_keys in (("common", common), ("rare", rare)):
            cur.execute(
                "SELECT p.given_name, p.family_name FROM people_person p WHERE p.family_key = ANY(%s) AND EXISTS "
                "(SELECT 1 FROM people_persondepartment d WHERE d.person_id = p.id AND d.department_id = ANY(%s)) "
                "ORDER BY md5(p.id::text) LIMIT 3000",
                [fam_keys, depts],
            )
            names[cls] = cur.fetchall()
        ids = sorted({rnd.randint(lo, hi) for _ in range(30_000)})
        cur.execute(
            "SELECT DISTINCT person_id FROM people_persondepartment WHERE department_id = ANY(%s) "
            "AND person_id = ANY(%s)",
            [depts, ids],
        )
        view_ids = sorted(r[0] for r in cur.fetchall())
        cur.execute(
            "SELECT i.person_id FROM cases_interaction i WHERE i.person_id IS NOT NULL GROUP BY i.person_id "
            "HAVING count(*) >= %s",
            [heavy_contacts],
        )
        heavy_all = [r[0] for r in cur.fetchall()]
        cur.execute(
            "SELECT DISTINCT person_id FROM people_persondepartment WHERE department_id = ANY(%s) "
            "AND person_id = ANY(%s)",
            [depts, heavy_all],
        )
        heavy_ids = sorted(r[0] for r in cur.fetchall())
    return Population(
        people=people,
        visible=visible,
        common=common,
        rare=rare,
        names=names,
        view_ids=view_ids,
        heavy_ids=heavy_ids,
        surname_counts=counts,
        heavy_people=len(heavy_all),
    )


def search_terms(pop: Population, n: int, rnd: random.Random) -> list[tuple[str, str]]:
    """(label, name): common or rare surname, alone or with a given name, one in seven misspelt."""
    from civicloop.demo.noise import typo

    terms = []
    for _ in range(n):
        cls = "common" if rnd.random() < 0.5 else "rare"
        given, family = rnd.choice(pop.names[cls])
        with_given = rnd.random() < 0.5
        misspelt = rnd.random() < 1 / 7
        if misspelt:
            family = typo(rnd, family)
        name = f"{given} {family}" if with_given else family
        label = f"{cls} {'full' if with_given else 'surname'}{' typo' if misspelt else ''}"
        terms.append((label, name))
    return terms


def build_plan(pop: Population, args, rnd: random.Random):
    from _open_loop import Planned

    total = int(round(args.rate * (args.warmup + args.duration)))
    kinds = ["search", "view"] * (total // 2) + (["search"] if total % 2 else [])
    rnd.shuffle(kinds)
    terms = iter(search_terms(pop, kinds.count("search"), rnd))
    plan, labels = [], {}
    for i, kind in enumerate(kinds):
        offset = i / args.rate
        if kind == "search":
            label, name = next(terms)
            path = "/api/v1/people?" + urllib.parse.urlencode({"name": name})
        else:
            heavy = pop.heavy_ids and rnd.random() < args.heavy_share
            person = rnd.choice(pop.heavy_ids if heavy else pop.view_ids)
            label = "heavy" if heavy else "random"
            path = f"/api/v1/people/{person}"
        plan.append(
            Planned(index=i, kind=kind, path=path, offset=offset, measured=offset >= args.warmup)
        )
        labels[i] = label
    return plan, labels


# --- the server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving civicloop.wsgi in its own process group; always stopped by `stop`."""

    def __init__(self, workers: int, threads: int, env: dict[str, str], log_dir: Path, app: str):
        self.workers, self.threads, self.app = workers, threads, app
        self.port = free_port()
        self.env = env
        self.log = log_dir / f"gunicorn-{workers}x{threads}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--worker-class",
            "gthread",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--no-control-socket",
            "--error-logfile",
            str(self.log),
        ]
        self.process = subprocess.Popen(
            argv,
            env=self.env,
            cwd=REPO,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self, path: str, headers: dict[str, str], deadline_s: float = 60.0) -> None:
        import http.client

        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}; see {self.log}"
                )
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path, headers=headers)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
                raise RuntimeError(f"readiness check {path} answered {status}")
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {deadline_s:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_pgid: int, db_name: str) -> dict[str, float]:
    """CPU seconds so far: the whole machine's busy time, and per process (keyed "group:pid"): this
    client, the server's process group, PostgreSQL processes (of the bench database or not), others."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    snap = {
        "machine busy": (sum(values) - values[3] - values[4]) / CLOCK_TICKS,
        "machine total": sum(values) / CLOCK_TICKS,
    }
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            pgrp, seconds = int(fields[2]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            if int(entry.name) == me:
                key = "client"
            elif pgrp == server_pgid:
                key = "gunicorn"
            elif comm == "postgres":
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
                key = (
                    "postgres (bench db)" if f" {db_name} " in f"{cmdline} " else "postgres (other)"
                )
            else:
                key = "other processes"
        except (OSError, ValueError, IndexError):
            continue
        snap[f"{key}:{entry.name}"] = seconds
    return snap


class CpuSampler(threading.Thread):
    """Snapshots every second, so processes that exit during the run (PostgreSQL backends of
    connections Django recycles) keep the CPU time they had used."""

    def __init__(self, server_pgid: int, db_name: str):
        super().__init__(daemon=True)
        self.args = (server_pgid, db_name)
        self.first = cpu_snapshot(*self.args)
        self.seen = dict(self.first)
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(1.0):
            self.seen.update(cpu_snapshot(*self.args))

    def finish(self) -> dict[str, float]:
        self.stop_event.set()
        self.join(timeout=5)
        self.seen.update(cpu_snapshot(*self.args))
        return cpu_shares(self.first, self.seen)


def cpu_shares(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Average cores used over the interval, by who used them ("other" is everything left)."""
    wall_cores = after["machine total"] - before["machine total"]
    cores = os.cpu_count() or 1
    interval = wall_cores / cores
    used: dict[str, float] = {}
    for key, seconds in after.items():
        if ":" not in key:
            continue
        group = key.split(":")[0]
        used[group] = used.get(group, 0.0) + seconds - before.get(key, 0.0)
    busy = after["machine busy"] - before["machine busy"]
    shares = {k: v / interval for k, v in sorted(used.items())}
    shares.setdefault("other processes", 0.0)
    # Kernel work, and processes too short-lived to be sampled (PostgreSQL's parallel workers).
    shares["unattributed"] = max(0.0, (busy - sum(used.values())) / interval)
    shares["machine"] = busy / interval
    return shares


# --- measuring and reporting -------------------------------------------------------------------------


@dataclass
class KindStats:
    kind: str
    n: int
    errors: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float
    service_p95: float = float("nan")  # from the actual send, so without time queued in the client


def summarise(outcomes, kind: str, label_of=None, label: str | None = None) -> KindStats:
    from _open_loop import percentile

    rows = [
        o
        for o in outcomes
        if o.planned.measured
        and o.planned.kind == kind
        and (label is None or label_of(o.planned.index).startswith(label))
    ]
    ok = sorted(o.latency * 1000 for o in rows if o.status == 200)
    errors = sum(1 for o in rows if o.status != 200)
    service = sorted(o.service * 1000 for o in rows if o.status == 200)
    return KindStats(
        kind=kind if label is None else f"{kind}: {label}",
        n=len(rows),
        errors=errors,
        p50=percentile(ok, 50),
        p95=percentile(ok, 95),
        p99=percentile(ok, 99),
        max=ok[-1] if ok else float("nan"),
        mean=sum(ok) / len(ok) if ok else float("nan"),
        service_p95=percentile(service, 95),
    )


def wait_for_quiet(args, console) -> float:
    """Wait (bounded) until other processes use under --quiet-cores over 10 s; their use over the last window."""
    deadline = time.monotonic() + args.wait_quiet
    db_name = admin_url(args.database_url)[1]
    while True:
        before = cpu_snapshot(-1, db_name)
        time.sleep(10)
        shares = cpu_shares(before, cpu_snapshot(-1, db_name))
        others = (
            shares["other processes"] + shares.get("postgres (other)", 0.0) + shares["unattributed"]
        )
        if others < args.quiet_cores or time.monotonic() >= deadline:
            return others
        console.print(f"  waiting for a quieter machine: other processes use {others:.2f} cores")


def run_server(config: str, args, env, log_dir, headers, plan, smoke, console) -> dict:
    from _open_loop import run_open_loop

    workers, threads = (int(x) for x in config.lower().split("x"))
    server = Server(workers, threads, env, log_dir, args.wsgi_app)
    try:
        server.start()
        server.wait_ready(smoke[0], headers)
        for path in smoke:
            import http.client

            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            if response.status != 200:
                raise RuntimeError(f"smoke check {path} answered {response.status}: {body[:300]!r}")
        if args.wait_quiet > 0:
            wait_for_quiet(args, console)
        console.print(
            f"gunicorn {workers} workers × {threads} threads on port {server.port}: "
            f"{len(plan):,} requests at {args.rate:g}/s ({args.warmup:g} s warm-up + {args.duration:g} s)"
        )
        db_name = admin_url(args.database_url)[1]
        load_before = os.getloadavg()[0]
        sampler = CpuSampler(server.process.pid, db_name)
        sampler.start()
        result = run_open_loop(
            plan,
            host="127.0.0.1",
            port=server.port,
            headers=headers,
            concurrency=args.concurrency,
            timeout=args.timeout,
        )
        shares = sampler.finish()
    finally:
        server.stop()
    return {
        "config": config,
        "workers": workers,
        "threads": threads,
        "result": result,
        "cpu": shares,
        "loadavg": load_before,
    }


def db_figures() -> tuple[dict[str, int], int, list[tuple[str, int]]]:
    from _bulk_pg import TABLES, db_table
    from django.db import connection

    counts = {}
    with connection.cursor() as cur:
        for name in TABLES:
            cur.execute(f"SELECT count(*) FROM {connection.ops.quote_name(db_table(name))}")
            counts[name] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM trust_auditevent WHERE action = 'demo.load'")
        counts["audit events (load)"] = cur.fetchone()[0]
        cur.execute("SELECT pg_database_size(current_database())")
        size = cur.fetchone()[0]
        cur.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
            "ORDER BY 2 DESC LIMIT 6"
        )
        biggest = cur.fetchall()
    return counts, size, biggest


def contacts_distribution() -> dict[str, float]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "WITH c AS (SELECT p.id, count(i.id) AS n FROM people_person p LEFT JOIN cases_interaction i "
            "ON i.person_id = p.id GROUP BY p.id) SELECT percentile_disc(ARRAY[0.5, 0.9, 0.99, 0.999]) "
            "WITHIN GROUP (ORDER BY n), max(n), avg(n), count(*) FILTER (WHERE n >= 100), "
            "count(*) FILTER (WHERE n >= 500) FROM c"
        )
        (p50, p90, p99, p999), mx, avg, n100, n500 = cur.fetchone()
    return {
        "p50": p50,
        "p90": p90,
        "p99": p99,
        "p99.9": p999,
        "max": mx,
        "mean": float(avg),
        "people >= 100": n100,
        "people >= 500": n500,
    }


def fmt_ms(v: float) -> str:
    return "—" if v != v else f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def stats_table(stats: list[KindStats]) -> list[str]:
    lines = [
        "| requests | n | errors | p50 ms | p95 ms | p99 ms | max ms | mean ms | p95 from send ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in stats:
        lines.append(
            f"| {s.kind} | {s.n:,} | {s.errors} | {fmt_ms(s.p50)} | {fmt_ms(s.p95)} | {fmt_ms(s.p99)} | "
            f"{fmt_ms(s.max)} | {fmt_ms(s.mean)} | {fmt_ms(s.service_p95)} |"
        )
    return lines


def main() -> int:
    args = parse_args()
    from rich.console import Console

    console = Console(highlight=False)
    console.width = max(console.width, 110)
    var_dir = Path(tempfile.mkdtemp(prefix="civicloop-people-scale-"))
    os.environ["CIVICLOOP_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicloop.settings"
    _, db_name = admin_url(args.database_url)
    created = ensure_database(args.database_url, recreate=args.reload)
    if args.skip_load and created:
        raise SystemExit(
            f"--skip-load: the database {db_name} did not exist (it is created now, but empty)"
        )

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    with console.status("migrate…"):
        call_command("migrate", verbosity=0)
    note = database_note(args.database_url)
    if not args.skip_load:
        note = load(args, console)
        connection.close()
        database_note(args.database_url, note)
    elif not note:
        console.print(
            "[yellow]No load figures recorded on this database (loaded by another tool?).[/]"
        )
    if args.load_only:
        counts, db_size, _ = db_figures()
        console.print(
            ", ".join(f"{k} {v:,}" for k, v in counts.items())
            + f"; database {db_size / 2**30:.1f} GiB"
        )
        return 0

    departments = [d.strip() for d in args.departments.split(",") if d.strip()]
    token, dept_ids = bench_token(departments)
    with console.status("Sampling names and people…"):
        pop = sample_population(dept_ids, args.heavy_contacts)
        counts, db_size, biggest = db_figures()
        spread = contacts_distribution()
    if not pop.view_ids:
        raise SystemExit("the bench caseworker can see nobody: load the database first")
    console.print(
        f"{pop.people:,} people, {pop.visible:,} ({pop.visible / pop.people:.0%}) served by "
        f"{', '.join(departments)}; {len(pop.surname_counts)} surnames among them "
        f"(commonest {pop.common[0]!r} {pop.surname_counts[pop.common[0]]:,}, rarest "
        f"{pop.rare[-1]!r} {pop.surname_counts[pop.rare[-1]]:,}); {len(pop.heavy_ids):,} visible people "
        f"with ≥ {args.heavy_contacts} contacts"
    )
    connection.close()

    rnd = random.Random(SEED)
    plan, labels = build_plan(pop, args, rnd)
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "Connection": "keep-alive",
    }
    env = {**os.environ, "CIVICLOOP_LOG_LEVEL": "WARNING"}
    smoke = [
        next(p.path for p in plan if p.kind == "search"),
        next(p.path for p in plan if p.kind == "view"),
    ]
    runs = []
    for config in [c.strip() for c in args.servers.split(",") if c.strip()]:
        tries = []
        for _ in range(max(1, args.attempts)):
            run = run_server(config, args, env, var_dir, headers, plan, smoke, console)
            run["others"] = run["cpu"]["other processes"] + run["cpu"].get("postgres (other)", 0.0)
            tries.append(run)
            console.print(f"  other processes used {run['others']:.2f} cores during the run")
            if run["others"] <= args.max_other_cores:
                break
        best = min(tries, key=lambda r: r["others"])
        best["attempts"] = len(tries)
        runs.append(best)

    # --- report ---
    command = " ".join(
        [
            ".venv/bin/python",
            "bench/people_scale.py",
            "--database-url",
            args.database_url,
            # The size the database was loaded at, also when this run only measured it.
            "--people",
            str(note.get("people", args.people)),
            "--contacts",
            str(note.get("contacts_target", args.contacts)),
            "--rate",
            f"{args.rate:g}",
            "--duration",
            f"{args.duration:g}",
            "--warmup",
            f"{args.warmup:g}",
            "--servers",
            args.servers,
        ]
        + (["--keep-indexes"] if args.keep_indexes else [])
        + (["--wsgi-app", args.wsgi_app] if args.wsgi_app != "civicloop.wsgi" else [])
    )
    lines: list[str] = []
    lines.append(
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {platform.node() or 'this machine'}: "
        f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB, "
        f"Python {platform.python_version()}, PostgreSQL {connection_version(args.database_url)} "
        "(stock settings: shared_buffers 128MB), client and server on the same machine."
    )
    lines.append("")
    lines.append(f"Code: {git_revision()}.")
    lines.append("")
    lines.append("```")
    lines.append(command)
    lines.append("```")
    lines.append("")
    lines.append(
        "Again on the loaded database: add `--skip-load`. Latencies are from each request's scheduled "
        "send time (open loop); the last column is from the actual send, for comparison."
    )
    lines.append("")
    if note:
        lines.append(
            f"**Load** (COPY, one transaction and one audit event per table per {note.get('chunk_people', 0):,} "
            f"people; {'secondary indexes and foreign keys built after the data, as pg_restore does' if note.get('deferred_indexes') else 'every index and foreign key in place during the load'}; "
            f"then VACUUM ANALYZE): **{note.get('load_seconds', 0):,.0f} s** "
            f"({note.get('load_seconds', 0) / 60:.1f} min) — "
            + ", ".join(f"{k} {v:,.0f} s" for k, v in note.get("phase_seconds", {}).items())
            + f". Loaded {note.get('loaded_at', '?')}; generator Pareto mean {note.get('contacts_per_person')} "
            f"contacts per person, shape {note.get('contact_skew')}."
        )
        lines.append("")
    lines.append(
        "**Rows**: "
        + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items())
        + f". **Database size**: {db_size / 2**30:.1f} GiB (largest: "
        + ", ".join(f"{n} {s / 2**30:.1f} GiB" for n, s in biggest[:4])
        + ")."
    )
    lines.append("")
    lines.append(
        f"**Contacts per person**: median {spread['p50']}, p90 {spread['p90']}, p99 {spread['p99']}, "
        f"p99.9 {spread['p99.9']}, max {spread['max']} (mean {spread['mean']:.1f}); "
        f"{spread['people >= 100']:,} people with ≥ 100, {spread['people >= 500']:,} with ≥ 500."
    )
    lines.append("")
    lines.append(
        f"**Load offered**: {args.rate:g} requests/s open loop (constant arrival rate; latency from the "
        f"scheduled send time), {args.warmup:g} s warm-up then {args.duration:g} s measured; half "
        f"`GET /api/v1/people?name=…` (common surnames — the 10 commonest, e.g. {pop.common[0]!r} with "
        f"{pop.surname_counts[pop.common[0]]:,} visible bearers — and rare ones, the less common half, "
        f"e.g. {pop.rare[-1]!r} with {pop.surname_counts[pop.rare[-1]]:,}; half with a given name; one in "
        f"seven misspelt), half `GET /api/v1/people/{{id}}` (360° view and first timeline page) of people "
        f"the caseworker's departments ({', '.join(departments)}: {pop.visible:,} people visible) serve, "
        f"{args.heavy_share:.0%} of them people with ≥ {args.heavy_contacts} contacts. One caseworker, "
        f"Bearer token; every answer checked for 200."
    )
    lines.append("")
    targets = {"search": 50.0, "view": 100.0}
    verdicts = []
    for run in runs:
        result = run["result"]
        outs = result.outcomes
        label_of = labels.__getitem__
        stats = [summarise(outs, "search"), summarise(outs, "view")]
        detail = [summarise(outs, "search", label_of, cls) for cls in ("common", "rare")]
        detail += [
            summarise(outs, "search", label_of, cls)
            for cls in ("common surname", "common full", "rare surname", "rare full")
        ]
        detail.append(
            KindStats(
                **{
                    **summarise(
                        outs, "search", lambda i: "typo" if "typo" in labels[i] else "", "typo"
                    ).__dict__,
                    "kind": "search: misspelt",
                }
            )
        )
        detail += [summarise(outs, "view", label_of, cls) for cls in ("random", "heavy")]
        measured = [o for o in outs if o.planned.measured]
        achieved = (
            sum(1 for o in measured if o.status) / result.wall_seconds
            if result.wall_seconds
            else 0.0
        )
        other_errors = sorted({f"{o.status or o.error}" for o in outs if o.status != 200})
        cpu = run["cpu"]
        retried = sum(1 for o in measured if o.retried)
        lines.append(
            f"**gunicorn {run['workers']} workers × {run['threads']} threads** (gthread): achieved "
            f"{achieved:.1f} requests/s over the measured window; errors {sum(s.errors for s in stats)}"
            f"{' (' + ', '.join(other_errors[:5]) + ')' if other_errors else ''}; {retried} resent on a fresh "
            f"connection after the server closed an idle keep-alive one; dispatcher lag max "
            f"{result.dispatch_lag_max * 1000:.1f} ms. CPU in cores of {os.cpu_count()} over the run "
            f"(warm-up included): "
            + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
            + f"; load average {run['loadavg']:.1f} at the start"
            + (f"; least disturbed of {run['attempts']} runs" if run["attempts"] > 1 else "")
            + "."
        )
        lines.append("")
        lines.extend(stats_table(stats + detail))
        lines.append("")
        verdicts.append((run["config"], stats))
        for s in stats:
            ok = s.p95 <= targets[s.kind] and s.errors == 0
            verdicts_line = f"{run['config']}: {s.kind} p95 {fmt_ms(s.p95)} ms (target ≤ {targets[s.kind]:.0f} ms): {'met' if ok else 'MISSED'}"
            console.print(verdicts_line)
    lines.append(
        "Targets: search p95 ≤ 50 ms, 360° view p95 ≤ 100 ms — "
        + "; ".join(
            f"{cfg}: search {'met' if st[0].p95 <= 50 and not st[0].errors else 'missed'}, "
            f"view {'met' if st[1].p95 <= 100 and not st[1].errors else 'missed'}"
            for cfg, st in verdicts
        )
        + "."
    )
    report = "\n".join(lines)
    console.print()
    console.print(report, markup=False)
    if not args.no_docs:
        notes = Path(args.notes).read_text().strip() if args.notes else ""
        write_docs(Path(args.docs), report + ("\n\n" + notes if notes else ""))
        console.print(f"\nWritten to {args.docs}")
    return 0


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"commit {rev}" + (" with uncommitted changes in src/" if dirty else "")


def connection_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


DOCS_HEADER = """# Benchmarks

Each benchmark is a script in `bench/` that prints its figures and the command that
reproduces them. Machine: 2 cores, 24 GB RAM, Python 3.11, PostgreSQL 15 (stock
settings), client and server on the same machine unless a section says otherwise.
"""


def write_docs(path: Path, body: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md (or append it), leaving the rest alone."""
    section = f"{DOCS_HEADING}\n\n{body.rstrip()}\n"
    text = path.read_text() if path.exists() else DOCS_HEADER
    start = text.find(DOCS_HEADING)
    if start == -1:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(DOCS_HEADING))
        text = text[:start] + section + (text[end:] if end != -1 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(main())
