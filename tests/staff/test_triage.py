"""The triage queue: who sees which inbound emails, and opening a case from one, adding it
to a case, routing it and closing it — audited, and safe when two people act at once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from civicloop.cases.models import Case, Interaction
from civicloop.core import clock
from civicloop.core.access import Conflict, NotVisible
from civicloop.intake import triage
from civicloop.intake.models import TriageItem
from civicloop.people.models import Person
from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.staff.html import assert_valid_page

pytestmark = pytest.mark.django_db

QUEUE = reverse("staff:triage_queue")


def detail_url(item) -> str:
    return reverse("staff:triage_detail", args=[item.id])


def email(department=None, **fields) -> TriageItem:
    n = TriageItem.objects.count() + 1
    values = {
        "message_id": f"<m{n}@mail.example.org>",
        "sender_email": f"sender{n}@example.org",
        "sender_name": f"Sender Number{n}",
        "subject": f"Subject {n}",
        "body": f"Private text of message {n}",
        "received_at": clock.now() - dt.timedelta(hours=10 - n),
        "department": department,
    }
    return TriageItem.objects.create(**(values | fields))


@pytest.fixture
def inbox(world):
    world.unrouted = email(subject="Bins not collected", sender_name="Dora Mensah")
    world.for_housing = email(world.housing, subject="Mould in flat", body="The mould is back")
    world.for_health = email(world.health, subject="Clinic letter", body="Confidential health")
    world.handled = email(world.housing, subject="Old thanks", status=TriageItem.Status.CLOSED)
    world.advice = f.ServiceFactory(
        code="HSG-ADVICE", name="Housing advice", department=world.housing
    )
    world.income = f.NeedFactory(code="income", name="Income")
    return world


def test_caseworkers_see_their_departments_items_and_every_unrouted_one(inbox, client_for):
    world = inbox
    html = assert_valid_page(client_for(world.housing_worker).get(QUEUE))
    assert "Bins not collected" in html and "Mould in flat" in html
    assert "Clinic letter" not in html and "Old thanks" not in html
    # The list shows who, what about and when; never the text.
    assert "Dora Mensah" in html and "Private text" not in html and "mould is back" not in html
    html = assert_valid_page(client_for(world.childcare_worker).get(QUEUE))
    assert "Bins not collected" in html and "Mould in flat" not in html
    html = client_for(world.health_worker).get(QUEUE).content.decode()
    assert "Clinic letter" in html and "Bins not collected" in html


def test_the_queue_can_show_only_unrouted_items(inbox, client_for):
    client = client_for(inbox.housing_worker)
    html = client.get(QUEUE, {"department": "unrouted"}).content.decode()
    assert "Bins not collected" in html and "Mould in flat" not in html
    html = client.get(QUEUE, {"department": str(inbox.housing.id)}).content.decode()
    assert "Bins not collected" not in html and "Mould in flat" in html
    refused = client.get(QUEUE, {"department": str(inbox.health.id)})
    assert refused.status_code == 422
    assert '<a href="#id_department">' in refused.content.decode()


def test_reading_an_item_shows_its_text_and_is_audited(inbox, client_for):
    world = inbox
    before = AuditEvent.objects.count()
    response = client_for(world.childcare_worker).get(detail_url(world.unrouted))
    html = assert_valid_page(response)
    assert "Private text of message 1" in html
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert (event.action, event.object_ids) == ("triage.read", [world.unrouted.id])
    assert "body" in event.fields and "Private" not in str(event.__dict__)


def test_items_routed_to_another_department_are_not_found(inbox, client_for):
    client = client_for(inbox.housing_worker)
    response = client.get(detail_url(inbox.for_health))
    assert response.status_code == 404
    assert "Confidential health" not in response.content.decode()
    assert AuditEvent.objects.latest("id").outcome == "not_found"
    for action in ("triage_attach", "triage_route", "triage_close"):
        url = reverse(f"staff:{action}", args=[inbox.for_health.id])
        assert client.post(url, {}).status_code == 404, action


def test_analysts_and_admins_are_refused(inbox, client_for):
    for who in ("analyst", "admin"):
        client = client_for(getattr(inbox, who))
        assert client.get(QUEUE).status_code == 403
        assert client.get(detail_url(inbox.unrouted)).status_code == 403


def version(item) -> str:
    item.refresh_from_db()
    return triage.item_version(item)


def test_adding_an_email_to_a_case_logs_it_as_an_inbound_email(inbox, client_for):
    world = inbox
    item, case = world.for_housing, world.housing_case
    url = reverse("staff:triage_attach", args=[item.id])
    before = AuditEvent.objects.count()
    response = client_for(world.housing_worker).post(
        url, {"attach-reference": case.reference.lower(), "attach-version": version(item)}
    )
    assert response.status_code == 302
    assert response.url == reverse("staff:case_detail", args=[case.id]) + "#contacts"
    contact = case.interactions.latest("id")
    assert (contact.channel, contact.direction) == ("email", "inbound")
    assert contact.summary == "Mould in flat\n\nThe mould is back"
    assert contact.at == item.received_at and contact.actor == world.housing_worker
    item.refresh_from_db()
    assert (item.status, item.case) == (TriageItem.Status.ATTACHED, case)
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert event.action == "triage.attach" and item.id in event.object_ids
    assert event.counts["contact.log"] == 1 and event.counts["triage.attached"] == 1
    queue = client_for(world.housing_worker).get(QUEUE).content.decode()
    assert "Mould in flat" not in queue


@pytest.mark.parametrize("reference", ["", "CL-NOPE-NOPE", "employment"])
def test_a_reference_that_names_no_case_of_the_department_is_refused(inbox, client_for, reference):
    world = inbox
    if reference == "employment":
        reference = world.employment_case.reference  # a real case, of another department
    item = world.for_housing
    response = client_for(world.housing_worker).post(
        reverse("staff:triage_attach", args=[item.id]),
        {"attach-reference": reference, "attach-version": version(item)},
    )
    assert response.status_code == 422
    html = assert_valid_page(response)
    assert '<a href="#id_attach-reference">' in html
    assert not Interaction.objects.filter(channel="email").exists()
    assert version(item) == f"open.{world.housing.id}"


def test_routing_sends_the_item_to_the_other_department(inbox, client_for):
    world = inbox
    item = world.unrouted
    response = client_for(world.housing_worker).post(
        reverse("staff:triage_route", args=[item.id]),
        {"route-department": world.health.id, "route-version": version(item)},
    )
    assert response.status_code == 302 and response.url == QUEUE
    item.refresh_from_db()
    assert item.department == world.health and item.status == TriageItem.Status.OPEN
    assert client_for(world.housing_worker).get(detail_url(item)).status_code == 404
    assert client_for(world.health_worker).get(detail_url(item)).status_code == 200
    event = AuditEvent.objects.filter(action="triage.route").get()
    assert event.object_ids == [item.id] and event.fields == ["department"]


def test_closing_needs_a_reason_and_keeps_it_in_the_audit_log(inbox, client_for):
    world = inbox
    item = world.for_housing
    client = client_for(world.housing_worker)
    url = reverse("staff:triage_close", args=[item.id])
    refused = client.post(url, {"close-version": version(item)})
    assert refused.status_code == 422
    assert '<a href="#id_close-reason_0">' in refused.content.decode()
    assert version(item) == f"open.{world.housing.id}"
    response = client.post(url, {"close-reason": "spam", "close-version": version(item)})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == TriageItem.Status.CLOSED
    event = AuditEvent.objects.filter(action="triage.close").get()
    assert event.counts == {"reason": "spam"}
    html = assert_valid_page(client.get(detail_url(item)))
    assert "Closed without a case" in html and 'name="close-reason"' not in html


def test_the_second_of_two_people_acting_at_once_is_told_of_the_first(inbox, client_for):
    world = inbox
    item = world.for_housing
    seen = version(item)  # both have the page open
    first = client_for(world.housing_worker).post(
        reverse("staff:triage_close", args=[item.id]),
        {"close-reason": "no_action", "close-version": seen},
    )
    assert first.status_code == 302
    second = client_for(world.housing_supervisor).post(
        reverse("staff:triage_attach", args=[item.id]),
        {"attach-reference": world.housing_case.reference, "attach-version": seen},
    )
    assert second.status_code == 409
    html = assert_valid_page(second)
    assert "Someone else dealt with this message since you opened it" in html
    assert not world.housing_case.interactions.filter(channel="email").exists()


def test_routed_away_meanwhile_the_second_person_is_told_where_it_went(inbox, client_for):
    world = inbox
    item = world.unrouted
    seen = version(item)
    client_for(world.health_worker).post(
        reverse("staff:triage_route", args=[item.id]),
        {"route-department": world.health.id, "route-version": seen},
    )
    second = client_for(world.housing_worker).post(
        reverse("staff:triage_close", args=[item.id]),
        {"close-reason": "spam", "close-version": seen},
    )
    assert second.status_code == 409
    html = assert_valid_page(second)
    assert "Someone else sent this message to another department" in html
    assert "Private text" not in html
    item.refresh_from_db()
    assert item.status == TriageItem.Status.OPEN


def test_services_check_visibility_then_the_version(inbox):
    world = inbox
    childcare = world.viewer(world.childcare_worker)
    with pytest.raises(NotVisible):
        triage.triage_item_close(
            viewer=childcare, item_id=world.for_housing.id, version="", reason="spam"
        )
    # Someone who saw it unrouted learns that it moved, never where to.
    with pytest.raises(Conflict, match="another department") as raised:
        triage.triage_item_close(
            viewer=childcare, item_id=world.for_housing.id, version="open.0", reason="spam"
        )
    assert "Housing" not in str(raised.value)
    housing = world.viewer(world.housing_worker)
    with pytest.raises(Conflict, match="routed this message to Housing"):
        triage.triage_item_close(
            viewer=housing, item_id=world.for_housing.id, version="open.0", reason="spam"
        )
    assert version(world.for_housing) == f"open.{world.housing.id}"


def test_a_case_opened_from_an_email_starts_from_the_sender_and_the_text(inbox, client_for):
    world = inbox
    item = world.for_housing
    client = client_for(world.housing_worker)
    detail = assert_valid_page(client.get(detail_url(item)))
    open_url = re.search(r'href="([^"]*triage=\d+)" class="button"', detail).group(1)
    html = assert_valid_page(client.get(open_url))
    assert "Mould in flat" in html and f'value="{item.sender_email}"' in html
    html = assert_valid_page(client.get(open_url + "&new=1"))
    assert re.search(r'name="given_name" value="Sender"', html)
    assert re.search(r'name="family_name" value="Number2"', html)
    assert "The mould is back</textarea>" in html
    assert 'name="summary"' not in html and 'name="channel"' not in html
    before = Person.objects.count()
    response = client.post(
        reverse("staff:intake"),
        {
            "triage": item.id,
            "triage_version": version(item),
            "given_name": "Sender",
            "family_name": "Number2",
            "email": item.sender_email,
            "service": world.advice.id,
            "need": world.income.id,
            "description": "The mould is back",
            "priority": "high",
            "match": "new",
        },
    )
    assert response.status_code == 302
    case = Case.objects.latest("id")
    assert (case.channel, case.priority, case.person.email) == ("email", "high", item.sender_email)
    assert Person.objects.count() == before + 1
    contact = case.interactions.get()
    assert contact.channel == "email" and contact.at == item.received_at
    item.refresh_from_db()
    assert (item.status, item.case) == (TriageItem.Status.CASE_OPENED, case)
    # The email is off the queue, and opening a second case from it is refused.
    again = client.get(open_url + "&new=1")
    assert "already been dealt with" in again.content.decode()
    assert 'name="service"' not in again.content.decode()


def test_a_case_from_an_email_someone_else_handled_meanwhile_is_refused(inbox, client_for):
    world = inbox
    item = world.for_housing
    seen = version(item)
    client_for(world.housing_supervisor).post(
        reverse("staff:triage_close", args=[item.id]),
        {"close-reason": "duplicate", "close-version": seen},
    )
    before = (Person.objects.count(), Case.objects.count())
    response = client_for(world.housing_worker).post(
        reverse("staff:intake"),
        {
            "triage": item.id,
            "triage_version": seen,
            "person": world.alice.id,
            "service": world.advice.id,
            "need": world.income.id,
            "description": "Mould",
            "priority": "normal",
        },
    )
    assert response.status_code == 409
    assert "Someone else dealt with this message" in response.content.decode()
    assert (Person.objects.count(), Case.objects.count()) == before


def test_a_message_naming_a_case_offers_that_case_to_add_it_to(inbox, client_for):
    world = inbox
    item = email(
        world.housing, subject=f"Re: {world.housing_case.reference}", case=world.housing_case
    )
    html = assert_valid_page(client_for(world.housing_worker).get(detail_url(item)))
    assert "Case it names" in html
    assert re.search(rf'name="attach-reference" value="{world.housing_case.reference}"', html)
