"""The staff pages with the roles of the application procedure, and a clock the test
moves, for the application page tests (tests/test_web_application_pages.py).

``Desk`` takes each step as a member would: it opens the application's page, reads the
form's CSRF token and version from it, and posts the form."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from jiuzhu.usecases import staff
from jiuzhu.usecases.access import Role
from jiuzhu.web import PREFIX
from tests.application_api import PNG, Clock
from tests.service_api import Api, make_api
from tests.web_helpers import PASSWORD, csrf_of, post_login

STAFF = {
    # username: (name, role, jurisdiction)
    "clerk": ("侯营镇经办", Role.township_clerk, "371502"),
    "clerk_b": ("侯营镇经办乙", Role.township_clerk, "371502"),
    "reviewer": ("县医保审核", Role.county_reviewer, "371502"),
    "approver": ("县医保审批", Role.county_approver, "371502"),
    "admin": ("市管理员", Role.admin, "3715"),
    "bureau": ("市医保审核人员", Role.reviewer, "3715"),
    "far": ("阳谷县经办", Role.township_clerk, "371521"),
}


@dataclass
class Desk:
    api: Api
    clock: Clock
    clients: dict[str, TestClient] = field(default_factory=dict)

    def login(self, who: str) -> TestClient:
        if who not in self.clients:
            client = TestClient(self.api.app, base_url="https://testserver")
            assert post_login(client, who, PASSWORD).status_code == 303
            self.clients[who] = client
        return self.clients[who]

    def page(self, who: str, app_id: str) -> Any:
        return self.login(who).get(f"{PREFIX}/applications/{app_id}")

    def submit(self, who: str = "clerk", **fields: str) -> Any:
        client = self.login(who)
        token = csrf_of(client.get(f"{PREFIX}/applications").text)
        return client.post(
            f"{PREFIX}/applications", data={"csrf": token, **fields}, follow_redirects=False
        )

    def step(self, who: str, app_id: str, key: str, *, stale: bool = False, **fields: str) -> Any:
        html = self.page(who, app_id).text
        version = (
            int(re.findall(r'name="version" value="(\d+)"', html)[0])
            if ('name="version"' in html)
            else 1
        )
        data = {"csrf": csrf_of(html), "version": str(version - 1 if stale else version), **fields}
        return self.login(who).post(
            f"{PREFIX}/applications/{app_id}/steps/{key}", data=data, follow_redirects=False
        )

    def ok(self, who: str, app_id: str, key: str, **fields: str) -> None:
        r = self.step(who, app_id, key, **fields)
        assert r.status_code == 303, (key, r.status_code, r.text[-3000:])

    def upload(self, who: str, app_id: str, key: str, content: bytes = PNG) -> Any:
        html = self.page(who, app_id).text
        version = re.findall(r'name="version" value="(\d+)"', html)[0]
        return self.login(who).post(
            f"{PREFIX}/applications/{app_id}/documents",
            data={"csrf": csrf_of(html), "key": key, "version": version},
            files={"file": (f"{key}.bin", content, "application/octet-stream")},
            follow_redirects=False,
        )


VISIT_FORM = {
    "visited_on": "",
    "investigators": "王调查、李调查",
    "members-0-name": "张小三",
    "members-0-relation": "本人",
    "members-0-age": "52",
    "members-0-health": "患病",
    "members-0-income": "3000.00",
    "members-1-name": "李某",
    "members-1-relation": "配偶",
    "members-1-age": "50",
    "members-1-health": "健康",
    "members-1-income": "9000.00",
    "income": "12000.00",
    "assets": "自有住房一处，无车辆，存款不足一万元",
    "illness": "肝癌术后，长期治疗",
    "opinion": "经入户调查，家庭经济困难，患病属实",
    "witness_name": "赵村委",
    "witness_title": "村委会主任",
}
DOCUMENTS = ("identity", "diagnosis", "receipts", "insurance_proof", "household_economy")


def make_desk(db_url: str, today: dt.date) -> Iterator[Desk]:
    clock = Clock(today)
    for api in make_api(db_url, today=clock):
        with api.app.state.store.sessions() as s, s.begin():
            for username, (name, role, where) in STAFF.items():
                staff.create_user(s, username, name, role, where, PASSWORD)
        yield Desk(api, clock)
