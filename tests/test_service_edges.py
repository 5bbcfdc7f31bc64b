"""The service's edges as an attacker tries them: body sizes, broken text, content
types, ID numbers in answers and URLs, error bodies that echo, the benchmark's floor
route, the docs' assets, failed logins, and faults. On SQLite and, when configured,
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jiuzhu.storage.models import AuditEntry, SettlementRecord
from jiuzhu.usecases.tokens import FailureLimit
from tests.db_fixtures import db_url, make_id
from tests.english import english_words
from tests.service_api import MASKED, PERSON, Api, api, make_api
from tests.service_helpers import inpatient_claim, register

__all__ = ["api", "db_url"]

OLD_ID = PERSON[:6] + PERSON[8:17]  # the 15-digit form of the same number
FULL_WIDTH = PERSON.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))


def post(api: Api, path: str, content: bytes, ctype: str = "application/json", **h: str) -> Any:
    return api.client.post(path, content=content, headers={**api.h(), "Content-Type": ctype, **h})


def test_a_body_over_the_limit_is_413_in_json(api: Api) -> None:
    big = json.dumps({**inpatient_claim(1, PERSON), "disease": "x" * (300 * 1024)}).encode()
    r = post(api, "/settlements", big, **{"Idempotency-Key": "k"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/json"
    assert "请求体过大" in r.json()["errors"][0]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"claim_id": "'
        for _ in range(40):
            yield b"y" * 8192
        yield b'"}'

    r = api.client.post(
        "/settlements",
        content=chunks(),
        headers={**api.h(key="k2"), "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["errors"][0]["field"] == ""
    assert api.count(SettlementRecord) == 0


def test_lone_surrogates_and_non_utf8_are_422_in_json(api: Api) -> None:
    body = json.dumps(inpatient_claim(1, PERSON)).replace('"c1"', '"\\ud800"').encode()
    r = post(api, "/settlements", body, **{"Idempotency-Key": "k"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    assert r.json()["errors"][0]["field"] == "claim_id"
    r = post(api, "/persons/lookup", b'{"id_number": "\\udfff"}')
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "id_number"
    r = post(api, "/settlements", '{"claim_id": "é"}'.encode("latin-1"), **{"Idempotency-Key": "k"})
    assert r.status_code == 422 and "UTF-8" in r.json()["errors"][0]["message"]
    r = post(api, "/settlements", b'{"total": NaN}', **{"Idempotency-Key": "k"})
    assert r.status_code == 422


def test_bodies_python_cannot_decode_are_422_in_chinese(api: Api) -> None:
    """An integer of more than 4300 digits (ValueError, with Python's English words) and
    nesting deeper than the stack (RecursionError, once a 500): refused, said in Chinese."""
    for body, said in (
        (b'{"total": ' + b"9" * 5000 + b"}", "数字过长"),
        (b"[" * 100_000 + b"]" * 100_000, "嵌套过深"),
        (b'{"total": Infinity}', "不是合法的 JSON 数值：Infinity"),
    ):
        r = post(api, "/settlements", body, **{"Idempotency-Key": "k"})
        assert r.status_code == 422, r.text
        message = r.json()["errors"][0]["message"]
        assert said in message and not english_words(message, also={"Infinity"}), message


def test_a_nul_in_any_string_is_422_naming_where(api: Api) -> None:
    """PostgreSQL cannot store NUL in text: refused at the edge on both databases, for a
    valid claim as for one that would be refused anyway (a 500 on PostgreSQL before)."""
    register(api.app, PERSON, "dibao", "2023-01-01")
    for n, over in enumerate(
        ({"claim_id": "a\x00b"}, {"claim_id": "\x00", "settlement_date": "2099-01-01"},
         {"disease": "x\x00"}, {"insurance": {"basic_insurance": "0.00\x00"}})
    ):  # fmt: skip
        r = api.settle(inpatient_claim(1, PERSON, **over), f"nul{n}")
        assert r.status_code == 422, (over, r.text)
        assert "NUL" in r.json()["errors"][0]["message"]
    assert api.settle(inpatient_claim(1, PERSON), "ok").status_code == 201


def test_wrong_content_type_is_415_naming_it(api: Api) -> None:
    body = json.dumps(inpatient_claim(1, PERSON)).encode()
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        r = post(api, "/settlements", body, ctype, **{"Idempotency-Key": "k"})
        assert r.status_code == 415, ctype
        assert r.json()["errors"][0]["field"] == "Content-Type"
    assert post(api, "/settlements", body, "application/json; charset=utf-8",
                **{"Idempotency-Key": "k"}).status_code == 201  # fmt: skip


def test_error_bodies_echo_little_and_mask_every_id_form(api: Api) -> None:
    """Defect: ID numbers sent as a number, full-width or 15 digits were echoed whole;
    a huge value was echoed whole; hundreds of errors were listed."""
    for i, value in enumerate((int(PERSON[:17] + "1"), FULL_WIDTH, OLD_ID, PERSON[:17] + "0")):
        r = api.settle(inpatient_claim(1, PERSON, person_id=value), f"k{i}")
        assert r.status_code == 422, value
        text = r.text
        assert PERSON[:17] not in text and str(value) not in text and OLD_ID not in text
        assert FULL_WIDTH[4:14] not in text
    huge = "z" * 100_000
    r = api.settle(inpatient_claim(1, PERSON, claim_id=huge), "h")
    assert r.status_code == 422 and len(r.content) < 2000
    many = {**inpatient_claim(1, PERSON), **{f"x{i}": i for i in range(500)}}
    r = api.settle(many, "m")
    errors = r.json()["errors"]
    assert r.status_code == 422 and len(errors) <= 21 and "另有" in errors[-1]["message"]
    key_is_id = {**inpatient_claim(1, PERSON), PERSON: 1}  # an unknown field named by an ID
    r = api.settle(key_is_id, "n")
    assert r.status_code == 422 and PERSON not in r.text and MASKED in r.text


def test_id_numbers_never_in_urls_nor_answers(api: Api) -> None:
    """Defect: ``GET /persons/<身份证号>`` echoed the number."""
    for path in (f"/persons/{PERSON}", f"/persons/{PERSON}/year/2023",
                 f"/settlements/{PERSON}", f"/settlements/by-claim/{PERSON}"):  # fmt: skip
        r = api.client.get(path, headers=api.h())
        assert r.status_code == 422, path
        assert PERSON not in r.text and "POST /persons/lookup" in r.json()["errors"][0]["message"]
    for value in (OLD_ID, FULL_WIDTH):
        assert api.client.get(f"/persons/{value}", headers=api.h()).status_code == 422
    # a public id with a long run of digits by chance is no ID number
    digits = "1234567890123456789012345678abcd"
    assert api.client.get(f"/settlements/{digits}", headers=api.h()).status_code == 404


def test_the_floor_route_is_off_unless_asked_for(api: Api, db_url: str) -> None:
    """Defect: the benchmark's ``POST /floor`` was live for any role."""
    assert api.client.post("/floor", headers=api.h()).status_code == 404
    assert "/floor" not in api.client.get("/openapi.json").json()["paths"]
    bench = make_api(db_url, floor=True)
    on = next(bench)
    try:
        r = on.client.post("/floor", headers=on.h("civil"))
        assert r.status_code == 201 and r.json()["audit_id"] > 0
    finally:
        bench.close()


def test_docs_are_served_from_installed_assets(api: Api) -> None:
    """Defect: /docs loaded Swagger UI from a CDN (blank on a bureau intranet)."""
    for page in ("/docs", "/redoc"):
        html = api.client.get(page).text
        assert "/docs-assets/" in html
        assert "https://" not in html and "http://" not in html.replace("http://www.w3", "")
    js = api.client.get("/docs-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert api.client.get("/docs-assets/redoc.standalone.js").status_code == 200
    assert api.client.get("/docs-assets/swagger-ui.css").status_code == 200


def test_the_openapi_document_is_exact(api: Api) -> None:
    """Defects: Idempotency-Key not required; a money pattern allowing negatives; no
    settlement schema."""
    spec = api.client.get("/openapi.json").json()
    params = spec["paths"]["/settlements"]["post"]["parameters"]
    key = next(p for p in params if p["name"] == "Idempotency-Key")
    assert key["required"] is True and key["in"] == "header"
    schemas = spec["components"]["schemas"]
    assert schemas["ClaimBody"]["properties"]["total"]["pattern"] == r"^[0-9]+\.[0-9]{2}$"
    assert "category" not in schemas["ClaimBody"]["properties"]
    result = schemas["SettlementResult"]["properties"]
    assert {"medical_assistance", "personal", "lines"} <= set(result)
    assert result["medical_assistance"]["pattern"] == r"^[0-9]+\.[0-9]{2}$"
    out = schemas["SettlementOut"]["properties"]
    assert out["settlement"]["$ref"].endswith("/SettlementResult")


def test_failed_authentication_is_throttled_per_address(db_url: str) -> None:
    """Defect: failed logins were never throttled."""
    gen = make_api(db_url, failures=FailureLimit(allowed=3))
    api = next(gen)
    try:
        bad = {"Authorization": "Bearer jz_guess"}
        codes = [api.client.get("/persons/x", headers=bad).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        r = api.client.get("/persons/x", headers=bad)
        assert (
            int(r.headers["Retry-After"]) >= 1 and r.json()["errors"][0]["field"] == "Authorization"
        )
        # a good token still works: throttling costs nothing on success
        assert api.client.get("/persons/x", headers=api.h()).status_code == 404
    finally:
        gen.close()


def test_a_fault_is_a_json_500_with_nothing_echoed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jiuzhu.usecases import persons

    def boom(*_a: Any) -> Any:
        raise RuntimeError(f"broken on {PERSON}")

    monkeypatch.setattr(persons, "person", boom)
    with TestClient(api.app, raise_server_exceptions=False) as quiet:
        r = quiet.get("/persons/x", headers=api.h())
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    assert PERSON not in r.text and r.json()["errors"][0]["message"].startswith("内部错误")


def test_reads_of_personal_data_are_audited(api: Api) -> None:
    before = api.count(AuditEntry)
    api.client.post("/persons/lookup", json={"id_number": make_id(9)}, headers=api.h())
    api.client.get("/settlements", headers=api.h())
    api.client.get("/adjustments", headers=api.h())
    assert api.count(AuditEntry) == before + 3
