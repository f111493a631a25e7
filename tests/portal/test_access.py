"""Every portal route, walked from the URL resolver so a new one cannot slip by: open to
anyone (never 401 or 403, signed in or not), never failing, and never showing a reporter's
name, email or phone — whoever asks, with or without a report in progress."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from civicloop.cases.models import Attachment
from tests import factories as f
from tests.portal.conftest import Citizen, jpeg_bytes

pytestmark = pytest.mark.django_db

PERSONAL = ["Pat Private", "pat.private@example.net", "07700 900 444"]
# Pages of the reporter's own view: without the secret of the tracking link, not found.
NEEDS_SECRET = {"portal:track_update", "portal:track_fixed", "portal:track_reopen"}


def portal_routes():
    """(name, kwargs names) of every named route in the portal namespace."""
    resolver = next(
        p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "portal"
    )
    for pattern in resolver.url_patterns:
        assert isinstance(pattern, URLPattern) and pattern.name, pattern
        yield f"portal:{pattern.name}", sorted(pattern.pattern.converters)


@pytest.fixture
def ids(city):
    case = f.CaseFactory(
        service=city.pothole,
        person=None,
        description="Hole outside the library",
        latitude=51.5,
        longitude=-0.1,
        area=city.ward,
        reporter_name="Pat Private",
        reporter_email="pat.private@example.net",
        reporter_phone="07700 900 444",
    )
    photo = Attachment(case=case, content_type="image/jpeg", size=10)
    photo.file.save("hole.jpg", ContentFile(jpeg_bytes()), save=False)
    photo.save()
    return {
        "service_code": "PTH",
        "department_code": "streets",
        "attribute_code": "depth",
        "step": "description",
        "reference": case.reference,
        "photo_id": photo.id,
    }


def clients(city) -> dict[str, Client]:
    staff = Client()
    staff.force_login(city.worker.user)
    writing = Client()
    Citizen(writing).report_pothole(city)  # a report in progress, every page answered
    return {"anonymous": Client(), "staff": staff, "writing a report": writing}


def test_every_portal_route_is_public_and_shows_no_personal_data(city, ids):
    routes = list(portal_routes())
    assert len(routes) >= 15, routes
    problems: list[str] = []
    for who, client in clients(city).items():
        for name, params in routes:
            url = reverse(name, kwargs={p: ids[p] for p in params})
            for method in ("GET", "POST"):
                response = client.get(url) if method == "GET" else client.post(url, {})
                label = f"{who} {method} {name}"
                if response.status_code in (401, 403) or response.status_code >= 500:
                    problems.append(f"{label}: {response.status_code}")
                if response.status_code == 404 and method == "GET" and name not in NEEDS_SECRET:
                    problems.append(f"{label}: 404 for an object that exists")
                body = b"" if response.streaming else response.content
                for value in PERSONAL:
                    if value.encode() in body:
                        problems.append(f"{label}: shows {value!r}")
    assert not problems, "\n".join(problems)
