"""The access matrix over every route, generated from the URL resolver and the API schema.

Each route is requested by five viewers: a caseworker of a department that does
not serve the person (nor own the case), the owning department's supervisor,
an analyst, an admin, and an anonymous visitor. Expected: 401 for anonymous,
403 for a role that never sees personal data, 404 for what is outside the
viewer's visibility, anything else for allowed; every refusal is audited.
Configuration pages are the admin's alone: 403 for every other role.
A new route is classified as personal data unless listed as public or
configuration below, so it cannot slip through unchecked.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from civicloop.api import api
from civicloop.intake.keys import open311_client_create
from civicloop.intake.models import PossibleDuplicate, TriageItem
from civicloop.linkage.models import ReviewItem
from civicloop.people.merge import person_merge
from civicloop.people.models import PersonNeed
from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.world import build_world

pytestmark = pytest.mark.django_db

DENIED = {401, 403, 404}
# Staff pages anyone may open (signing in and out).
PUBLIC_PAGES = {"staff:login", "staff:logout"}
# Staff pages any signed-in staff role may open: they show no person.
ANY_STAFF_PAGES = {"staff:home"}
# Configuration pages: admins only, and they show no person.
ADMIN_PAGES = {
    "staff:open311_clients",
    "staff:open311_client_create",
    "staff:open311_client_revoke",
}
# API operations that show no person, by their tag in the schema.
NON_PERSONAL_API_TAGS = {"catalogue", "places"}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff_routes(resolver=None, namespace=""):
    """(view name, route kwargs names) of every named page outside the admin and the API."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or namespace
            # Open311 is public by design, its refusals its own (tests/intake/test_open311_*).
            # So is the citizen portal: every route of it is walked by tests/portal/test_access.py.
            if ns in ("admin", "api", "open311", "portal"):
                continue
            yield from staff_routes(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            assert namespace, f"page {pattern.name!r} has no namespace"
            yield f"{namespace}:{pattern.name}", sorted(pattern.pattern.converters)


def api_operations():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "security" not in operation:
                continue  # the schema and docs themselves
            yield method.upper(), path, set(operation.get("tags", ()))


@pytest.fixture
def world():
    return build_world()


def ids_for(world):
    """An object of the housing department (or its person) for every kind of path id."""
    need = PersonNeed.objects.filter(person=world.alice, department=world.housing).first()
    stranger = f.PersonFactory(given_name="Alys", family_name="Okafor")
    item = ReviewItem.objects.create(
        source_record_l=world.alice.links.get().source_record,
        source_record_r=f.serve(stranger, world.health, local_id="N-9"),
        match_probability=0.7,
        explanation={"match_weight": 1.2, "contributions": []},
    )
    duplicate = f.PersonFactory(given_name="Alice", family_name="Okafor")
    f.serve(duplicate, world.housing, local_id="H-5")
    merge = person_merge(
        viewer=world.viewer(world.housing_worker),
        kept_person_id=world.alice.id,
        merged_person_id=duplicate.id,
        reason="Registered twice",
    )
    triage_item = TriageItem.objects.create(
        message_id="<matrix@example.org>",
        sender_email="alice.okafor@example.org",
        body="About my damp bedroom",
        department=world.housing,
    )
    pair = PossibleDuplicate.objects.create(
        case=f.CaseFactory(service=world.housing_case.service, description="Damp upstairs"),
        candidate=world.housing_case,
        distance_m=12.0,
    )
    client, _key = open311_client_create(viewer=world.viewer(world.admin), name="Matrix app")
    return {
        "person_id": world.alice.id,
        "case_id": world.housing_case.id,
        "person_need_id": need.id,
        "review_item_id": item.id,
        "merge_id": merge.id,
        "triage_item_id": triage_item.id,
        "possible_duplicate_id": pair.id,
        "open311_client_id": client.id,
    }


def clients(world):
    def signed_in(staff):
        client = Client()
        client.force_login(staff.user)
        return client

    return {
        "other_department": signed_in(world.childcare_worker),
        "supervisor": signed_in(world.housing_supervisor),
        "analyst": signed_in(world.analyst),
        "admin": signed_in(world.admin),
        "anonymous": Client(),
    }


def expected(
    viewer: str, *, personal: bool, has_object: bool, public: bool, admin_only: bool = False
) -> str:
    if public:
        return "allowed"
    if viewer == "anonymous":
        return "401"
    if admin_only:
        return "allowed" if viewer == "admin" else "403"
    if not personal or viewer == "supervisor":
        return "allowed"
    if viewer in ("analyst", "admin"):
        return "403"
    return "404" if has_object else "allowed"


def outcome(status: int) -> str:
    return str(status) if status in DENIED else "allowed"


def check(client, method, url, want, label, problems, body=None):
    before = AuditEvent.objects.filter(action="access.denied").count()
    if method == "GET":
        response = client.get(url)
    else:
        response = client.generic(
            method, url, json.dumps(body or {}), content_type="application/json"
        )
    got = outcome(response.status_code)
    if got != want:
        problems.append(f"{label}: expected {want}, got {response.status_code}")
    denied_events = AuditEvent.objects.filter(action="access.denied").count() - before
    if got in {"401", "403", "404"} and denied_events != 1:
        problems.append(
            f"{label}: refusal {response.status_code} wrote {denied_events} audit events"
        )


def test_every_staff_page_for_every_viewer(world):
    routes = list(staff_routes())
    assert len(routes) >= 10, routes
    ids = ids_for(world)
    problems: list[str] = []
    for viewer, client in clients(world).items():
        for name, params in routes:
            url = reverse(name, kwargs={p: ids[p] for p in params})
            public = name in PUBLIC_PAGES
            personal = name not in ANY_STAFF_PAGES and not public
            want = expected(
                viewer,
                personal=personal,
                has_object=bool(params),
                public=public,
                admin_only=name in ADMIN_PAGES,
            )
            for method in ("GET", "POST"):
                response_probe = client.get(url) if method == "GET" else None
                if method == "GET" and response_probe.status_code == 405:
                    continue  # POST-only route; checked below
                if method == "POST" and name == "staff:logout":
                    continue
                check(client, method, url, want, f"{viewer} {method} {name}", problems)
    assert not problems, "\n".join(problems)


def test_every_api_operation_for_every_viewer(world):
    operations = list(api_operations())
    assert len(operations) >= 15, operations
    ids = ids_for(world)
    problems: list[str] = []
    for viewer, client in clients(world).items():
        for method, path, tags in operations:
            url = path.format(**ids)
            personal = not (tags & NON_PERSONAL_API_TAGS)
            want = expected(viewer, personal=personal, has_object="{" in path, public=False)
            check(client, method, url, want, f"{viewer} {method} {path}", problems)
    assert not problems, "\n".join(problems)
