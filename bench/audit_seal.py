"""Benchmark: sealing and verifying the audit chain.

Reproduce (SQLite file, WAL, synchronous=FULL, as shipped):
    .venv/bin/python bench/audit_seal.py --events 100000
PostgreSQL: add DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> (it is migrated and
its audit tables emptied).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        os.environ["CIVICLOOP_VAR_DIR"] = tempfile.mkdtemp(prefix="civicloop-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicloop.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from civicloop.trust.chain import seal_all, verify_chain
    from civicloop.trust.models import AuditEvent, ChainHead

    call_command("migrate", verbosity=0)
    AuditEvent.objects.all().delete()
    ChainHead.objects.all().delete()

    t0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    rows = [
        AuditEvent(
            at=t0 + dt.timedelta(milliseconds=i),
            actor_user_id=i % 300,
            actor_role="caseworker",
            action=("person.read", "person.search", "case.transition")[i % 3],
            object_type="person",
            object_ids=[i, i + 1, f"SRC-{i}"][: 1 + i % 3],
            fields=["addresses", "date_of_birth", "name"],
            purpose="casework",
            counts={"results": i % 20},
            request_id=f"req-{i:08d}",
        )
        for i in range(args.events)
    ]
    AuditEvent.objects.bulk_create(rows, batch_size=5000)
    del rows

    start = time.perf_counter()
    sealed = seal_all(batch_size=args.batch_size)
    seal_s = time.perf_counter() - start
    start = time.perf_counter()
    result = verify_chain()
    verify_s = time.perf_counter() - start
    assert sealed == args.events and result.ok and result.checked == args.events, result

    print(f"database: {connection.vendor}, events: {args.events}, batch size: {args.batch_size}")
    print(f"seal:   {seal_s:7.2f} s  {sealed / seal_s:10,.0f} events/s")
    print(f"verify: {verify_s:7.2f} s  {result.checked / verify_s:10,.0f} events/s")
    print("command:", " ".join([os.path.relpath(sys.executable), *sys.argv]))


if __name__ == "__main__":
    main()
