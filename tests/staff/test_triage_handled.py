"""Triage items record who dealt with them, when, and why one was closed; the detail page
and the queue of items dealt with show it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from civicloop.cases.models import Case
from civicloop.core import clock
from civicloop.intake import triage
from civicloop.intake.models import TriageItem
from civicloop.trust.models import AuditEvent
from tests import factories as f
from tests.staff.html import assert_valid_page

pytestmark = pytest.mark.django_db

QUEUE = reverse("staff:triage_queue")


def email(department=None, **fields) -> TriageItem:
    n = TriageItem.objects.count() + 1
    values = {
        "message_id": f"<h{n}@mail.example.org>",
        "sender_email": f"sender{n}@example.org",
        "subject": f"Subject {n}",
        "body": f"Private text {n}",
        "received_at": clock.now() - dt.timedelta(hours=10 - n),
        "department": department,
    }
    return TriageItem.objects.create(**(values | fields))


def version(item) -> str:
    item.refresh_from_db()
    return triage.item_version(item)


@pytest.fixture
def inbox(world):
    world.unrouted = email(subject="Bins not collected")
    world.for_housing = email(world.housing, subject="Mould in flat")
    world.for_health = email(world.health, subject="Clinic letter")
    world.advice = f.ServiceFactory(
        code="HSG-ADVICE", name="Housing advice", department=world.housing
    )
    world.income = f.NeedFactory(code="income", name="Income")
    return world


def test_closing_records_who_when_and_why(inbox, client_for):
    world, item = inbox, inbox.for_housing
    client = client_for(world.housing_worker)
    client.post(
        reverse("staff:triage_close", args=[item.id]),
        {"close-reason": "not_for_us", "close-version": version(item)},
    )
    item.refresh_from_db()
    assert (item.handled_by, item.closed_reason) == (world.housing_worker, "not_for_us")
    assert clock.now() - item.handled_at < dt.timedelta(minutes=1)
    html = assert_valid_page(client.get(reverse("staff:triage_detail", args=[item.id])))
    assert "Dealt with by" in html and "Hana Housing" in html
    assert "Why it was closed" in html and "Not for us: the sender was told where to go" in html


def test_routing_adding_and_opening_a_case_record_who_handled_the_item(inbox, client_for):
    world = inbox
    client_for(world.housing_worker).post(
        reverse("staff:triage_route", args=[world.unrouted.id]),
        {"route-department": world.health.id, "route-version": version(world.unrouted)},
    )
    world.unrouted.refresh_from_db()
    assert world.unrouted.handled_by == world.housing_worker
    assert world.unrouted.status == TriageItem.Status.OPEN and world.unrouted.closed_reason == ""
    # Still open: its page says who last handled it.
    html = client_for(world.health_worker).get(
        reverse("staff:triage_detail", args=[world.unrouted.id])
    )
    assert "Last handled by" in html.content.decode()

    client_for(world.housing_supervisor).post(
        reverse("staff:triage_attach", args=[world.for_housing.id]),
        {
            "attach-reference": world.housing_case.reference,
            "attach-version": version(world.for_housing),
        },
    )
    world.for_housing.refresh_from_db()
    assert world.for_housing.handled_by == world.housing_supervisor
    assert world.for_housing.handled_at is not None

    item = email(world.housing, subject="Help with rent")
    response = client_for(world.housing_worker).post(
        reverse("staff:intake"),
        {
            "triage": item.id,
            "triage_version": version(item),
            "person": world.alice.id,
            "service": world.advice.id,
            "need": world.income.id,
            "description": "Help with rent",
            "priority": "normal",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.case) == (TriageItem.Status.CASE_OPENED, Case.objects.latest("id"))
    assert item.handled_by == world.housing_worker and item.handled_at is not None


def test_the_queue_of_handled_items_shows_who_dealt_with_them(inbox, client_for):
    world = inbox
    client = client_for(world.housing_worker)
    client.post(
        reverse("staff:triage_close", args=[world.for_housing.id]),
        {"close-reason": "spam", "close-version": version(world.for_housing)},
    )
    client_for(world.health_worker).post(
        reverse("staff:triage_close", args=[world.for_health.id]),
        {"close-reason": "no_action", "close-version": version(world.for_health)},
    )
    waiting = client.get(QUEUE).content.decode()
    assert "Bins not collected" in waiting and "Mould in flat" not in waiting
    before = AuditEvent.objects.count()
    response = client.get(QUEUE, {"state": "handled"})
    html = assert_valid_page(response)
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert event.action == "triage.list" and event.object_ids == [world.for_housing.id]
    assert {"handled_by", "handled_at", "closed_reason"} <= set(event.fields)
    assert "Mould in flat" in html and "Bins not collected" not in html
    assert "Dealt with by" in html and "Hana Housing" in html
    assert "Closed without a case" in html and "Spam or junk mail" in html
    # Another department's handled item stays theirs.
    assert "Clinic letter" not in html
    assert "1 message dealt with." in html


def test_the_handled_queue_is_newest_handled_first_and_older_items_say_not_recorded(
    inbox, client_for
):
    world = inbox
    old = email(world.housing, subject="Handled long ago", status=TriageItem.Status.CLOSED)
    client = client_for(world.housing_worker)
    client.post(
        reverse("staff:triage_close", args=[world.for_housing.id]),
        {"close-reason": "spam", "close-version": version(world.for_housing)},
    )
    html = client.get(QUEUE, {"state": "handled"}).content.decode()
    assert html.index("Mould in flat") < html.index("Handled long ago")
    assert "Not recorded" in html
    detail = client.get(reverse("staff:triage_detail", args=[old.id])).content.decode()
    assert "Not recorded" in detail


def test_an_unknown_state_is_refused(inbox, client_for):
    response = client_for(inbox.housing_worker).get(QUEUE, {"state": "everything"})
    assert response.status_code == 422
    html = assert_valid_page(response)
    assert '<a href="#id_state">' in html and "Mould in flat" not in html
