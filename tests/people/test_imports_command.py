"""`civicloop import_records`: what an operator sees on the terminal, and its exit status."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from civicloop.core import clock
from civicloop.people.models import Link, Person, SourceRecord
from civicloop.trust.models import AuditEvent
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "imports"


@pytest.fixture(autouse=True)
def setup():
    DepartmentFactory(code="housing", name="Housing")
    with clock.frozen_at(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)):
        yield


@pytest.fixture
def workdir(tmp_path):
    for source in FIXTURES.iterdir():
        shutil.copy(source, tmp_path / source.name)
    return tmp_path


def run(workdir: Path, name: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_records",
        str(workdir / name),
        "--department",
        "housing",
        "--mapping",
        str(workdir / "housing.yaml"),
        *args,
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def test_an_import_prints_its_counts_and_a_second_run_finds_everything_unchanged(workdir):
    out, _ = run(workdir, "housing.csv")
    assert "Imported housing.csv into housing (3 rows)" in out
    assert "│ created      │     3 │" in out
    out, _ = run(workdir, "housing.csv")
    assert "│ unchanged    │     3 │" in out and "│ created      │     0 │" in out
    assert SourceRecord.objects.count() == 3


def test_bad_rows_abort_with_exit_status_1_and_every_bad_row_on_stderr(workdir):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(
            "import_records",
            str(workdir / "housing_bad.csv"),
            "--department=housing",
            f"--mapping={workdir / 'housing.yaml'}",
            stdout=out,
            stderr=err,
        )
    assert failure.value.returncode == 1
    text = err.getvalue()
    assert "Nothing was imported: 5 of 7 rows have problems." in text
    for line in ("line 3:", "line 4 (local id H-0003):", "line 5 (local id H-0004):"):
        assert line in text
    assert "line 6 (local id H-0005): 'DOB' is before 1890; 'Phone' may only hold" in text
    assert "line 7 (local id H-0006): has 9 values but the header has 10 columns" in text
    assert "--skip-invalid" in text
    assert not SourceRecord.objects.exists() and not AuditEvent.objects.exists()


def test_skip_invalid_reports_the_rejects_file_and_each_rejected_row(workdir):
    rejects = workdir / "rejected.csv"
    out, _ = run(workdir, "housing_bad.csv", "--skip-invalid", f"--rejects={rejects}")
    assert "│ created      │     2 │" in out and "│ rejected     │     5 │" in out
    assert f"5 rejected rows, with reasons, written to {rejects}" in out
    assert "line 4 (local id H-0003): 'DOB' is not a date like" in out
    assert rejects.read_text(encoding="utf-8").startswith("reasons,Tenant ref,")


def test_a_bad_file_or_mapping_exits_with_status_2(workdir):
    (workdir / "empty.csv").write_bytes(b"")
    with pytest.raises(CommandError) as failure:
        run(workdir, "empty.csv")
    assert failure.value.returncode == 2
    (workdir / "housing.yaml").write_text("fields: {surname: Surname}\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(
            "import_records",
            str(workdir / "housing.csv"),
            "--department=housing",
            f"--mapping={workdir / 'housing.yaml'}",
            stderr=err,
        )
    assert failure.value.returncode == 2
    assert "fields: local_id is required" in err.getvalue()
    assert "(did you mean 'family_name'?)" in err.getvalue()


def test_rejects_needs_skip_invalid(workdir):
    with pytest.raises(CommandError, match="--rejects goes with --skip-invalid"):
        run(workdir, "housing.csv", "--rejects=x.csv")


def test_link_new_as_people_reports_the_people_it_made(workdir):
    out, _ = run(workdir, "housing.csv", "--link-new-as-people")
    assert "│ people created" in out and Person.objects.count() == 3
    assert Link.objects.filter(method=Link.Method.CREATED).count() == 3


def test_warnings_of_a_json_lines_import_go_to_stderr(workdir):
    (workdir / "delta.jsonl").write_text('{"Tenant ref": "H-0001"}\n', encoding="utf-8")
    out, err = run(workdir, "delta.jsonl")
    assert "│ created      │     1 │" in out
    assert (
        "Warning: No record in the file has the field 'Surname': nothing was read from it." in err
    )


def test_a_format_flag_reads_a_file_whose_name_does_not_say(workdir):
    shutil.copy(workdir / "housing.csv", workdir / "housing.txt")
    out, _ = run(workdir, "housing.txt", "--format=csv")
    assert "│ created      │     3 │" in out
