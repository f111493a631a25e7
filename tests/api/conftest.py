"""Fixtures for the staff API: the small test city, tokens, and a JSON client."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from civicloop.staff.tokens import token_issue
from tests.world import build_world

API = "/api/v1"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # The world's users are made with real password hashes; nothing here signs in by password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    return build_world()


class ApiClient:
    """Django's test client speaking JSON to /api/v1/ with a personal access token."""

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(API + path, params or {}, headers=self._headers(headers))

    def _send(self, method: str, path: str, body, headers: dict | None):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return getattr(self.client, method)(
            API + path, data, content_type="application/json", headers=self._headers(headers)
        )

    def post(self, path: str, body=None, headers: dict | None = None):
        return self._send("post", path, {} if body is None else body, headers)

    def patch(self, path: str, body=None, headers: dict | None = None):
        return self._send("patch", path, {} if body is None else body, headers)


@pytest.fixture
def api_as(world):
    """`api_as(world.housing_worker)`: a client authenticated with a fresh token of that staff member."""

    def make(staff) -> ApiClient:
        _, raw = token_issue(staff=staff, name="tests")
        return ApiClient(raw)

    return make


@pytest.fixture
def anonymous() -> ApiClient:
    return ApiClient()
