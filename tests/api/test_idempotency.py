"""Idempotency-Key: a retried POST or PATCH returns the first answer and writes nothing more."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from civicloop.cases.models import Case, CaseEvent
from civicloop.core import clock
from civicloop.core.models import IdempotencyRecord
from civicloop.people.models import Person
from civicloop.staff.tokens import token_issue
from civicloop.trust.models import AuditEvent
from tests.api.conftest import ApiClient
from tests.world import build_world

pytestmark = pytest.mark.django_db


def open_case_body(world, description="Leaking roof"):
    return {
        "service_id": world.housing_case.service_id,
        "person_id": world.alice.id,
        "description": description,
    }


def test_a_retried_post_returns_the_same_case_and_writes_once(world, api_as):
    client = api_as(world.housing_worker)
    key = {"Idempotency-Key": "3f1c9a8e-open-roof"}
    cases, audits = Case.objects.count(), AuditEvent.objects.count()
    first = client.post("/cases", open_case_body(world), headers=key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    retry = client.post("/cases", open_case_body(world), headers=key)
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert Case.objects.count() == cases + 1
    assert CaseEvent.objects.filter(case_id=first.json()["id"]).count() == 1
    assert AuditEvent.objects.count() == audits + 1
    assert AuditEvent.objects.latest("id").action == "case.open"


def test_the_same_body_in_another_key_order_or_spacing_is_the_same_request(world, api_as):
    client = api_as(world.housing_worker)
    body = open_case_body(world)
    first = client.post("/cases", body, headers={"Idempotency-Key": "k1"})
    alice, service = world.alice.id, world.housing_case.service_id
    reordered = (
        f'{{"description": "Leaking roof",   "person_id": {alice}, "service_id": {service}}}'
    )
    retry = client.post("/cases", reordered, headers={"Idempotency-Key": "k1"})
    assert retry["Idempotent-Replayed"] == "true" and retry.json()["id"] == first.json()["id"]


def test_the_same_key_with_a_different_body_is_refused(world, api_as):
    client = api_as(world.housing_worker)
    client.post("/cases", open_case_body(world), headers={"Idempotency-Key": "k2"})
    cases = Case.objects.count()
    other = client.post(
        "/cases", open_case_body(world, "Something else"), headers={"Idempotency-Key": "k2"}
    )
    assert other.status_code == 422
    assert list(other.json()["errors"]) == ["idempotency_key"]
    elsewhere = client.post(
        f"/cases/{world.housing_case.id}/notes", {"note": "x"}, headers={"Idempotency-Key": "k2"}
    )
    assert elsewhere.status_code == 422
    assert Case.objects.count() == cases


def test_keys_belong_to_one_user(world, api_as):
    key = {"Idempotency-Key": "shared-key"}
    one = api_as(world.housing_worker).post("/cases", open_case_body(world), headers=key)
    two = api_as(world.housing_supervisor).post("/cases", open_case_body(world), headers=key)
    assert two.status_code == 201 and "Idempotent-Replayed" not in two
    assert one.json()["id"] != two.json()["id"]


def test_a_refused_request_is_not_kept_so_a_corrected_retry_goes_through(world, api_as):
    client = api_as(world.housing_worker)
    key = {"Idempotency-Key": "fix-and-retry"}
    stale = client.post(
        f"/cases/{world.housing_case.id}/transition",
        {"to_status": "in_progress", "version": 7},
        headers=key,
    )
    assert stale.status_code == 409
    assert not IdempotencyRecord.objects.exists()
    # The same request again is answered afresh (still 409), the key stays free.
    assert (
        client.post(
            f"/cases/{world.housing_case.id}/transition",
            {"to_status": "in_progress", "version": 7},
            headers=key,
        ).status_code
        == 409
    )
    ok = client.post(
        f"/cases/{world.housing_case.id}/transition",
        {"to_status": "in_progress", "version": 1},
        headers=key,
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2


def test_a_key_can_be_reused_after_it_expires(world, api_as, settings):
    client = api_as(world.housing_worker)
    key = {"Idempotency-Key": "daily-import"}
    t0 = clock.now()
    with clock.frozen_at(t0):
        first = client.post("/cases", open_case_body(world), headers=key)
    later = t0 + dt.timedelta(hours=settings.CIVICLOOP["IDEMPOTENCY_TTL_HOURS"], minutes=1)
    with clock.frozen_at(later):
        second = client.post("/cases", open_case_body(world, "Another leak"), headers=key)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert second.json()["id"] != first.json()["id"]
    assert IdempotencyRecord.objects.filter(key="daily-import").count() == 1


def test_patch_is_idempotent_too(world, api_as):
    client = api_as(world.housing_worker)
    key = {"Idempotency-Key": "rename-1"}
    first = client.patch(
        f"/people/{world.alice.id}", {"version": 1, "middle_names": "Ngozi"}, headers=key
    )
    retry = client.patch(
        f"/people/{world.alice.id}", {"version": 1, "middle_names": "Ngozi"}, headers=key
    )
    assert first.status_code == retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true" and retry.json()["version"] == 2
    assert Person.objects.get(pk=world.alice.id).version == 2


@pytest.mark.parametrize("key", ["", "x" * 201, "clé-non-ascii"])
def test_a_malformed_key_is_422(world, api_as, key):
    response = api_as(world.housing_worker).post(
        "/cases", open_case_body(world), headers={"Idempotency-Key": key}
    )
    assert response.status_code == 422 and list(response.json()["errors"]) == ["idempotency_key"]


def test_a_replay_needs_the_same_authenticated_user(world, api_as, anonymous):
    key = {"Idempotency-Key": "k-auth"}
    api_as(world.housing_worker).post("/cases", open_case_body(world), headers=key)
    assert anonymous.post("/cases", open_case_body(world), headers=key).status_code == 401


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite lets one writer at a time: two requests never write side by side",
)
def test_concurrent_duplicates_write_once():
    world = build_world()
    _, raw = token_issue(staff=world.housing_worker, name="race")
    body = open_case_body(world)
    barrier = threading.Barrier(4)
    answers: list = []
    errors: list[BaseException] = []

    def send():
        try:
            barrier.wait(10)
            answers.append(ApiClient(raw).post("/cases", body, headers={"Idempotency-Key": "race"}))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(1 for a in answers if a.get("Idempotent-Replayed") == "true") == 3
    assert Case.objects.filter(description="Leaking roof").count() == 1
