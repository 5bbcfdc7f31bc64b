"""The service with staff accounts, for the page tests through FastAPI's test client.

The client talks HTTPS (``https://testserver``): the session cookies are ``Secure`` and
``__Host-``, which a client keeps only on a secure origin, as a browser does. Passwords
are hashed with a cheap Argon2 profile here (the real one costs half a second each);
one test checks the real profile (tests/test_staff_accounts.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from jiuzhu.usecases import staff
from jiuzhu.usecases.access import Role
from jiuzhu.web import PREFIX
from tests.service_api import Api, make_api

PASSWORD = "correct horse battery"
USERS = {
    # username: (name, role, jurisdiction, hospital)
    "clerk": ("张经办", Role.civil_affairs, "371502", None),
    "reviewer": ("李审核", Role.reviewer, "3715", None),
    "far": ("王外县", Role.reviewer, "371521", None),
    "taiyuan": ("赵太原", Role.admin, "1401", None),
    "desk": ("刘医院", Role.hospital, "3715", "聊城某医院"),
    "desk_b": ("孙二院", Role.hospital, "3715", "聊城第二医院"),
}
CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff, "hasher", CHEAP)
    staff._dummy_hash.cache_clear()


@dataclass
class Web:
    api: Api
    """The API side (tokens per client), to settle claims."""

    def client(self) -> TestClient:
        return TestClient(self.api.app, base_url="https://testserver")

    def login(self, username: str, password: str = PASSWORD) -> TestClient:
        client = self.client()
        r = post_login(client, username, password)
        assert r.status_code == 303, r.text
        return client

    @property
    def pages(self) -> Any:
        """The mounted pages' app (its state: store, applications, limits)."""
        for route in self.api.app.routes:
            if getattr(route, "path", "") == PREFIX:
                return route.app
        raise AssertionError("pages not mounted")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found is not None, "no csrf field"
    return found.group(1)


def post_login(
    client: TestClient, username: str, password: str, next_path: str | None = None
) -> Any:
    form = client.get(f"{PREFIX}/login")
    data = {"username": username, "password": password, "csrf": csrf_of(form.text)}
    if next_path:
        data["next"] = next_path
    return client.post(f"{PREFIX}/login", data=data, follow_redirects=False)


def make_web(db_url: str) -> Iterator[Web]:
    for api in make_api(db_url):
        with api.app.state.store.sessions() as s, s.begin():
            for username, (name, role, where, hospital) in USERS.items():
                staff.create_user(s, username, name, role, where, PASSWORD, hospital=hospital)
        yield Web(api)


@pytest.fixture
def web(db_url: str) -> Iterator[Web]:
    yield from make_web(db_url)
