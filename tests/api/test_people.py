"""People through the API: search, the 360° record, timeline, household, edits and needs,
as the access policy lets each role see them."""

import pytest

from civicloop.people.models import Link, Person, PersonNeed, SourceRecord
from civicloop.trust.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def audit_since(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("id")[before:])


# --- Search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"name": "Alice Okafor"},
        {"name": "alise okafor"},
        {"date_of_birth": "1985-03-14"},
        {"identifier": "T-0001"},
        {"phone": "+44 7700 900123"},
        {"email": "Alice.Okafor@example.org"},
        {"name": "Okafor", "date_of_birth": "1985-03-14"},
    ],
)
def test_search_finds_alice_by_each_key(world, api_as, params):
    response = api_as(world.housing_worker).get("/people", params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["items"][0]["id"] == world.alice.id
    assert body["items"][0]["date_of_birth"] == "1985-03-14"
    assert set(body) == {"items", "page", "page_size", "total", "total_capped", "pages"}


def test_search_only_finds_people_the_viewers_departments_serve(world, api_as):
    housing = api_as(world.housing_worker).get("/people", {"name": "Okafor"}).json()
    assert {p["id"] for p in housing["items"]} == {world.alice.id, world.ben.id}
    childcare = api_as(world.childcare_worker).get("/people", {"name": "Okafor"}).json()
    assert [p["id"] for p in childcare["items"]] == [world.ben.id]


def test_search_is_paginated(world, api_as):
    for i in range(5):
        f.serve(f.PersonFactory(given_name=f"Zed{i}", family_name="Quill"), world.housing)
    client = api_as(world.housing_worker)
    first = client.get("/people", {"name": "Quill", "page_size": 2}).json()
    third = client.get("/people", {"name": "Quill", "page_size": 2, "page": 3}).json()
    assert (first["total"], first["pages"], len(first["items"])) == (5, 3, 2)
    assert len(third["items"]) == 1
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in third["items"]}


def test_search_writes_one_audit_event_without_the_query(world, api_as):
    client = api_as(world.housing_worker)
    before = AuditEvent.objects.count()
    client.get("/people", {"name": "Okafor"})
    [event] = audit_since(before)
    assert event.action == "person.search" and event.fields == ["name"]
    assert "Okafor" not in str(event.__dict__)


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "name"),
        ({"name": "A"}, "name"),
        ({"phone": "12"}, "phone"),
        ({"date_of_birth": "14/03/1985"}, "date_of_birth"),
        ({"name": "Okafor", "page": 0}, "page"),
        ({"name": "Okafor", "page_size": 1000}, "page_size"),
    ],
)
def test_bad_search_input_is_422_by_field(world, api_as, params, field):
    response = api_as(world.housing_worker).get("/people", params)
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail", "errors"} and list(body["errors"]) == [field]
    assert all(isinstance(m, str) and m for m in body["errors"][field])


@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_analysts_and_admins_are_refused_personal_data_with_403(world, api_as, who):
    client = api_as(getattr(world, who))
    before = AuditEvent.objects.count()
    for path, params in [
        ("/people", {"name": "Okafor"}),
        (f"/people/{world.alice.id}", None),
        (f"/people/{world.alice.id}/timeline", None),
        (f"/people/{world.alice.id}/household", None),
        ("/cases", None),
        (f"/cases/{world.housing_case.id}", None),
    ]:
        response = client.get(path, params)
        assert response.status_code == 403, path
    events = audit_since(before)
    assert len(events) == 6 and {(e.action, e.outcome) for e in events} == {
        ("access.denied", "forbidden")
    }


# --- The 360° record ---------------------------------------------------------------------------


def test_detail_shows_own_cases_in_full_others_as_summary_and_no_sensitive(world, api_as):
    client = api_as(world.housing_worker)
    before = AuditEvent.objects.count()
    response = client.get(f"/people/{world.alice.id}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["person"]["given_name"] == "Alice" and body["person"]["version"] == 1
    cases = {c["department_name"]: c for c in body["cases"]}
    assert (
        cases["Housing"]["visibility"] == "full"
        and cases["Housing"]["case_id"] == world.housing_case.id
    )
    assert cases["Employment"] == {
        **cases["Employment"],
        "visibility": "summary",
        "case_id": None,
        "reference": "",
    }
    assert "Health" not in cases
    text = response.content.decode()
    for secret in (
        "Looking for evening work",
        "CV workshop",
        "Confidential",
        "Clinic",
        "Sensitive health need",
        world.employment_case.reference,
        world.health_case.reference,
    ):
        assert secret not in text
    assert [n["note"] for n in body["needs"]] == ["Overcrowded flat"]
    assert [p["department_name"] for p in body["provenance"]] == ["Housing"]
    assert [i["value"] for i in body["identifiers"]] == ["T-0001"]
    assert sorted(m["label"] for m in body["household"]) == [
        "Another household member",
        "Ben Okafor",
    ]
    summary = [e for e in body["timeline"]["entries"] if e["visibility"] == "summary"]
    assert summary and all(e["id"] is None and e["case_id"] is None for e in summary)
    assert [(e.action, e.object_ids) for e in audit_since(before)] == [
        ("person.read", [world.alice.id])
    ]


def test_detail_for_a_department_not_serving_the_person_is_404_and_audited(world, api_as):
    client = api_as(world.childcare_worker)
    before = AuditEvent.objects.count()
    for path in (
        f"/people/{world.alice.id}",
        f"/people/{world.alice.id}/timeline",
        f"/people/{world.alice.id}/household",
    ):
        response = client.get(path)
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    events = audit_since(before)
    assert [(e.action, e.outcome, e.object_ids) for e in events] == [
        ("access.denied", "not_found", [world.alice.id])
    ] * 3


def test_a_person_who_does_not_exist_is_404_like_one_outside_view(world, api_as):
    assert api_as(world.housing_worker).get("/people/999999").json() == {"detail": "Not found."}


def test_health_sees_the_sensitive_case_in_full(world, api_as):
    body = api_as(world.health_worker).get(f"/people/{world.alice.id}").json()
    assert [c["service_name"] for c in body["cases"] if c["visibility"] == "full"] == [
        "Mental health support"
    ]


def test_timeline_pages_with_a_cursor_and_audits_each_page(world, api_as):
    for i in range(6):
        f.InteractionFactory(person=world.alice, department=world.housing, summary=f"Call {i}")
    client = api_as(world.housing_worker)
    first = client.get(f"/people/{world.alice.id}", {"page_size": 4}).json()["timeline"]
    assert len(first["entries"]) == 4 and first["next_cursor"]
    seen = [(e["kind"], e["id"], e["at"]) for e in first["entries"]]
    cursor = first["next_cursor"]
    before = AuditEvent.objects.count()
    while cursor:
        page = client.get(
            f"/people/{world.alice.id}/timeline", {"cursor": cursor, "page_size": 4}
        ).json()
        seen += [(e["kind"], e["id"], e["at"]) for e in page["entries"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen))
    assert [e[2] for e in seen] == sorted((e[2] for e in seen), reverse=True)
    texts = {
        e["detail"]
        for e in client.get(f"/people/{world.alice.id}/timeline", {"page_size": 100}).json()[
            "entries"
        ]
    }
    assert {f"Call {i}" for i in range(6)} <= texts
    assert {e.action for e in audit_since(before)} == {"person.read"}


def test_timeline_filters_by_department_and_refuses_a_bad_cursor(world, api_as):
    client = api_as(world.housing_worker)
    page = client.get(
        f"/people/{world.alice.id}/timeline", {"department_id": world.employment.id}
    ).json()
    assert page["entries"] and {e["department_name"] for e in page["entries"]} == {"Employment"}
    assert all(e["visibility"] == "summary" for e in page["entries"])
    bad = client.get(f"/people/{world.alice.id}/timeline", {"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["cursor"]


def test_household_names_only_people_the_viewer_serves(world, api_as):
    client = api_as(world.housing_worker)
    before = AuditEvent.objects.count()
    body = client.get(f"/people/{world.alice.id}/household").json()
    assert sorted((m["label"], m["person_id"]) for m in body["household"]) == [
        ("Another household member", None),
        ("Ben Okafor", world.ben.id),
    ]
    [event] = audit_since(before)
    assert event.action == "person.read" and event.object_ids == [world.alice.id, world.ben.id]


# --- Writes ------------------------------------------------------------------------------------


def test_create_a_person(world, api_as):
    response = api_as(world.housing_worker).post(
        "/people",
        {
            "given_name": "Dara",
            "family_name": "Mensah",
            "date_of_birth": "1990-02-03",
            "email": "dara@example.org",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    person = Person.objects.get(pk=body["id"])
    assert (person.family_name, body["version"]) == ("Mensah", 1)
    assert SourceRecord.objects.filter(links__person=person, department=world.housing).exists()
    found = api_as(world.housing_worker).get("/people", {"name": "Dara Mensah"}).json()
    assert [p["id"] for p in found["items"]] == [person.id]


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"family_name": "Mensah"}, {"given_name"}),
        ({"given_name": " ", "family_name": "Mensah"}, {"given_name"}),
        (
            {"given_name": "Dara", "family_name": "Mensah", "date_of_birth": "2999-01-01"},
            {"date_of_birth"},
        ),
        (
            {"given_name": "Dara", "family_name": "Mensah", "date_of_birth": "yesterday"},
            {"date_of_birth"},
        ),
        ({"given_name": "Dara", "family_name": "Mensah", "email": "not-an-email"}, {"email"}),
        ({"given_name": "Dara", "family_name": "M" * 101}, {"family_name"}),
    ],
)
def test_bad_person_input_is_422_by_field_and_writes_nothing(world, api_as, body, fields):
    client = api_as(world.housing_worker)
    counts = (
        Person.objects.count(),
        SourceRecord.objects.count(),
        Link.objects.count(),
        AuditEvent.objects.count(),
    )
    response = client.post("/people", body)
    assert response.status_code == 422, response.content
    assert set(response.json()["errors"]) == fields
    assert counts == (
        Person.objects.count(),
        SourceRecord.objects.count(),
        Link.objects.count(),
        AuditEvent.objects.count(),
    )


def test_a_caseworker_of_two_departments_must_say_which(world, api_as):
    both = f.StaffFactory(role="caseworker", departments=[world.housing, world.employment])
    response = api_as(both).post("/people", {"given_name": "Dara", "family_name": "Mensah"})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["department_id"]
    assert (
        api_as(both)
        .post(
            "/people",
            {"given_name": "Dara", "family_name": "Mensah", "department_id": world.employment.id},
        )
        .status_code
        == 201
    )


def test_edit_a_person_with_the_version_and_409_when_stale(world, api_as):
    client = api_as(world.housing_worker)
    response = client.patch(
        f"/people/{world.alice.id}", {"version": 1, "phone": "07700 900999", "email": None}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["phone"], response.json()["email"], response.json()["version"]) == (
        "07700 900999",
        "",
        2,
    )
    stale = client.patch(f"/people/{world.alice.id}", {"version": 1, "given_name": "Alicia"})
    assert stale.status_code == 409 and "Reload" in stale.json()["detail"]
    assert Person.objects.get(pk=world.alice.id).given_name == "Alice"


def test_editing_someone_outside_view_is_404(world, api_as):
    response = api_as(world.childcare_worker).patch(
        f"/people/{world.alice.id}", {"version": 1, "given_name": "X"}
    )
    assert response.status_code == 404
    assert Person.objects.get(pk=world.alice.id).given_name == "Alice"


def test_record_a_need_and_mark_it_met(world, api_as):
    client = api_as(world.housing_worker)
    need = f.NeedFactory(code="income", name="Income")
    response = client.post(
        f"/people/{world.alice.id}/needs", {"need_id": need.id, "note": "Rent arrears"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["need"]["code"], body["department"]["code"], body["status"]) == (
        "income",
        "housing",
        "open",
    )
    met = client.patch(f"/needs/{body['id']}", {"status": "met"})
    assert met.status_code == 200 and met.json()["status"] == "met"
    assert PersonNeed.objects.get(pk=body["id"]).status == "met"


def test_need_errors(world, api_as):
    client = api_as(world.housing_worker)
    unknown = client.post(f"/people/{world.alice.id}/needs", {"need_id": 999999})
    assert unknown.status_code == 422 and list(unknown.json()["errors"]) == ["need_id"]
    health_need = PersonNeed.objects.get(department=world.health)
    assert client.patch(f"/needs/{health_need.id}", {"status": "met"}).status_code == 404
    own = PersonNeed.objects.get(department=world.housing)
    bad = client.patch(f"/needs/{own.id}", {"status": "done"})
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["status"]
