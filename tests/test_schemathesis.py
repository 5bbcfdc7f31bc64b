"""Schemathesis against the service's own OpenAPI spec (/openapi.json), in-process on
SQLite: every operation, with a valid token of every role (hospital, civil affairs,
reviewer, admin), a bounded number of generated requests each; no 5xx, and every answer
conforms to the spec (status code, content type, body schema).

Generated ids almost never exist, so the routes with an ``{id}`` would only ever answer
404. The database is therefore seeded with real settlements and persons, and every
positive case on such a route is sent twice: as generated, and with its ``id`` (and
``year``) replaced by a seeded one (a negative case stays as generated: made valid, it
would rightly be accepted), so the 200s, the 409 of a second reversal and the 403 of
another hospital's settlement are checked against the spec too.

The app is built when the module is imported (schemathesis parametrizes at collection;
its fixture-based lazy loader does not work with this pytest), on a SQLite file in a
temporary directory removed at exit."""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jiuzhu.service.app import create_app
from jiuzhu.usecases.access import Role
from jiuzhu.usecases.tokens import FailureLimit, create_token
from tests.db_fixtures import make_id
from tests.service_helpers import inpatient_claim, register

MAX_EXAMPLES = int(os.environ.get("JIUZHU_SCHEMATHESIS_EXAMPLES", "25"))

_TMP = tempfile.TemporaryDirectory(prefix="jiuzhu-schemathesis-")
APP = create_app(
    f"sqlite:///{Path(_TMP.name) / 'service.db'}",
    "liaocheng-2023",
    failures=FailureLimit(allowed=1_000_000),  # schemathesis sends bad tokens on purpose
    floor=True,
)
with APP.state.store.sessions() as _s, _s.begin():
    TOKENS = {
        "admin": create_token(_s, "省管理员", Role.admin, "37"),
        "hospital": create_token(_s, "聊城某医院", Role.hospital, "3715"),
        "civil_affairs": create_token(_s, "东昌府区民政", Role.civil_affairs, "371502"),
        "reviewer": create_token(_s, "聊城医保审核", Role.reviewer, "3715"),
    }


def _seed() -> tuple[list[str], list[str]]:
    """Settlements (by the hospital, for several people) and their persons' ids."""
    client = TestClient(APP)
    settlements, persons = [], []
    for n in range(1, 41):
        register(APP, make_id(100 + n))
        body = inpatient_claim((n - 1) % 12 + 1, make_id(100 + n), "8000.00", claim_id=f"s{n}")
        r = client.post(
            "/settlements",
            json=body,
            headers={"Authorization": f"Bearer {TOKENS['hospital']}", "Idempotency-Key": f"s{n}"},
        )
        assert r.status_code == 201, r.text
        settlements.append(r.json()["id"])
        persons.append(r.json()["person"]["id"])
    return settlements, persons


SETTLEMENT_IDS, PERSON_IDS = _seed()
_NEXT = {"settlement": itertools.cycle(SETTLEMENT_IDS), "person": itertools.cycle(PERSON_IDS)}

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _headers_negated(case: Any) -> bool:
    meta = getattr(case, "_meta", None)
    components = getattr(meta, "components", {}) if meta is not None else {}
    return any(loc.name == "HEADER" and c.mode.is_negative for loc, c in components.items())


def _call(case: Any, who: str) -> None:
    # A case whose headers were made invalid (the Authorization header left out or
    # mangled) is sent as generated: adding the token would undo its negation and make
    # schemathesis count the answer to a valid request as "negative data accepted".
    auth = {} if _headers_negated(case) else {"Authorization": f"Bearer {TOKENS[who]}"}

    def send() -> None:
        case.call_and_validate(
            headers=auth,
            # a schema-valid body can still be refused with a 422 naming the field: the
            # schema cannot say "GB 11643 check digit" or "total = the sum of its parts"
            excluded_checks=[positive_data_acceptance],
        )

    send()
    params = case.path_parameters or {}
    meta = getattr(case, "_meta", None)
    negative = meta is not None and meta.generation.mode.is_negative
    if "id" in params and not negative:  # again, on something that exists
        kind = "person" if case.operation.path.startswith("/persons") else "settlement"
        params["id"] = next(_NEXT[kind])
        if "year" in params:
            params["year"] = 2023
        send()


@schema.parametrize()
@SETTINGS
def test_api_as_admin(case: Any) -> None:
    _call(case, "admin")


@schema.parametrize()
@SETTINGS
def test_api_as_hospital(case: Any) -> None:
    _call(case, "hospital")


@schema.parametrize()
@SETTINGS
def test_api_as_civil_affairs(case: Any) -> None:
    _call(case, "civil_affairs")


@schema.parametrize()
@SETTINGS
def test_api_as_reviewer(case: Any) -> None:
    _call(case, "reviewer")


def test_spec_lists_every_route() -> None:
    paths = TestClient(APP).get("/openapi.json").json()["paths"]
    for path in ("/settlements", "/settlements/{id}", "/persons/{id}/year/{year}", "/rosters"):
        assert path in paths
    assert "multipart/form-data" in paths["/rosters"]["post"]["requestBody"]["content"]


def test_what_schemathesis_found() -> None:
    """Regressions: each was a spec violation schemathesis reported."""
    client = TestClient(APP)
    h = {"Authorization": f"Bearer {TOKENS['admin']}"}
    r = client.request("TRACE", "/settlements", headers=h)  # 405 lost its Allow header
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    r = client.get("/persons/x/year/0")  # a 422 before the 401
    assert r.status_code == 401
    r = client.post(  # a body that is not UTF-8
        "/settlements",
        content=b"\xff\x04\xfe",
        headers={**h, "Content-Type": "application/json", "Idempotency-Key": "k"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == ""
    for path in ("/settlements?person=a&person=b", "/applications?kind=x&kind=y",
                 "/publicity?format=json&format=pdf"):  # fmt: skip
        r = client.get(path, headers=h)  # a scalar given twice was read as the last
        assert r.status_code == 422, (path, r.text)
        assert r.json()["errors"][0]["message"] == "查询参数只能给出一次"
    r = client.get("/applications?kind=&colour=red", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "colour"


def test_seeded_ids_reach_past_404() -> None:
    """The seeded variant really reaches the routes' work: a read, a person's year."""
    client = TestClient(APP)
    h = {"Authorization": f"Bearer {TOKENS['admin']}"}
    assert client.get(f"/settlements/{SETTLEMENT_IDS[0]}", headers=h).status_code == 200
    assert client.get(f"/persons/{PERSON_IDS[0]}/year/2023", headers=h).status_code == 200
