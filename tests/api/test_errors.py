"""One error body everywhere: {"detail": ...}, and for 422 {"errors": {field: [messages]}}."""

import pytest

from civicloop.cases.models import Case, Interaction
from civicloop.people.models import Person
from civicloop.trust.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_unknown_paths_are_json_404s(world, api_as, anonymous):
    client = api_as(world.housing_worker)
    for path in ("/nowhere", "/cases/1/explode", "/people/1/2/3"):
        response = client.get(path)
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}, path
    assert anonymous.get("/nowhere").json() == {"detail": "Not found."}
    for path in ("/people/not-a-number", "/people/-1"):
        response = client.get(path)
        assert response.status_code == 422 and list(response.json()["errors"]) == ["person_id"], (
            path
        )


def test_a_misspelt_field_is_422_not_ignored(world, api_as):
    client = api_as(world.housing_worker)
    response = client.patch(f"/people/{world.alice.id}", {"version": 1, "familyname": "Smith"})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["familyname"]
    assert Person.objects.get(pk=world.alice.id).version == 1


def test_malformed_json_and_text_no_database_can_hold_are_refused(world, api_as):
    client = api_as(world.housing_worker)
    cases = Case.objects.count()
    for body in (
        '{"service_id": ',
        '{"service_id": 1, "description": "a\\u0000b"}',
        '{"service_id": 1, "description": "\\ud800"}',
    ):
        response = client.post("/cases", body)
        assert response.status_code == 400 and isinstance(response.json()["detail"], str), body
    nul = client.get("/people", {"name": "Oka\x00for"})
    assert nul.status_code == 422 and list(nul.json()["errors"]) == ["name"]
    assert Case.objects.count() == cases


def test_ids_beyond_any_database_are_422(world, api_as):
    client = api_as(world.housing_worker)
    assert list(client.get(f"/cases/{2**64}").json()["errors"]) == ["case_id"]
    response = client.post("/cases", {"service_id": 2**64, "person_id": 0})
    assert response.status_code == 422 and set(response.json()["errors"]) == {
        "service_id",
        "person_id",
    }


@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_analysts_and_admins_may_not_write_personal_data(world, api_as, who):
    client = api_as(getattr(world, who))
    writes = [
        ("post", "/people", {"given_name": "Dara", "family_name": "Mensah"}),
        ("patch", f"/people/{world.alice.id}", {"version": 1, "given_name": "X"}),
        (
            "post",
            "/cases",
            {"service_id": world.housing_case.service_id, "person_id": world.alice.id},
        ),
        (
            "post",
            f"/cases/{world.housing_case.id}/transition",
            {"to_status": "closed", "version": 1},
        ),
        ("post", f"/cases/{world.housing_case.id}/notes", {"note": "x"}),
        (
            "post",
            "/interactions",
            {"person_id": world.alice.id, "channel": "phone", "summary": "x"},
        ),
    ]
    before = (Person.objects.count(), Case.objects.count(), Interaction.objects.count())
    audits = AuditEvent.objects.count()
    for method, path, body in writes:
        response = getattr(client, method)(path, body)
        assert response.status_code == 403, (method, path, response.content)
        assert response.json() == {"detail": "Your role does not allow this action."}
    assert (Person.objects.count(), Case.objects.count(), Interaction.objects.count()) == before
    assert (
        list(AuditEvent.objects.order_by("id")[audits:].values_list("outcome", flat=True))
        == ["forbidden"] * 6
    )
