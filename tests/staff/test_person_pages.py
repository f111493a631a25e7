"""Person search and the 360° view as caseworkers of different departments see them."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from civicloop.core import clock
from tests import factories as f
from tests.staff.html import assert_valid_page, page_title

pytestmark = pytest.mark.django_db


def search(client, **params):
    return client.get(reverse("staff:person_search"), params)


def test_search_page_starts_with_an_empty_form_and_no_results(world, client_for):
    response = search(client_for(world.housing_worker))
    html = assert_valid_page(response)
    assert response.status_code == 200
    assert 'id="id_name"' in html and "Results" not in html
    assert page_title(html).startswith("Find a person")


def test_search_shows_only_people_the_viewers_departments_serve(world, client_for):
    html = assert_valid_page(search(client_for(world.housing_worker), name="Okafor"))
    assert "Alice" in html and "Ben" in html and "Carol" not in html
    assert reverse("staff:person_detail", args=[world.alice.id]) in html
    html = assert_valid_page(search(client_for(world.childcare_worker), name="Okafor"))
    assert "Ben" in html and "Alice" not in html


def test_search_by_date_of_birth_identifier_phone_and_email(world, client_for):
    client = client_for(world.housing_worker)
    alice_url = reverse("staff:person_detail", args=[world.alice.id])
    for params in [
        {"date_of_birth": "14/03/1985"},
        {"date_of_birth": "1985-03-14"},
        {"identifier": "T-0001"},
        {"phone": "07700 900123"},
        {"email": "Alice.Okafor@example.org"},
    ]:
        response = search(client, **params)
        assert response.status_code == 200, params
        html = assert_valid_page(response)
        assert alice_url in html, params
        assert "1 person found" in html, params


def test_search_with_no_match_says_so(world, client_for):
    response = search(client_for(world.housing_worker), name="Zebedee")
    html = assert_valid_page(response)
    assert response.status_code == 200
    assert "No one your departments serve matches this search" in html


@pytest.mark.parametrize(
    ("params", "anchor", "message"),
    [
        ({"name": "", "email": ""}, "#id_name", "Enter a name, date of birth"),
        ({"name": "A"}, "#id_name", "Enter at least two letters"),
        (
            {"date_of_birth": "31/02/1985"},
            "#id_date_of_birth",
            "Enter the date of birth as day/month/year",
        ),
        ({"phone": "123"}, "#id_phone", "at least six digits"),
    ],
)
def test_bad_search_shows_the_error_summary_linked_to_the_field_with_422(
    world, client_for, params, anchor, message
):
    response = search(client_for(world.housing_worker), **params)
    assert response.status_code == 422
    html = assert_valid_page(response)
    assert 'class="error-summary"' in html
    assert re.search(rf'<a href="{anchor}">[^<]*{message}', html)
    assert page_title(html).startswith("Error:")
    assert 'aria-invalid="true"' in html


def test_search_results_are_paginated(world, client_for):
    for i in range(23):
        person = f.PersonFactory(given_name=f"Pat{chr(97 + i)}", family_name="Quill")
        f.serve(person, world.housing)
    client = client_for(world.housing_worker)
    html = assert_valid_page(search(client, name="Quill"))
    assert "23 people found, showing 1 to 20" in html
    assert "Page 1 of 2" in html
    assert 'href="?name=Quill&amp;page=2"' in html
    html = assert_valid_page(search(client, name="Quill", page=2))
    assert "showing 21 to 23" in html and 'rel="prev"' in html


def detail(client, person, **params):
    return client.get(reverse("staff:person_detail", args=[person.id]), params)


def test_360_shows_own_departments_in_full_others_in_summary_and_nothing_sensitive(
    world, client_for
):
    response = detail(client_for(world.housing_worker), world.alice)
    html = assert_valid_page(response)
    assert page_title(html).startswith("Alice Okafor")
    # Own department: full case with link, contact, need, provenance, identifier.
    assert reverse("staff:case_detail", args=[world.housing_case.id]) in html
    assert world.housing_case.reference in html
    assert "Damp in the bedroom" in html and "Called about damp" in html
    assert "Overcrowded flat" in html and "H-1" in html and "T-0001" in html
    # Another department: a summary line, no reference, description or contact.
    assert "Job search support" in html
    assert world.employment_case.reference not in html
    assert reverse("staff:case_detail", args=[world.employment_case.id]) not in html
    assert "Looking for evening work" not in html and "CV workshop" not in html
    # Sensitive: not a trace.
    for secret in (
        "Mental health support",
        "Confidential",
        "Clinic appointment",
        "Sensitive health need",
        world.health_case.reference,
        "N-1",
    ):
        assert secret not in html, secret
    # Household: Ben by name (housing serves him), Carol not.
    assert reverse("staff:person_detail", args=[world.ben.id]) in html
    assert "Another household member" in html and "Carol" not in html


def test_360_for_the_health_caseworker_shows_the_sensitive_case_in_full(world, client_for):
    html = assert_valid_page(detail(client_for(world.health_worker), world.alice))
    assert "Mental health support" in html and "Confidential clinical note" in html
    assert "Damp in the bedroom" not in html and "Housing repair" in html


def test_360_timeline_filters_by_department(world, client_for):
    client = client_for(world.housing_worker)
    html = assert_valid_page(detail(client, world.alice))
    assert f'<option value="{world.housing.id}">Housing</option>' in html
    assert f'<option value="{world.employment.id}">Employment</option>' in html
    assert f'value="{world.health.id}"' not in html
    html = assert_valid_page(detail(client, world.alice, department=world.employment.id))
    timeline = html.split('id="timeline"', 1)[1]
    assert "Job search support" in timeline and "Called about damp" not in timeline
    assert "Showing entries from Employment only" in html
    assert f'<option value="{world.employment.id}" selected>Employment</option>' in html


def test_360_timeline_groups_by_day_or_by_department(world, client_for):
    client = client_for(world.housing_worker)
    html = assert_valid_page(detail(client, world.alice))
    headings = re.findall(r'<h3 class="timeline__date">(.*?)</h3>', html)
    assert headings and all("<time" in h for h in headings)
    html = assert_valid_page(detail(client, world.alice, group="department"))
    headings = re.findall(r'<h3 class="timeline__date">(.*?)</h3>', html)
    assert headings == ["Housing", "Employment"] or headings == ["Employment", "Housing"]
    assert '<option value="department" selected>Department</option>' in html
    response = detail(client, world.alice, group="colour")
    assert response.status_code == 422
    assert '<a href="#id_group">Choose how to group the entries.</a>' in assert_valid_page(response)


@pytest.mark.parametrize("department", ["abc", "health"])
def test_360_with_a_department_not_listed_is_422_with_an_error_summary(
    world, client_for, department
):
    value = world.health.id if department == "health" else department
    response = detail(client_for(world.housing_worker), world.alice, department=value)
    assert response.status_code == 422
    html = assert_valid_page(response)
    assert '<a href="#id_department">Choose one of the departments listed.</a>' in html
    assert "Confidential" not in html and "Called about damp" in html


def test_360_timeline_pages_back_with_older_entries_link(world, client_for):
    base = clock.now() - dt.timedelta(days=40)
    for i in range(30):
        f.InteractionFactory(
            person=world.alice,
            department=world.housing,
            summary=f"Follow-up call {i:02d}",
            at=base + dt.timedelta(days=i),
        )
    client = client_for(world.housing_worker)
    html = assert_valid_page(detail(client, world.alice))
    match = re.search(
        r'<a href="\?cursor=([^"#&]+)#timeline" class="button button--secondary">Older entries</a>',
        html,
    )
    assert match
    first_page = set(re.findall(r"Follow-up call \d\d", html))
    response = detail(client, world.alice, cursor=match.group(1))
    assert response.status_code == 200
    older = assert_valid_page(response)
    second_page = set(re.findall(r"Follow-up call \d\d", older))
    assert second_page and not first_page & second_page
    assert "Follow-up call 00" in older and "Back to the newest entries" in older


def test_360_with_a_damaged_cursor_is_422(world, client_for):
    response = detail(client_for(world.housing_worker), world.alice, cursor="not-a-cursor")
    assert response.status_code == 422
    assert "This page link is not valid" in assert_valid_page(response)


def test_home_for_analyst_has_counts_chart_and_table_but_no_person(world, client_for):
    response = client_for(world.analyst).get(reverse("staff:home"))
    html = assert_valid_page(response)
    assert '<svg class="bar-chart" role="img"' in html
    assert "<caption>Open cases by department and status</caption>" in html
    assert "Health" in html and "New" in html
    for personal in ("Okafor", "Alice", "Damp", world.housing_case.reference):
        assert personal not in html
    assert reverse("staff:person_search") not in html


def test_home_for_admin_links_to_configuration_and_shows_no_case_content(world, client_for):
    html = assert_valid_page(client_for(world.admin).get(reverse("staff:home")))
    assert 'href="/admin/"' in html
    assert "Okafor" not in html and "Open cases by department" not in html


def test_home_for_caseworker_links_to_the_department_queue(world, client_for):
    html = assert_valid_page(client_for(world.housing_worker).get(reverse("staff:home")))
    assert f"{reverse('staff:case_queue')}?department={world.housing.id}" in html
    assert reverse("staff:person_search") in html


def test_360_names_a_related_person_only_when_the_viewer_may_see_them(world, client_for):
    f.RelationshipFactory(from_person=world.alice, to_person=world.ben, kind="parent")
    f.RelationshipFactory(from_person=world.carol, to_person=world.alice, kind="partner")
    html = assert_valid_page(detail(client_for(world.housing_worker), world.alice))
    section = html.split('id="household"', 1)[1].split("</section>", 1)[0]
    assert (
        f'Parent of: <a href="{reverse("staff:person_detail", args=[world.ben.id])}">Ben Okafor</a>'
        in section
    )
    assert "partner of this person: Another person" in section
    assert "Carol" not in html


def test_home_for_a_partner_shows_nothing_personal(world, client_for):
    partner = f.StaffFactory(role="partner", display_name="Pia Partner")
    response = client_for(partner).get(reverse("staff:home"))
    html = assert_valid_page(response)
    assert response.status_code == 200
    assert "Okafor" not in html and reverse("staff:person_search") not in html
    assert client_for(partner).get(reverse("staff:person_search")).status_code == 403
