"""Imports of a department's records: what an operator loading a file would notice."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from django.db import IntegrityError

from civicloop.core import clock
from civicloop.people import imports
from civicloop.people.imports import (
    ImportFailed,
    ImportFileError,
    MappingError,
    RowsRejected,
    import_records,
    parse_mapping,
)
from civicloop.people.models import (
    Identifier,
    Link,
    Person,
    PersonDepartment,
    PersonFieldSource,
    SourceRecord,
)
from civicloop.trust.models import AuditEvent
from tests.factories import (
    AddressFactory,
    DepartmentFactory,
    IdentifierFactory,
    PersonFactory,
    SourceRecordFactory,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
HOUSING_HEADER = "Tenant ref,Forename,Surname,DOB,Email,Phone,Address,Postcode,Tenure,NHS number\n"


@pytest.fixture(autouse=True)
def frozen_clock():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def housing():
    return DepartmentFactory(code="housing", name="Housing")


@pytest.fixture
def health():
    return DepartmentFactory(code="health", name="Health")


@pytest.fixture
def workdir(tmp_path):
    """A copy of the fixtures, so rejects files land beside the input in a scratch folder."""
    for source in FIXTURES.iterdir():
        shutil.copy(source, tmp_path / source.name)
    return tmp_path


def import_housing(workdir: Path, name: str = "housing.csv", **options):
    options.setdefault("department_code", "housing")
    return import_records(path=workdir / name, mapping=workdir / "housing.yaml", **options)


def table_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (SourceRecord, Person, Link, PersonDepartment, Identifier, AuditEvent)
    }


def records(department) -> dict[str, SourceRecord]:
    return {r.local_id: r for r in SourceRecord.objects.filter(department=department)}


# -- happy paths --------------------------------------------------------------------


def test_csv_import_writes_each_mapped_field_attributes_and_identifiers(housing, workdir):
    report = import_housing(workdir)
    assert (report.created, report.updated, report.unchanged, report.rejected) == (3, 0, 0, 0)
    assert report.committed and report.rows == 3
    by_id = records(housing)
    alice = by_id["H-0001"]
    assert (alice.given_name, alice.family_name) == ("Alice", "Okafor")
    assert alice.date_of_birth == dt.date(1980, 2, 3)  # day first, the mapping's first format
    assert alice.email == "alice.okafor@example.org" and alice.phone == "07700 900123"
    assert alice.address_text == "12 High Street, Riverton" and alice.postcode == "RV1 2AB"
    assert alice.attributes == {
        "tenure": "council",
        "source_system": "northgate",
        "identifiers": {"nhs": "943 476 5919"},
    }
    assert alice.received_at == NOW
    assert by_id["H-0002"].date_of_birth == dt.date(1982, 11, 30)  # the second format
    assert by_id["H-0002"].attributes == {"tenure": "council", "source_system": "northgate"}
    assert by_id["H-0003"].given_name == "Chloé"
    # Imports write source records only: `civicloop link` joins them to people.
    assert not Person.objects.exists() and not Link.objects.exists()


def test_jsonl_import_takes_numbers_as_ids_missing_keys_as_empty_and_other_keys_as_attributes(
    health, workdir
):
    report = import_records(
        path=workdir / "health.jsonl", department_code="health", mapping=workdir / "health.yaml"
    )
    assert (report.created, report.rejected, report.file_format) == (2, 0, "jsonl")
    by_id = records(health)
    assert set(by_id) == {"501", "502"}
    assert by_id["501"].phone == "07700900123"
    assert by_id["501"].attributes == {
        "gp_practice": "Riverside Surgery",
        "allergies": ["penicillin"],
        "identifiers": {"nhs": "9434765919"},
    }
    assert by_id["502"].email == "" and by_id["502"].phone == ""
    assert by_id["502"].attributes == {"gp_practice": "Mill Lane Practice"}


def test_a_key_a_json_object_leaves_out_keeps_the_value_on_record(health, workdir):
    import_records(
        path=workdir / "health.jsonl", department_code="health", mapping=workdir / "health.yaml"
    )
    (workdir / "delta.jsonl").write_text(
        '{"patient_id": 501, "mobile": null, "postcode": "RV9 9ZZ"}\n', encoding="utf-8"
    )
    report = import_records(
        path=workdir / "delta.jsonl", department_code="health", mapping=workdir / "health.yaml"
    )
    assert (report.created, report.updated) == (0, 1)
    alice = records(health)["501"]
    assert (alice.given_name, alice.email) == ("Alice", "alice.okafor@example.org")
    assert (alice.phone, alice.postcode) == ("", "RV9 9ZZ")  # null is given, as empty
    assert alice.attributes["identifiers"] == {"nhs": "9434765919"}
    # Keys no record has are most likely a slip in the mapping: the report says so.
    assert report.warnings == [
        f"No record in the file has the field {key!r}: nothing was read from it."
        for key in ("birth_date", "email", "first_name", "last_name", "nhs_number")
    ]


def test_reimporting_the_same_file_changes_nothing(housing, workdir):
    import_housing(workdir)
    before = table_counts()
    rows_before = list(SourceRecord.objects.order_by("pk").values())
    with clock.frozen_at(NOW + dt.timedelta(days=1)):
        report = import_housing(workdir)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert report.audit_events == 0
    assert table_counts() == before
    assert list(SourceRecord.objects.order_by("pk").values()) == rows_before


def test_changed_rows_are_updated_and_records_missing_from_the_file_are_kept(housing, workdir):
    import_housing(workdir)
    alice_id = records(housing)["H-0001"].pk
    kept = SourceRecordFactory(department=housing, local_id="H-0999", family_name="Byrne")
    (workdir / "housing.csv").write_text(
        HOUSING_HEADER + "H-0001,Alice,Okafor-Smith,03/02/1980,alice@example.net,07700 900123,"
        '"12 High Street, Riverton",RV1 2AB,private,\n'
        + 'H-0002,Ben,Okafor,1982-11-30,,+44 20 7946 0000,"12 High Street, Riverton",RV1 2AB,'
        "council,\n",
        encoding="utf-8",
    )
    later = NOW + dt.timedelta(days=1)
    with clock.frozen_at(later):
        report = import_housing(workdir)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    by_id = records(housing)
    alice = by_id["H-0001"]
    assert alice.pk == alice_id
    assert (alice.family_name, alice.email) == ("Okafor-Smith", "alice@example.net")
    assert alice.received_at == later
    # The file's attributes win; an identifier left blank keeps the one on record.
    assert alice.attributes == {
        "tenure": "private",
        "source_system": "northgate",
        "identifiers": {"nhs": "943 476 5919"},
    }
    assert by_id["H-0002"].received_at == NOW
    assert set(by_id) == {"H-0001", "H-0002", "H-0003", "H-0999"}
    kept.refresh_from_db()
    assert kept.family_name == "Byrne"


def test_a_small_file_into_a_large_department_finds_its_records_by_id(housing, workdir):
    # Few rows against many records: looked up by id rather than by a pass over the department.
    SourceRecordFactory.create_batch(12, department=housing)
    SourceRecordFactory(department=housing, local_id="H-0001", family_name="Okafor-Smith")
    report = import_housing(workdir)
    assert (report.created, report.updated, report.unchanged) == (2, 1, 0)
    assert records(housing)["H-0001"].family_name == "Okafor"
    again = import_housing(workdir)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_fields_the_mapping_does_not_name_are_left_alone_on_update(housing, tmp_path):
    SourceRecordFactory(
        department=housing,
        local_id="H-1",
        given_name="Alice",
        family_name="Okafor",
        email="alice@example.org",
        attributes={"demo_person_ref": "P1"},
    )
    mapping = parse_mapping({"fields": {"local_id": "ref", "family_name": "surname"}})
    (tmp_path / "names.csv").write_text("ref,surname\nH-1,Okafor-Smith\n", encoding="utf-8")
    report = import_records(path=tmp_path / "names.csv", department_code="housing", mapping=mapping)
    assert report.updated == 1
    record = SourceRecord.objects.get(local_id="H-1")
    assert (record.given_name, record.family_name) == ("Alice", "Okafor-Smith")
    assert record.email == "alice@example.org"
    assert record.attributes == {"demo_person_ref": "P1"}


def test_the_same_local_id_in_another_department_is_another_record(housing, health, workdir):
    import_housing(workdir)
    report = import_housing(workdir, department_code="health")
    assert report.created == 3
    assert SourceRecord.objects.filter(local_id="H-0001").count() == 2


def test_constants_are_set_on_every_record(housing, tmp_path):
    mapping = parse_mapping(
        {
            "fields": {"local_id": "ref", "family_name": "surname"},
            "constants": {"postcode": "RV9 9ZZ", "attributes": {"batch": 7}},
        }
    )
    (tmp_path / "a.csv").write_text("ref,surname\nH-1,Okafor\nH-2,Smith\n", encoding="utf-8")
    import_records(path=tmp_path / "a.csv", department_code="housing", mapping=mapping)
    assert {(r.postcode, r.attributes["batch"]) for r in records(housing).values()} == {
        ("RV9 9ZZ", 7)
    }


@pytest.mark.parametrize("name", ["housing_semicolon.csv", "housing_bom.csv"])
def test_semicolon_separated_and_byte_order_marked_csv_read_like_the_plain_file(
    housing, workdir, name
):
    report = import_housing(workdir, name)
    assert report.created == 3 and report.rejected == 0
    alice = records(housing)["H-0001"]
    assert alice.address_text == "12 High Street, Riverton"
    assert alice.attributes["identifiers"] == {"nhs": "943 476 5919"}


def test_tab_separated_file_is_sniffed(housing, workdir):
    text = (workdir / "housing.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    with (workdir / "housing.tsv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, delimiter="\t").writerows(rows)
    assert import_housing(workdir, "housing.tsv").created == 3


def test_format_can_be_given_for_a_file_whose_name_does_not_say(health, workdir):
    shutil.copy(workdir / "health.jsonl", workdir / "health.export")
    with pytest.raises(ImportFileError, match="Cannot tell the format"):
        import_records(
            path=workdir / "health.export",
            department_code="health",
            mapping=workdir / "health.yaml",
        )
    report = import_records(
        path=workdir / "health.export",
        department_code="health",
        mapping=workdir / "health.yaml",
        file_format="jsonl",
    )
    assert report.created == 2


def test_each_batch_is_one_audit_event_with_its_count_and_id_range(housing, workdir):
    report = import_housing(workdir, batch_size=2)
    ids = sorted(records(housing)[i].pk for i in ("H-0001", "H-0002", "H-0003"))
    events = list(AuditEvent.objects.filter(action="import.create").order_by("pk"))
    assert report.audit_events == len(events) == 2
    assert [e.counts for e in events] == [
        {"count": 2, "min_id": ids[0], "max_id": ids[1], "department_id": housing.pk},
        {"count": 1, "min_id": ids[2], "max_id": ids[2], "department_id": housing.pk},
    ]
    assert {(e.actor_role, e.purpose, e.object_type) for e in events} == {
        ("system", "import", "source_record")
    }


def test_progress_is_reported_for_reading_and_writing(housing, workdir):
    seen: list[tuple[str, int, int]] = []
    import_housing(workdir, progress=lambda phase, done, total: seen.append((phase, done, total)))
    size = (workdir / "housing.csv").stat().st_size
    assert ("read", size, size) in seen
    assert seen[-1] == ("write", 3, 3)


# -- bad rows -----------------------------------------------------------------------


def test_all_or_nothing_names_every_bad_row_and_every_reason_and_writes_nothing(housing, workdir):
    before = table_counts()
    with pytest.raises(RowsRejected) as failure:
        import_housing(workdir, "housing_bad.csv")
    assert table_counts() == before
    report = failure.value.report
    assert report.rows == 7 and not report.committed
    problems = {p.line: p for p in report.problems}
    assert sorted(problems) == [3, 4, 5, 6, 7]
    assert problems[3].local_id == ""
    assert problems[3].reasons == ("'Tenant ref' is empty: every record needs its local id",)
    assert problems[4].local_id == "H-0003"
    assert problems[4].reasons == ("'DOB' is not a date like 25/06/1987 or 1987-06-25",)
    assert problems[5].reasons == (
        "'DOB' is in the future",
        "'Email' does not look like an email address",
        "'Phone' has 4 digits; a phone number has 6 to 15",
    )
    assert problems[6].reasons == (
        "'DOB' is before 1890",
        "'Phone' may only hold digits, spaces and + ( ) - . /",
    )
    assert problems[7].local_id == "H-0006"
    assert problems[7].reasons == ("has 9 values but the header has 10 columns",)
    message = str(failure.value)
    assert message.startswith("Nothing was imported: 5 of 7 rows have problems.")
    assert "line 4 (local id H-0003): 'DOB' is not a date like" in message
    assert not list(workdir.glob("*.rejects.*"))


def test_text_longer_than_the_field_holds_is_a_bad_row(housing, tmp_path):
    mapping = parse_mapping({"fields": {"local_id": "ref", "family_name": "surname"}})
    (tmp_path / "a.csv").write_text(f"ref,surname\nH-1,{'x' * 101}\n", encoding="utf-8")
    with pytest.raises(RowsRejected) as failure:
        import_records(path=tmp_path / "a.csv", department_code="housing", mapping=mapping)
    assert failure.value.report.problems[0].reasons == (
        "'surname' is 101 characters long; at most 100 fit",
    )


def test_skip_invalid_imports_the_valid_rows_and_writes_the_rejected_ones_with_reasons(
    housing, workdir
):
    report = import_housing(workdir, "housing_bad.csv", skip_invalid=True)
    assert (report.created, report.rejected) == (2, 5)
    assert set(records(housing)) == {"H-0001", "H-0007"}
    assert report.rejects_path == workdir / "housing_bad.rejects.csv"
    with report.rejects_path.open(encoding="utf-8", newline="") as rejects:
        rows = list(csv.reader(rejects))
    assert rows[0] == ["reasons", *HOUSING_HEADER.strip().split(",")]
    assert [r[1] for r in rows[1:]] == ["", "H-0003", "H-0004", "H-0005", "H-0006"]
    assert rows[2] == [
        "'DOB' is not a date like 25/06/1987 or 1987-06-25",
        "H-0003",
        "Chloé",
        "Nguyen",
        "31/02/1987",
        "chloe@example.org",
        "",
        "",
        "RV2 3CD",
        "private",
        "",
    ]
    assert rows[3][0] == (
        "'DOB' is in the future; 'Email' does not look like an email address; "
        "'Phone' has 4 digits; a phone number has 6 to 15"
    )
    # The rejects file keeps the input's columns, so once fixed it imports with the same mapping.
    fixed = report.rejects_path.read_text(encoding="utf-8")
    fixed = fixed.replace("31/02/1987", "28/02/1987").replace(",H-0006,", ",H-0006b,")
    (workdir / "fixed.csv").write_text(fixed, encoding="utf-8")
    again = import_housing(workdir, "fixed.csv", skip_invalid=True)
    assert (again.created, again.rejected) == (1, 4)


def test_skip_invalid_writes_json_lines_rejects_for_json_lines_input(health, workdir):
    rejects = workdir / "out" / "rejected.jsonl"
    rejects.parent.mkdir()
    report = import_records(
        path=workdir / "health_bad.jsonl",
        department_code="health",
        mapping=workdir / "health.yaml",
        skip_invalid=True,
        rejects_path=rejects,
    )
    assert (report.created, report.rejected) == (1, 4)
    lines = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {
        "line_text": '["patient_id", 502]',
        "reasons": ["is a list: each line must be a JSON object"],
    }
    assert lines[1]["line_text"].startswith('{"patient_id": 503')
    assert lines[1]["reasons"][0].startswith("is not valid JSON")
    assert lines[2] == {
        "patient_id": 504,
        "first_name": True,
        "last_name": "Chen",
        "birth_date": "1990-01-01",
        "reasons": ["'first_name' is true/false, not text"],
    }
    assert lines[3]["reasons"] == ["'patient_id' is empty: every record needs its local id"]
    assert [(p.line, p.local_id) for p in report.problems] == [
        (2, ""),
        (3, ""),
        (4, "504"),
        (5, ""),
    ]


def test_skip_invalid_on_a_clean_file_writes_an_empty_rejects_file(housing, workdir):
    stale = workdir / "housing.rejects.csv"
    stale.write_text("reasons,Tenant ref\nold,H-0001\n", encoding="utf-8")
    report = import_housing(workdir, skip_invalid=True)
    assert (report.created, report.rejected, report.rejects_path) == (3, 0, stale)
    assert stale.read_bytes() == ("reasons," + HOUSING_HEADER).replace("\n", "\r\n").encode()


def test_a_rejects_file_that_cannot_be_written_stops_the_import_before_it_writes(housing, workdir):
    before = table_counts()
    with pytest.raises(ImportFileError, match="Cannot write the rejects file"):
        import_housing(
            workdir, "housing_bad.csv", skip_invalid=True, rejects_path=workdir / "no" / "r.csv"
        )
    assert table_counts() == before


def test_a_failed_write_leaves_no_rejects_file(housing, workdir, monkeypatch):
    def clash(self, candidates, *, link_new_as_people):
        raise IntegrityError("UNIQUE constraint failed")

    monkeypatch.setattr(imports._Writer, "write", clash)
    with pytest.raises(ImportFailed, match="Run the import again"):
        import_housing(workdir, "housing_bad.csv", skip_invalid=True)
    assert sorted(p.name for p in workdir.iterdir()) == sorted(p.name for p in FIXTURES.iterdir())


# -- bad files ------------------------------------------------------------------------


BAD_FILES = {
    "not UTF-8": (
        ("housing.csv", (HOUSING_HEADER + "H-1,Zoë,Smith,,,,,,,\n").encode("latin-1")),
        "housing.csv is not UTF-8 text: line 2 has the byte 0xEB at position 7",
    ),
    "UTF-16": (
        ("housing.csv", HOUSING_HEADER.encode("utf-16")),
        "housing.csv is UTF-16 text, not UTF-8",
    ),
    "empty": (("housing.csv", b""), "housing.csv is empty."),
    "blank lines only": (("housing.csv", b"\n\r\n,,,\n"), "housing.csv is empty: it has no header"),
    "header only": (
        ("housing.csv", HOUSING_HEADER.encode()),
        "housing.csv has no records below its header.",
    ),
    "missing columns": (
        ("housing.csv", b"Tenant ref,Forename,Surname,DoB\nH-1,Alice,Okafor,01/01/1980\n"),
        "The header has no column 'DOB' (did you mean 'DoB'?).",
    ),
    "a mapped column twice": (
        ("housing.csv", (HOUSING_HEADER.strip() + ",Surname\n").encode()),
        "The header names column 'Surname' more than once.",
    ),
    "duplicate ids": (
        (
            "housing.csv",
            (
                HOUSING_HEADER + "H-1,Alice,Okafor,,,,,,,\nH-2,Ben,Okafor,,,,,,,\nH-1,Al,O,,,,,,,\n"
            ).encode(),
        ),
        "local id H-1 is on lines 2, 4",
    ),
    "no JSON object has the id key": (
        ("housing.jsonl", b'{"Tenant_ref": "H-1", "Surname": "Okafor"}\n'),
        "No record in the file has the field 'Tenant ref' (did you mean 'Tenant_ref'?): "
        "every record needs its local id.",
    ),
    "JSON array, not lines": (
        ("housing.jsonl", b'[{"Tenant ref": "H-1"},\n{"Tenant ref": "H-2"}]\n'),
        "looks like one JSON array, not JSON lines",
    ),
    "not a file": (("missing.csv", None), "missing.csv does not exist or is not a file."),
}


@pytest.mark.parametrize("skip_invalid", [False, True], ids=["all-or-nothing", "skip-invalid"])
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_gets_a_clear_error_and_writes_nothing(housing, workdir, case, skip_invalid):
    (name, content), expected = BAD_FILES[case]
    if content is not None:
        (workdir / name).write_bytes(content)
    before = table_counts()
    with pytest.raises(ImportFileError) as failure:
        import_housing(workdir, name, skip_invalid=skip_invalid)
    assert expected in str(failure.value)
    assert table_counts() == before
    assert not list(workdir.glob("*rejects*"))


def test_missing_columns_are_listed_with_the_columns_found(housing, workdir):
    (workdir / "housing.csv").write_text("ref;name\nH-1;Alice\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as failure:
        import_housing(workdir)
    problems = failure.value.problems
    assert "The header has no column 'Tenant ref'." in problems
    assert problems[-1] == ("Columns found (read with semicolon as the separator): 'ref', 'name'.")


def test_an_unknown_department_is_named_with_the_known_codes(housing, workdir):
    with pytest.raises(ImportFileError) as failure:
        import_housing(workdir, department_code="housnig")
    assert str(failure.value) == (
        "There is no department with the code 'housnig' (did you mean 'housing'?); "
        "codes are: housing."
    )


# -- the mapping ------------------------------------------------------------------------

MAPPING_ERRORS = {
    "unknown target field": (
        "fields: {local_id: ref, surname: Surname}",
        "fields: 'surname' is not a field of a source record (did you mean 'family_name'?)",
    ),
    "no local_id": ("fields: {family_name: Surname}", "fields: local_id is required"),
    "no fields": ("date_formats: ['%Y-%m-%d']", "'fields' must map record fields to columns"),
    "a number for a column": ("fields: {local_id: 7}", "fields: local_id must name a column"),
    "unknown section": (
        "fields: {local_id: ref}\nidentifier: {nhs: nhs}",
        "Unknown section 'identifier' (did you mean 'identifiers'?)",
    ),
    "a date format without a day": (
        "fields: {local_id: ref}\ndate_formats: ['%Y-%m']",
        "date_formats: '%Y-%m' is not a date format with a year, month and day",
    ),
    "a constant that breaks a rule": (
        "fields: {local_id: ref}\nconstants: {email: nobody}",
        "constants: email does not look like an email address.",
    ),
    "a constant for a mapped field": (
        "fields: {local_id: ref, postcode: pc}\nconstants: {postcode: RV1 1AA}",
        "constants: postcode is also read from column 'pc'.",
    ),
    "a constant local id": (
        "fields: {local_id: ref}\nconstants: {local_id: X}",
        "constants: 'local_id' is not a field that can be a constant",
    ),
    "a bad scheme": (
        "fields: {local_id: ref}\nidentifiers: {NHS Number: nhs}",
        "identifiers: 'NHS Number' is not a scheme name",
    ),
    "attributes of the wrong shape": (
        "fields: {local_id: ref}\nattributes: 12",
        "attributes must be a list of columns",
    ),
    "not a mapping": ("- local_id", "The mapping must be a YAML mapping"),
    "not YAML": ("fields: {local_id: [ref}", "is not valid YAML"),
}


@pytest.mark.parametrize("case", list(MAPPING_ERRORS))
def test_a_bad_mapping_gets_a_clear_error_and_writes_nothing(housing, workdir, case):
    text, expected = MAPPING_ERRORS[case]
    (workdir / "housing.yaml").write_text(text, encoding="utf-8")
    before = table_counts()
    with pytest.raises(MappingError) as failure:
        import_housing(workdir)
    assert expected in str(failure.value)
    assert table_counts() == before


def test_every_mistake_in_a_mapping_is_reported_at_once():
    with pytest.raises(MappingError) as failure:
        parse_mapping({"fields": {"surname": "s"}, "date_formats": ["%Y"], "extra": 1})
    assert len(failure.value.problems) == 4


# -- new records as people ------------------------------------------------------------


def test_link_new_as_people_gives_each_new_record_a_person_a_link_and_the_department(
    housing, workdir
):
    home = AddressFactory(line1="12 High Street", town="Riverton", postcode="RV1 2AB")
    report = import_housing(workdir, link_new_as_people=True)
    assert (report.created, report.people_created, report.identifiers_created) == (3, 3, 1)
    alice_record = records(housing)["H-0001"]
    link = Link.objects.get(source_record=alice_record)
    assert (link.method, link.active, link.created_at) == (Link.Method.CREATED, True, NOW)
    alice = link.person
    assert (alice.given_name, alice.family_name, alice.date_of_birth) == (
        "Alice",
        "Okafor",
        dt.date(1980, 2, 3),
    )
    assert (alice.search_name, alice.family_key, alice.phone_key) == (
        "alice okafor",
        "okafor",
        "7700900123",
    )
    assert alice.email_key == "alice.okafor@example.org"
    assert alice.address == home  # found in the gazetteer, as batch linking would
    # Each golden field says which record it came from, as batch linking's would.
    assert set(
        PersonFieldSource.objects.filter(person=alice).values_list(
            "field", "source_record", "method"
        )
    ) == {
        (name, alice_record.pk, PersonFieldSource.Method.SURVIVORSHIP)
        for name in ("given_name", "family_name", "date_of_birth", "email", "phone", "address")
    }
    assert PersonDepartment.objects.filter(person=alice, department=housing).exists()
    nhs = Identifier.objects.get(person=alice)
    assert (nhs.scheme, nhs.value, nhs.department_id) == ("nhs", "943 476 5919", housing.pk)
    chloe = Link.objects.get(source_record=records(housing)["H-0003"]).person
    assert chloe.search_name == "chloe nguyen"
    audited = set(
        AuditEvent.objects.filter(action="import.create").values_list("object_type", flat=True)
    )
    assert audited == {"source_record", "person", "link", "person_department", "identifier"}
    # A second run finds nothing new, so it makes nobody new.
    again = import_housing(workdir, link_new_as_people=True)
    assert (again.created, again.people_created) == (0, 0)
    assert Person.objects.count() == 3


def test_people_an_import_creates_or_changes_are_filed_for_real_time_matching(
    housing, workdir, django_capture_on_commit_callbacks
):
    from civicloop.linkage.models import MatchKey

    with django_capture_on_commit_callbacks(execute=True):
        import_housing(workdir, link_new_as_people=True)
    alice = Link.objects.get(source_record=records(housing)["H-0001"]).person
    filed = set(MatchKey.objects.filter(person=alice).values_list("kind", "value"))
    assert ("email", "alice.okafor@example.org") in filed
    assert MatchKey.objects.values("person").distinct().count() == 3

    # A changed email on Alice's record re-files her under the new one.
    path = workdir / "housing.csv"
    path.write_text(path.read_text().replace("alice.okafor@example.org", "alice@new.example"))
    with django_capture_on_commit_callbacks(execute=True):
        report = import_housing(workdir)
    assert report.updated == 1
    emails = set(
        MatchKey.objects.filter(person=alice, kind="email").values_list("value", flat=True)
    )
    assert "alice@new.example" in emails


def test_link_new_as_people_only_for_new_named_records_and_unheld_identifiers(housing, tmp_path):
    SourceRecordFactory(department=housing, local_id="H-1", given_name="Al")
    IdentifierFactory(person=PersonFactory(), scheme="nhs", value="111")
    mapping = parse_mapping(
        {
            "fields": {"local_id": "ref", "given_name": "first", "family_name": "last"},
            "identifiers": {"nhs": "nhs"},
        }
    )
    (tmp_path / "a.csv").write_text(
        "ref,first,last,nhs\nH-1,Alice,Okafor,\nH-2,Ben,Okafor,111\nH-3,,Nguyen,\n"
        "H-4,Dee,Nguyen,222\nH-5,Eve,Nguyen,222\n",
        encoding="utf-8",
    )
    report = import_records(
        path=tmp_path / "a.csv",
        department_code="housing",
        mapping=mapping,
        link_new_as_people=True,
    )
    assert (report.created, report.updated, report.people_created) == (4, 1, 3)
    assert report.records_without_person == 1  # H-3 has no given name: left for `civicloop link`
    assert (report.identifiers_created, report.identifiers_skipped) == (1, 2)
    linked = set(Link.objects.values_list("source_record__local_id", flat=True))
    assert linked == {"H-2", "H-4", "H-5"}
    assert (
        Identifier.objects.get(value="222").person
        == Link.objects.get(source_record__local_id="H-4").person
    )
