"""The page that undoes a merge: staff say whose each row added since is, and why."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from tests import factories as f
from tests.support import assert_valid_html
from tests.world import build_world

from civicloop.cases.models import Case, Interaction
from civicloop.people.merge import person_merge
from civicloop.people.models import PersonMerge
from civicloop.trust.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def merged(world):
    """Alyce merged into Alice; since then a housing case and a health contact for Alice."""
    alyce = f.PersonFactory(
        given_name="Alyce", family_name="Okafor", date_of_birth=dt.date(1985, 3, 14)
    )
    f.serve(alyce, world.housing, local_id="H-8")
    merge = person_merge(
        viewer=world.viewer(world.housing_worker),
        kept_person_id=world.alice.id,
        merged_person_id=alyce.id,
        reason="Same date of birth",
    )
    case = f.CaseFactory(
        service=world.housing_case.service, person=world.alice, reference="CL-LEAK"
    )
    contact = f.InteractionFactory(
        person=world.alice, department=world.health, summary="Clinic rang"
    )
    return merge, alyce, case, contact


def client_for(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def url(merge) -> str:
    return reverse("linkage:merge_undo", args=[merge.id])


def test_the_page_lists_what_the_viewers_departments_added_since(world, merged):
    merge, alyce, case, contact = merged
    response = client_for(world.housing_worker).get(url(merge))
    assert response.status_code == 200
    html = response.content.decode()
    assert_valid_html(html)
    assert (
        "CL-LEAK" in html and "Alice Okafor (kept)" in html and "Alyce Okafor (merged in)" in html
    )
    assert "Clinic rang" not in html  # health's contact: counted, not shown
    assert "1 item another department added since the merge stays with Alice Okafor" in html
    event = AuditEvent.objects.filter(action="person_merge.read").get()
    assert event.object_ids == [merge.id, world.alice.id, alyce.id]


def test_undoing_gives_each_row_to_the_person_chosen(world, merged, client):
    merge, alyce, case, contact = merged
    client = client_for(world.housing_worker)
    before = AuditEvent.objects.count()
    response = client.post(url(merge), {"item_0": str(alyce.id), "reason": "Twins"})
    assert response.status_code == 302
    assert response.url == reverse("staff:person_detail", args=[world.alice.id])
    assert list(AuditEvent.objects.order_by("id")[before:].values_list("action", flat=True)) == [
        "person.unmerge"
    ]
    assert Case.objects.get(pk=case.pk).person_id == alyce.id
    assert Interaction.objects.get(pk=contact.pk).person_id == world.alice.id
    merge.refresh_from_db()
    assert merge.unmerged_at and merge.unmerge_reason == "Twins"
    html = client.get(url(merge)).content.decode()
    assert "This merge was undone on" in html and "<form method" not in html.split("<main")[1]
    response = client.post(url(merge), {"reason": "Again"})
    assert response.status_code == 409
    assert "This merge has already been undone." in response.content.decode()


def test_a_reason_is_needed(world, merged):
    merge = merged[0]
    response = client_for(world.housing_worker).post(url(merge), {"item_0": str(world.alice.id)})
    assert response.status_code == 422
    html = response.content.decode()
    assert_valid_html(html)
    assert '<a href="#id_reason">Say why these are different people.</a>' in html
    merge.refresh_from_db()
    assert merge.unmerged_at is None


def test_only_staff_who_see_the_person_kept_may_undo(world, merged):
    merge = merged[0]
    assert client_for(world.childcare_worker).get(url(merge)).status_code == 404
    assert client_for(world.childcare_worker).post(url(merge), {"reason": "x"}).status_code == 404
    assert client_for(world.analyst).get(url(merge)).status_code == 403
    assert PersonMerge.objects.get().unmerged_at is None


def test_the_review_page_links_to_undoing_the_merge_a_confirmation_made(world):
    from civicloop.linkage.models import ReviewItem

    alyce = f.PersonFactory(given_name="Alyce", family_name="Okafor")
    record = f.serve(alyce, world.employment, local_id="E-9")
    item = ReviewItem.objects.create(
        source_record_l=world.alice.links.get().source_record,
        source_record_r=record,
        match_probability=0.7,
        explanation={"match_weight": 1.0, "contributions": []},
    )
    client = client_for(world.housing_worker)
    client.post(reverse("linkage:review_decide", args=[item.id]), {"decision": "confirm"})
    merge = PersonMerge.objects.get()
    html = client.get(reverse("linkage:review_detail", args=[item.id])).content.decode()
    assert url(merge) in html
    client.post(url(merge), {"reason": "Not her"})
    html = client.get(reverse("linkage:review_detail", args=[item.id])).content.decode()
    assert url(merge) not in html
