"""`civicloop demo`: loads into an empty database, refuses a full one, prints the logins."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from civicloop.cases.models import Case
from civicloop.core import clock
from civicloop.demo.generator import DemoCity, DemoConfig
from civicloop.demo.logins import DEMO_PASSWORD, DEMO_USERS
from civicloop.people.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(**options) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, skip_checks=True, **options)
    return out.getvalue()


def test_loads_an_empty_database_and_prints_the_logins():
    out = run(people=60, seed=3)
    assert Person.objects.count() == 60
    assert Case.objects.exists()
    assert DEMO_PASSWORD in out
    for login in DEMO_USERS:
        assert login.username in out


def test_refuses_a_database_that_holds_people_unless_told_to_skip():
    run(people=30, seed=1)
    cases = Case.objects.count()
    with pytest.raises(CommandError, match="already holds people"):
        run(people=30, seed=2)
    out = run(people=30, seed=2, if_empty=True)
    assert "not loaded" in out
    assert Person.objects.count() == 30 and Case.objects.count() == cases


def test_the_command_writes_what_the_generator_gives_for_the_seed():
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    with clock.frozen_at(now):
        run(people=40, seed=8, verbosity=0)
    city = DemoCity(DemoConfig(now=now, seed=8, people=40))
    bundles = list(city.households())
    people = [
        (p.given_name, p.family_name, p.date_of_birth, p.email) for b in bundles for p in b.people
    ]
    cases = sorted(
        (c.reference, c.status, c.description, c.opened_at) for b in bundles for c in b.cases
    )
    assert (
        list(
            Person.objects.order_by("pk").values_list(
                "given_name", "family_name", "date_of_birth", "email"
            )
        )
        == people
    )
    assert (
        list(
            Case.objects.order_by("reference").values_list(
                "reference", "status", "description", "opened_at"
            )
        )
        == cases
    )
