"""Rate limits on public endpoints: counted in the database (so every process shares them),
by client address — believing X-Forwarded-For only from trusted proxies — or by api key."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from civicloop.cases.models import Case
from civicloop.core.ratelimit import (
    RateLimited,
    client_address,
    hit,
    parse_limit,
    rate_limit,
)
from civicloop.intake.models import RateLimitCounter
from tests.intake import open311_spec as spec
from tests.intake.intake_city import INSIDE, build_city

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    def set_limits(**scopes):
        settings.CIVICLOOP = {
            **settings.CIVICLOOP,
            "RATE_LIMITS": {
                **settings.CIVICLOOP.get("RATE_LIMITS", {}),
                **{k.replace("_", "."): v for k, v in scopes.items()},
            },
        }

    return set_limits


@pytest.mark.parametrize(
    "text, count, seconds",
    [("60/minute", 60, 60), ("5/300", 5, 300), ("1000/hour", 1000, 3600), ("3/days", 3, 86400)],
)
def test_limits_read_count_per_period(text, count, seconds):
    limit = parse_limit(text)
    assert (limit.count, limit.seconds) == (count, seconds)


@pytest.mark.parametrize("text", ["sixty/minute", "60", "60/fortnight", "60/0", "-1/minute"])
def test_a_bad_limit_is_refused(text):
    with pytest.raises(ValueError):
        parse_limit(text)


def test_the_window_allows_its_count_then_refuses_until_it_ends(limits):
    # An hour, so the few requests of the test fall in one window (a minute would not, once in 60 runs).
    limits(test_scope="3/hour")
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5")
    for _ in range(3):
        rate_limit(request, "test.scope")
    with pytest.raises(RateLimited) as refused:
        rate_limit(request, "test.scope")
    assert 1 <= refused.value.retry_after <= 3600
    # Another client, or another scope, has its own allowance.
    rate_limit(RequestFactory().get("/", REMOTE_ADDR="203.0.113.6"), "test.scope")
    rate_limit(request, "other.scope")


def test_a_new_window_starts_afresh(limits):
    limits(test_scope="2/minute")
    assert hit("test.scope", "ip:x", now=120.0)[0] == 1
    assert hit("test.scope", "ip:x", now=150.0)[0] == 2
    assert hit("test.scope", "ip:x", now=181.0)[0] == 1
    # One row per scope and client, holding no address.
    assert RateLimitCounter.objects.count() == 1
    assert "ip:x" not in RateLimitCounter.objects.get().bucket


def test_forwarded_addresses_count_only_from_trusted_proxies(settings):
    factory = RequestFactory()
    request = factory.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.9"
    )
    settings.CIVICLOOP_TRUSTED_PROXIES = []
    assert client_address(request) == "10.0.0.2"
    settings.CIVICLOOP_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request) == "198.51.100.7"
    # A client cannot pose as another by sending the header itself to an untrusted hop.
    direct = factory.get("/", REMOTE_ADDR="198.51.100.8", HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert client_address(direct) == "198.51.100.8"


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_are_all_counted(limits):
    limits(test_scope="1000/hour")
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("threads need a database file they can share")
    errors = []

    def worker():
        try:
            for _ in range(10):
                hit("test.scope", "ip:shared")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert RateLimitCounter.objects.get().hits == 40


def test_open311_answers_429_with_retry_after_and_its_error_body(limits):
    city = build_city()
    limits(open311_write="2/hour", open311_read="2/hour")
    client = Client(REMOTE_ADDR="203.0.113.9")
    form = {
        "api_key": city.key,
        "service_code": "STR-POTHOLE",
        "lat": str(INSIDE[0]),
        "long": str(INSIDE[1]),
        "attribute[where]": "road",
    }
    assert client.post("/open311/v2/requests.json", form).status_code == 200
    assert client.post("/open311/v2/requests.json", form).status_code == 200
    before = Case.objects.count()
    refused = client.post("/open311/v2/requests.json", form)
    spec.assert_json_errors(refused, 429)
    assert int(refused["Retry-After"]) >= 1
    assert Case.objects.count() == before
    client.get("/open311/v2/services.json")
    client.get("/open311/v2/services.json")
    spec.assert_xml_errors(client.get("/open311/v2/services.xml"), 429)


def test_an_api_key_has_its_own_allowance_across_addresses(limits):
    city = build_city()
    limits(open311_client="1/hour")
    form = {
        "api_key": city.key,
        "service_code": "STR-POTHOLE",
        "lat": str(INSIDE[0]),
        "long": str(INSIDE[1]),
        "attribute[where]": "road",
    }
    assert (
        Client(REMOTE_ADDR="203.0.113.1").post("/open311/v2/requests.json", form).status_code == 200
    )
    refused = Client(REMOTE_ADDR="203.0.113.2").post("/open311/v2/requests.json", form)
    spec.assert_json_errors(refused, 429)
