"""An app with a token per role and client, over a fresh database, for the service tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jiuzhu.service.app import create_app
from jiuzhu.usecases.access import Role
from jiuzhu.usecases.tokens import FailureLimit, create_token
from tests.db_fixtures import make_id

PERSON = make_id(1)  # 371502… (聊城市 东昌府区)
MASKED = PERSON[:4] + "*" * 10 + PERSON[-4:]
TODAY = dt.date(2024, 6, 30)

CLIENTS = {
    "hospital": ("聊城某医院", Role.hospital, "3715"),
    "hospital_b": ("聊城第二医院", Role.hospital, "3715"),
    "other_hospital": ("太原某医院", Role.hospital, "1401"),
    "reviewer": ("聊城医保审核", Role.reviewer, "3715"),
    "civil": ("聊城民政", Role.civil_affairs, "371502"),
    "admin": ("山东省管理员", Role.admin, "37"),
}


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    app: Any

    def h(self, who: str = "hospital", key: str | None = None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.tokens[who]}"}
        if key is not None:
            out["Idempotency-Key"] = key
        return out

    def settle(self, body: dict[str, Any], key: str, who: str = "hospital") -> Any:
        return self.client.post("/settlements", json=body, headers=self.h(who, key))

    def reverse(self, sid: str, who: str = "hospital", reason: str = "录入错误") -> Any:
        return self.client.post(
            f"/settlements/{sid}/reversal", json={"reason": reason}, headers=self.h(who)
        )

    def count(self, model: Any) -> int:
        with self.app.state.store.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)


def make_api(db_url: str, **options: Any) -> Iterator[Api]:
    options.setdefault("today", lambda: TODAY)
    options.setdefault("failures", FailureLimit(allowed=1000))
    app = create_app(db_url, "liaocheng-2023", **options)
    tokens = {}
    with app.state.store.sessions() as s, s.begin():
        for key, (name, role, where) in CLIENTS.items():
            tokens[key] = create_token(s, name, role, where)
    with TestClient(app) as client:
        yield Api(client, tokens, app)
    app.state.store.engine.dispose()


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    yield from make_api(db_url)
