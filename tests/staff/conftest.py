import pytest
from django.test import Client

from tests.world import build_world


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Each world makes seven users; PBKDF2 at full strength would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
