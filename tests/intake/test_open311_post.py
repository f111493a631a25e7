"""POST requests: a client application with a key reports a problem; bad input gets the
spec's error and writes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from civicloop.cases.models import Case, CaseEvent
from civicloop.intake.models import ReportOrigin, ServiceRequestToken
from civicloop.trust.models import AuditEvent
from tests.intake import open311_spec as spec
from tests.intake.intake_city import INSIDE, OUTSIDE, build_city

pytestmark = pytest.mark.django_db

URL = "/open311/v2/requests.json"
XML_URL = "/open311/v2/requests.xml"


@pytest.fixture
def city():
    return build_city()


@pytest.fixture
def client():
    return Client()


def form(city, **fields):
    values = {
        "api_key": city.key,
        "service_code": "STR-POTHOLE",
        "lat": str(INSIDE[0]),
        "long": str(INSIDE[1]),
        "attribute[where]": "road",
        "description": "Hole by the bus stop",
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def written() -> tuple[int, int, int, int, int]:
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        AuditEvent.objects.filter(outcome="ok").exclude(action="open311.key_issue").count(),
        ServiceRequestToken.objects.count(),
        ReportOrigin.objects.count(),
    )


def test_a_report_by_point_becomes_a_case(city, client):
    response = client.post(
        URL,
        form(
            city,
            email="rosa@example.org",
            first_name="Rosa",
            last_name="Diaz",
            phone="07700 900555",
            device_id="device-7",
            account_id="acct-42",
            media_url="https://photos.example.org/1.jpg",
            **{"attribute[depth_cm]": "12", "attribute[hazards][]": ["water", "edge"]},
        ),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body) == 1 and set(body[0]) == spec.CREATED_FIELDS
    case = Case.objects.get(reference=body[0]["service_request_id"])
    assert isinstance(body[0]["service_request_id"], str)
    assert body[0]["account_id"] == "acct-42"
    assert "5 days" in body[0]["service_notice"]
    assert case.channel == "open311" and case.area_id == city.ward.id
    assert case.attributes == {"where": "road", "depth_cm": "12", "hazards": ["water", "edge"]}
    assert case.media_url == "https://photos.example.org/1.jpg"
    origin = ReportOrigin.objects.get(case=case)
    assert (origin.client_id, origin.device_id, origin.account_id) == (
        city.client.id,
        "device-7",
        "acct-42",
    )


def test_a_report_by_address_string_shows_the_gazetteers_address(city, client):
    fields = form(city, lat=None, long=None, address_string="Flat 2 Oak House, 45 Mill Ln")
    response = client.post(URL, fields)
    assert response.status_code == 200, response.content
    reference = response.json()[0]["service_request_id"]
    shown = client.get(f"/open311/v2/requests/{reference}.json").json()[0]
    assert shown["address"] == "Flat 2, Oak House, 45 Mill Lane, Riverton, RV1 2AB"
    assert shown["address_id"] == "1004"


def test_a_report_in_xml(city, client):
    response = client.post(XML_URL, form(city, lat=None, long=None, address_id="1002"))
    root = spec.xml(response)
    assert root.tag == "service_requests"
    assert set(spec.children(root.find("request"))) == spec.CREATED_FIELDS
    assert Case.objects.filter(reference=root.findtext("request/service_request_id")).exists()


def test_a_batch_service_answers_with_a_token(city, client):
    response = client.post(URL, form(city, service_code="STR-BINS", **{"attribute[where]": None}))
    body = response.json()
    assert set(body[0]) == spec.TOKEN_CREATED_FIELDS
    token = ServiceRequestToken.objects.get(token=body[0]["token"])
    assert token.client_id == city.client.id and token.case is not None


@pytest.mark.parametrize("key", [None, "", "o311_not-a-key"])
def test_a_missing_or_wrong_api_key_is_403_and_writes_nothing(city, client, key):
    before = written()
    spec.assert_json_errors(client.post(URL, form(city, api_key=key)), 403)
    spec.assert_xml_errors(client.post(XML_URL, form(city, api_key=key)), 403)
    assert written() == before


def test_a_revoked_key_stops_working(city, client):
    city.client.active = False
    city.client.save()
    spec.assert_json_errors(client.post(URL, form(city)), 403)


@pytest.mark.parametrize(
    "fields, mentions",
    [
        ({"service_code": "NO-SUCH"}, "service_code"),
        ({"service_code": None}, "service_code"),
        ({"service_code": "HLT-MENTAL"}, "service_code"),
        ({"lat": None, "long": None}, "location"),
        ({"long": None}, "location"),
        ({"lat": "north", "long": "west"}, "lat"),
        ({"lat": str(OUTSIDE[0]), "long": str(OUTSIDE[1])}, "location"),
        ({"lat": None, "long": None, "address_id": "nope"}, "location"),
        ({"lat": None, "long": None, "address_string": "99 Imaginary Boulevard"}, "location"),
        ({"attribute[where]": None}, "attribute[where]"),
        ({"attribute[where]": "moon"}, "attribute[where]"),
        ({"attribute[depth_cm]": "very"}, "attribute[depth_cm]"),
        ({"attribute[seen]": "last tuesday"}, "attribute[seen]"),
        ({"attribute[hazards][]": ["water", "lava"]}, "attribute[hazards]"),
        ({"description": "x" * 4001}, "description"),
        ({"media_url": "file:///etc/passwd"}, "media_url"),
        ({"media_url": "https://nohost/"}, "media_url"),
        ({"media_url": "https://user:pw@example.org/a.jpg"}, "media_url"),
        ({"email": "rosa@"}, "email"),
        ({"description": "bad \x00 byte"}, "control characters"),
    ],
)
def test_bad_input_is_400_naming_the_problem_and_writes_nothing(city, client, fields, mentions):
    before = written()
    descriptions = spec.assert_json_errors(client.post(URL, form(city, **fields)), 400)
    assert any(mentions in d for d in descriptions), descriptions
    spec.assert_xml_errors(client.post(XML_URL, form(city, **fields)), 400)
    assert written() == before


def test_a_wrong_jurisdiction_is_404_and_writes_nothing(city, client):
    before = written()
    spec.assert_json_errors(client.post(URL, form(city, jurisdiction_id="elsewhere")), 404)
    assert written() == before


def test_posting_needs_no_csrf_token(city):
    client = Client(enforce_csrf_checks=True)
    assert client.post(URL, form(city)).status_code == 200
