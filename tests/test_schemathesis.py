"""Schemathesis against the service's own OpenAPI spec (/openapi.json), in-process on
SQLite: every operation, with a valid token of an admin and of a hospital, a bounded
number of generated requests each; no 5xx, and every answer conforms to the spec
(status code, content type, body schema).

The app is built when the module is imported (schemathesis parametrizes at collection;
its fixture-based lazy loader does not work with this pytest), on a SQLite file in a
temporary directory removed at exit."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jiuzhu.service.app import create_app
from jiuzhu.service.auth import Role, create_token

MAX_EXAMPLES = int(os.environ.get("JIUZHU_SCHEMATHESIS_EXAMPLES", "25"))

_TMP = tempfile.TemporaryDirectory(prefix="jiuzhu-schemathesis-")
APP = create_app(f"sqlite:///{Path(_TMP.name) / 'service.db'}", "liaocheng-2023")
with APP.state.service.sessions() as _s, _s.begin():
    TOKENS = {
        "admin": create_token(_s, "省管理员", Role.admin, "37"),
        "hospital": create_token(_s, "聊城某医院", Role.hospital, "3715"),
    }

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _call(case: Any, who: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKENS[who]}"},
        # a schema-valid body can still be refused with a 422 naming the field: the schema
        # cannot say "GB 11643 check digit" or "total = the sum of its parts"
        excluded_checks=[positive_data_acceptance],
    )


@schema.parametrize()
@SETTINGS
def test_api_as_admin(case: Any) -> None:
    _call(case, "admin")


@schema.parametrize()
@SETTINGS
def test_api_as_hospital(case: Any) -> None:
    _call(case, "hospital")


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
    r = client.post(  # FastAPI's 400 for a body that is not UTF-8
        "/settlements",
        content=b"\xff\x04\xfe",
        headers={**h, "Content-Type": "application/json", "Idempotency-Key": "k"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == ""
