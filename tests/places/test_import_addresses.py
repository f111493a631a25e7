"""civicloop import-addresses: the gazetteer from a CSV file, idempotent by the agency's own
address id, all or nothing with every bad row reported."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicloop.places.imports import AddressImportFailed, import_addresses
from civicloop.places.models import Address
from civicloop.trust.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

HEADER = "address_id,line1,line2,town,postcode,latitude,longitude\n"
ROWS = (
    "100,12 Mill Lane,,Riverton,RV1 2AB,51.5001,-0.1001\n"
    "101,14 Mill Lane,,Riverton,rv1 2ab,51.5002,-0.1002\n"
    '102,"Flat 2, Oak House",45 Mill Lane,Riverton,RV1 2AD,51.51,-0.11\n'
)


@pytest.fixture
def ward():
    return f.AreaFactory(code="RV-W01", name="Millbrook")


def write(tmp_path, text, name="addresses.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_import_creates_addresses_placed_in_their_areas(tmp_path, ward):
    report = import_addresses(path=write(tmp_path, HEADER + ROWS))
    assert (report.rows, report.created, report.updated, report.unchanged) == (3, 3, 0, 0)
    flat = Address.objects.get(uprn="102")
    assert flat.line1 == "Flat 2, Oak House" and flat.line2 == "45 Mill Lane"
    assert flat.area == ward
    assert Address.objects.get(uprn="101").postcode == "RV1 2AB"
    audit = AuditEvent.objects.get(action="address.import")
    assert audit.counts["count"] == 3 and audit.actor_role == "system"


def test_importing_again_is_idempotent_and_updates_what_changed(tmp_path, ward):
    import_addresses(path=write(tmp_path, HEADER + ROWS))
    again = import_addresses(path=write(tmp_path, HEADER + ROWS))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = (
        ROWS.replace("14 Mill Lane", "14A Mill Lane") + "103,1 New Road,,Riverton,,51.52,-0.12\n"
    )
    report = import_addresses(path=write(tmp_path, HEADER + changed))
    assert (report.created, report.updated, report.unchanged) == (1, 1, 2)
    assert Address.objects.get(uprn="101").line1 == "14A Mill Lane"
    assert Address.objects.count() == 4


def test_synonym_columns_semicolons_and_an_explicit_area(tmp_path, ward):
    other = f.AreaFactory(code="RV-W02", name="Old Town")
    text = "UPRN;Address1;City;Zip;Lat;Lon;Ward\n200;5 High St;Riverton;RV9 9ZZ;51.5;-0.1;RV-W02\n"
    report = import_addresses(path=write(tmp_path, text))
    assert report.created == 1 and Address.objects.get(uprn="200").area == other


def test_a_point_outside_every_area_is_kept_and_counted(tmp_path, ward):
    report = import_addresses(
        path=write(tmp_path, HEADER + "300,1 Far Lane,,Elsewhere,,53.0,-2.0\n")
    )
    assert report.outside_areas == 1 and Address.objects.get(uprn="300").area is None


def test_bad_rows_are_all_reported_and_nothing_is_written(tmp_path, ward):
    text = (
        HEADER
        + ROWS
        + (
            "104,,,Riverton,,51.5,-0.1\n"
            "105,3 Road,,Riverton,,north,-0.1\n"
            "106,4 Road,,Riverton,,51.5,-190\n"
            "100,12 Mill Lane again,,Riverton,,51.5,-0.1\n"
        )
    )
    with pytest.raises(AddressImportFailed) as failure:
        import_addresses(path=write(tmp_path, text))
    problems = failure.value.problems
    assert failure.value.rows_rejected and len(problems) == 4
    assert problems[0].startswith("line 5 (address id 104): line1 is empty")
    assert "latitude 'north'" in problems[1] and "longitude '-190'" in problems[2]
    assert "repeats line 2" in problems[3]
    assert (
        Address.objects.count() == 0
        and not AuditEvent.objects.filter(action="address.import").exists()
    )


def test_an_unusable_file_says_why(tmp_path, ward):
    with pytest.raises(AddressImportFailed, match="no column for latitude, longitude"):
        import_addresses(path=write(tmp_path, "address_id,line1,town\n1,2 Road,Riverton\n"))
    with pytest.raises(AddressImportFailed, match="not UTF-8"):
        path = tmp_path / "latin.csv"
        path.write_bytes(HEADER.encode() + "1,2 Stra\xdfe,,Town,,1,1\n".encode("latin-1"))
        import_addresses(path=path)
    with pytest.raises(AddressImportFailed, match="Cannot read"):
        import_addresses(path=tmp_path / "missing.csv")


def test_the_command_reports_and_exits_with_the_right_status(tmp_path, ward):
    out = StringIO()
    call_command(
        "import_addresses", str(write(tmp_path, HEADER + ROWS)), stdout=out, stderr=StringIO()
    )
    assert "3 rows" in out.getvalue() and "created" in out.getvalue()
    err = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(
            "import_addresses",
            str(write(tmp_path, HEADER + "1,,,,,,\n", name="bad.csv")),
            stdout=StringIO(),
            stderr=err,
        )
    assert failure.value.returncode == 1 and "line 2" in err.getvalue()
    with pytest.raises(CommandError) as failure:
        call_command(
            "import_addresses", str(tmp_path / "nope.csv"), stdout=StringIO(), stderr=StringIO()
        )
    assert failure.value.returncode == 2
