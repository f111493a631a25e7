"""The benchmarks' bulk loader keeps up with the schema: a model that gains a required column
the COPY loader does not write must fail here, not an hour into a benchmark."""

import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="the bulk loader is for PostgreSQL"),
]

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def bulk_pg(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import _bulk_pg

    yield _bulk_pg
    sys.modules.pop("_bulk_pg", None)


def test_the_bulk_loader_writes_every_required_column(bulk_pg):
    bulk_pg.check_columns()  # raises SystemExit naming the missing columns


def test_the_check_notices_a_required_column_it_does_not_write(bulk_pg, monkeypatch):
    model, attrs = bulk_pg.TABLES["case"]
    monkeypatch.setitem(
        bulk_pg.TABLES, "case", (model, tuple(a for a in attrs if a != "media_url"))
    )
    with pytest.raises(SystemExit, match="media_url"):
        bulk_pg.check_columns()
