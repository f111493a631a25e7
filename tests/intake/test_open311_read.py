"""Reading Open311: discovery, services, service definitions and requests, in JSON (checked
against the published schemas) and XML (against the specification's element names)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from civicloop.cases.models import Case
from civicloop.core import clock
from civicloop.intake.models import PublicUpdate
from civicloop.intake.services import ReportIn, report_submit
from tests import factories as f
from tests.intake import open311_spec as spec
from tests.intake.intake_city import INSIDE, build_city

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def city():
    with clock.frozen_at(NOW):
        yield build_city()


@pytest.fixture
def client():
    return Client()


def report(city, **fields):
    values = {
        "service_code": "STR-POTHOLE",
        "description": "Hole outside the school",
        "address_id": "1001",
        "attributes": {"where": "road"},
        "first_name": "Rosa",
        "last_name": "Diaz",
        "email": "rosa.diaz@example.org",
        "phone": "07700 900555",
        "media_url": "https://photos.example.org/hole.jpg",
        **fields,
    }
    return report_submit(report=ReportIn(**values), channel="open311", client=city.client).case


def test_discovery_names_this_endpoint_and_its_formats(city, client):
    response = client.get(f"{BASE}/discovery.json")
    body = response.json()
    assert set(body) == spec.DISCOVERY_FIELDS
    endpoint = body["endpoints"][0]
    assert set(endpoint) == spec.ENDPOINT_FIELDS
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = spec.xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery" and set(spec.children(root)) == spec.DISCOVERY_FIELDS
    endpoint = root.find("endpoints/endpoint")
    assert set(spec.children(endpoint)) == spec.ENDPOINT_FIELDS
    assert [e.text for e in endpoint.find("formats")] == ["text/xml", "application/json"]


def test_services_lists_only_public_active_non_sensitive_services(city, client):
    f.ServiceFactory(code="STR-OLD", department=city.streets, active=False)
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    body = response.json()
    spec.validate_services(body)
    codes = [s["service_code"] for s in body]
    assert codes == ["EMP-JOBS", "STR-BINS", "STR-LIGHT", "STR-POTHOLE"]
    pothole = body[codes.index("STR-POTHOLE")]
    assert pothole == {
        "service_code": "STR-POTHOLE",
        "service_name": "Pothole",
        "description": "",
        "metadata": True,
        "type": "realtime",
        "keywords": "pothole, road",
        "group": "Roads",
    }
    assert body[codes.index("STR-BINS")]["type"] == "batch"
    assert body[codes.index("STR-LIGHT")]["metadata"] is False


def test_services_in_xml(city, client):
    root = spec.xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and set(spec.children(root)) == {"service"}
    for service in root:
        assert spec.children(service) == spec.SERVICE_FIELDS
    pothole = next(s for s in root if s.findtext("service_code") == "STR-POTHOLE")
    assert pothole.findtext("metadata") == "true" and pothole.findtext("type") == "realtime"


def test_a_service_definition_lists_its_typed_questions_in_order(city, client):
    body = client.get(f"{BASE}/services/STR-POTHOLE.json").json()
    spec.validate_service_definition(body)
    assert body["service_code"] == "STR-POTHOLE"
    attributes = body["attributes"]
    assert [a["code"] for a in attributes] == ["where", "depth_cm", "hazards", "seen", "note"]
    assert [a["order"] for a in attributes] == [1, 2, 3, 4, 5]
    assert [a["datatype"] for a in attributes] == [
        "singlevaluelist",
        "number",
        "multivaluelist",
        "datetime",
        "text",
    ]
    where = attributes[0]
    assert where["required"] is True and where["variable"] is True
    assert where["values"] == [
        {"key": "road", "name": "In the road"},
        {"key": "pavement", "name": "Pavement"},
    ]
    assert attributes[1]["datatype_description"] == "A number"
    assert attributes[4]["variable"] is False
    for attribute in attributes:
        assert spec.ATTRIBUTE_FIELDS <= set(attribute) <= spec.ATTRIBUTE_FIELDS | {"values"}


def test_a_service_definition_in_xml(city, client):
    root = spec.xml(client.get(f"{BASE}/services/STR-POTHOLE.xml"))
    assert root.tag == "service_definition"
    assert spec.children(root) == ["service_code", "attributes"]
    first = root.find("attributes/attribute")
    assert spec.ATTRIBUTE_FIELDS <= set(spec.children(first))
    assert [(v.findtext("key"), v.findtext("name")) for v in first.find("values")] == [
        ("road", "In the road"),
        ("pavement", "Pavement"),
    ]
    assert first.findtext("required") == "true"


@pytest.mark.parametrize("code", ["NO-SUCH", "HLT-MENTAL", "STR-INTERNAL"])
def test_an_unknown_or_hidden_service_definition_is_404(city, client, code):
    spec.assert_json_errors(client.get(f"{BASE}/services/{code}.json"), 404)
    spec.assert_xml_errors(client.get(f"{BASE}/services/{code}.xml"), 404)


def test_requests_list_public_fields_only(city, client):
    with clock.frozen_at(NOW):
        case = report(city)
        PublicUpdate.objects.create(case=case, status="investigating", description="Crew booked")
    response = client.get(f"{BASE}/requests.json", {"end_date": "2026-06-02T00:00:00Z"})
    body = response.json()
    spec.validate_requests(body)
    assert len(body) == 1
    item = body[0]
    assert list(item) == spec.REQUEST_FIELDS
    assert item["service_request_id"] == case.reference
    assert item["status"] == "open" and item["status_notes"] == "Crew booked"
    assert item["description"] == "Hole outside the school"
    assert item["address"] == "12 Mill Lane, Riverton, RV1 2AB"
    assert item["address_id"] == "1001" and item["zipcode"] == "RV1 2AB"
    assert (item["lat"], item["long"]) == (51.5001, -0.1001)
    assert item["agency_responsible"] == "Streets"
    assert item["media_url"] == "https://photos.example.org/hole.jpg"
    assert item["requested_datetime"].startswith("2026-06-01T")
    # Never the reporter.
    for secret in ("Rosa", "Diaz", "rosa.diaz@example.org", "900555"):
        assert secret not in response.content.decode()
        assert secret not in client.get(f"{BASE}/requests.xml").content.decode()


def test_requests_in_xml(city, client):
    with clock.frozen_at(NOW - dt.timedelta(days=1)):
        report(city)
    root = spec.xml(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and set(spec.children(root)) == {"request"}
    assert spec.children(root[0]) == spec.REQUEST_FIELDS
    assert root[0].findtext("status") == "open"


def test_reports_that_are_not_about_a_place_are_never_listed(city, client):
    with clock.frozen_at(NOW - dt.timedelta(days=1)):
        jobs = report_submit(
            report=ReportIn(service_code="EMP-JOBS", description="I lost my job"), channel="web"
        ).case
        f.CaseFactory(service=city.secret_service, latitude=INSIDE[0], longitude=INSIDE[1])
    assert client.get(f"{BASE}/requests.json").json() == []
    spec.assert_json_errors(client.get(f"{BASE}/requests/{jobs.reference}.json"), 404)


def test_filters_by_id_service_status_and_dates(city, client):
    with clock.frozen_at(NOW - dt.timedelta(days=100)):
        old = report(city)
    with clock.frozen_at(NOW - dt.timedelta(days=10)):
        recent = report(city, address_id="1002")
        light = report_submit(
            report=ReportIn(service_code="STR-LIGHT", address_id="1003"), channel="web"
        ).case
    Case.objects.filter(pk=light.pk).update(status="closed")
    with clock.frozen_at(NOW):

        def ids(**params):
            response = client.get(f"{BASE}/requests.json", params)
            assert response.status_code == 200, response.content
            spec.validate_requests(response.json())
            return {r["service_request_id"] for r in response.json()}

        # The default is the most recent 90 days.
        assert ids() == {recent.reference, light.reference}
        assert ids(service_code="STR-LIGHT") == {light.reference}
        assert ids(service_code="STR-LIGHT,STR-POTHOLE") == {light.reference, recent.reference}
        assert ids(status="open") == {recent.reference}
        assert ids(status="closed") == {light.reference}
        assert ids(status="open,closed") == {recent.reference, light.reference}
        assert ids(start_date="2026-02-01T00:00:00Z", end_date="2026-03-01T00:00:00Z") == {
            old.reference
        }
        # Asking for ids ignores the other filters.
        assert ids(service_request_id=f"{old.reference},{light.reference}", status="open") == {
            old.reference,
            light.reference,
        }


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-40"},
        {"start_date": "2026-05-01T00:00:00Z", "end_date": "2026-04-01T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"},
        {"status": "pending"},
    ],
)
def test_bad_filters_are_400(city, client, params):
    spec.assert_json_errors(client.get(f"{BASE}/requests.json", params), 400)
    spec.assert_xml_errors(client.get(f"{BASE}/requests.xml", params), 400)


def test_one_request_by_its_id(city, client):
    with clock.frozen_at(NOW):
        case = report(city)
    response = client.get(f"{BASE}/requests/{case.reference}.json")
    body = response.json()
    spec.validate_request(body)
    assert body[0]["service_request_id"] == case.reference
    root = spec.xml(client.get(f"{BASE}/requests/{case.reference}.xml"))
    assert root.tag == "service_requests"
    assert spec.children(root.find("request")) == spec.REQUEST_FIELDS
    spec.assert_json_errors(client.get(f"{BASE}/requests/CL-0000-0000.json"), 404)
    spec.assert_xml_errors(client.get(f"{BASE}/requests/CL-0000-0000.xml"), 404)


def test_a_token_resolves_to_the_request_id(city, client):
    receipt = report_submit(
        report=ReportIn(service_code="STR-BINS", address_id="1001"),
        channel="open311",
        client=city.client,
    )
    body = client.get(f"{BASE}/tokens/{receipt.token}.json").json()
    assert body == [{"service_request_id": receipt.case.reference, "token": receipt.token}]
    root = spec.xml(client.get(f"{BASE}/tokens/{receipt.token}.xml"))
    assert set(spec.children(root.find("request"))) == spec.TOKEN_FIELDS
    spec.assert_json_errors(client.get(f"{BASE}/tokens/nope.json"), 404)


def test_wrong_jurisdiction_and_unknown_paths_are_404(city, client):
    spec.assert_json_errors(
        client.get(f"{BASE}/services.json", {"jurisdiction_id": "elsewhere"}), 404
    )
    assert (
        client.get(f"{BASE}/services.json", {"jurisdiction_id": "city-of-riverton"}).status_code
        == 200
    )
    spec.assert_json_errors(client.get(f"{BASE}/services"), 404)
    spec.assert_xml_errors(client.get(f"{BASE}/nothing.xml"), 404)


def test_a_method_the_endpoint_does_not_take_is_refused_with_an_error_body(city, client):
    response = client.post(f"{BASE}/services.json")
    spec.assert_json_errors(response, 405)
    assert response["Allow"] == "GET"
