"""The access matrix of tests/test_access_matrix.py over every route of the review queue:
401 anonymous, 403 for analysts and admins, 404 for a caseworker of a department holding
neither record, allowed for the supervisor of a department that holds one; every refusal
audited once. Routes are read from the URL resolver, so a new one cannot slip through."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from tests import factories as f
from tests.test_access_matrix import check, clients, expected
from tests.world import build_world

from civicloop.core.access import NotVisible
from civicloop.linkage.models import ReviewItem
from civicloop.linkage.services import review_decide
from civicloop.people.merge import person_merge

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def linkage_routes(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from linkage_routes(pattern, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name and namespace == "linkage":
            yield f"linkage:{pattern.name}", sorted(pattern.pattern.converters)


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def item(world):
    twin = f.PersonFactory(
        given_name="Alys", family_name="Okafor", date_of_birth=dt.date(1985, 3, 14)
    )
    record = f.serve(twin, world.health, local_id="N-9")
    return ReviewItem.objects.create(
        source_record_l=world.alice.links.get().source_record,
        source_record_r=record,
        match_probability=0.7,
        explanation={"match_weight": 1.2, "contributions": []},
    )


@pytest.fixture
def merge(world):
    duplicate = f.PersonFactory(given_name="Alice", family_name="Okafor")
    f.serve(duplicate, world.housing, local_id="H-5")
    return person_merge(
        viewer=world.viewer(world.housing_worker),
        kept_person_id=world.alice.id,
        merged_person_id=duplicate.id,
        reason="Registered twice",
    )


def test_every_review_route_for_every_viewer(world, item, merge):
    routes = list(linkage_routes())
    assert {name for name, _params in routes} >= {
        "linkage:review_list",
        "linkage:review_detail",
        "linkage:review_decide",
        "linkage:merge_undo",
    }
    ids = {"review_item_id": item.id, "merge_id": merge.id}
    problems: list[str] = []
    for viewer, client in clients(world).items():
        for name, params in routes:
            url = reverse(name, kwargs={p: ids[p] for p in params})
            want = expected(viewer, personal=True, has_object=bool(params), public=False)
            for method in ("GET", "POST"):
                if method == "GET" and client.get(url).status_code == 405:
                    continue  # POST-only route; checked below
                check(client, method, url, want, f"{viewer} {method} {name}", problems)
    assert not problems, "\n".join(problems)
    item.refresh_from_db()
    merge.refresh_from_db()
    # Nobody's refused or empty post decided or undid anything.
    assert item.status == "open" and merge.unmerged_at is None


def test_only_staff_of_a_department_holding_a_record_may_decide(world, item):
    for staff in (world.childcare_worker, world.employment_worker):
        with pytest.raises(NotVisible):
            review_decide(viewer=world.viewer(staff), review_item_id=item.id, decision="reject")
    review_decide(viewer=world.viewer(world.health_worker), review_item_id=item.id, decision="skip")
    item.refresh_from_db()
    assert item.status == "skipped"
