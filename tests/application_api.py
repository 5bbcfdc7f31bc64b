"""The service with a token for every role of the application procedure, and a clock the
test moves, for the application tests (依申请救助).

``Desk.step(who, id, step, **body)`` takes a step on the version the application has now
(as a page would, having just shown it); ``version=`` pins an older one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from jiuzhu.service.app import create_app
from jiuzhu.usecases.access import Role
from jiuzhu.usecases.tokens import FailureLimit, create_token
from tests.service_helpers import register

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Clock:
    day: dt.date

    def __call__(self) -> dt.date:
        return self.day


def clients(county: str) -> dict[str, tuple[str, Role, str]]:
    """The staff of one county (six-digit code) and some outsiders."""
    return {
        "clerk": ("某镇经办甲", Role.township_clerk, county),
        "clerk_b": ("某镇经办乙", Role.township_clerk, county),
        "civil": ("县民政", Role.civil_affairs, county),
        "reviewer": ("县医保审核", Role.county_reviewer, county),
        "approver": ("县医保审批甲", Role.county_approver, county),
        "approver_b": ("县医保审批乙", Role.county_approver, county),
        "admin": ("省管理员", Role.admin, county[:2]),
        "hospital": ("某医院", Role.hospital, county[:4]),
        "hospital_b": ("某第二医院", Role.hospital, county[:4]),
        "bureau": ("医保审核人员", Role.reviewer, county[:4]),
        "stranger": ("外县经办", Role.township_clerk, "110101"),
    }


@dataclass
class Desk:
    client: TestClient
    tokens: dict[str, str]
    app: Any
    clock: Clock
    keys: int = field(default=0)

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def settle(self, body: dict[str, Any], who: str = "hospital") -> dict[str, Any]:
        """Settle at the desk on the claim's own day (the clock is moved there)."""
        self.keys += 1
        back = self.clock.day
        self.clock.day = max(back, dt.date.fromisoformat(body["settlement_date"]))
        r = self.client.post(
            "/settlements",
            json=body,
            headers={**self.h(who), "Idempotency-Key": f"k{self.keys}"},
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def submit(self, who: str = "clerk", **body: Any) -> Any:
        return self.client.post("/applications", json=body, headers=self.h(who))

    def get(self, app_id: str, who: str = "clerk") -> dict[str, Any]:
        r = self.client.get(f"/applications/{app_id}", headers=self.h(who))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def version(self, app_id: str) -> int:
        return int(self.get(app_id, "admin")["application"]["version"])

    def step(self, who: str, app_id: str, name: str, **body: Any) -> Any:
        body.setdefault("version", self.version(app_id))
        return self.client.post(
            f"/applications/{app_id}/steps/{name}", json=body, headers=self.h(who)
        )

    def ok(self, who: str, app_id: str, name: str, **body: Any) -> dict[str, Any]:
        r = self.step(who, app_id, name, **body)
        assert r.status_code == 200, (name, r.text)
        return dict(r.json())

    def attach(self, who: str, app_id: str, key: str, content: bytes = PNG) -> Any:
        return self.client.post(
            f"/applications/{app_id}/documents",
            data={"key": key, "version": str(self.version(app_id))},
            files={"file": (f"{key}.png", content, "image/png")},
            headers=self.h(who),
        )

    def attach_all(self, who: str, app_id: str) -> None:
        for item in self.get(app_id)["checklist"]:
            r = self.attach(who, app_id, item["key"])
            assert r.status_code == 200, r.text


def make_desk(
    db_url: str, policy: str, county: str, today: dt.date, **options: Any
) -> Iterator[Desk]:
    clock = Clock(today)
    app = create_app(db_url, policy, today=clock, failures=FailureLimit(allowed=10_000), **options)
    tokens = {}
    with app.state.store.sessions() as s, s.begin():
        for key, (name, role, where) in clients(county).items():
            tokens[key] = create_token(s, name, role, where)
    with TestClient(app) as client:
        yield Desk(client, tokens, app, clock)
    app.state.store.engine.dispose()


def hold(desk: Desk, person: str, category: str, valid_from: str) -> None:
    """``person`` holds ``category`` from ``valid_from`` in the registry."""
    register(desk.app, person, category, valid_from)


VISIT: dict[str, Any] = {
    "visited_on": None,
    "investigators": ["王调查", "李调查"],
    "members": [
        {"name": "张小三", "relation": "本人", "age": 52, "health": "患病", "income": "3000.00"},
        {"name": "李某", "relation": "配偶", "age": 50, "health": "健康", "income": "9000.00"},
    ],
    "income": "12000.00",
    "assets": "自有住房一处，无车辆，存款不足一万元",
    "illness": "肝癌术后，长期治疗",
    "opinion": "经入户调查，家庭经济困难，患病属实",
    "witness_name": "赵村委",
    "witness_title": "村委会主任",
}
