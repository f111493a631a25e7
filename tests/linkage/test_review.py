"""The clerical review queue: both records side by side with a waterfall of why, decisions
recorded as ConfirmedPairs, a confirmation merging the two people, every read audited."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import html5lib
import pytest
from django.test import Client
from django.urls import reverse
from tests import factories as f
from tests.support import assert_valid_html
from tests.world import build_world

import civicloop
from civicloop.linkage.models import ConfirmedPair, ReviewItem
from civicloop.linkage.selectors import Contribution, explanation_parts
from civicloop.linkage.services import decisions_in_effect
from civicloop.linkage.views import waterfall
from civicloop.people.merge import person_unmerge
from civicloop.people.models import Person, PersonMerge
from civicloop.trust.models import AuditEvent

pytestmark = pytest.mark.django_db

SVG = "http://www.w3.org/2000/svg"

EXPLANATION = {
    "match_weight": 1.5,
    "match_probability": 0.74,
    "prior_weight": -13.0,
    "contributions": [
        {"comparison": "given_name", "label": "Similar spelling", "weight": 2.5},
        {"comparison": "family_name", "label": "Exact match", "weight": 7.0},
        {"comparison": "date_of_birth", "label": "Exact match", "weight": 8.5},
        {"comparison": "email", "label": "Different", "weight": -3.5},
    ],
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def item(world):
    """Employment's record of 'Alyce Okafor', maybe the housing department's Alice."""
    alyce = f.PersonFactory(
        given_name="Alyce", family_name="Okafor", date_of_birth=dt.date(1985, 3, 14)
    )
    employment_record = f.serve(
        alyce,
        world.employment,
        local_id="E-9",
        email="alyce@example.net",
        address_text="4 Mill Lane, Riverton",
        postcode="RV1 1AA",
    )
    housing_record = world.alice.links.get().source_record
    return ReviewItem.objects.create(
        source_record_l=housing_record,
        source_record_r=employment_record,
        person_ids=[world.alice.id, alyce.id],
        match_probability=0.74,
        match_weight=1.5,
        explanation=EXPLANATION,
    )


def client_for(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def detail_url(item) -> str:
    return reverse("linkage:review_detail", args=[item.id])


def decide_url(item) -> str:
    return reverse("linkage:review_decide", args=[item.id])


def test_the_queue_lists_pairs_holding_a_record_of_the_viewers_department(world, item):
    response = client_for(world.housing_worker).get(reverse("linkage:review_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert_valid_html(html)
    assert detail_url(item) in html
    assert "Alice Okafor" in html and "Alyce Okafor" in html
    assert "H-1" in html and "E-9" not in html  # the other department's reference stays hidden
    assert "Another department's record" in html
    event = AuditEvent.objects.get(action="review.list")
    assert event.object_ids == [item.id] and event.counts["total"] == 1
    # Childcare holds neither record: its queue is empty.
    html = client_for(world.childcare_worker).get(reverse("linkage:review_list")).content.decode()
    assert detail_url(item) not in html and "There are no pairs" in html


def test_the_review_page_shows_both_records_and_a_waterfall_with_its_table(world, item):
    response = client_for(world.housing_worker).get(detail_url(item))
    assert response.status_code == 200
    html = response.content.decode()
    assert_valid_html(html)
    document = html5lib.parse(html, namespaceHTMLElements=False)
    svg = document.find(f".//{{{SVG}}}svg")
    assert svg.get("role") == "img"
    title = svg.find(f"{{{SVG}}}title")
    assert title is not None and title.text == "How each field moved the match weight"
    assert svg.get("aria-labelledby").split()[0] == title.get("id")
    assert len(svg.findall(f".//{{{SVG}}}rect")) == 6  # starting point, four fields, the total
    tables = document.findall(".//table")
    side_by_side, contributions = tables
    rows = [["".join(cell.itertext()).strip() for cell in row] for row in contributions.iter("tr")]
    assert rows[1][:2] == ["Starting point", "Before comparing any field"]
    assert rows[2][:3] == ["Given name", "Similar spelling", "+2.5 for a match"]
    assert rows[5][:3] == ["Email address", "Different", "-3.5 against a match"]
    assert rows[-1][0] == "Match weight" and rows[-1][-1] == "1.5"
    # The other department's record: matching fields only.
    text = " ".join("".join(side_by_side.itertext()).split())
    assert "Alyce" in text and "4 Mill Lane, Riverton" in text and "alyce@example.net" in text
    assert "E-9" not in html and "Employment" not in text
    assert "Reference H-1" in text and "Housing" in text
    event = AuditEvent.objects.get(action="review.read")
    assert event.object_ids == [item.id, item.source_record_l_id, item.source_record_r_id]
    assert {"given_name", "date_of_birth", "local_id"} <= set(event.fields)


def test_each_department_sees_its_own_record_in_full(world, item):
    html = client_for(world.employment_worker).get(detail_url(item)).content.decode()
    assert "Reference E-9" in html and "Reference H-1" not in html


def test_confirming_merges_the_two_people_and_records_the_decision(world, item):
    client = client_for(world.housing_worker)
    before = AuditEvent.objects.count()
    response = client.post(decide_url(item), {"decision": "confirm"})
    assert response.status_code == 302 and response.url == reverse("linkage:review_list")
    assert list(AuditEvent.objects.order_by("id")[before:].values_list("action", flat=True)) == [
        "review.confirm"
    ]
    item.refresh_from_db()
    assert item.status == "confirmed" and item.decided_by == world.housing_worker
    decision = ConfirmedPair.objects.get()
    assert decision.is_match and decision.by == world.housing_worker
    assert decision.merge.kept_person_id == world.alice.id
    alyce = Person.objects.get(pk=decision.merge.merged_person_id)
    assert alyce.merged_into_id == world.alice.id
    assert world.alice.links.filter(active=True).count() == 2
    html = client.get(reverse("linkage:review_list")).content.decode()
    assert "Recorded: the same person. Their records are now together." in html
    assert detail_url(item) not in html
    # Undoing the merge turns the decision into a non-match for linking and training.
    person_unmerge(
        viewer=world.viewer(world.housing_worker), merge_id=decision.merge.id, assignments={}
    )
    assert [d.is_match for d in decisions_in_effect()] == [False]


def test_rejecting_records_a_non_match_and_merges_nothing(world, item):
    response = client_for(world.housing_supervisor).post(decide_url(item), {"decision": "reject"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "rejected"
    assert [(d.is_match, d.merge) for d in ConfirmedPair.objects.all()] == [(False, None)]
    assert not PersonMerge.objects.exists()
    assert [d.is_match for d in decisions_in_effect()] == [False]


def test_skipping_leaves_the_pair_in_the_queue_for_someone_else(world, item):
    client = client_for(world.housing_worker)
    assert client.post(decide_url(item), {"decision": "skip"}).status_code == 302
    item.refresh_from_db()
    assert item.status == "skipped" and not ConfirmedPair.objects.exists()
    html = client_for(world.employment_worker).get(reverse("linkage:review_list")).content.decode()
    assert detail_url(item) in html and "Skipped by Hana Housing" in html
    response = client_for(world.employment_worker).post(decide_url(item), {"decision": "confirm"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "confirmed" and item.decided_by == world.employment_worker


def test_no_choice_gives_an_error_summary_that_links_to_the_choices(world, item):
    response = client_for(world.housing_worker).post(decide_url(item), {})
    assert response.status_code == 422
    html = response.content.decode()
    assert_valid_html(html)
    assert re.search(
        r'class="error-summary".*<a href="#id_decision_0">Choose whether these are the same person.</a>',
        html,
        re.S,
    )
    assert "<title>Error: Are these the same person?" in html
    item.refresh_from_db()
    assert item.status == "open"


def test_a_pair_decided_already_cannot_be_decided_again(world, item):
    client_for(world.housing_worker).post(decide_url(item), {"decision": "reject"})
    response = client_for(world.employment_worker).post(decide_url(item), {"decision": "confirm"})
    assert response.status_code == 409
    assert "Someone has already decided on this pair." in response.content.decode()
    assert ConfirmedPair.objects.count() == 1 and not PersonMerge.objects.exists()
    html = client_for(world.employment_worker).get(detail_url(item)).content.decode()
    assert "Rejected: different people, by Hana Housing" in html


def test_decisions_need_a_csrf_token(world, item):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.housing_worker.user)
    assert client.post(decide_url(item), {"decision": "confirm"}).status_code == 403
    item.refresh_from_db()
    assert item.status == "open"


def test_each_request_writes_one_audit_event(world, item):
    client = client_for(world.housing_worker)
    for method, url, data in [
        ("get", reverse("linkage:review_list"), {}),
        ("get", detail_url(item), {}),
        ("post", decide_url(item), {}),
        ("post", decide_url(item), {"decision": "skip"}),
    ]:
        before = AuditEvent.objects.count()
        getattr(client, method)(url, data)
        assert AuditEvent.objects.count() - before == 1, (method, url, data)


def test_the_waterfall_bars_start_where_the_last_one_ended():
    prior, contributions, total = explanation_parts(EXPLANATION)
    chart = waterfall(prior, contributions, total)
    steps = chart.steps
    assert [s.kind for s in steps] == ["total", "for", "for", "for", "against", "total"]
    for before, after in zip(steps[:-2], steps[1:-1], strict=True):
        assert after.start == pytest.approx(before.end)
    assert steps[-1].end == pytest.approx(1.5) == steps[-2].end
    assert all(s.width >= 1 and s.x >= chart.label_width for s in steps)
    assert max(s.x + s.width for s in steps) <= chart.value_x


def test_a_stored_explanation_without_a_prior_still_adds_up():
    prior, contributions, total = explanation_parts(
        {"match_weight": 2.0, "contributions": [{"comparison": "dob", "label": "x", "weight": 5}]}
    )
    assert (prior, total) == (-3.0, 2.0)
    assert contributions == [Contribution("dob", "x", 5.0)]
    assert contributions[0].comparison_label == "Date of birth"


def test_no_bare_text_in_the_review_templates():
    from tests.staff.test_translatable import bare_text

    templates = Path(civicloop.__file__).parent / "linkage" / "templates"
    paths = sorted(templates.rglob("*.html"))
    assert len(paths) >= 3
    for path in paths:
        assert bare_text(path.read_text(encoding="utf-8")) == [], path.name
