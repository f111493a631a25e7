"""Cases and contacts through the API: the queue, opening, detail, transitions, assignment,
notes and interactions, with 404 outside the viewer's departments and 409 on stale versions."""

import datetime as dt

import pytest

from civicloop.cases.models import Case, CaseEvent, Interaction
from civicloop.core import clock
from civicloop.trust.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def rows() -> tuple[int, int, int, int]:
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Interaction.objects.count(),
        AuditEvent.objects.count(),
    )


# --- The queue ---------------------------------------------------------------------------------


def test_queue_lists_only_the_viewers_departments(world, api_as):
    body = api_as(world.housing_worker).get("/cases").json()
    assert [c["reference"] for c in body["items"]] == [world.housing_case.reference]
    assert body["items"][0]["person"] == {
        "id": world.alice.id,
        "given_name": "Alice",
        "family_name": "Okafor",
    }
    assert (body["total"], body["page"]) == (1, 1)


def test_queue_filters(world, api_as):
    supervisor = world.housing_supervisor
    repairs = world.housing_case.service
    mine = f.CaseFactory(
        service=repairs,
        person=world.ben,
        assignee=supervisor,
        due_at=clock.now() - dt.timedelta(days=1),
    )
    done = f.CaseFactory(service=repairs, person=world.ben, status="closed")
    client = api_as(supervisor)

    def refs(**params):
        response = client.get("/cases", params)
        assert response.status_code == 200, response.content
        return {c["id"] for c in response.json()["items"]}

    assert refs() == {world.housing_case.id, mine.id, done.id}
    assert refs(status="open") == {world.housing_case.id, mine.id}
    assert refs(status="closed") == {done.id}
    assert refs(assignee="me") == {mine.id}
    assert refs(assignee=str(supervisor.id)) == {mine.id}
    assert refs(assignee="unassigned") == {world.housing_case.id, done.id}
    assert refs(overdue="true") == {mine.id}
    assert refs(person_id=world.alice.id) == {world.housing_case.id}
    assert (
        refs(service_id=repairs.id, page_size=1)
        and client.get("/cases", {"page_size": 1}).json()["pages"] == 3
    )
    assert refs(reference=world.housing_case.reference.lower()) == {world.housing_case.id}
    assert refs(department_id=world.housing.id) == {world.housing_case.id, mine.id, done.id}


@pytest.mark.parametrize(
    "params, field",
    [
        ({"assignee": "someone"}, "assignee"),
        ({"department_id": "x"}, "department_id"),
        ({"overdue": "perhaps"}, "overdue"),
    ],
)
def test_queue_filter_errors_are_422_by_field(world, api_as, params, field):
    response = api_as(world.housing_worker).get("/cases", params)
    assert response.status_code == 422 and list(response.json()["errors"]) == [field]


def test_filtering_by_another_department_is_422(world, api_as):
    response = api_as(world.housing_worker).get("/cases", {"department_id": world.health.id})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["department_id"]


# --- Opening and reading -----------------------------------------------------------------------


def test_open_a_case_and_read_it(world, api_as):
    client = api_as(world.housing_worker)
    response = client.post(
        "/cases",
        {
            "service_id": world.housing_case.service_id,
            "person_id": world.alice.id,
            "description": "Broken boiler",
            "priority": "high",
        },
    )
    assert response.status_code == 201, response.content
    opened = response.json()
    case = Case.objects.get(pk=opened["id"])
    assert (opened["reference"], opened["status"], opened["priority"], opened["version"]) == (
        case.reference,
        "new",
        "high",
        1,
    )
    assert opened["due_at"] is not None
    before = AuditEvent.objects.count()
    detail = client.get(f"/cases/{case.id}").json()
    assert detail["description"] == "Broken boiler"
    assert [e["kind"] for e in detail["events"]] == ["opened"]
    assert [t["status"] for t in detail["allowed_transitions"]] == [
        "in_progress",
        "waiting_on_citizen",
        "resolved",
        "closed",
    ]
    assert {s["display_name"] for s in detail["assignable"]} == {"Hana Housing", "Sam Supervisor"}
    assert [(e.action, e.object_ids) for e in AuditEvent.objects.order_by("id")[before:]] == [
        ("case.read", [case.id, world.alice.id])
    ]


def test_another_departments_case_is_404_and_audited(world, api_as):
    client = api_as(world.housing_worker)
    before = AuditEvent.objects.count()
    for path, body in [
        (f"/cases/{world.employment_case.id}", None),
        (f"/cases/{world.health_case.id}/transition", {"to_status": "closed", "version": 1}),
        (f"/cases/{world.health_case.id}/assign", {"assignee_id": None, "version": 1}),
        (f"/cases/{world.employment_case.id}/notes", {"note": "Hello"}),
    ]:
        response = client.get(path) if body is None else client.post(path, body)
        assert response.status_code == 404, path
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [(e.action, e.outcome) for e in events] == [("access.denied", "not_found")] * 4
    assert Case.objects.get(pk=world.health_case.id).status == "new"


def test_opening_a_case_with_another_departments_service_is_403(world, api_as):
    client = api_as(world.housing_worker)
    counts = rows()
    response = client.post(
        "/cases", {"service_id": world.employment_case.service_id, "person_id": world.alice.id}
    )
    assert response.status_code == 403
    assert rows()[:3] == counts[:3]
    assert AuditEvent.objects.latest("id").outcome == "forbidden"


def test_opening_a_case_for_someone_outside_view_is_404(world, api_as):
    client = api_as(world.childcare_worker)
    service = f.ServiceFactory(department=world.childcare)
    response = client.post("/cases", {"service_id": service.id, "person_id": world.alice.id})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, {"service_id"}),
        ({"service_id": 999999, "person_id": 1}, {"service_id"}),
        ({"service_id": "SERVICE", "priority": "whenever"}, {"service_id", "priority"}),
        ({"service_id": "<repairs>"}, {"person_id"}),
        ({"service_id": "<repairs>", "person_id": "<alice>", "channel": "pigeon"}, {"channel"}),
        ({"service_id": "<repairs>", "person_id": "<alice>", "latitude": 51.5}, {"location"}),
        (
            {"service_id": "<repairs>", "person_id": "<alice>", "latitude": 91, "longitude": 0},
            {"latitude"},
        ),
        (
            {"service_id": "<repairs>", "person_id": "<alice>", "description": "x" * 4001},
            {"description"},
        ),
        ({"service_id": "<repairs>", "person_id": "<alice>", "address_id": 999999}, {"address_id"}),
    ],
)
def test_bad_case_input_is_422_by_field_and_writes_nothing(world, api_as, body, fields):
    swap = {"<repairs>": world.housing_case.service_id, "<alice>": world.alice.id}
    body = {k: swap.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    client = api_as(world.housing_worker)
    counts = rows()
    response = client.post("/cases", body)
    assert response.status_code == 422, response.content
    assert set(response.json()["errors"]) == fields
    assert rows() == counts


# --- Transitions, assignment, notes ------------------------------------------------------------


def test_transition_with_the_version_then_409_when_stale(world, api_as):
    client = api_as(world.housing_worker)
    case_id = world.housing_case.id
    moved = client.post(
        f"/cases/{case_id}/transition", {"to_status": "in_progress", "version": 1, "note": "On it"}
    )
    assert moved.status_code == 200, moved.content
    assert (moved.json()["status"], moved.json()["version"]) == ("in_progress", 2)
    counts = rows()
    stale = client.post(f"/cases/{case_id}/transition", {"to_status": "resolved", "version": 1})
    assert stale.status_code == 409 and "Reload" in stale.json()["detail"]
    assert rows() == counts
    detail = client.get(f"/cases/{case_id}").json()
    assert [t["status"] for t in detail["allowed_transitions"]] == [
        "waiting_on_citizen",
        "resolved",
        "closed",
    ]
    assert detail["events"][-1]["note"] == "On it"


def test_a_transition_the_workflow_does_not_allow_is_422_on_to_status(world, api_as):
    client = api_as(world.housing_worker)
    counts = rows()
    response = client.post(
        f"/cases/{world.housing_case.id}/transition", {"to_status": "teleported", "version": 1}
    )
    assert response.status_code == 422 and list(response.json()["errors"]) == ["to_status"]
    missing = client.post(f"/cases/{world.housing_case.id}/transition", {"to_status": "closed"})
    assert missing.status_code == 422 and list(missing.json()["errors"]) == ["version"]
    assert rows() == counts


def test_assignment_rules(world, api_as):
    case_id = world.housing_case.id
    worker, supervisor = api_as(world.housing_worker), api_as(world.housing_supervisor)
    took = worker.post(
        f"/cases/{case_id}/assign", {"assignee_id": world.housing_worker.id, "version": 1}
    )
    assert took.status_code == 200 and took.json()["assignee"]["id"] == world.housing_worker.id
    # A caseworker may not hand a case to someone else: 403, audited, nothing changed.
    counts = rows()
    refused = worker.post(
        f"/cases/{case_id}/assign", {"assignee_id": world.housing_supervisor.id, "version": 2}
    )
    assert refused.status_code == 403
    assert rows()[:3] == counts[:3]
    assert AuditEvent.objects.latest("id").action == "access.denied"
    stale = supervisor.post(f"/cases/{case_id}/assign", {"assignee_id": None, "version": 1})
    assert stale.status_code == 409
    outsider = supervisor.post(
        f"/cases/{case_id}/assign", {"assignee_id": world.employment_worker.id, "version": 2}
    )
    assert outsider.status_code == 422 and list(outsider.json()["errors"]) == ["assignee_id"]
    freed = supervisor.post(f"/cases/{case_id}/assign", {"assignee_id": None, "version": 2})
    assert (
        freed.status_code == 200
        and freed.json()["assignee"] is None
        and freed.json()["version"] == 3
    )


def test_add_a_note(world, api_as):
    client = api_as(world.housing_worker)
    response = client.post(f"/cases/{world.housing_case.id}/notes", {"note": "Landlord contacted"})
    assert response.status_code == 201 and response.json()["kind"] == "note"
    empty = client.post(f"/cases/{world.housing_case.id}/notes", {"note": "  "})
    assert empty.status_code == 422 and list(empty.json()["errors"]) == ["note"]


# --- Interactions ------------------------------------------------------------------------------


def test_log_an_interaction_about_a_case_and_about_a_person(world, api_as):
    client = api_as(world.housing_worker)
    about_case = client.post(
        "/interactions",
        {
            "case_id": world.housing_case.id,
            "channel": "email",
            "direction": "outbound",
            "summary": "Sent repair date",
        },
    )
    assert about_case.status_code == 201, about_case.content
    assert (about_case.json()["person_id"], about_case.json()["department_id"]) == (
        world.alice.id,
        world.housing.id,
    )
    chasing = client.post(
        "/interactions",
        {
            "person_id": world.alice.id,
            "channel": "phone",
            "summary": "Asked when",
            "is_chasing": True,
        },
    )
    assert chasing.status_code == 201 and chasing.json()["is_chasing"] is True
    timeline = client.get(f"/people/{world.alice.id}/timeline").json()["entries"]
    assert any(e["kind"] == "contact" and e["chasing"] for e in timeline)


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"channel": "phone", "summary": "Hello"}, {"person_id"}),
        ({"person_id": "<alice>", "channel": "fax", "summary": "Hello"}, {"channel"}),
        ({"person_id": "<alice>", "channel": "phone", "summary": ""}, {"summary"}),
        (
            {
                "person_id": "<alice>",
                "channel": "phone",
                "summary": "Hi",
                "at": "2999-01-01T00:00:00Z",
            },
            {"at"},
        ),
        (
            {
                "case_id": "<housing_case>",
                "person_id": "<ben>",
                "channel": "phone",
                "summary": "Hi",
            },
            {"case_id"},
        ),
    ],
)
def test_bad_interaction_is_422_by_field_and_writes_nothing(world, api_as, body, fields):
    swap = {
        "<alice>": world.alice.id,
        "<ben>": world.ben.id,
        "<housing_case>": world.housing_case.id,
    }
    body = {k: swap.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    client = api_as(world.housing_worker)
    counts = rows()
    response = client.post("/interactions", body)
    assert response.status_code == 422, response.content
    assert set(response.json()["errors"]) == fields
    assert rows() == counts


def test_logging_a_contact_about_another_departments_case_is_404(world, api_as):
    response = api_as(world.housing_worker).post(
        "/interactions", {"case_id": world.health_case.id, "channel": "phone", "summary": "Hi"}
    )
    assert response.status_code == 404
