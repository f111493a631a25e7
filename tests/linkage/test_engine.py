"""The linkage engine without a database: standardisation, the model, explanations, clusters."""

from __future__ import annotations

import datetime as dt
import random
import time

import polars as pl
import pytest

from civicloop.linkage import engine
from civicloop.linkage.evaluation import demo_population
from civicloop.linkage.model import LinkageModel, evaluate
from civicloop.linkage.nicknames import FORMAL_TO_NICKNAMES, name_groups, nickname_count
from civicloop.linkage.scoring import score_pairs
from civicloop.linkage.standardise import standardise, standardise_record


@pytest.fixture(scope="module")
def population() -> tuple[pl.DataFrame, pl.DataFrame]:
    return demo_population(2000, 7)


@pytest.fixture(scope="module")
def model(population) -> LinkageModel:
    records, _truth = population
    return engine.train(records, u_pairs=3e5, em_pairs=2e5, seed=1)


# -- standardisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("short", "formal"),
    [
        ("Bill", "william"),
        ("Will", "william"),
        ("Billy", "william"),
        ("Liz", "elizabeth"),
        ("Beth", "elizabeth"),
        ("Betty", "elizabeth"),
        ("Bob", "robert"),
        ("Rob", "robert"),
        ("Peggy", "margaret"),
        ("Maggie", "margaret"),
        ("Harry", "henry"),
        ("Harry", "harold"),
    ],
)
def test_nicknames_stand_for_their_formal_names(short, formal):
    record = standardise_record({"record_id": "1", "given_name": short})
    assert formal in record["given_groups"]
    assert formal in standardise_record({"given_name": formal.title()})["given_groups"]


def test_nickname_table_is_broad_and_knows_the_demo_city_short_forms():
    from civicloop.demo.names import NICKNAMES
    from civicloop.people.keys import fold

    assert nickname_count() >= 150
    assert len(FORMAL_TO_NICKNAMES) >= 150
    for formal, shorts in NICKNAMES.items():
        for short in shorts:
            assert fold(formal).replace(" ", "") in name_groups(fold(short)), (formal, short)


def test_a_misspelt_formal_name_still_meets_its_nickname():
    assert "michael" in name_groups("mihcael")
    assert "sarah" in name_groups("warah")
    assert name_groups("ana") == ("ana",)  # short names are not guessed at


def test_names_are_folded():
    record = standardise_record(
        {"given_name": "  Mr JOSÉ-Luis ", "family_name": "O'Brien-Smith", "record_id": 7}
    )
    assert record["record_id"] == "7"
    assert record["given"] == "joseluis"
    assert record["family"] == "obriensmith"
    assert record["family_tokens"] == ["obrien", "smith"]
    assert record["given_sound"] and record["family_sound"]


@pytest.mark.parametrize(
    ("raw", "dob", "swapped"),
    [
        ("03/04/1980", "1980-04-03", "1980-03-04"),
        ("1980-04-03", "1980-04-03", "1980-03-04"),
        (dt.date(1990, 12, 25), "1990-12-25", None),
        ("05.05.2001", "2001-05-05", None),
        ("1975-02-30", None, None),
        ("", None, None),
    ],
)
def test_dates_of_birth_and_their_day_month_swap(raw, dob, swapped):
    record = standardise_record({"date_of_birth": raw})
    assert record["dob"] == dob
    assert record["dob_swap"] == swapped


def test_month_first_dates_when_told():
    record = standardise_record({"date_of_birth": "04/03/1980"}, dayfirst=False)
    assert record["dob"] == "1980-04-03"


def test_phones_emails_postcodes_and_addresses():
    a = standardise_record(
        {
            "phone": "+44 7700 900123",
            "email": " Jo.Bloggs+news@Example.COM ",
            "postcode": "rv5 7hg",
            "address": "Flat 60, Queensway House, 5 Beech Place, Riverton",
        }
    )
    b = standardise_record(
        {"phone": "07700 900123", "email": "jo.bloggs@example.com", "address": "5 BEECH PL"}
    )
    assert a["phone"] == b["phone"] == "7700900123"
    assert a["email"] == "jo.bloggs+news@example.com"
    assert a["email_local"] == b["email_local"] == "jo.bloggs"
    assert (a["postcode"], a["postcode_out"]) == ("RV57HG", "RV5")
    assert a["address_key"] == "60/5 beech"
    assert b["address_key"] == "5 beech"
    assert standardise_record({"phone": "123", "email": "not an email"})["phone"] is None
    assert standardise_record({"email": "not an email"})["email"] is None


def test_a_table_is_standardised_exactly_as_single_records(population):
    records, _ = population
    sample = records.head(300)
    table = standardise(sample)
    for row, standardised in zip(sample.to_dicts(), table.to_dicts(), strict=True):
        assert standardised == standardise_record(row)


# -- the model ---------------------------------------------------------------------------------


def test_the_model_survives_json(model):
    again = LinkageModel.from_json(model.to_json())
    assert again.to_dict() == model.to_dict()
    assert again.probability_two_random_records_match == model.probability_two_random_records_match
    levels = [(lv.label, lv.m, lv.u, lv.gamma) for c in again.comparisons for lv in c.levels]
    assert levels == [
        (lv.label, lv.m, lv.u, lv.gamma) for c in model.comparisons for lv in c.levels
    ]


def test_training_learns_that_birth_dates_and_names_decide(model):
    dob = model.comparison("date_of_birth")
    assert dob.levels[1].label == "Same date of birth" and dob.levels[1].weight > 8
    assert all(lv.weight < -8 for lv in dob.levels if lv.conflict)
    given = model.comparison("given_name")
    assert given.levels[-1].weight < -5
    assert 1e-7 < model.probability_two_random_records_match < 1e-2


def test_explain_pair_agrees_with_predict(population, model):
    records, _ = population
    pairs = engine.predict(records, model, threshold_probability=None)
    assert pairs.height > 1000
    by_id = {r["record_id"]: r for r in records.to_dicts()}
    # Every pair above 1%, and a spread of the rest.
    unlikely = pairs.filter(pl.col("match_probability") < 0.01)
    assert unlikely.height > 50
    chosen = pl.concat(
        [
            pairs.filter(pl.col("match_probability") >= 0.01),
            unlikely.sample(min(500, unlikely.height), seed=3),
        ]
    )
    names = [c.name for c in model.comparisons]
    for row in chosen.iter_rows(named=True):
        explanation = engine.explain_pair(
            model, by_id[row["record_id_l"]], by_id[row["record_id_r"]]
        )
        assert explanation.match_weight == pytest.approx(row["match_weight"], abs=1e-6)
        assert explanation.match_probability == pytest.approx(row["match_probability"], abs=1e-9)
        assert explanation.gammas == {n: row[f"gamma_{n}"] for n in names}
        for name, label, weight in explanation.contributions:
            assert weight == pytest.approx(row[f"mw_{name}"], abs=1e-6)
            assert 2**weight == pytest.approx(row[f"bf_{name}"], rel=1e-6)
            assert label


def test_sql_and_python_level_rules_agree_on_random_pairs(population, model):
    records, _ = population
    std = engine._with_bands(standardise(records), model)
    rng = random.Random(5)
    ids = std.get_column("record_id").to_list()
    pairs = pl.DataFrame(
        {"record_id_l": rng.choices(ids, k=3000), "record_id_r": rng.choices(ids, k=3000)}
    )
    scored = score_pairs(std, pairs, model)
    rows = {r["record_id"]: r for r in std.to_dicts()}
    for row in scored.iter_rows(named=True):
        left, right = rows[row["record_id_l"]], rows[row["record_id_r"]]
        for comparison in model.comparisons:
            assert comparison.level_of(left, right).gamma == row[f"gamma_{comparison.name}"]


def test_blocking_finds_nearly_every_true_pair(population, model):
    from civicloop.linkage.evaluation import blocking_recall, truth_pairs

    records, truth = population
    recall = blocking_recall(standardise(records), truth_pairs(truth), model)
    assert recall["recall"] >= 0.99, recall


def test_three_valued_logic_matches_sql_for_missing_values():
    missing = {"given": None, "dob_year": None}
    known = {"given": "ann", "dob_year": 1980}
    assert evaluate(["eq", "given"], missing, known) is None
    assert evaluate(["not", ["eq", "given"]], missing, known) is None
    assert evaluate(["or", ["eq", "given"], ["missing", "given"]], missing, known) is True
    assert evaluate(["and", ["eq", "given"], ["missing", "given"]], known, known) is False


def test_explain_pair_takes_under_a_millisecond(model):
    a = {"given_name": "Elizabeth", "family_name": "Khan", "date_of_birth": "1980-04-03"}
    b = {"given_name": "Liz", "family_name": "Kahn", "date_of_birth": "1980-03-04"}
    engine.explain_pair(model, a, b)
    started = time.perf_counter()
    for i in range(500):
        engine.explain_pair(model, a | {"email": f"e{i}@example.com"}, b)
    assert (time.perf_counter() - started) / 500 < 0.001


# -- a family -------------------------------------------------------------------------------


def _family() -> pl.DataFrame:
    """One home: a father and his junior, twins, their mother; most recorded twice."""
    home = {"family_name": "Smith", "address": "12 Mill Road, Riverton", "postcode": "RV1 2AB"}
    phone = "01632 960123"
    rows = [
        ("f1", "senior", "John", "1950-03-02", phone, "john.smith@example.com"),
        ("f2", "senior", "Jon", "1950-03-02", phone, ""),
        ("f3", "junior", "John", "1978-06-10", phone, "john.smith@example.com"),
        ("f4", "junior", "Johnny", "1978-10-06", phone, ""),
        ("f5", "oliver", "Oliver", "2012-05-05", phone, ""),
        ("f6", "oliver", "Olivr", "2012-05-05", "", ""),
        ("f7", "grace", "Grace", "2012-05-05", phone, ""),
        ("f8", "grace", "Grace", "2012-05-05", "", ""),
        ("f9", "mary", "Mary", "1952-09-14", phone, "mary.smith@example.com"),
        ("f10", "mary", "Molly", "1952-09-14", phone, "mary.smith@example.com"),
    ]
    return pl.DataFrame(
        [
            {
                "record_id": rid,
                "person": person,
                "given_name": given,
                "date_of_birth": dob,
                "phone": ph,
                "email": email,
                **home,
            }
            for rid, person, given, dob, ph, email in rows
        ]
    )


def test_a_household_stays_apart_and_each_member_is_merged(model):
    family = _family()
    records = family.drop("person")
    pairs = engine.predict(records, model, threshold_probability=0.01)
    result = engine.cluster(records, pairs, merge_threshold=0.95, review_threshold=0.5, model=model)
    clusters = result.clusters.join(family.select("record_id", "person"), on="record_id")
    people_per_cluster = clusters.group_by("cluster_id").agg(pl.col("person").n_unique())
    assert people_per_cluster.get_column("person").max() == 1, clusters
    clusters_per_person = clusters.group_by("person").agg(pl.col("cluster_id").n_unique())
    assert clusters_per_person.get_column("cluster_id").max() == 1, clusters
    assert set(clusters.get_column("status")) == {"merged"}


def test_a_twin_linked_by_one_bad_pair_is_split_off(model):
    family = _family().filter(pl.col("person").is_in(["oliver", "grace"])).drop("person")
    pairs = pl.DataFrame(
        {
            "record_id_l": ["f5", "f7", "f6"],
            "record_id_r": ["f6", "f8", "f7"],
            "match_probability": [0.999, 0.999, 0.97],
        }
    )
    result = engine.cluster(family, pairs, merge_threshold=0.95, review_threshold=0.5, model=model)
    cluster_of = dict(result.clusters.select("record_id", "cluster_id").iter_rows())
    assert cluster_of["f5"] == cluster_of["f6"] != cluster_of["f7"] == cluster_of["f8"]
    review = result.review_pairs.filter(pl.col("reason") == "split")
    assert review.select("record_id_l", "record_id_r").rows() == [("f6", "f7")]


def test_a_cluster_too_big_goes_to_review_unmerged(model):
    records = pl.DataFrame(
        {
            "record_id": ["a", "b", "c"],
            "given_name": ["Ann", "Ann", "Ann"],
            "family_name": ["Lee", "Lee", "Lee"],
            "date_of_birth": ["1980-01-01"] * 3,
        }
    )
    pairs = pl.DataFrame(
        {"record_id_l": ["a", "b"], "record_id_r": ["b", "c"], "match_probability": [0.99, 0.99]}
    )
    result = engine.cluster(
        records, pairs, merge_threshold=0.95, review_threshold=0.5, max_cluster_size=2, model=model
    )
    assert set(result.clusters.get_column("status")) == {"review"}
    assert result.review_pairs.height == 2


def test_staff_decisions_win_over_the_model(model):
    records = pl.DataFrame(
        {
            "record_id": ["a", "b", "c", "d"],
            "given_name": ["Ann", "Ann", "Bob", "Robert"],
            "family_name": ["Lee", "Lee", "Ray", "Ray"],
            "date_of_birth": ["1980-01-01", "1980-01-01", "1970-02-02", "1990-02-02"],
        }
    )
    pairs = pl.DataFrame({"record_id_l": ["a"], "record_id_r": ["b"], "match_probability": [0.999]})
    decisions = pl.DataFrame(
        {"record_id_l": ["a", "c"], "record_id_r": ["b", "d"], "is_match": [False, True]}
    )
    result = engine.cluster(
        records,
        pairs,
        merge_threshold=0.95,
        review_threshold=0.5,
        model=model,
        confirmed_pairs=decisions,
    )
    cluster_of = dict(result.clusters.select("record_id", "cluster_id").iter_rows())
    assert cluster_of["a"] != cluster_of["b"]
    assert cluster_of["c"] == cluster_of["d"]


def test_confirmed_matches_move_m_towards_what_staff_saw(population, model):
    records, truth = population
    std = standardise(records)
    people = (
        truth.group_by("person_ref")
        .agg(pl.col("record_id"))
        .filter(pl.col("record_id").list.len() >= 2)
    )
    pairs = [(ids[0], ids[1], True) for ids in people.get_column("record_id").head(150).to_list()]
    trained = engine.train(std, confirmed_pairs=pairs, u_pairs=3e5, em_pairs=2e5, seed=1)
    assert trained.training["confirmed_matches_used"] == 150
    before = model.comparison("date_of_birth").levels[1].m
    after = trained.comparison("date_of_birth").levels[1].m
    assert before != after
