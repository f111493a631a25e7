"""Case workflow, assignment and contact rules as caseworkers meet them."""

import datetime as dt

import pytest

from civicloop.cases.models import Case, CaseEvent, Interaction
from civicloop.cases.services import (
    case_add_note,
    case_assign,
    case_open,
    case_transition,
    interaction_log,
)
from civicloop.core import clock
from civicloop.core.access import Conflict, Forbidden, NotVisible, ValidationFailed
from civicloop.core.events import subscribe, unsubscribe
from civicloop.people.models import PersonDepartment
from civicloop.trust.models import AuditEvent
from tests.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def test_open_case_sets_due_date_history_serving_and_audit(world):
    viewer = world.viewer(world.housing_worker)
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with clock.frozen_at(at):
        case = case_open(
            viewer=viewer,
            service_id=world.housing_case.service_id,
            person_id=world.ben.id,
            description="Broken boiler",
            channel="phone",
        )
    assert case.status == "new" and case.department_id == world.housing.id
    assert case.due_at == at + dt.timedelta(days=20)
    assert case.reference.startswith("CL-") and len(case.reference) == 12
    assert list(case.events.values_list("kind", "to_status")) == [("opened", "new")]
    assert PersonDepartment.objects.filter(person=world.ben, department=world.housing).exists()
    event = AuditEvent.objects.filter(action="case.open").latest("id")
    assert event.object_ids == [case.id, world.ben.id] and "Broken boiler" not in str(
        event.__dict__
    )


def test_cannot_open_a_case_with_another_departments_service(world):
    with pytest.raises(Forbidden):
        case_open(
            viewer=world.viewer(world.employment_worker),
            service_id=world.housing_case.service_id,
            person_id=world.alice.id,
        )


def test_bad_input_writes_nothing(world):
    before = (Case.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as err:
        case_open(
            viewer=world.viewer(world.housing_worker),
            service_id=world.housing_case.service_id,
            person_id=world.alice.id,
            priority="whenever",
            description="x" * 4001,
        )
    assert set(err.value.errors) == {"priority", "description"}
    assert (Case.objects.count(), AuditEvent.objects.count()) == before


def test_workflow_path_resolve_and_reopen(world):
    viewer = world.viewer(world.housing_worker)
    case = world.housing_case
    case = case_transition(
        viewer=viewer, case_id=case.id, to_status="in_progress", version=case.version
    )
    case = case_transition(
        viewer=viewer, case_id=case.id, to_status="resolved", version=case.version
    )
    assert case.resolved_at is not None
    case = case_transition(
        viewer=viewer,
        case_id=case.id,
        to_status="in_progress",
        version=case.version,
        note="Citizen says it is not fixed",
    )
    assert case.reopen_count == 1 and case.resolved_at is None
    with pytest.raises(ValidationFailed):
        case_transition(viewer=viewer, case_id=case.id, to_status="new", version=case.version)
    kinds = list(case.events.filter(kind="status").values_list("from_status", "to_status"))
    assert kinds == [
        ("new", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "in_progress"),
    ]


def test_stale_version_is_refused_with_a_conflict(world):
    viewer = world.viewer(world.housing_worker)
    stale = world.housing_case.version
    case_transition(
        viewer=viewer, case_id=world.housing_case.id, to_status="in_progress", version=stale
    )
    with pytest.raises(Conflict) as err:
        case_transition(
            viewer=viewer, case_id=world.housing_case.id, to_status="closed", version=stale
        )
    assert "changed by someone else" in str(err.value)
    assert Case.objects.get(pk=world.housing_case.id).status == "in_progress"


def test_other_departments_case_is_not_found(world):
    with pytest.raises(NotVisible):
        case_transition(
            viewer=world.viewer(world.employment_worker),
            case_id=world.housing_case.id,
            to_status="closed",
            version=None,
        )
    with pytest.raises(NotVisible):
        case_add_note(
            viewer=world.viewer(world.employment_worker), case_id=world.housing_case.id, note="hi"
        )


def test_caseworker_takes_a_free_case_but_only_supervisor_reassigns(world):
    worker = world.viewer(world.housing_worker)
    supervisor = world.viewer(world.housing_supervisor)
    case = case_assign(
        viewer=worker,
        case_id=world.housing_case.id,
        assignee_id=world.housing_worker.id,
        version=None,
    )
    assert case.assignee_id == world.housing_worker.id
    with pytest.raises(Forbidden):
        case_assign(
            viewer=worker, case_id=case.id, assignee_id=world.housing_supervisor.id, version=None
        )
    case = case_assign(
        viewer=supervisor,
        case_id=case.id,
        assignee_id=world.housing_supervisor.id,
        version=case.version,
    )
    assert case.assignee_id == world.housing_supervisor.id
    with pytest.raises(ValidationFailed):
        case_assign(
            viewer=supervisor, case_id=case.id, assignee_id=world.employment_worker.id, version=None
        )


def test_contact_logged_on_a_case_and_event_published_after_commit(
    world, django_capture_on_commit_callbacks
):
    seen = []
    handler = seen.append
    subscribe("contact.logged", handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            interaction = interaction_log(
                viewer=world.viewer(world.housing_worker),
                case_id=world.housing_case.id,
                channel="in_person",
                summary="Came to the desk to ask about damp",
                is_chasing=True,
            )
    finally:
        unsubscribe("contact.logged", handler)
    assert interaction.person_id == world.alice.id and interaction.department_id == world.housing.id
    assert [e.object_id for e in seen] == [interaction.id]
    with pytest.raises(ValidationFailed):
        interaction_log(
            viewer=world.viewer(world.housing_worker),
            person_id=world.alice.id,
            channel="pigeon",
            summary="",
        )
    assert Interaction.objects.filter(summary="").count() == 0


def test_rolled_back_change_publishes_nothing(world, django_capture_on_commit_callbacks):
    from django.db import transaction

    seen = []
    subscribe("case.note_added", seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            case_add_note(
                viewer=world.viewer(world.housing_worker),
                case_id=world.housing_case.id,
                note="draft",
            )
            transaction.set_rollback(True)
    finally:
        unsubscribe("case.note_added", seen.append)
    assert seen == []
    assert not CaseEvent.objects.filter(note="draft").exists()
