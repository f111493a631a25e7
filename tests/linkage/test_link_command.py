"""`civicloop link`: engine links replace the demo's known truth, cases follow their records,
re-running changes nothing, and staff decisions are kept.

Most tests drive the command with a small stand-in for the engine (same contract, a plain
rule on surname and date of birth), so they check the CRM side whatever the engine's
internals; `test_link_with_the_real_engine_*` run the real one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from io import StringIO
from types import SimpleNamespace

import polars as pl
import pytest
from django.core.management import CommandError, call_command

from civicloop.cases.models import Case, Interaction
from civicloop.linkage import services
from civicloop.linkage.models import ConfirmedPair, LinkageRun, ReviewItem
from civicloop.linkage.services import CurrentLink, Decision, ScoredPair, plan_links
from civicloop.people import keys
from civicloop.people.models import Link, Person, PersonDepartment, PersonMerge, PersonNeed
from civicloop.trust.models import AuditEvent

pytestmark = pytest.mark.django_db

KNOWN, PROB, MANUAL = "known_truth", "probabilistic", "manual"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# -- the planner on hand-made clusters --------------------------------------------------------


def plan(current, clusters, pairs=(), decisions=(), records=None):
    records = records or sorted(set(current) | set(clusters))
    return plan_links(
        records=records,
        current={r: CurrentLink(*v) for r, v in current.items()},
        clusters=clusters,
        pairs=[ScoredPair(*p) for p in pairs],
        decisions=[Decision(*d) for d in decisions],
        merge_threshold=0.9,
    )


def test_a_cluster_keeps_the_person_most_of_its_records_have_and_the_other_merges_in():
    result = plan(
        current={1: (10, KNOWN), 2: (10, KNOWN), 3: (11, KNOWN)},
        clusters={1: ("1", "merged"), 2: ("1", "merged"), 3: ("1", "merged")},
        pairs=[(1, 2, 0.99), (2, 3, 0.95)],
    )
    assert result.target == {1: 10, 2: 10, 3: 10}
    assert result.relink == {1, 2, 3}  # known-truth links all become engine links
    assert result.orphans == {11: 10}
    assert result.probability == {1: 0.99, 2: 0.99, 3: 0.95}


def test_links_already_made_by_the_engine_or_staff_stay_as_they_are():
    result = plan(
        current={1: (10, PROB), 2: (10, MANUAL), 3: (12, "created")},
        clusters={1: ("1", "merged"), 2: ("1", "merged"), 3: ("3", "singleton")},
        pairs=[(1, 2, 0.99)],
    )
    assert result.relink == set() and result.orphans == {} and result.new_people == {}


def test_a_split_cluster_gets_a_new_person_and_nobody_is_left_without_records():
    result = plan(
        current={1: (10, KNOWN), 2: (10, KNOWN), 3: (10, KNOWN)},
        clusters={1: ("1", "merged"), 2: ("1", "merged"), 3: ("3", "singleton")},
        pairs=[(1, 2, 0.99)],
    )
    assert result.target[1] == result.target[2] == 10
    assert result.target[3] == "new:3" and result.new_people == {"new:3": [3]}
    assert result.orphans == {}


def test_a_confirmed_non_match_splits_what_the_engine_joined():
    result = plan(
        current={1: (10, PROB), 2: (10, PROB), 3: (10, PROB)},
        clusters={1: ("1", "merged"), 2: ("1", "merged"), 3: ("1", "merged")},
        pairs=[(1, 2, 0.99), (2, 3, 0.97), (1, 3, 0.96)],
        decisions=[(1, 3, False)],
    )
    assert result.target[1] == result.target[2] == 10
    assert result.target[3] == "new:3"


def test_a_confirmed_match_joins_what_the_engine_left_apart():
    result = plan(
        current={1: (10, PROB), 2: (11, PROB)},
        clusters={1: ("1", "singleton"), 2: ("2", "singleton")},
        decisions=[(1, 2, True)],
    )
    assert result.target == {1: 10, 2: 10}
    assert result.orphans == {11: 10}


def test_records_linked_by_hand_stay_with_their_person():
    result = plan(
        current={1: (10, KNOWN), 2: (10, KNOWN), 3: (11, MANUAL)},
        clusters={1: ("1", "merged"), 2: ("1", "merged"), 3: ("1", "merged")},
        pairs=[(1, 2, 0.99), (1, 3, 0.99)],
    )
    assert result.target == {1: 11, 2: 11, 3: 11}
    assert result.orphans == {10: 11}
    result = plan(
        current={1: (10, MANUAL), 2: (11, MANUAL)},
        clusters={1: ("1", "merged"), 2: ("1", "merged")},
        pairs=[(1, 2, 0.99)],
    )
    assert result.target == {1: 10, 2: 11}


def test_records_sent_to_review_keep_their_link():
    result = plan(
        current={1: (10, KNOWN), 2: (11, KNOWN)},
        clusters={1: ("1", "review"), 2: ("1", "review"), 3: ("1", "review")},
        pairs=[(1, 2, 0.95)],
        records=[1, 2, 3],
    )
    assert result.target[1] == 10 and result.target[2] == 11
    assert 1 not in result.relink and 2 not in result.relink
    assert result.new_people == {"new:3": [3]} and result.kept_for_review == 2


def test_the_plan_does_not_depend_on_the_order_of_its_input():
    args = {
        "current": {1: (10, KNOWN), 2: (11, KNOWN), 3: (11, KNOWN), 4: (12, KNOWN)},
        "clusters": {
            1: ("1", "merged"),
            2: ("1", "merged"),
            3: ("3", "merged"),
            4: ("3", "merged"),
        },
        "pairs": [(1, 2, 0.93), (3, 4, 0.99)],
    }
    first = plan(**args)
    args["pairs"] = list(reversed(args["pairs"]))
    args["current"] = dict(reversed(list(args["current"].items())))
    assert plan(**args) == first


# -- a stand-in engine ------------------------------------------------------------------------


class StandInModel:
    merge_threshold = 0.9
    review_threshold = 0.5

    def to_json(self) -> str:
        return json.dumps({"format": "stand-in"})

    @classmethod
    def from_json(cls, text: str) -> StandInModel:
        assert json.loads(text) == {"format": "stand-in"}
        return cls()


class StandInEngine:
    """The engine's contract with a plain rule: same surname and date of birth is a match if
    the given names start alike, uncertain otherwise."""

    LinkageModel = StandInModel

    def __init__(self):
        self.trained = 0
        self.confirmed = None

    @staticmethod
    def standardise(frame: pl.DataFrame) -> pl.DataFrame:
        return frame

    def train(self, std, *, confirmed_pairs=None):
        self.trained += 1
        self.confirmed = confirmed_pairs
        return StandInModel()

    @staticmethod
    def _score(a: dict, b: dict) -> float | None:
        if keys.fold(a["family_name"]) != keys.fold(b["family_name"]):
            return None
        if a["date_of_birth"] is None or a["date_of_birth"] != b["date_of_birth"]:
            return None
        same_given = keys.fold(a["given_name"])[:1] == keys.fold(b["given_name"])[:1]
        return 0.98 if same_given else 0.6

    def predict(self, std, model, *, threshold_probability):
        rows = std.to_dicts()
        blocks = defaultdict(list)
        for row in rows:
            blocks[(keys.fold(row["family_name"]), row["date_of_birth"])].append(row)
        found = []
        for block in blocks.values():
            for i, a in enumerate(block):
                for b in block[i + 1 :]:
                    p = self._score(a, b)
                    if p is not None and p >= threshold_probability:
                        found.append((a["record_id"], b["record_id"], p))
        return pl.DataFrame(
            found,
            schema={
                "record_id_l": pl.String,
                "record_id_r": pl.String,
                "match_probability": pl.Float64,
            },
            orient="row",
        )

    def cluster(self, std, pairs, *, merge_threshold, review_threshold, model, confirmed_pairs):
        ids = std.get_column("record_id").to_list()
        parent = {r: r for r in ids}

        def find(r):
            while parent[r] != r:
                r = parent[r]
            return r

        must, cannot = set(), set()
        if confirmed_pairs is not None:
            for a, b, is_match in confirmed_pairs.iter_rows():
                (must if is_match else cannot).add(frozenset((a, b)))
        review = []
        for a, b, p in pairs.iter_rows():
            if frozenset((a, b)) in cannot:
                continue
            if p >= merge_threshold:
                parent[find(a)] = find(b)
            elif p >= review_threshold:
                review.append((a, b, p, "uncertain"))
        for pair in must:
            a, b = sorted(pair)
            parent[find(a)] = find(b)
        groups = defaultdict(list)
        for r in ids:
            groups[find(r)].append(r)
        rows = []
        for members in groups.values():
            head = min(members, key=int)
            status = "merged" if len(members) > 1 else "singleton"
            rows += [(r, head, status) for r in members]
        return SimpleNamespace(
            clusters=pl.DataFrame(rows, schema=["record_id", "cluster_id", "status"], orient="row"),
            review_pairs=pl.DataFrame(
                review,
                schema={
                    "record_id_l": pl.String,
                    "record_id_r": pl.String,
                    "match_probability": pl.Float64,
                    "reason": pl.String,
                },
                orient="row",
            ),
            summary={"clusters": len(groups)},
        )

    def explain_pair(self, model, a, b):
        same = keys.fold(a["given_name"])[:1] == keys.fold(b["given_name"])[:1]
        contributions = [
            ("family_name", "Exact match", 6.0),
            ("date_of_birth", "Exact match", 8.0),
            ("given_name", "Same initial" if same else "Different", 2.0 if same else -3.5),
        ]
        weight = -10.0 + sum(c[2] for c in contributions)
        return SimpleNamespace(
            match_weight=weight,
            match_probability=2**weight / (1 + 2**weight),
            prior_weight=-10.0,
            contributions=contributions,
        )


@pytest.fixture
def engine(monkeypatch):
    stand_in = StandInEngine()
    monkeypatch.setattr(services, "_engine", lambda: stand_in)
    return stand_in


@pytest.fixture
def city(db):
    call_command("demo", people=200, seed=11, verbosity=0)


def link(**options) -> tuple[LinkageRun, str]:
    out = StringIO()
    call_command("link", stdout=out, **options)
    return LinkageRun.objects.order_by("-id").first(), out.getvalue()


def links_now() -> dict[int, tuple[int, str]]:
    return {
        link.source_record_id: (link.person_id, link.method)
        for link in Link.objects.filter(active=True)
    }


def split_someone() -> tuple[Person, Person, Case]:
    """Give one of a person's records, and a case, to a duplicate golden record of them, as
    two departments registering the same citizen separately would."""
    by_person = defaultdict(list)
    for link in Link.objects.filter(active=True).select_related("source_record"):
        by_person[link.person_id].append(link)
    for person_id, person_links in sorted(by_person.items()):
        records = [link.source_record for link in person_links]
        alike = {
            (keys.fold(r.family_name), r.date_of_birth, keys.fold(r.given_name)[:1])
            for r in records
        }
        case = Case.objects.filter(person_id=person_id).order_by("id").first()
        if len(records) >= 3 and len(alike) == 1 and records[0].date_of_birth and case:
            break
    else:
        raise AssertionError("no person with three alike records and a case in the demo city")
    person = Person.objects.get(pk=person_id)
    duplicate = Person.objects.create(
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
        **keys.person_keys(given_name=person.given_name, family_name=person.family_name),
    )
    moved = person_links[-1]
    Link.objects.filter(pk=moved.pk).update(person=duplicate)
    Case.objects.filter(pk=case.pk).update(person=duplicate)
    for department_id in {moved.source_record.department_id, case.department_id}:
        PersonDepartment.objects.get_or_create(person=duplicate, department_id=department_id)
    return person, duplicate, case


def test_link_replaces_known_truth_and_cases_follow_their_records(city, engine):
    person, duplicate, case = split_someone()
    people, cases, records = Person.objects.count(), Case.objects.count(), len(links_now())
    run, output = link()
    assert "Linking run" in output and "links made" in output
    assert run.status == "finished" and run.record_count == records
    now = links_now()
    assert len(now) == records  # every record is linked, once
    left_known = [r for r, (_p, method) in now.items() if method == KNOWN]
    assert len(left_known) == run.counts["records_kept_for_review"]
    assert run.links_created > 0 and run.people_merged > 0 and run.review_items_created > 0
    # Nothing deleted: people are kept (merged ones point at who they were merged into).
    assert Person.objects.count() == people + run.people_created
    assert Case.objects.count() == cases
    assert Link.objects.filter(active=False, ended_at__isnull=False).count() == run.links_ended
    linked = {p for p, _m in now.values()}
    merged = set(Person.objects.filter(merged_into__isnull=False).values_list("id", flat=True))
    assert len(merged) == run.people_merged and not linked & merged
    # A merged person's cases, contacts and needs moved with their records.
    for model in (Case, Interaction, PersonNeed):
        assert not model.objects.filter(person_id__in=merged).exists(), model
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == person.id
    assert Case.objects.get(pk=case.pk).person_id == person.id
    merge = PersonMerge.objects.get(merged_person=duplicate)
    assert merge.method == "batch" and merge.kept_person_id == person.id
    # Every person with a record is served by its department.
    for record_id, (person_id, _m) in now.items():
        department = Link.objects.get(source_record_id=record_id, active=True).source_record
        assert PersonDepartment.objects.filter(
            person_id=person_id, department_id=department.department_id
        ).exists()
    # New people have golden records chosen from their records, with provenance.
    for person in Person.objects.order_by("-id")[: run.people_created]:
        assert person.family_name and person.field_sources.filter(field="family_name").exists()
    # One audit event per batch, and one for the run.
    assert AuditEvent.objects.filter(action="linkage.run").count() == 1
    assert AuditEvent.objects.filter(action="linkage.link").count() == 1
    assert AuditEvent.objects.filter(action="linkage.person_merge").count() == 1


def test_running_link_again_changes_nothing(city, engine):
    first, _ = link()
    before = links_now()
    merges, items = PersonMerge.objects.count(), ReviewItem.objects.count()
    second, _ = link()
    assert links_now() == before
    assert (second.links_created, second.links_ended, second.people_created) == (0, 0, 0)
    assert (second.people_merged, second.review_items_created) == (0, 0)
    assert PersonMerge.objects.count() == merges and ReviewItem.objects.count() == items
    assert engine.trained == 1  # the model was reused: same records, same decisions
    assert second.model_json == first.model_json


def test_confirmed_decisions_are_kept_by_later_runs(city, engine):
    link()
    # A pair the engine put together that staff say are two people, and a pair it kept
    # apart that staff say are one.
    together = defaultdict(list)
    for record_id, (person_id, _m) in sorted(links_now().items()):
        together[person_id].append(record_id)
    joined = next(records for records in together.values() if len(records) >= 2)[:2]
    apart = [together[p][0] for p in sorted(together)[:2] if together[p][0] not in joined][:2]
    ConfirmedPair.objects.create(
        source_record_l_id=min(joined), source_record_r_id=max(joined), is_match=False
    )
    ConfirmedPair.objects.create(
        source_record_l_id=min(apart), source_record_r_id=max(apart), is_match=True
    )
    run, _ = link()
    assert engine.trained == 2  # the decisions changed: trained again, with them as labels
    assert engine.confirmed.height == 2
    now = links_now()
    assert now[joined[0]][0] != now[joined[1]][0]
    assert now[apart[0]][0] == now[apart[1]][0]
    assert run.links_created > 0
    again, _ = link()
    assert links_now() == now and again.links_created == 0


def unbacked_service() -> list[tuple[int, int]]:
    """(person, department) rows of "serves" with neither an active record link nor a case
    of that department behind them: each one lets a department see someone it should not."""
    rows = []
    for served in PersonDepartment.objects.filter(person__merged_into__isnull=True):
        pair = {"person_id": served.person_id}
        if not (
            Link.objects.filter(
                **pair, active=True, source_record__department_id=served.department_id
            ).exists()
            or Case.objects.filter(**pair, department_id=served.department_id).exists()
        ):
            rows.append((served.person_id, served.department_id))
    return rows


def test_a_record_split_off_takes_its_departments_sight_of_the_person_with_it(city, engine):
    link()
    assert unbacked_service() == []
    # A person with records from two departments and no case in one of them: staff say the
    # record of that department belongs to someone else.
    by_person = defaultdict(list)
    for record_id, (person_id, _m) in sorted(links_now().items()):
        by_person[person_id].append(Link.objects.get(source_record_id=record_id, active=True))
    for person_id, person_links in sorted(by_person.items()):
        departments = {link.source_record.department_id for link in person_links}
        lone = [
            link
            for link in person_links
            if [x.source_record.department_id for x in person_links].count(
                link.source_record.department_id
            )
            == 1
            and not Case.objects.filter(
                person_id=person_id, department_id=link.source_record.department_id
            ).exists()
        ]
        if len(departments) >= 2 and lone:
            break
    else:
        raise AssertionError("no person with a lone record of a department in the demo city")
    split_off = lone[0].source_record
    other = next(x for x in person_links if x.source_record_id != split_off.id).source_record_id
    ConfirmedPair.objects.create(
        source_record_l_id=min(split_off.id, other),
        source_record_r_id=max(split_off.id, other),
        is_match=False,
    )
    run, _ = link()
    assert links_now()[split_off.id][0] != person_id
    assert not PersonDepartment.objects.filter(
        person_id=person_id, department_id=split_off.department_id
    ).exists()
    assert unbacked_service() == []
    assert run.counts["departments_no_longer_serving"] >= 1


def test_a_run_overtaken_by_another_changes_nothing(city, engine, monkeypatch):
    link()
    # Staff split a person; two runs then start, and the second finishes first.
    person_id, records = next(
        (p, r) for p, r in sorted(_records_by_person().items()) if len(r) >= 2
    )
    ConfirmedPair.objects.create(
        source_record_l_id=min(records[:2]), source_record_r_id=max(records[:2]), is_match=False
    )
    cluster = engine.cluster

    def overtaken_while_clustering(*args, **kwargs):
        monkeypatch.setattr(engine, "cluster", cluster)
        link()  # the other run, from start to finish
        return cluster(*args, **kwargs)

    monkeypatch.setattr(engine, "cluster", overtaken_while_clustering)
    people = Person.objects.count()
    with pytest.raises(CommandError, match="finished while this one was working"):
        link()
    after_other = links_now()
    slow = LinkageRun.objects.order_by("id").filter(status="failed").get()
    other = LinkageRun.objects.filter(status="finished").order_by("-id").first()
    assert other.id > slow.id and other.links_created > 0
    assert "Conflict" in slow.error
    # Only the other run's work: the split made once, no second new person.
    assert Person.objects.count() == people + other.people_created
    assert after_other[records[0]][0] != after_other[records[1]][0]
    again, _ = link()
    assert links_now() == after_other and again.links_created == 0


def _records_by_person() -> dict[int, list[int]]:
    together = defaultdict(list)
    for record_id, (person_id, _m) in sorted(links_now().items()):
        together[person_id].append(record_id)
    return together


def test_review_items_are_raised_once_with_their_explanation(city, engine):
    run, _ = link()
    items = list(ReviewItem.objects.all())
    assert len(items) == run.review_items_created > 0
    for item in items:
        assert item.source_record_l_id < item.source_record_r_id
        assert item.status == "open" and item.kind == "pair"
        assert 0.5 <= item.match_probability < 0.9
        assert [c["comparison"] for c in item.explanation["contributions"]] == [
            "family_name",
            "date_of_birth",
            "given_name",
        ]
        assert len(set(item.person_ids)) == 2
    link()
    assert ReviewItem.objects.count() == len(items)


def test_link_refuses_thresholds_that_are_not_probabilities(city, engine):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("link", merge_threshold=0.6, review_threshold=0.8, stdout=StringIO())
    assert LinkageRun.objects.get().status == "failed"
    assert all(method == KNOWN for _p, method in links_now().values())


# -- the real engine --------------------------------------------------------------------------


def test_link_with_the_real_engine_is_idempotent_and_keeps_decisions(city):
    first, _ = link()
    assert first.status == "finished"
    before = links_now()
    second, _ = link()
    assert links_now() == before and second.links_created == 0
    together = defaultdict(list)
    for record_id, (person_id, _m) in sorted(before.items()):
        together[person_id].append(record_id)
    joined = next(records for records in together.values() if len(records) >= 2)[:2]
    ConfirmedPair.objects.create(
        source_record_l_id=min(joined), source_record_r_id=max(joined), is_match=False
    )
    link()
    now = links_now()
    assert now[joined[0]][0] != now[joined[1]][0]
    again, _ = link()
    assert links_now() == now and again.links_created == 0


def test_linking_runs_as_a_background_task(city, engine):
    from civicloop.linkage.tasks import link_records

    run = LinkageRun.objects.get(pk=link_records.call())
    assert run.status == "finished" and run.links_created > 0


def test_link_with_no_records_finishes_at_once(engine):
    run, output = link()
    assert run.status == "finished" and run.record_count == 0 and engine.trained == 0
    assert "Linking run" in output


def test_a_finished_run_refiles_the_real_time_match_index(city, django_capture_on_commit_callbacks):
    from civicloop.linkage.models import MatchKey
    from civicloop.people.models import Person

    MatchKey.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        run, _ = link()
    assert run.status == "finished"
    active = set(
        Person.objects.filter(merged_into__isnull=True, links__active=True).values_list(
            "id", flat=True
        )
    )
    filed = set(MatchKey.objects.values_list("person_id", flat=True))
    assert active and active <= filed
