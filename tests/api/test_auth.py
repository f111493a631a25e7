"""Who may call the API: personal access tokens (stored hashed), sessions with CSRF, staff only."""

import datetime as dt
import hashlib

import pytest
from django.test import Client

from civicloop.core import clock
from civicloop.staff.models import ApiToken
from civicloop.staff.tokens import token_authenticate, token_issue, token_revoke
from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.api.conftest import API, ApiClient

pytestmark = pytest.mark.django_db


def denials() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="access.denied").order_by("id"))


def test_token_is_stored_only_as_its_sha256(world):
    token, raw = token_issue(staff=world.housing_worker, name="nightly export")
    assert raw.startswith("cl_") and len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert stored.prefix == raw[:12]
    row_text = " ".join(
        str(v) for v in ApiToken.objects.filter(pk=token.pk).values().first().values()
    )
    assert raw not in row_text and raw[12:] not in row_text
    assert token_authenticate(raw) == world.housing_worker


def test_no_credentials_is_401_and_audited(world, anonymous):
    response = anonymous.get("/people", {"name": "Okafor"})
    assert response.status_code == 401
    assert response.json() == {"detail": response.json()["detail"]} and response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    [event] = denials()
    assert event.outcome == "unauthenticated" and event.actor_user_id is None
    assert "Okafor" not in str(event.__dict__)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer cl_not-a-real-token-at-all-0000000000000",
        "Bearer ",
        "Basic aGFuYTpwYXNzd29yZA==",
        "Token abc",
    ],
)
def test_a_bad_token_is_401(world, header):
    client = Client()
    response = client.get(f"{API}/departments", headers={"Authorization": header})
    assert response.status_code == 401
    assert len(denials()) == 1


def test_an_expired_token_is_401(world):
    _, raw = token_issue(
        staff=world.housing_worker, name="short", expires_at=clock.now() + dt.timedelta(hours=1)
    )
    assert ApiClient(raw).get("/departments").status_code == 200
    with clock.frozen_at(clock.now() + dt.timedelta(hours=2)):
        assert ApiClient(raw).get("/departments").status_code == 401


def test_a_revoked_token_is_401(world):
    token, raw = token_issue(staff=world.housing_worker, name="laptop")
    assert ApiClient(raw).get("/departments").status_code == 200
    token_revoke(token_id=token.id, staff=world.housing_worker)
    assert ApiClient(raw).get("/departments").status_code == 401
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="token.")] == [
        "token.issue",
        "token.revoke",
    ]


def test_a_token_of_staff_who_left_is_401(world):
    _, raw = token_issue(staff=world.housing_worker, name="laptop")
    world.housing_worker.active = False
    world.housing_worker.save()
    assert ApiClient(raw).get("/departments").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(world):
    token, raw = token_issue(staff=world.housing_worker, name="script")
    t0 = clock.now()
    with clock.frozen_at(t0):
        ApiClient(raw).get("/departments")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == t0
    with clock.frozen_at(t0 + dt.timedelta(seconds=30)):
        ApiClient(raw).get("/departments")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == t0
    with clock.frozen_at(t0 + dt.timedelta(seconds=61)):
        ApiClient(raw).get("/departments")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == t0 + dt.timedelta(seconds=61)


def test_a_bad_token_is_401_even_with_a_signed_in_session(world):
    client = Client()
    client.force_login(world.housing_worker.user)
    assert client.get(f"{API}/departments").status_code == 200
    response = client.get(
        f"{API}/departments", headers={"Authorization": "Bearer cl_revoked-or-unknown-000000000000"}
    )
    assert response.status_code == 401


def test_a_session_reads_and_writes_with_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.housing_worker.user)
    assert client.get(f"{API}/people/{world.alice.id}").status_code == 200
    body = {"person_id": world.alice.id, "channel": "phone", "summary": "Asked about repairs"}
    refused = client.post(f"{API}/interactions", body, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    # The docs page hands out the CSRF token that Swagger UI sends back.
    docs = client.get(f"{API}/docs")
    token = client.cookies["csrftoken"].value
    assert docs.status_code == 200
    accepted = client.post(
        f"{API}/interactions", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201, accepted.content


def test_a_signed_in_user_who_is_not_staff_is_403_and_audited(world):
    user = f.UserFactory(username="citizen")
    client = Client()
    client.force_login(user)
    response = client.get(f"{API}/departments")
    assert response.status_code == 403
    [event] = denials()
    assert event.outcome == "forbidden" and event.actor_user_id == user.id


def test_an_inactive_staff_member_with_a_session_is_403(world):
    world.analyst.active = False
    world.analyst.save()
    client = Client()
    client.force_login(world.analyst.user)
    assert client.get(f"{API}/departments").status_code == 403


def test_catalogue_is_open_to_every_staff_role(world, api_as):
    for staff in (world.housing_worker, world.analyst, world.admin):
        client = api_as(staff)
        for path in ("/departments", "/services", "/needs", "/areas"):
            response = client.get(path)
            assert response.status_code == 200, (staff.role, path)
    services = api_as(world.analyst).get("/services", {"department_id": world.housing.id}).json()
    assert [s["code"] for s in services] == ["HSG-REPAIR"]
    assert services[0]["workflow"]["initial"] == "new"
    assert {"status": "in_progress", "label": "In progress"} in services[0]["workflow"]["statuses"]


def test_catalogue_reads_write_no_audit_event(world, api_as):
    client = api_as(world.housing_worker)
    before = AuditEvent.objects.count()
    client.get("/departments")
    client.get("/services")
    assert AuditEvent.objects.count() == before
