import pytest
from django.test import Client

from tests.world import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def client_for(db):
    """A Django test client signed in as the given staff member (or any user)."""

    def make(staff_or_user) -> Client:
        client = Client()
        client.force_login(getattr(staff_or_user, "user", staff_or_user))
        return client

    return make
