"""Open311 api keys: issued by admins (Configuration, or `civicloop open311 create-key`),
shown once, kept only as a hash, revoked at once."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from civicloop.intake.keys import open311_client_for_key
from civicloop.intake.models import Open311Client
from civicloop.trust.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_command_prints_a_key_once_and_keeps_its_hash():
    out = StringIO()
    call_command("open311", "create-key", "--name", "Fix My Street", stdout=out)
    lines = out.getvalue().splitlines()
    key = lines[1]
    client = Open311Client.objects.get()
    assert client.name == "Fix My Street" and client.active
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(Open311Client.objects.values().get())
    assert client.key_prefix == key[:10]
    assert open311_client_for_key(key) == client
    assert AuditEvent.objects.filter(action="open311.key_issue", object_ids=[client.id]).exists()
    listing = StringIO()
    call_command("open311", "list-keys", stdout=listing)
    assert "Fix My Street" in listing.getvalue() and key not in listing.getvalue()


def test_a_revoked_key_no_longer_works():
    out = StringIO()
    call_command("open311", "create-key", "--name", "Old app", stdout=out)
    key = out.getvalue().splitlines()[1]
    client = Open311Client.objects.get()
    call_command("open311", "revoke-key", str(client.id), stdout=StringIO())
    assert open311_client_for_key(key) is None
    client.refresh_from_db()
    assert not client.active and client.revoked_at is not None
    with pytest.raises(CommandError):
        call_command("open311", "revoke-key", "999999", stdout=StringIO())


def test_a_key_needs_a_name():
    with pytest.raises(CommandError):
        call_command("open311", "create-key", "--name", "   ", stdout=StringIO())
    assert not Open311Client.objects.exists()


def test_an_admin_issues_a_key_from_configuration_and_sees_it_once():
    admin = f.StaffFactory(
        role="admin", user=f.UserFactory(username="ada", is_staff=True, is_superuser=True)
    )
    client = Client()
    client.force_login(admin.user)
    response = client.post("/admin/intake/open311client/add/", {"name": "Street app"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    issued = Open311Client.objects.get(name="Street app")
    page = response.content.decode()
    key = page.split('id="issued-key" type="text" value="', 1)[1].split('"', 1)[0]
    assert hashlib.sha256(key.encode()).hexdigest() == issued.key_hash
    assert issued.created_by_id == admin.id
    # The list shows the prefix, never the key.
    listing = client.get("/admin/intake/open311client/").content.decode()
    assert issued.key_prefix in listing and key not in listing
    client.post(
        "/admin/intake/open311client/",
        {"action": "revoke", "_selected_action": [issued.id]},
    )
    issued.refresh_from_db()
    assert not issued.active
