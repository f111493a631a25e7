"""servicerequestupdates: a back-office system pushes status updates with its key and pulls
every update since a date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from civicloop.cases.models import Case, CaseEvent
from civicloop.cases.services import case_transition
from civicloop.core import clock
from civicloop.core.events import subscribe, unsubscribe
from civicloop.intake.models import PublicUpdate
from civicloop.intake.services import ReportIn, report_submit
from civicloop.trust.models import AuditEvent
from tests.intake import open311_spec as spec
from tests.intake.intake_city import build_city

pytestmark = pytest.mark.django_db

URL = "/open311/v2/servicerequestupdates.json"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def city():
    with clock.frozen_at(NOW):
        yield build_city()


@pytest.fixture
def case(city):
    return report_submit(
        report=ReportIn(
            service_code="STR-POTHOLE",
            address_id="1001",
            attributes={"where": "road"},
            email="rosa@example.org",
        ),
        channel="open311",
        client=city.client,
    ).case


@pytest.fixture
def events():
    seen = []

    def record(event):
        seen.append(event)

    subscribe("*", record)
    yield seen
    unsubscribe("*", record)


def update(city, case, **fields):
    values = {
        "api_key": city.key,
        "service_request_id": case.reference,
        "update_id": "bo-1",
        "status": "FIXED",
        "description": "Filled and rolled.",
        "updated_datetime": "2026-06-01T11:00:00+00:00",
        **fields,
    }
    return {k: v for k, v in values.items() if v is not None}


def test_a_back_office_update_moves_the_case_and_becomes_its_status_notes(
    city, case, events, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, update(city, case))
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body) == 1 and body[0]["update_id"].startswith("u")
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolved_at is not None
    request = client.get(f"/open311/v2/requests/{case.reference}.json").json()[0]
    assert request["status"] == "closed" and request["status_notes"] == "Filled and rolled."
    names = [e.name for e in events]
    assert "case.update_added" in names and "case.status_changed" in names
    added = next(e for e in events if e.name == "case.update_added")
    assert added.data == {"case_id": case.id, "public": True}
    audit = AuditEvent.objects.get(action="case.public_update")
    assert audit.object_ids == [case.id] and "Filled" not in str(audit.__dict__)


def test_the_same_update_sent_twice_changes_nothing_more(city, case):
    client = Client()
    first = client.post(URL, update(city, case)).json()
    events_before = CaseEvent.objects.count()
    again = client.post(URL, update(city, case)).json()
    assert again == first
    assert PublicUpdate.objects.count() == 1 and CaseEvent.objects.count() == events_before


def test_updates_since_a_date_list_posted_updates_and_status_changes(city, case):
    client = Client()
    client.post(URL, update(city, case, status="investigating", description="Inspector sent"))
    with clock.frozen_at(NOW + dt.timedelta(hours=1)):
        case_transition(
            viewer=city.viewer(city.caseworker), case_id=case.id, to_status="closed", version=None
        )
    response = client.get(
        URL,
        {
            "api_key": city.key,
            "start_date": "2026-06-01T00:00:00Z",
            "end_date": "2026-06-02T00:00:00Z",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # The update's own status, then the caseworker's change (the update's change is told once).
    assert [u["status"] for u in body] == ["investigating", "closed"]
    for item in body:
        assert set(item) == spec.UPDATE_FIELDS
        assert item["service_request_id"] == case.reference
    assert body[0]["description"] == "Inspector sent"
    assert body[-1]["status"] == "closed" and body[-1]["description"] == ""
    root = spec.xml(client.get(URL.replace(".json", ".xml"), {"api_key": city.key}))
    assert root.tag == "service_request_updates"
    assert set(spec.children(root)) == {"request_update"}
    assert set(spec.children(root[0])) == spec.UPDATE_FIELDS
    assert "rosa@example.org" not in response.content.decode()


@pytest.mark.parametrize("key", [None, "o311_wrong"])
def test_updates_need_an_api_key(city, case, key):
    client = Client()
    spec.assert_json_errors(client.get(URL, {"api_key": key} if key else {}), 403)
    spec.assert_json_errors(client.post(URL, update(city, case, api_key=key)), 403)
    assert PublicUpdate.objects.count() == 0


@pytest.mark.parametrize(
    "fields, status",
    [
        ({"status": "sort-of"}, 400),
        ({"status": None}, 400),
        ({"update_id": None}, 400),
        ({"description": "x" * 4001}, 400),
        ({"updated_datetime": "soon"}, 400),
        ({"updated_datetime": "2030-01-01T00:00:00Z"}, 400),
        ({"service_request_id": None}, 400),
        ({"service_request_id": "CL-0000-0000"}, 404),
    ],
)
def test_bad_updates_change_nothing(city, case, fields, status):
    before = (Case.objects.get(pk=case.pk).status, CaseEvent.objects.count())
    spec.assert_json_errors(Client().post(URL, update(city, case, **fields)), status)
    assert PublicUpdate.objects.count() == 0
    assert (Case.objects.get(pk=case.pk).status, CaseEvent.objects.count()) == before
