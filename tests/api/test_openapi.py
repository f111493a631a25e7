"""The schema at /api/v1/openapi.json is valid OpenAPI 3.1 and lists every route; the docs
page works with nothing but this server (Swagger UI from the copy ninja ships).

openapi-3.1-schema.json is the OpenAPI Initiative's schema for OAS 3.1 documents
(https://spec.openapis.org/oas/3.1/schema/2022-10-07, Apache-2.0), kept here so that
the check needs no network.
"""

import json
import re
from pathlib import Path

import jsonschema
import pytest
from django.test import Client
from django.urls import URLPattern

from civicloop.api import api

pytestmark = pytest.mark.django_db

META_SCHEMA = json.loads((Path(__file__).parent / "openapi-3.1-schema.json").read_text())

# Every route of the staff API. A route that disappears or appears without being listed
# here fails the test: a change to the API is a decision, not an accident.
ROUTES = {
    ("get", "/api/v1/people"),
    ("post", "/api/v1/people"),
    ("get", "/api/v1/people/matches"),
    ("get", "/api/v1/people/{person_id}"),
    ("patch", "/api/v1/people/{person_id}"),
    ("get", "/api/v1/people/{person_id}/timeline"),
    ("get", "/api/v1/people/{person_id}/household"),
    ("post", "/api/v1/people/{person_id}/needs"),
    ("patch", "/api/v1/needs/{person_need_id}"),
    ("get", "/api/v1/cases"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases/{case_id}"),
    ("post", "/api/v1/cases/{case_id}/transition"),
    ("post", "/api/v1/cases/{case_id}/assign"),
    ("post", "/api/v1/cases/{case_id}/notes"),
    ("post", "/api/v1/interactions"),
    ("get", "/api/v1/departments"),
    ("get", "/api/v1/services"),
    ("get", "/api/v1/needs"),
    ("get", "/api/v1/areas"),
}
UNDOCUMENTED = {"openapi.json", "docs", "docs/assets/<name>", "<path:rest>", ""}


@pytest.fixture
def schema() -> dict:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3_1(schema):
    assert schema["openapi"].startswith("3.1")
    jsonschema.Draft202012Validator(META_SCHEMA).validate(schema)
    broken = {k: v for k, v in schema.items() if k != "info"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(META_SCHEMA).validate(broken)


def test_schema_lists_every_route(schema):
    documented = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert documented == ROUTES
    served = set()
    for pattern in api.urls[0]:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        if route not in UNDOCUMENTED:
            served.add("/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    assert served == {path for _, path in ROUTES}


def test_every_route_needs_credentials_and_documents_its_errors(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["PersonalAccessToken"] == {"type": "http", "scheme": "bearer"}
    assert schemes["StaffSession"]["in"] == "cookie"
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation["security"], (method, path)
            assert {"401", "403", "404", "422"} <= set(operation["responses"]), (method, path)
            if method in {"post", "patch"}:
                assert "409" in operation["responses"]
                assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]


def test_operation_ids_are_unique_and_short(schema):
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) and all(
        "." not in i and not i.startswith("civicloop") for i in ids
    )


def test_docs_page_uses_only_this_servers_assets():
    client = Client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/api/v1/docs/assets/") for u in urls)
    assert "http://" not in html and "https://" not in html
    types = {
        "swagger-ui.css": "text/css",
        "swagger-ui-bundle.js": "text/javascript",
        "swagger-ui-init.js": "text/javascript",
        "favicon.svg": "image/svg+xml",
    }
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200
        assert asset["Content-Type"] == types[url.rsplit("/", 1)[1]]
        assert b"".join(asset.streaming_content)
    assert client.get("/api/v1/docs/assets/settings.py").status_code == 404


def test_docs_page_renders_the_api_in_a_browser_without_the_internet(live_server, page):
    outside: list[str] = []

    def only_this_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(live_server.url + "/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", state="attached")
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    assert "/api/v1/cases/{case_id}/transition" in {p.replace("\u200b", "") for p in paths}
    assert outside == []
