"""Signing in with Starlette's TestClient, and the CSRF token of the current session."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.e2e._db import PASSWORD

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(client: TestClient, page: str = "/login") -> str:
    """The CSRF token in the forms of ``page`` (the session's token)."""
    response = client.get(page)
    found = _CSRF.search(response.text)
    assert found, f"{page} ({response.status_code}) has no CSRF field"
    return found.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    """Sign ``client`` in as ``name``; fails the test when the login does not redirect."""
    token = csrf_of(client, "/login")
    response = client.post("/login", data={"name": name, "password": password, "csrf": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    return client
