"""What GeoReport v2 says a response holds: the published JSON Schemas (shared/data), and the
field lists and element names of the specification for the rest and for XML."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema


def _schemas() -> Path:
    """The shared test data beside the checkout, or where CIVICLOOP_SHARED_DATA or this
    workplace keeps it (CI runs on a clean clone that may sit elsewhere)."""
    candidates = [
        os.environ.get("CIVICLOOP_SHARED_DATA", ""),
        str(Path(__file__).resolve().parents[2].parent / "shared" / "data"),
        "/work/shared/data",
    ]
    for root in filter(None, candidates):
        if (Path(root) / "open311-schemas" / "services.json").is_file():
            return Path(root) / "open311-schemas"
    raise FileNotFoundError(
        "The Open311 schemas (shared/data/open311-schemas) are not found: set CIVICLOOP_SHARED_DATA."
    )


SCHEMAS = _schemas()

SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
ATTRIBUTE_FIELDS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
}
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
CREATED_FIELDS = {"service_request_id", "service_notice", "account_id"}
TOKEN_CREATED_FIELDS = {"token", "service_notice", "account_id"}
TOKEN_FIELDS = {"service_request_id", "token"}
DISCOVERY_FIELDS = {"changeset", "contact", "key_service", "endpoints"}
ENDPOINT_FIELDS = {"specification", "url", "changeset", "type", "formats"}
ERROR_FIELDS = {"code", "description"}
UPDATE_FIELDS = {
    "update_id",
    "service_request_id",
    "status",
    "updated_datetime",
    "description",
    "media_url",
}
DATETIME_FIELDS = ("requested_datetime", "updated_datetime", "expected_datetime")


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def _array_of(item_schema: str) -> dict:
    # services.json and requests.json hold `"$ref": "<item>.json"`: the same schema, inlined.
    schema = _schema(item_schema.replace(".json", "s.json"))
    schema["items"] = {
        **_schema(item_schema),
        **{k: v for k, v in schema["items"].items() if k != "$ref"},
    }
    return schema


def validate_services(body) -> None:
    jsonschema.validate(body, _array_of("service.json"))


def validate_service_definition(body) -> None:
    jsonschema.validate(body, _schema("service-definition.json"))


def validate_requests(body) -> None:
    jsonschema.validate(body, _array_of("request.json"))
    for item in body:
        assert_datetimes(item)


def validate_request(body) -> None:
    """requests/{id}: a list of one request (swagger.json names it /request/{id}; the spec wins)."""
    assert isinstance(body, list) and len(body) == 1
    jsonschema.validate(body[0], _schema("request.json"))
    assert_datetimes(body[0])


def assert_datetimes(item: dict) -> None:
    """Date-times are ISO 8601 with a time zone."""
    for name in DATETIME_FIELDS:
        value = item.get(name)
        if value is not None:
            parsed = dt.datetime.fromisoformat(value)
            assert parsed.tzinfo is not None, f"{name} {value!r} has no time zone"


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    assert response.content.startswith(b"<?xml")
    return ET.fromstring(response.content)


def children(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def assert_xml_errors(response, status: int) -> list[str]:
    root = xml(response)
    assert response.status_code == status
    assert root.tag == "errors" and children(root) and set(children(root)) == {"error"}
    descriptions = []
    for error in root:
        assert set(children(error)) == ERROR_FIELDS
        assert error.findtext("code") == str(status)
        descriptions.append(error.findtext("description"))
    return descriptions


def assert_json_errors(response, status: int) -> list[str]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, list) and body
    for error in body:
        assert set(error) == ERROR_FIELDS and error["code"] == status
        assert isinstance(error["description"], str) and error["description"]
    return [e["description"] for e in body]
