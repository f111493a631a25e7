"""Making a report one question per page: answers kept in the session, an error summary
linking to the field on every refused answer, a check page with change links, and the
case the intake core opens when the report is sent."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from civicloop.cases.models import Case
from civicloop.catalogue.models import ServiceAttribute
from civicloop.portal.draft import SESSION_KEY
from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.portal.conftest import Citizen, form_data, step_url
from tests.support import assert_valid_html

pytestmark = pytest.mark.django_db


def refused(response, anchor: str, message: str, *, on_page: bool = True) -> str:
    """The page answered 422 with an error summary linking `anchor`, saying `message`."""
    assert response.status_code == 422, response.status_code
    html = response.content.decode()
    assert_valid_html(html)
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'href="{anchor}"' in summary, summary
    assert message in summary, summary
    if on_page:
        assert f'id="{anchor[1:]}"' in html, f"the summary links to {anchor}, on the page"
    return html


def test_a_pothole_report_from_start_to_confirmation(client, city):
    citizen = Citizen(client)
    response = citizen.start(city.pothole)
    assert response.status_code == 302 and response["Location"] == step_url("location")

    page = client.get(step_url("location"))
    assert page.status_code == 200
    assert_valid_html(page.content)
    response = citizen.answer(step_url("location"), address="12 high st")
    assert response["Location"] == step_url("location-confirm")
    confirm = client.get(step_url("location-confirm")).content.decode()
    assert "12 High Street" in confirm and "Is this the place of the problem?" in confirm

    address = city.high_street[1]
    response = citizen.answer(step_url("location-confirm"), address_id=str(address.id))
    assert response["Location"] == step_url("duplicates")
    # No open report of the service nearby: the question is not asked.
    response = client.get(step_url("duplicates"))
    question = reverse("portal:report_question", args=["depth"])
    assert response["Location"] == question
    page = client.get(question)
    assert "How deep is it?" in page.content.decode()
    assert citizen.answer(question, answer="deep")["Location"] == step_url("description")
    assert citizen.answer(step_url("description"), description=" A deep hole. ")[
        "Location"
    ] == step_url("photo")
    assert citizen.answer(step_url("photo"))["Location"] == step_url("updates")
    assert citizen.answer(step_url("updates"), notify_channel="email")["Location"] == step_url(
        "contact"
    )
    response = citizen.answer(
        step_url("contact"), name="Sam Q Reporter", email="sam@example.net", phone=""
    )
    assert response["Location"] == reverse("portal:report_check")

    check = client.get(reverse("portal:report_check"))
    html = check.content.decode()
    assert_valid_html(html)
    for shown in (
        "12 High Street",
        "Deeper than a hand",
        "A deep hole.",
        "No photo",
        "Yes, by email",
        "sam@example.net",
    ):
        assert shown in html, shown
    for step in ("location", "description", "photo", "updates", "contact"):
        assert f'href="{step_url(step)}"' in html, f"a change link to {step}"
    assert f'href="{question}"' in html

    response = citizen.send()
    assert response.status_code == 302 and response["Location"] == reverse("portal:report_done")
    case = Case.objects.get()
    assert case.service == city.pothole and case.channel == "web"
    assert case.address == address and case.area == city.ward
    assert case.description == "A deep hole."
    assert case.attributes == {"depth": "deep"}
    assert (case.reporter_name, case.reporter_email) == ("Sam Q Reporter", "sam@example.net")
    assert case.contact_consent and case.notify_channel == "email"
    assert case.reporter_language == "en"
    assert len(case.tracking_token_hash) == 64
    assert SESSION_KEY not in client.session, "the answers are forgotten once sent"

    done = client.get(reverse("portal:report_done")).content.decode()
    assert_valid_html(done)
    assert case.reference in done
    link = re.search(r'href="(/portal/track/[^"]+)"', done).group(1)
    assert link.startswith(reverse("portal:track", args=[case.reference]) + "?t=")
    tracked = client.get(link.replace("&amp;", "&"))
    assert "Your report" in tracked.content.decode()


def test_a_place_can_be_given_by_coordinates(client, city):
    citizen = Citizen(client)
    citizen.start(city.pothole)
    refused(
        citizen.answer(step_url("coordinates"), latitude="north", longitude="-0.1"),
        "#id_latitude",
        "Enter the latitude as a number",
    )
    refused(
        citizen.answer(step_url("coordinates"), latitude="48.85", longitude="2.35"),
        "#id_latitude",
        "outside the area we serve",
    )
    response = citizen.answer(step_url("coordinates"), latitude="51.45", longitude="-0.15")
    assert response["Location"] == step_url("duplicates")
    assert client.session[SESSION_KEY]["location"]["kind"] == "point"


def test_an_unknown_address_is_refused_on_its_page(client, city):
    citizen = Citizen(client)
    citizen.start(city.pothole)
    refused(citizen.answer(step_url("location"), address=""), "#id_address", "Enter the address")
    refused(
        citizen.answer(step_url("location"), address="99 Nowhere Lane"),
        "#id_address",
        "We could not find that address",
    )
    # With no address found, there is nothing to confirm: back to the search.
    response = citizen.answer(step_url("location-confirm"), address_id="12345")
    assert response["Location"] == step_url("location")
    assert "location" not in client.session[SESSION_KEY]


def test_several_matching_addresses_are_offered_to_choose_from(client, city):
    citizen = Citizen(client)
    citizen.start(city.pothole)
    response = citizen.answer(step_url("location"), address="High Street RV1 1AB")
    assert response["Location"] == step_url("location-confirm")
    html = client.get(step_url("location-confirm")).content.decode()
    assert "Which of these is the place of the problem?" in html
    assert all(str(a) in html for a in city.high_street)
    refused(
        citizen.answer(step_url("location-confirm")),
        "#id_address_id_0",
        "Choose the address of the problem.",
    )
    response = citizen.answer(step_url("location-confirm"), address_id="none")
    assert response["Location"] == step_url("location")


@pytest.mark.parametrize(
    "step, fields, anchor, message",
    [
        ("description", {"description": ""}, "#id_description", "Describe the problem."),
        ("description", {"description": "x" * 4001}, "#id_description", "under 4000"),
        ("updates", {}, "#id_notify_channel_0", "Choose whether we may contact you"),
        (
            "updates",
            {"notify_channel": "pigeon"},
            "#id_notify_channel_0",
            "Choose one of the answers",
        ),
    ],
)
def test_each_page_refuses_a_wrong_answer_with_a_linked_error(
    client, city, step, fields, anchor, message
):
    citizen = Citizen(client)
    citizen.report_pothole(city)
    before = dict(client.session[SESSION_KEY])
    refused(citizen.answer(step_url(step), **fields), anchor, message)
    assert dict(client.session[SESSION_KEY]) == before, "a refused answer changes nothing"


def test_a_question_of_the_service_refuses_a_missing_answer(client, city):
    citizen = Citizen(client)
    citizen.report_pothole(city)
    url = reverse("portal:report_question", args=["depth"])
    before = dict(client.session[SESSION_KEY])
    html = refused(citizen.answer(url), "#id_answer_0", "Choose an answer.")
    assert "Choose an answer." in html
    html = refused(
        citizen.answer(url, answer="bottomless"), "#id_answer_0", "Choose one of the answers"
    )
    assert "Choose one of the answers" in html
    assert dict(client.session[SESSION_KEY]) == before, "a refused answer changes nothing"


def test_contact_details_follow_the_way_to_be_contacted(client, city):
    citizen = Citizen(client)
    citizen.report_pothole(city)
    refused(
        citizen.answer(step_url("contact"), name="Sam", email="", phone=""),
        "#id_email",
        "Enter your email address",
    )
    refused(
        citizen.answer(step_url("contact"), name="Sam", email="not-an-email", phone=""),
        "#id_email",
        "Enter an email address in the right format",
    )
    # Choosing text messages instead asks for the phone number again.
    citizen.answer(step_url("updates"), notify_channel="sms")
    assert client.get(reverse("portal:report_check"))["Location"] == step_url("contact")
    refused(
        citizen.answer(step_url("contact"), name="", email="", phone=""),
        "#id_phone",
        "Enter your mobile phone number",
    )
    # Not to be contacted: for a place-based report, no detail is needed at all.
    citizen.answer(step_url("updates"), notify_channel="none")
    response = citizen.answer(step_url("contact"), name="", email="", phone="")
    assert response["Location"] == reverse("portal:report_check")
    citizen.send()
    case = Case.objects.get()
    assert (case.reporter_name, case.reporter_email, case.reporter_phone) == ("", "", "")
    assert not case.contact_consent and case.notify_channel == "none"


def test_a_request_that_is_not_about_a_place_needs_a_name_and_a_way_to_reply(client, city):
    citizen = Citizen(client)
    response = citizen.start(city.repair)
    assert response["Location"] == step_url("description"), "no location for this service"
    citizen.answer(step_url("description"), description="The boiler has stopped working.")
    citizen.answer(step_url("photo"))
    citizen.answer(step_url("updates"), notify_channel="none")
    html = refused(
        citizen.answer(step_url("contact"), name="", email="", phone=""),
        "#id_name",
        "Enter your full name.",
    )
    assert "Enter an email address or a phone number." in html
    citizen.answer(step_url("contact"), name="Ada Tenant", email="", phone="07700 900 555")
    assert citizen.send()["Location"] == reverse("portal:report_done")
    case = Case.objects.get()
    assert case.service == city.repair and case.latitude is None
    assert case.reporter_phone == "07700 900 555"


def test_a_change_from_the_check_page_returns_to_it(client, city):
    citizen = Citizen(client)
    citizen.report_pothole(city)
    response = citizen.answer(step_url("description"), description="Now a crater.")
    assert response["Location"] == reverse("portal:report_check")
    assert "Now a crater." in client.get(reverse("portal:report_check")).content.decode()


def test_pages_cannot_be_skipped(client, city):
    citizen = Citizen(client)
    citizen.start(city.pothole)
    for url in (step_url("contact"), step_url("photo"), reverse("portal:report_check")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == step_url("location")
    response = citizen.answer(step_url("description"), description="Skipping ahead")
    assert response["Location"] == step_url("location")
    assert "description" not in client.session[SESSION_KEY]


def test_without_a_report_in_progress_the_pages_say_to_start_again(client, city):
    for url in (step_url("location"), reverse("portal:report_check")):
        response = client.get(url)
        assert response.status_code == 200
        assert "You need to start again" in response.content.decode()
    assert client.get(step_url("no-such-page")).status_code == 404


def test_an_open_report_nearby_is_offered_as_the_same_problem(client, city):
    original = f.CaseFactory(
        service=city.pothole,
        person=None,
        description="Pothole by the bus stop",
        latitude=city.high_street[1].latitude,
        longitude=city.high_street[1].longitude,
        address=city.high_street[1],
        area=city.ward,
        status="in_progress",
        reporter_name="First Reporter",
        reporter_email="first@example.net",
    )
    citizen = Citizen(client)
    citizen.start(city.pothole)
    citizen.answer(step_url("location"), address="12 High Street")
    citizen.answer(step_url("location-confirm"), address_id=str(city.high_street[1].id))
    page = client.get(step_url("duplicates"))
    html = page.content.decode()
    assert page.status_code == 200
    assert_valid_html(html)
    assert original.reference in html and "Pothole by the bus stop" in html
    assert "First Reporter" not in html and "first@example.net" not in html
    refused(citizen.answer(step_url("duplicates")), "#id_same_as_0", "Choose the problem")

    citizen.report_pothole(city, same_as=original.reference)
    citizen.send()
    mine = Case.objects.exclude(pk=original.pk).get()
    assert mine.duplicate_of == original
    assert mine.status == "in_progress", "it follows the status of the report it duplicates"
    assert AuditEvent.objects.filter(
        action="case.mark_duplicate", object_ids=[mine.id, original.id]
    ).exists()


def test_saying_it_is_a_different_problem_leaves_the_report_on_its_own(client, city):
    original = f.CaseFactory(
        service=city.pothole,
        person=None,
        latitude=city.high_street[1].latitude,
        longitude=city.high_street[1].longitude,
    )
    citizen = Citizen(client)
    citizen.report_pothole(city, same_as="no")
    citizen.send()
    mine = Case.objects.exclude(pk=original.pk).get()
    assert mine.duplicate_of is None and mine.status == "new"


def test_starting_another_report_replaces_the_one_not_sent(client, city):
    citizen = Citizen(client)
    citizen.report_pothole(city)
    citizen.start(city.lights)
    assert client.session[SESSION_KEY]["service"] == "LGT"
    assert "description" not in client.session[SESSION_KEY]


def test_the_check_page_sends_each_service_error_back_to_its_page(client, city):
    citizen = Citizen(client)
    citizen.report_pothole(city)
    # The service stops asking the question's answer it was given: the intake core refuses.
    city.pothole.attributes.filter(code="depth").update(
        values=[{"key": "shallow", "name": "Shallow"}]
    )
    response = citizen.send()
    html = refused(
        response,
        reverse("portal:report_question", args=["depth"]),
        "Choose one of the listed values.",
        on_page=False,
    )
    assert Case.objects.count() == 0
    assert "Check your answers" in html


def test_every_kind_of_service_question(client, city):
    kinds = ServiceAttribute.Datatype
    service = city.lights
    for order, (code, datatype, values) in enumerate(
        [
            ("poles", kinds.NUMBER, []),
            ("since", kinds.DATETIME, []),
            (
                "what",
                kinds.MULTI,
                [{"key": "dark", "name": "Dark"}, {"key": "flicker", "name": "Flickering"}],
            ),
            ("more", kinds.TEXT, []),
            ("colour", kinds.STRING, []),
        ],
        start=1,
    ):
        ServiceAttribute.objects.create(
            service=service,
            code=code,
            datatype=datatype,
            values=values,
            required=code != "more",
            order=order,
            description=f"Question {code}?",
        )
    citizen = Citizen(client)
    citizen.start(service)
    citizen.answer(step_url("coordinates"), latitude="51.45", longitude="-0.15")
    client.get(step_url("duplicates"))
    question = lambda code: reverse("portal:report_question", args=[code])  # noqa: E731
    refused(citizen.answer(question("poles"), answer="two"), "#id_answer", "Enter a number")
    citizen.answer(question("poles"), answer="2.50")
    refused(citizen.answer(question("since"), answer="yesterday"), "#id_answer", "Enter a date")
    citizen.answer(question("since"), answer="01/03/2026 18:45")
    refused(citizen.answer(question("what")), "#id_answer_0", "Choose at least one answer.")
    citizen.client.post(question("what"), {**form_data(), "answer": ["dark", "flicker"]})
    citizen.answer(question("more"), answer="")
    response = citizen.answer(question("colour"), answer="orange")
    assert response["Location"] == step_url("description")
    citizen.answer(step_url("description"), description="Two lamps out.")
    citizen.answer(step_url("photo"))
    citizen.answer(step_url("updates"), notify_channel="none")
    citizen.answer(step_url("contact"), name="", email="", phone="")
    check = client.get(reverse("portal:report_check")).content.decode()
    assert "Dark, Flickering" in check and "Not answered" in check and "2.5" in check
    assert citizen.send().status_code == 302
    answers = Case.objects.get().attributes
    assert answers["poles"] == "2.5" and answers["what"] == ["dark", "flicker"]
    assert answers["since"].startswith("2026-03-01T18:45:00")
    assert answers["colour"] == "orange" and "more" not in answers
