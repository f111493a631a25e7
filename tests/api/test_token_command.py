"""`civicloop token create|list|revoke`."""

import io

import pytest
from django.core.management import CommandError, call_command

from civicloop.staff.models import ApiToken
from civicloop.staff.tokens import token_authenticate

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("token", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_prints_a_working_token_once_then_list_and_revoke(world):
    raw = run(
        "create", "--user", "hana.housing", "--name", "export", "--expires-days", "30"
    ).strip()
    assert token_authenticate(raw) == world.housing_worker
    token = ApiToken.objects.get()
    listing = run("list", "--user", "hana.housing")
    assert f"{token.id}\t{token.prefix}…\texport\tactive until" in listing and raw not in listing
    run("revoke", "--id", str(token.id))
    assert token_authenticate(raw) is None
    assert "revoked" in run("list", "--user", "hana.housing")


def test_errors_are_plain_messages(world):
    with pytest.raises(CommandError, match="No staff member"):
        run("create", "--user", "nobody", "--name", "x")
    with pytest.raises(CommandError, match="name"):
        run("create", "--user", "hana.housing", "--name", " ")
    with pytest.raises(CommandError, match="No such token"):
        run("revoke", "--id", "999")
