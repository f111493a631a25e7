"""Open311 client keys from the staff pages: admins list the client applications, issue a
key (shown once, never cached, never stored) and revoke one after a confirmation page;
every other role is refused, and bad input changes nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from civicloop.intake.keys import key_hash, open311_client_create, open311_client_for_key
from civicloop.intake.models import Open311Client
from civicloop.trust.models import AuditEvent
from tests.staff.html import assert_valid_page

pytestmark = pytest.mark.django_db

LIST = reverse("staff:open311_clients")
NEW = reverse("staff:open311_client_create")


def revoke_url(client) -> str:
    return reverse("staff:open311_client_revoke", args=[client.id])


@pytest.fixture
def app(world):
    client, key = open311_client_create(
        viewer=world.viewer(world.admin), name="Riverton FixMyStreet", created_by_id=world.admin.id
    )
    client.key = key
    return client


def test_admins_see_every_client_application(world, app, client_for):
    old, _key = open311_client_create(viewer=world.viewer(world.admin), name="Old app")
    Open311Client.objects.filter(pk=old.pk).update(active=False)
    html = assert_valid_page(client_for(world.admin).get(LIST))
    assert "Riverton FixMyStreet" in html and "Old app" in html
    assert f"<code>{app.key_prefix}…</code>" in html and "by Adam Admin" in html
    assert 'tag--open">Active<' in html and 'tag--grey">Revoked<' in html and "Never" in html
    assert app.key not in html and app.key_hash not in html
    assert f'href="{revoke_url(app)}"' in html and f'href="{revoke_url(old)}"' not in html
    assert f'href="{LIST}"' in client_for(world.admin).get(reverse("staff:home")).content.decode()


def test_issuing_a_key_shows_it_once_and_keeps_only_its_hash(world, client_for):
    client = client_for(world.admin)
    assert_valid_page(client.get(NEW))
    before = AuditEvent.objects.count()
    response = client.post(NEW, {"name": "  Street Reporter  "})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = assert_valid_page(response)
    key = re.search(r'id="open311-key" type="text" value="([^"]+)"', html).group(1)
    app = Open311Client.objects.get(name="Street Reporter")
    assert app.key_hash == key_hash(key) and app.created_by == world.admin
    assert open311_client_for_key(key) == app
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert (event.action, event.object_ids) == ("open311.key_issue", [app.id])
    # Not shown again anywhere.
    assert key not in client.get(LIST).content.decode()


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Enter the name of the application."),
        ("   ", "Enter the name of the application."),
        ("x" * 201, "Keep the name under 200 characters."),
    ],
)
def test_a_key_needs_a_name(world, client_for, name, message):
    response = client_for(world.admin).post(NEW, {"name": name})
    assert response.status_code == 422
    html = assert_valid_page(response)
    assert '<a href="#id_name">' in html and message in html
    assert not Open311Client.objects.exists()


def test_revoking_asks_first_then_stops_the_key(world, app, client_for):
    client = client_for(world.admin)
    html = assert_valid_page(client.get(revoke_url(app)))
    assert "Revoke the key of Riverton FixMyStreet?" in html
    assert "Yes, revoke the key" in html and f'href="{LIST}"' in html
    app.refresh_from_db()
    assert app.active  # asking changes nothing
    before = AuditEvent.objects.count()
    response = client.post(revoke_url(app))
    assert response.status_code == 302 and response.url == LIST
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert (event.action, event.object_ids) == ("open311.key_revoke", [app.id])
    app.refresh_from_db()
    assert not app.active and app.revoked_at is not None
    assert open311_client_for_key(app.key) is None
    assert "requests made with it are refused" in client.get(LIST).content.decode()
    # Again: nothing more happens.
    again = client.post(revoke_url(app))
    assert again.status_code == 302 and AuditEvent.objects.count() == before + 1
    assert "already revoked" in client.get(LIST).content.decode()
    assert "is revoked" in client.get(revoke_url(app)).content.decode()


def test_an_unknown_client_is_not_found(world, client_for):
    for method in ("get", "post"):
        url = reverse("staff:open311_client_revoke", args=[999999])
        assert getattr(client_for(world.admin), method)(url).status_code == 404


def test_other_roles_are_refused_and_change_nothing(world, app, client_for):
    for who in ("housing_worker", "housing_supervisor", "analyst"):
        client = client_for(getattr(world, who))
        for url in (LIST, NEW, revoke_url(app)):
            assert client.get(url).status_code == 403, (who, url)
        assert client.post(NEW, {"name": "Sneaky app"}).status_code == 403
        assert client.post(revoke_url(app)).status_code == 403
        home = client.get(reverse("staff:home")).content.decode()
        assert f'href="{LIST}"' not in home
    assert Client().get(LIST).status_code == 401
    assert Client().post(revoke_url(app)).status_code == 401
    app.refresh_from_db()
    assert app.active and not Open311Client.objects.filter(name="Sneaky app").exists()
