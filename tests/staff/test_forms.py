"""The forms of the staff pages: post-redirect-get on success, an error summary and 422
with nothing written on bad input, 409 when someone else changed the case first."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from civicloop.cases.models import Case, CaseEvent, Interaction
from civicloop.core import clock
from civicloop.people.models import Person, PersonNeed
from tests import factories as f
from tests.factories import PASSWORD
from tests.staff.html import assert_valid_page, page_title

pytestmark = pytest.mark.django_db


def assert_error_summary(response, *anchors_and_messages):
    assert response.status_code == 422
    html = assert_valid_page(response)
    assert 'class="error-summary"' in html
    assert page_title(html).startswith("Error:")
    for anchor, message in anchors_and_messages:
        assert re.search(rf'<a href="{re.escape(anchor)}">[^<]*{re.escape(message)}', html), (
            anchor,
            message,
        )
        assert f'id="{anchor[1:]}"' in html, (
            f"the error links to {anchor}, which is not on the page"
        )
    return html


# Signing in and out


def test_sign_in_redirects_to_next(world, client):
    response = client.post(
        reverse("staff:login"),
        {"username": "hana.housing", "password": PASSWORD, "next": "/cases/"},
    )
    assert response.status_code == 302 and response.url == "/cases/"
    assert client.get("/cases/").status_code == 200


def test_sign_in_with_a_wrong_password_shows_the_error_summary(world, client):
    response = client.post(reverse("staff:login"), {"username": "hana.housing", "password": "nope"})
    html = assert_error_summary(response, ("#id_username", "correct username and password"))
    assert 'value="hana.housing"' in html


def test_sign_out_is_a_post_and_ends_the_session(world, client_for):
    client = client_for(world.housing_worker)
    home = client.get(reverse("staff:home")).content.decode()
    assert f'action="{reverse("staff:logout")}"' in home
    response = client.post(reverse("staff:logout"))
    assert response.status_code == 302 and response.url == reverse("staff:login")
    assert client.get(reverse("staff:home")).status_code == 401


# Recording a need


def test_record_a_need_then_redirect_to_the_person(world, client_for):
    client = client_for(world.housing_worker)
    need = f.NeedFactory(code="income", name="Income")
    url = reverse("staff:need_record", args=[world.alice.id])
    assert "Record a need" in assert_valid_page(client.get(url))
    response = client.post(url, {"need": need.id, "note": "Lost job last month"})
    assert response.status_code == 302
    assert response.url == reverse("staff:person_detail", args=[world.alice.id]) + "#needs"
    recorded = PersonNeed.objects.get(need=need)
    assert (recorded.person_id, recorded.department_id, recorded.note) == (
        world.alice.id,
        world.housing.id,
        "Lost job last month",
    )
    html = assert_valid_page(client.get(response.url))
    assert "Need recorded: Income." in html and "Lost job last month" in html


def test_record_a_need_without_choosing_one_writes_nothing(world, client_for):
    before = PersonNeed.objects.count()
    response = client_for(world.housing_worker).post(
        reverse("staff:need_record", args=[world.alice.id]), {"need": "", "note": "x"}
    )
    assert_error_summary(response, ("#id_need", "Choose a need from the list."))
    assert PersonNeed.objects.count() == before


def test_staff_of_two_departments_choose_which_they_act_for(world, client_for):
    both = f.StaffFactory(
        role="caseworker", departments=[world.housing, world.employment], display_name="Bo Both"
    )
    client = client_for(both)
    need = f.NeedFactory(code="income", name="Income")
    url = reverse("staff:need_record", args=[world.alice.id])
    response = client.post(url, {"need": need.id})
    assert_error_summary(response, ("#id_department", "Choose the department you are acting for."))
    assert client.post(url, {"need": need.id, "department": world.employment.id}).status_code == 302
    assert PersonNeed.objects.get(need=need).department_id == world.employment.id


# Logging a contact


def test_log_a_contact_about_a_person(world, client_for):
    client = client_for(world.housing_worker)
    url = reverse("staff:person_contact", args=[world.alice.id])
    html = assert_valid_page(client.get(url))
    for channel in ("Phone", "In person", "Email", "Letter"):
        assert f">{channel}</label>" in html
    response = client.post(
        url,
        {
            "channel": "in_person",
            "direction": "inbound",
            "summary": "Came to the desk",
            "is_chasing": "on",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("staff:person_detail", args=[world.alice.id]) + "#contacts"
    contact = Interaction.objects.get(summary="Came to the desk")
    assert (contact.person_id, contact.department_id, contact.channel, contact.is_chasing) == (
        world.alice.id,
        world.housing.id,
        "in_person",
        True,
    )
    assert contact.actor_id == world.housing_worker.id


def test_log_a_contact_about_a_case(world, client_for):
    client = client_for(world.housing_worker)
    url = reverse("staff:case_contact", args=[world.housing_case.id])
    assert world.housing_case.reference in assert_valid_page(client.get(url))
    response = client.post(
        url, {"channel": "letter", "direction": "outbound", "summary": "Sent repair date"}
    )
    assert response.status_code == 302
    assert response.url == reverse("staff:case_detail", args=[world.housing_case.id]) + "#contacts"
    contact = Interaction.objects.get(summary="Sent repair date")
    assert (contact.case_id, contact.person_id, contact.direction) == (
        world.housing_case.id,
        world.alice.id,
        "outbound",
    )
    html = assert_valid_page(client.get(response.url))
    assert "Contact logged." in html and "Sent repair date" in html


def test_log_a_contact_with_missing_answers_writes_nothing(world, client_for):
    before = Interaction.objects.count()
    response = client_for(world.housing_worker).post(
        reverse("staff:person_contact", args=[world.alice.id]), {"channel": "sms", "summary": "  "}
    )
    assert_error_summary(
        response,
        ("#id_channel_0", "Choose how the contact was made."),
        ("#id_direction_0", "Choose whether the contact was from or to the citizen."),
        ("#id_summary", "Enter a summary of the contact."),
    )
    assert Interaction.objects.count() == before


# New person


def test_add_a_new_person_then_see_their_record(world, client_for):
    client = client_for(world.housing_worker)
    response = client.post(
        reverse("staff:person_create"),
        {
            "given_name": "Dora",
            "family_name": "Quayle",
            "date_of_birth": "02/05/1990",
            "email": "",
            "phone": "",
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(family_name="Quayle")
    assert person.date_of_birth == dt.date(1990, 5, 2)
    assert response.url == reverse("staff:person_detail", args=[person.id])
    html = assert_valid_page(client.get(response.url))
    assert "Record created for Dora Quayle." in html and "Housing" in html


def test_a_new_person_needs_names_and_a_past_date_of_birth(world, client_for):
    before = Person.objects.count()
    client = client_for(world.housing_worker)
    response = client.post(
        reverse("staff:person_create"), {"given_name": "", "family_name": "", "email": "x"}
    )
    assert_error_summary(
        response,
        ("#id_given_name", "Enter a given name."),
        ("#id_family_name", "Enter a family name."),
        ("#id_email", "Enter an email address"),
    )
    tomorrow = (clock.today() + dt.timedelta(days=2)).strftime("%d/%m/%Y")
    response = client.post(
        reverse("staff:person_create"),
        {"given_name": "Dora", "family_name": "Quayle", "date_of_birth": tomorrow},
    )
    assert_error_summary(response, ("#id_date_of_birth", "Enter a date of birth in the past."))
    assert Person.objects.count() == before


# Case queue


def queue(client, **params):
    return client.get(reverse("staff:case_queue"), params)


def test_queue_lists_open_cases_of_the_department_with_overdue_in_words(world, client_for):
    world.housing_case.due_at = clock.now() - dt.timedelta(days=1)
    world.housing_case.save()
    done = f.CaseFactory(
        service=world.housing_case.service,
        person=world.alice,
        status="closed",
        description="Old matter",
    )
    html = assert_valid_page(queue(client_for(world.housing_worker)))
    assert world.housing_case.reference in html and done.reference not in html
    assert world.employment_case.reference not in html and world.health_case.reference not in html
    assert '<strong class="tag tag--overdue">Overdue</strong>' in html
    assert '<option value="open" selected>' in html
    html = assert_valid_page(queue(client_for(world.housing_worker), status=""))
    assert done.reference in html


def test_queue_filters_by_assignee_and_overdue(world, client_for):
    other = f.CaseFactory(
        service=world.housing_case.service,
        person=world.alice,
        assignee=world.housing_worker,
        due_at=clock.now() + dt.timedelta(days=5),
    )
    client = client_for(world.housing_worker)
    html = assert_valid_page(queue(client, assignee="me"))
    assert other.reference in html and world.housing_case.reference not in html
    html = assert_valid_page(queue(client, assignee="unassigned"))
    assert other.reference not in html and world.housing_case.reference in html
    html = assert_valid_page(queue(client, overdue="on"))
    assert "No cases match these filters." in html


def test_queue_with_a_department_that_is_not_the_viewers_is_422(world, client_for):
    response = queue(client_for(world.housing_worker), department=world.health.id)
    assert_error_summary(response, ("#id_department", "Choose an option from the list."))
    assert world.health_case.reference not in response.content.decode()


def test_queue_is_paginated(world, client_for):
    for _ in range(21):
        f.CaseFactory(service=world.housing_case.service, person=world.alice)
    html = assert_valid_page(queue(client_for(world.housing_worker)))
    assert "Page 1 of 2" in html and 'href="?status=open&amp;page=2"' not in html
    assert 'href="?page=2"' in html


# Case detail: transitions, assignment, notes


def case_url(world, name="case_detail"):
    return reverse(f"staff:{name}", args=[world.housing_case.id])


def test_case_detail_shows_history_allowed_transitions_and_contacts(world, client_for):
    f.CaseEventFactory(case=world.housing_case, kind="note", note="Surveyor booked")
    html = assert_valid_page(client_for(world.housing_worker).get(case_url(world)))
    assert (
        "Damp in the bedroom" in html and "Surveyor booked" in html and "Called about damp" in html
    )
    for label in ("In progress", "Waiting on citizen", "Resolved", "Closed"):
        assert f">{label}</label>" in html
    assert f'name="transition-version" value="{world.housing_case.version}"' in html
    assert "Assign to me" in html


def test_transition_moves_the_case_and_redirects(world, client_for):
    client = client_for(world.housing_worker)
    response = client.post(
        case_url(world, "case_transition"),
        {
            "transition-to_status": "in_progress",
            "transition-note": "Starting",
            "transition-version": 1,
        },
    )
    assert response.status_code == 302 and response.url == case_url(world)
    case = Case.objects.get(pk=world.housing_case.id)
    assert (case.status, case.version) == ("in_progress", 2)
    html = assert_valid_page(client.get(response.url))
    assert "Case moved to In progress." in html and "Status changed from New to In progress" in html


def test_transition_on_a_stale_version_is_409_and_changes_nothing(world, client_for):
    Case.objects.filter(pk=world.housing_case.id).update(status="waiting_on_citizen", version=2)
    response = client_for(world.housing_worker).post(
        case_url(world, "case_transition"),
        {"transition-to_status": "in_progress", "transition-version": 1},
    )
    assert response.status_code == 409
    html = assert_valid_page(response)
    assert 'class="error-summary"' in html and "changed by someone else" in html
    assert 'name="transition-version" value="2"' in html
    case = Case.objects.get(pk=world.housing_case.id)
    assert (case.status, case.version) == ("waiting_on_citizen", 2)


def test_transition_without_a_status_or_to_one_not_allowed_is_422(world, client_for):
    client = client_for(world.housing_worker)
    response = client.post(case_url(world, "case_transition"), {"transition-version": 1})
    assert_error_summary(
        response, ("#id_transition-to_status_0", "Choose the status to move the case to.")
    )
    response = client.post(
        case_url(world, "case_transition"), {"transition-to_status": "new", "transition-version": 1}
    )
    assert_error_summary(
        response, ("#id_transition-to_status_0", "Choose one of the statuses listed.")
    )
    assert Case.objects.get(pk=world.housing_case.id).status == "new"


def test_caseworker_takes_an_unassigned_case(world, client_for):
    response = client_for(world.housing_worker).post(
        case_url(world, "case_assign"),
        {"assign-assignee": world.housing_worker.id, "assign-version": 1},
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=world.housing_case.id).assignee_id == world.housing_worker.id


def test_caseworker_cannot_assign_someone_else(world, client_for):
    response = client_for(world.housing_worker).post(
        case_url(world, "case_assign"),
        {"assign-assignee": world.housing_supervisor.id, "assign-version": 1},
    )
    assert response.status_code == 422
    assert Case.objects.get(pk=world.housing_case.id).assignee_id is None


def test_caseworker_cannot_take_a_case_someone_else_holds(world, client_for):
    Case.objects.filter(pk=world.housing_case.id).update(assignee=world.housing_supervisor)
    client = client_for(world.housing_worker)
    html = assert_valid_page(client.get(case_url(world)))
    assert "Only a supervisor can reassign it." in html and "Assign to me" not in html
    response = client.post(
        case_url(world, "case_assign"),
        {"assign-assignee": world.housing_worker.id, "assign-version": 1},
    )
    assert response.status_code == 403
    assert Case.objects.get(pk=world.housing_case.id).assignee_id == world.housing_supervisor.id


def test_supervisor_assigns_anyone_in_the_department(world, client_for):
    client = client_for(world.housing_supervisor)
    html = assert_valid_page(client.get(case_url(world)))
    assert f'<option value="{world.housing_worker.id}">Hana Housing</option>' in html
    assert "Eli Employment" not in html
    response = client.post(
        case_url(world, "case_assign"),
        {"assign-assignee": world.housing_worker.id, "assign-version": 1},
    )
    assert response.status_code == 302
    assert "Case assigned to Hana Housing." in assert_valid_page(client.get(response.url))
    response = client.post(
        case_url(world, "case_assign"),
        {"assign-assignee": world.employment_worker.id, "assign-version": 2},
    )
    assert_error_summary(response, ("#id_assign-assignee", "Choose a member of staff of this case"))
    response = client.post(
        case_url(world, "case_assign"), {"assign-assignee": "", "assign-version": 1}
    )
    assert response.status_code == 409
    assert Case.objects.get(pk=world.housing_case.id).assignee_id == world.housing_worker.id


def test_add_a_note(world, client_for):
    client = client_for(world.housing_worker)
    response = client.post(case_url(world, "case_note"), {"note-note": "Tenant away until Friday"})
    assert response.status_code == 302 and response.url == case_url(world) + "#history"
    assert CaseEvent.objects.filter(
        case=world.housing_case, kind="note", note="Tenant away until Friday"
    ).exists()


def test_an_empty_note_is_422_and_writes_nothing(world, client_for):
    before = CaseEvent.objects.count()
    response = client_for(world.housing_worker).post(
        case_url(world, "case_note"), {"note-note": "   "}
    )
    assert_error_summary(response, ("#id_note-note", "Enter a note."))
    assert CaseEvent.objects.count() == before
