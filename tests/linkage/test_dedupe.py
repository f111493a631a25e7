"""Deduplicating a generated population, and `civicloop dedupe` / `link-files` on files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicloop.linkage import engine
from civicloop.linkage.evaluation import clustering_scores, demo_population
from civicloop.linkage.files import LinkageFileError, dedupe_file, guess_roles, prepare


def test_dedupe_finds_the_people_of_a_generated_city():
    records, truth = demo_population(2000, 11)
    result = engine.dedupe(records)
    assert result.columns == ["record_id", "cluster_id", "match_probability", "status"]
    assert result.height == records.height
    scores = clustering_scores(result, truth)
    assert scores["precision"] >= 0.98, scores
    assert scores["recall"] >= 0.97, scores
    assert scores["household_merges"] == 0, scores
    merged = result.filter(pl.col("status") == "merged")
    assert merged.get_column("match_probability").min() >= 0.95


# -- files -------------------------------------------------------------------------------------

HEADER = "Person ID,First Name,Surname,DOB,E-mail,Mobile,Post Code,Address Line 1\n"
ROWS = [
    "1,Elizabeth,Khan,03/04/1980,liz.khan@example.com,07700 900123,RV1 2AB,12 Mill Road",
    "2,Liz,Khan,03/04/1980,,+44 7700 900123,RV1 2AB,12 Mill Rd",
    "3,Elizabeth,Kahn,04/03/1980,liz.khan@example.com,,RV9 9ZZ,4 Quay Street",
    "4,Omar,Hassan,17/11/1975,omar@example.org,07700 911111,RV2 3CD,7 Elm Close",
    "5,Omar,Hassan,17/11/2005,,07700 911111,RV2 3CD,7 Elm Close",
    "6,Grace,Okafor,01/01/1990,,,RV3 1AA,1 Ash Way",
]


@pytest.fixture
def people_csv(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def test_column_roles_are_guessed_from_headers_and_can_be_overridden():
    columns = ["Person ID", "First Name", "Surname", "DOB", "E-mail", "Mobile", "Post Code"]
    roles = guess_roles(columns, id_column="Person ID")
    assert roles == {
        "given_name": "First Name",
        "family_name": "Surname",
        "date_of_birth": "DOB",
        "email": "E-mail",
        "phone": "Mobile",
        "postcode": "Post Code",
    }
    roles = guess_roles(columns, id_column="Person ID", overrides={"phone": "Post Code"})
    assert roles["phone"] == "Post Code" and "postcode" not in roles
    with pytest.raises(LinkageFileError, match="'Tel' is not in the file"):
        guess_roles(columns, id_column="Person ID", overrides={"phone": "Tel"})


def test_dedupe_file_writes_record_cluster_and_probability(people_csv: Path, tmp_path: Path):
    out = tmp_path / "out.csv"
    summary = dedupe_file(people_csv, out, id_column="Person ID")
    result = pl.read_csv(out, infer_schema=False)
    assert result.columns == ["record_id", "cluster_id", "match_probability", "status"]
    assert result.height == 6
    cluster_of = dict(result.select("record_id", "cluster_id").iter_rows())
    assert cluster_of["1"] == cluster_of["2"] == cluster_of["3"]
    assert cluster_of["4"] != cluster_of["5"]  # a junior: same name and home, born 30 years on
    assert summary.records == 6
    assert any("given name ← First Name" in note for note in summary.notes)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (HEADER.encode(), "has a header but no records"),
        (HEADER.encode() + "7,Zo\xeb,Ng,,,,,\n".encode("latin-1"), "is not UTF-8"),
        (HEADER.encode() + b"1,Ann,Lee,,,,,\n1,Bob,Ray,,,,,\n", "ids used more than once"),
        (HEADER.encode() + b",Ann,Lee,,,,,\n", "without an id"),
        (b"ref,colour\n1,red\n", "no id column 'Person ID'"),
        (b"Person ID,colour\n1,red\n", "looks like a name"),
    ],
)
def test_bad_files_get_a_clear_error_and_no_output(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    out = tmp_path / "out.csv"
    with pytest.raises(LinkageFileError, match=message):
        dedupe_file(path, out, id_column="Person ID")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_prepare_renames_columns_to_roles(people_csv: Path):
    prepared = prepare(people_csv, id_column="Person ID")
    assert prepared.records.columns == [
        "record_id",
        "given_name",
        "family_name",
        "date_of_birth",
        "email",
        "phone",
        "postcode",
        "address",
    ]


def test_the_dedupe_command_writes_its_output(people_csv: Path, tmp_path: Path, capsys):
    out = tmp_path / "clusters.csv"
    call_command("dedupe", str(people_csv), "--id-column", "Person ID", "--out", str(out))
    assert pl.read_csv(out).height == 6
    assert "written to" in capsys.readouterr().out


def test_the_dedupe_command_fails_cleanly_on_a_bad_file(tmp_path: Path):
    path = tmp_path / "people.csv"
    path.write_text("ref,name\n1,Ann\n1,Bob\n", encoding="utf-8")
    out = tmp_path / "clusters.csv"
    with pytest.raises(CommandError, match="no id column 'id'"):
        call_command("dedupe", str(path), "--id-column", "id", "--out", str(out))
    with pytest.raises(CommandError, match="ids used more than once"):
        call_command(
            "dedupe", str(path), "--id-column", "ref", "--given-name", "name", "--out", str(out)
        )
    assert not out.exists()


def test_the_link_files_command_links_across_two_files(people_csv: Path, tmp_path: Path):
    other = tmp_path / "other.csv"
    other.write_text(
        "ref,forename,last_name,date_of_birth\n"
        "A1,Betty,Khan,1980-04-03\nA2,Grace,Okafor,1990-01-01\nA3,Ian,Moss,1961-06-06\n",
        encoding="utf-8",
    )
    out = tmp_path / "links.csv"
    call_command(
        "link_files",
        str(people_csv),
        str(other),
        "--id-column",
        "Person ID",
        "--id-column-b",
        "ref",
        "--dob",
        "DOB",
        "--out",
        str(out),
    )
    result = pl.read_csv(out, infer_schema=False)
    assert result.columns == ["source", "record_id", "cluster_id", "match_probability", "status"]
    assert result.height == 9
    cluster_of = {
        (s, r): c for s, r, c in result.select("source", "record_id", "cluster_id").rows()
    }
    assert cluster_of[("a", "6")] == cluster_of[("b", "A2")]
    assert cluster_of[("b", "A3")] not in {cluster_of[("a", str(i))] for i in range(1, 7)}
