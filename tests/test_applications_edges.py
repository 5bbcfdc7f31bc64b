"""The application routes held to the service's standard: who may do what and where, a
clear error naming the field, nothing half-written, every write audited, ID numbers never
in URLs and masked everywhere, a concurrent edit refused (version), papers checked by
their bytes, objections in 公示, the worklist with its deadlines."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from jiuzhu.storage.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    AuditEntry,
)
from jiuzhu.usecases.audit import verify
from tests.application_api import PDF, VISIT, Desk, make_desk
from tests.db_fixtures import db_url, make_id

__all__ = ["db_url"]

D = dt.date
PERSON = make_id(901)
OUTSIDER = make_id(902, "371521")  # 聊城 茌平, outside the clerk's county
MASKED = PERSON[:4] + "*" * 10 + PERSON[-4:]


@pytest.fixture
def desk(db_url: str) -> Iterator[Desk]:
    yield from make_desk(db_url, "liaocheng-2023", "371502", D(2024, 5, 6))


def body(**over: Any) -> dict[str, Any]:
    return {
        "id_number": PERSON,
        "kind": "illness_impoverished",
        "applicant_name": "张小三",
        "township": "侯营镇",
        **over,
    }


def count(desk: Desk, model: Any) -> int:
    with desk.app.state.store.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def audit_actions(desk: Desk) -> list[str]:
    with desk.app.state.store.sessions() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_bad_submissions_name_their_fields_and_write_nothing(desk: Desk) -> None:
    r = desk.submit(**body(id_number=PERSON[:-1] + "0", applicant_name="", colour="红"))
    assert r.status_code == 422
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert set(errors) == {"id_number", "applicant_name", "colour"}
    assert PERSON[:-1] not in r.text and "校验" in errors["id_number"]
    for typo in (PERSON[:-1], PERSON[:9] + PERSON[10:], PERSON[:12] + "O" + PERSON[13:]):
        # a digit missing or a letter O for a zero: not an ID, still most of someone's
        r = desk.submit(**body(id_number=typo))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "id_number"
        assert typo not in r.text and typo[4:-4] not in r.text, r.text
        assert typo[:4] + "*" * (len(typo) - 8) + typo[-4:] in r.text
    r = desk.submit(**body(kind="特困供养"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    assert "illness_impoverished（因病致贫重病患者医疗救助认定）" in r.text
    r = desk.submit(**body(received_on="2024-05-07"))
    assert r.status_code == 422 and "晚于今天" in r.text
    r = desk.submit(**body(account={"holder": "张小三", "bank": "银行", "number": "62x"}))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "account.number"
    r = desk.submit(**body(township=None))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "township"
    r = desk.client.post(
        "/applications",
        content=b"{",
        headers={**desk.h("clerk"), "content-type": "application/json"},
    )
    assert r.status_code == 422
    assert count(desk, Application) == 0 and count(desk, ApplicationEvent) == 0
    assert not [a for a in audit_actions(desk) if a.startswith("app.submit")]


def test_roles_and_jurisdictions(desk: Desk) -> None:
    assert desk.submit(who="hospital", **body()).status_code == 403
    assert desk.submit(who="bureau", **body()).status_code == 403  # 审核人员 reads only
    r = desk.submit(**body(id_number=OUTSIDER))
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "id_number"
    r = desk.submit(**body())
    aid = r.json()["application"]["id"]
    assert desk.client.get(f"/applications/{aid}", headers=desk.h("stranger")).status_code == 404
    assert desk.client.get(f"/applications/{aid}", headers=desk.h("hospital")).status_code == 403
    assert desk.client.get(f"/applications/{aid}", headers=desk.h("bureau")).status_code == 200
    listed = desk.client.get("/applications", headers=desk.h("stranger")).json()
    assert listed["items"] == []
    r = desk.step("reviewer", aid, "accept")
    assert r.status_code == 403 and "乡镇经办" in r.json()["errors"][0]["message"]
    # an ID number in a URL is refused, never looked up
    r = desk.client.get(f"/applications/{PERSON}", headers=desk.h("clerk"))
    assert r.status_code == 422 and PERSON not in r.text


def test_versions_refuse_a_concurrent_edit(desk: Desk) -> None:
    aid = desk.submit(**body()).json()["application"]["id"]
    missing = desk.client.post(
        f"/applications/{aid}/steps/withdraw", json={"opinion": "x"}, headers=desk.h("clerk")
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "version"
    r = desk.attach("clerk", aid, "identity")
    assert r.json()["application"]["version"] == 2
    stale = desk.step("clerk", aid, "withdraw", version=1, opinion="申请人撤回")
    assert stale.status_code == 409
    [err] = stale.json()["errors"]
    assert err["field"] == "version" and "某镇经办甲" in err["message"]
    assert desk.get(aid)["application"]["state"] == "received"
    d = desk.ok("clerk", aid, "withdraw", opinion="申请人撤回")
    assert d["application"]["state"] == "withdrawn"


def test_papers_are_checked_by_their_bytes_kept_and_viewed(desk: Desk) -> None:
    aid = desk.submit(**body()).json()["application"]["id"]
    v = desk.version(aid)
    r = desk.client.post(
        f"/applications/{aid}/documents",
        data={"key": "diagnosis", "version": str(v)},
        files={"file": ("诊断书.pdf", b"<html>not a pdf</html>", "application/pdf")},
        headers=desk.h("clerk"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = desk.client.post(
        f"/applications/{aid}/documents",
        data={"key": "diagnosis", "version": str(v)},
        files={"file": ("诊断书.png", PDF, "image/png")},
        headers=desk.h("clerk"),
    )
    assert r.status_code == 422 and "不符" in r.text
    r = desk.client.post(
        f"/applications/{aid}/documents",
        data={"key": "passport", "version": str(v)},
        files={"file": ("x.pdf", PDF, "application/pdf")},
        headers=desk.h("clerk"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "key"
    big = desk.client.post(
        f"/applications/{aid}/documents",
        data={"key": "diagnosis", "version": str(v)},
        files={"file": ("x.pdf", PDF + b"0" * (11 * 1024 * 1024), "application/pdf")},
        headers=desk.h("clerk"),
    )
    assert big.status_code == 413
    assert count(desk, ApplicationDocument) == 0
    r = desk.client.post(
        f"/applications/{aid}/documents",
        data={"key": "diagnosis", "version": str(v)},
        files={"file": ("../../诊断书.pdf", PDF, "application/pdf")},
        headers=desk.h("clerk"),
    )
    assert r.status_code == 200, r.text
    [item] = [c for c in r.json()["checklist"] if c["key"] == "diagnosis"]
    [upload] = item["uploads"]
    assert item["given"] and upload["file_name"] == "诊断书.pdf" and upload["size"] == len(PDF)
    got = desk.client.get(f"/applications/{aid}/documents/{upload['id']}", headers=desk.h("civil"))
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "app.document.read" in audit_actions(desk)
    with desk.app.state.store.sessions() as s:
        assert s.scalar(select(ApplicationDocument.sha256)) == upload["sha256"]


def test_supplement_objections_and_a_refusal_on_objection(desk: Desk) -> None:
    aid = desk.submit(**body()).json()["application"]["id"]
    early = desk.step("clerk", aid, "accept")
    assert early.status_code == 422 and "材料不齐" in early.json()["errors"][0]["message"]
    d = desk.ok("clerk", aid, "request_supplement", opinion="请补交医疗诊断书")
    assert d["application"]["state"] == "supplement" and d["application"]["due"] == "2024-05-21"
    desk.attach_all("clerk", aid)
    desk.ok("clerk", aid, "resubmit")
    desk.ok("clerk", aid, "accept")
    desk.ok("clerk_b", aid, "record_visit", **{**VISIT, "visited_on": "2024-05-06"})
    bad = desk.step(
        "clerk", aid, "township_approve", opinion="同意", publicity_start="2024-05-10",
        publicity_end="2024-05-07",
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "publicity_start"
    desk.ok(
        "clerk", aid, "township_approve", opinion="同意", publicity_start="2024-05-07",
        publicity_end="2024-05-13",
    )  # fmt: skip
    d = desk.ok("clerk", aid, "record_objection", text="申请人家中有经营性车辆两辆")
    [objection] = d["publicities"][0]["objections"]
    desk.clock.day = D(2024, 5, 14)
    r = desk.step("clerk", aid, "close_publicity")
    assert r.status_code == 422 and "1 条异议尚未处理" in r.text
    r = desk.step("reviewer", aid, "resolve_objection", objection=objection["id"], upheld=True,
                  resolution="属实")  # fmt: skip
    assert r.status_code == 403
    desk.ok("clerk", aid, "resolve_objection", objection=objection["id"], upheld=True,
            resolution="经核实属实，家庭有经营性车辆")  # fmt: skip
    again = desk.step("clerk", aid, "resolve_objection", objection=objection["id"], upheld=False,
                      resolution="x")  # fmt: skip
    assert again.status_code == 409
    r = desk.step("clerk", aid, "close_publicity")
    assert r.status_code == 422 and "有异议成立" in r.text
    d = desk.ok(
        "clerk",
        aid,
        "refuse_on_objection",
        opinion="公示期间异议经核实成立，家庭经济状况不符合条件",
        clause="聊城实施方案 四(一)",
    )
    assert d["application"]["state"] == "refused"
    [notice] = d["notices"]
    assert notice["values"]["issuer"] == "侯营镇人民政府" and notice["number"] == "[2024]第 1 号"


def test_nobody_approves_what_they_submitted(desk: Desk) -> None:
    aid = desk.submit(who="admin", **body()).json()["application"]["id"]
    desk.attach_all("admin", aid)
    desk.ok("admin", aid, "accept")
    desk.ok("clerk_b", aid, "record_visit", **{**VISIT, "visited_on": "2024-05-06"})
    desk.ok("clerk", aid, "township_approve", opinion="同意", publicity_start="2024-05-06",
            publicity_end="2024-05-06")  # fmt: skip
    desk.clock.day = D(2024, 5, 7)
    desk.ok("clerk", aid, "close_publicity")
    r = desk.step("admin", aid, "assess")
    assert r.status_code == 200  # computing is not approving
    r = desk.step("admin", aid, "review", opinion="同意")
    assert r.status_code == 403
    assert "不得审核、审批本人登记或调查的申请" in r.json()["errors"][0]["message"]
    desk.ok("reviewer", aid, "review", opinion="同意")
    r = desk.step("reviewer", aid, "approve", opinion="同意")
    assert r.status_code == 403


def test_the_worklist_queues_and_overdue_flags(desk: Desk) -> None:
    aid = desk.submit(**body()).json()["application"]["id"]
    todo = desk.client.get("/applications?queue=todo", headers=desk.h("clerk")).json()
    assert [a["id"] for a in todo["items"]] == [aid]
    assert todo["items"][0]["person"]["id_number"] == MASKED
    assert (
        desk.client.get("/applications?queue=todo", headers=desk.h("reviewer")).json()["items"]
        == []
    )
    done = desk.client.get("/applications?queue=done", headers=desk.h("clerk")).json()
    assert done["items"] == []  # the clerk's own step is next: still 待办
    desk.clock.day = D(2024, 5, 20)
    late = desk.client.get("/applications?overdue=true", headers=desk.h("clerk")).json()
    [item] = late["items"]
    assert item["overdue"] and item["due"] == "2024-05-11"
    r = desk.client.get("/applications?queue=mine", headers=desk.h("clerk"))
    assert r.status_code == 422
    r = desk.client.get("/applications?colour=red", headers=desk.h("clerk"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "colour"
    desk.ok("clerk", aid, "withdraw", opinion="撤回")
    closed = desk.client.get("/applications?queue=closed", headers=desk.h("clerk")).json()
    assert [a["id"] for a in closed["items"]] == [aid]


def test_every_write_is_audited_and_masked(desk: Desk) -> None:
    aid = desk.submit(**body()).json()["application"]["id"]
    desk.attach_all("clerk", aid)
    desk.ok("clerk", aid, "accept", opinion=f"身份证 {PERSON} 核对无误")
    actions = audit_actions(desk)
    assert actions.count("app.attach_document") == 5
    assert {"app.submit", "app.accept_for_visit", "app.read"} <= set(actions)
    with desk.app.state.store.sessions() as s:
        rows = list(s.scalars(select(AuditEntry)))
        history = list(s.scalars(select(ApplicationEvent.opinion)))
    assert PERSON not in json.dumps([r.details for r in rows], ensure_ascii=False)
    assert all(PERSON not in r.target for r in rows)
    assert f"身份证 {MASKED} 核对无误" in history  # an ID number typed in is kept masked
    assert PERSON not in json.dumps(desk.get(aid), ensure_ascii=False)
    assert verify(desk.app.state.store.engine).ok
