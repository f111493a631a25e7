"""Odd input never breaks the API: every answer is a documented status with a JSON body of
the documented shape, never a 500 (a small, offline stand-in for schemathesis)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

odd_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\ud800",
            "ü" * 300,
            "x" * 5000,
            "1e309",
            "-1",
            "null",
            "open",
            "me",
            "unassigned",
            "2026-02-30",
            "1985-03-14",
            "1985-03-14T10:00:00Z",
        ]
    ),
)
odd_number = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, -1, 2**63, 2**64, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
)
odd_value = st.one_of(
    odd_text,
    odd_number,
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)

CASE_FIELDS = [
    "service_id",
    "person_id",
    "description",
    "priority",
    "channel",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "latitude",
    "longitude",
    "address_id",
]
INTERACTION_FIELDS = [
    "person_id",
    "case_id",
    "channel",
    "direction",
    "summary",
    "is_chasing",
    "department_id",
    "at",
]
PERSON_FIELDS = [
    "given_name",
    "family_name",
    "middle_names",
    "date_of_birth",
    "email",
    "phone",
    "preferred_language",
    "accessibility_needs",
    "department_id",
    "local_id",
    "version",
]
SEARCH_FIELDS = ["name", "date_of_birth", "identifier", "phone", "email", "page", "page_size"]
CASE_FILTERS = [
    "department_id",
    "status",
    "assignee",
    "service_id",
    "person_id",
    "overdue",
    "reference",
    "page",
    "page_size",
]


def bodies(fields):
    return st.dictionaries(st.sampled_from(fields), odd_value, max_size=len(fields))


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def queries(fields):
    # A query string is bytes: a lone surrogate cannot even be sent.
    value = st.one_of(odd_text.filter(_encodable), odd_number.map(str))
    return st.dictionaries(st.sampled_from(fields), value, max_size=4)


def assert_documented(response, allowed):
    assert response.status_code in allowed, response.content[:500]
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body.get("detail"), str)
    if response.status_code == 422:
        assert body["errors"] and all(
            isinstance(m, str) for ms in body["errors"].values() for m in ms
        )


def send_json(client, method, path, body):
    # Lone surrogates and NaN are not valid JSON, but clients send them all the same.
    return getattr(client, method)(path, json.dumps(body, ensure_ascii=True))


@pytest.fixture
def housing(world, api_as):
    return api_as(world.housing_worker)


@FUZZ
@given(body=bodies(CASE_FIELDS))
def test_opening_cases(housing, body):
    assert_documented(send_json(housing, "post", "/cases", body), {201, 400, 403, 404, 422})


@FUZZ
@given(body=bodies(INTERACTION_FIELDS))
def test_logging_contacts(housing, body):
    assert_documented(send_json(housing, "post", "/interactions", body), {201, 400, 403, 404, 422})


@FUZZ
@given(body=bodies(PERSON_FIELDS))
def test_creating_and_editing_people(housing, world, body):
    assert_documented(send_json(housing, "post", "/people", body), {201, 400, 403, 404, 422})
    assert_documented(
        send_json(housing, "patch", f"/people/{world.alice.id}", body), {200, 400, 404, 409, 422}
    )


@FUZZ
@given(params=queries(SEARCH_FIELDS))
def test_searching_people(housing, params):
    assert_documented(housing.get("/people", params), {200, 422})


@FUZZ
@given(params=queries(CASE_FILTERS))
def test_filtering_cases(housing, params):
    assert_documented(housing.get("/cases", params), {200, 422})


@FUZZ
@given(
    person_id=odd_number.map(str), case_id=odd_number.map(str), cursor=odd_text.filter(_encodable)
)
def test_odd_ids_and_cursors(housing, world, person_id, case_id, cursor):
    for path in (f"/people/{person_id}", f"/people/{person_id}/household", f"/cases/{case_id}"):
        assert_documented(housing.get(path), {200, 404, 422})
    timeline = housing.get(f"/people/{world.alice.id}/timeline", {"cursor": cursor})
    assert_documented(timeline, {200, 422})
