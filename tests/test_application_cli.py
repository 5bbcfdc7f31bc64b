"""``jiuzhu application …`` end to end: every step of an application through the command
line, as staff accounts of ``jiuzhu user create``, on SQLite and PostgreSQL.

The claims are settled at the desk through the service (tests/application_api.py), on the
same database and the same clock; everything after is the command line. The 聊城 case is
tests/test_applications_liaocheng.py's, hand-worked there: identified on 2024-03-10, the
look-back reaches 2023-02-01; c2 (2023-11-15, 5000.00) gets 1800.00 and c3 (2024-03-09,
40000.00) 18200.00: 20000.00 in all, the 2万 cap exactly.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from jiuzhu.io.policy_files import load_policy, shipped_ids
from jiuzhu.storage.models import Adjustment, Application, ApplicationEvent, AuditEntry
from jiuzhu.usecases import unit
from jiuzhu.usecases.applications import SUBMIT_FIELDS
from jiuzhu.usecases.home_visits import VISIT_FIELDS
from tests.application_api import PNG, VISIT, Desk, hold, make_desk
from tests.cli_helpers import Run, invoke
from tests.db_fixtures import db_url, make_id
from tests.english import english_words
from tests.service_helpers import inpatient_claim
from tests.test_chinese_cli import typed
from tests.web_helpers import PASSWORD, cheap_hashes

__all__ = ["cheap_hashes", "db_url"]

pytestmark = pytest.mark.cli

POLICY = "liaocheng-2023"
PERSON = make_id(301)
MASKED = PERSON[:4] + "*" * 10 + PERSON[-4:]
MAOMING = make_id(601, "440902")
PAPERS = {
    d.key
    for pid in shipped_ids()
    for kind in load_policy(pid).applications.values()
    for d in kind.documents
}
TYPED = PAPERS | {*SUBMIT_FIELDS, *VISIT_FIELDS, "ZF2024", "FP", "LX", "LX440902"}
"""What a person typed and may see again: the checklist's keys (after ``attach``; ``show``
lists them), the fields of the files they write, the vouchers and bill numbers here, and
the claim id a 零星报销 bill is settled under (``LX`` and the application's number)."""
D = dt.date


def staff(county: str) -> dict[str, tuple[str, str, str]]:
    """username: (name, role, jurisdiction): a county's staff, the city's bureau, and a
    clerk of the next county."""
    return {
        "clerk": ("镇经办甲", "township_clerk", county),
        "clerk.b": ("镇经办乙", "乡镇经办", county),
        "reviewer": ("县医保审核", "county_reviewer", county),
        "approver": ("县医保审批", "county_approver", county),
        "bureau": ("市医保审核人员", "reviewer", county[:4]),
        "yanggu": ("邻县经办", "township_clerk", county[:4] + "21"),
    }


@dataclass
class Office:
    """The service (for the desk's settlements) and the command line on one database."""

    desk: Desk
    db: str
    tmp: Path
    policy: str = POLICY

    def run(self, who: str, *args: str, stdin: str = "") -> Run:
        out = invoke(["application", *args, "--as", who, "--policy", self.policy, "--db", self.db],
                     stdin)  # fmt: skip
        for stream in (out.stdout, out.stderr):
            assert PERSON not in stream and MAOMING not in stream  # never a whole ID number
            assert "Traceback" not in stream
        said = out.stderr if "--json" in args else out.stdout + out.stderr
        also = typed([*args, stdin]) | TYPED
        assert not english_words(said, also=also), said  # what people read is Chinese
        return out

    def ok(self, who: str, *args: str, stdin: str = "") -> Run:
        out = self.run(who, *args, stdin=stdin)
        assert out.code == 0, (args, out.stderr)
        return out

    def detail(self, ref: str, who: str = "reviewer") -> dict[str, Any]:
        return dict(json.loads(self.ok(who, "show", ref, "--json").stdout))

    def version(self, ref: str) -> str:
        return str(self.detail(ref)["application"]["version"])

    def step(self, who: str, command: str, ref: str, *args: str) -> Run:
        """A step on the version the application has now (as after ``show``)."""
        return self.run(who, command, ref, "--version", self.version(ref), *args)

    def done(self, who: str, command: str, ref: str, *args: str) -> Run:
        out = self.step(who, command, ref, *args)
        assert out.code == 0, (command, out.stderr)
        return out

    def file(self, name: str, content: str | bytes) -> str:
        path = self.tmp / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)


def open_office(
    db_url: str,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    policy: str,
    county: str,
    today: dt.date,
) -> Iterator[Office]:
    for desk in make_desk(db_url, policy, county, today):
        monkeypatch.setattr(unit, "beijing_today", desk.clock)  # the command line's today
        monkeypatch.setenv("JIUZHU_PASSWORD", PASSWORD)
        for username, (name, role, where) in staff(county).items():
            made = invoke(
                ["user", "create", username, "--name", name, "--role", role,
                 "--jurisdiction", where, "--password-stdin", "--db", db_url],
                PASSWORD + "\n",
            )  # fmt: skip
            assert made.code == 0, made.stderr
        yield Office(desk, db_url, tmp, policy)


@pytest.fixture
def office(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cheap_hashes: None
) -> Iterator[Office]:
    yield from open_office(db_url, tmp_path, monkeypatch, POLICY, "371502", D(2023, 1, 31))


def application(**over: Any) -> str:
    body = {
        "id_number": PERSON,
        "kind": "illness_impoverished",
        "applicant_name": "张小三",
        "township": "侯营镇",
        "reason": "肝癌术后，医疗费用负担重",
        "account": {"holder": "张小三", "bank": "聊城农商银行", "number": "6228480012345678"},
        **over,
    }
    return json.dumps(body, ensure_ascii=False)


def submitted(o: Office, who: str = "clerk", **over: Any) -> dict[str, Any]:
    out = o.ok(who, "submit", "-", "--json", stdin=application(**over))
    return dict(json.loads(out.stdout)["application"])


def claim(ref: str, day: str, scope: str) -> dict[str, Any]:
    return inpatient_claim(1, PERSON, scope, claim_id=ref, settlement_date=day, admission_date=day)


VISIT_YAML = """\
visited_on: 2024-02-22
investigators: [王调查, 李调查]
members:
  - {name: 张小三, relation: 本人, age: 52, health: 患病, income: 3000.00}
  - {name: 李某, relation: 配偶, age: 50, health: 健康, income: 9000.00}
income: 12000.00
assets: 自有住房一处，无车辆，存款不足一万元
illness: 肝癌术后，长期治疗
opinion: 经入户调查，家庭经济困难，患病属实
witness_name: 赵村委
witness_title: 村委会主任
"""
"""tests/application_api.VISIT as a clerk writes it in YAML: money unquoted stays yuan text."""


def pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "".join(re.sub(r"\s+", "", p.extract_text()) for p in reader.pages)


def test_a_liaocheng_identification_from_submit_to_pay(office: Office) -> None:
    o, desk = office, office.desk
    settled = {
        ref: desk.settle(claim(ref, day, scope))
        for ref, day, scope in [
            ("c0", "2023-01-31", "3000.00"),
            ("c1", "2023-02-01", "8000.00"),
            ("c2", "2023-11-15", "5000.00"),
        ]
    }
    desk.clock.day = D(2024, 2, 20)
    app = submitted(o)
    number = app["number"]
    assert app["state"] == "received" and app["version"] == 1
    assert app["person"]["id_number"] == MASKED and app["due"] == "2024-02-25"

    for item in o.detail(number)["checklist"]:
        png = o.file(f"{item['key']}.png", PNG)
        o.ok("clerk", "attach", number, item["key"], png, "--version", o.version(number))
    out = o.step("clerk", "accept", number, "--opinion", "材料齐全，受理")
    assert out.code == 0 and f"申请 {number}：受理并入户调查，现为“入户调查”" in out.stdout

    desk.clock.day = D(2024, 2, 22)
    visit = o.file("visit.yaml", VISIT_YAML)
    o.done("clerk.b", "visit", number, visit)
    recorded = o.detail(number)["visits"][0]
    assert recorded["income"] == "12000.00" and recorded["members"][1]["income"] == "9000.00"
    assert {k: recorded[k] for k in ("assets", "witness_name")} == {
        k: VISIT[k] for k in ("assets", "witness_name")
    }

    desk.clock.day = D(2024, 2, 23)
    o.done("clerk", "township-approve", number, "--opinion", "情况属实，同意上报",
           "--publicity-start", "2024-02-24", "--publicity-end", "2024-03-01")  # fmt: skip
    early = o.step("clerk", "close-publicity", number)
    assert early.code == 1 and "尚未期满" in early.stderr and "未作任何更改" in early.stderr
    desk.clock.day = D(2024, 3, 2)
    o.done("clerk", "close-publicity", number)

    settled["c3"] = desk.settle(claim("c3", "2024-03-09", "40000.00"))
    desk.clock.day = D(2024, 3, 10)
    o.done("reviewer", "assess", number, "--opinion", "按认定后待遇重新计算")
    shown = o.ok("reviewer", "show", number).stdout
    assert "核定救助金额：20000.00 元（2024-03-10，user:reviewer，认定日期 2024-03-10）" in shown
    assert "医疗救助：0.00 → 1800.00（差额 1800.00）" in shown  # c2
    assert "医疗救助：0.00 → 18200.00（差额 18200.00）" in shown  # c3: 2万 − 1800 left
    assert "计入 2024 年度的救助待遇和救助限额" in shown
    assert "县级审核通过（核定救助金额）（review）" in shown  # what the reviewer may do next
    assert MASKED in shown and "************5678" in shown
    o.done("reviewer", "review", number, "--opinion", "同意")

    desk.clock.day = D(2024, 3, 12)
    own = o.step("reviewer", "approve", number, "--opinion", "同意")
    assert own.code == 1 and "错误：权限：" in own.stderr and "县级审批" in own.stderr
    approved = json.loads(o.step("approver", "approve", number, "--opinion", "同意救助",
                                 "--json").stdout)  # fmt: skip
    assert approved["application"]["state"] == "result_publicity"
    [notice] = approved["notices"]
    assert notice["number"] == "[2024]第 1 号" and notice["values"]["amount"] == "20000.00"
    paper = o.tmp / "审批结果通知书.pdf"
    written = o.ok("approver", "notice", number, "--output", str(paper))
    assert "医疗救助审批结果通知书 [2024]第 1 号" in written.stdout
    text = pdf_text(paper)
    assert "[2024]第1号" in text and "20000.00" in text and "贰万元整" in text
    assert PERSON not in text

    listing = o.tmp / "结果公示.xlsx"
    o.ok("approver", "publicity-list", "--output", str(listing), "--on", "2024-03-12")
    from openpyxl import load_workbook

    cells = [
        c for row in load_workbook(listing).worksheets[0].iter_rows(values_only=True) for c in row
    ]
    assert "张*三" in cells and MASKED in cells and PERSON not in cells

    desk.clock.day = D(2024, 3, 19)
    o.done("approver", "close-publicity", number)
    desk.clock.day = D(2024, 3, 20)
    paid = o.step("approver", "pay", number, "--voucher", "ZF2024-0001")
    assert paid.code == 0 and "现为“已支付”" in paid.stdout
    shown = o.ok("approver", "show", number).stdout
    assert "已于 2024-03-20 支付，凭证 ZF2024-0001，收款账户 ************5678" in shown
    assert "状态：已支付（已办结）" in shown

    # the same money as through the API: the adjustments of the re-settlement
    current = {
        ref: desk.client.get(f"/settlements/{s['id']}", headers=desk.h("hospital")).json()
        for ref, s in settled.items()
    }
    assert {ref: c["current"]["medical_assistance"] for ref, c in current.items()} == {
        "c0": "0.00", "c1": "0.00", "c2": "1800.00", "c3": "18200.00",
    }  # fmt: skip
    store = desk.app.state.store
    with store.sessions() as s:
        assert s.scalar(select(func.sum(Adjustment.amount_fen))) == 2_000_000
        actors = {
            (e.action, e.actor)
            for e in s.scalars(select(ApplicationEvent).order_by(ApplicationEvent.seq))
        }
        audited = {(a.action, a.actor) for a in s.scalars(select(AuditEntry))}
    assert ("record_visit", "user:clerk.b") in actors and ("pay", "user:approver") in actors
    assert {("app.approve", "user:approver"), ("user.cli_login", "user:approver")} <= audited

    # the worklist: closed for the approver, nothing left to do
    closed = o.ok("approver", "list", "--queue", "closed").stdout
    assert number in closed and "已支付" in closed and MASKED in closed
    assert o.ok("approver", "list", "--queue", "todo").stdout.strip() == "没有符合条件的申请"


def test_a_refusal_writes_its_notice_with_the_appeal_deadlines(office: Office) -> None:
    o = office
    o.desk.clock.day = D(2024, 2, 20)
    number = submitted(o)["number"]
    no_reason = o.step("clerk", "not-accept", number, "--opinion", " ", "--clause", "三(十一)")
    assert no_reason.code == 1 and "字段 opinion" in no_reason.stderr
    refused = o.step("clerk", "not-accept", number, "--opinion", "非本辖区户籍，不属受理范围",
                     "--clause", "聊城实施方案 四(一)", "--json")  # fmt: skip
    assert refused.code == 0, refused.stderr
    d = json.loads(refused.stdout)
    assert d["application"]["state"] == "not_accepted" and not d["application"]["open"]
    paper = o.tmp / "告知书.pdf"
    o.ok("clerk", "notice", number, "-o", str(paper))
    text = pdf_text(paper)
    assert "不符合医疗救助条件书面告知书" in text and "[2024]第1号" in text
    assert "非本辖区户籍，不属受理范围" in text and "聊城实施方案四(一)" in text
    # received 2024-02-20: 60 days for 行政复议 (the first day not counted), 6 months to sue
    assert "2024年4月20日" in text and "2024年8月20日" in text
    assert "侯营镇" in text and PERSON not in text
    # closed: one may apply again (nothing was approved this year)
    assert submitted(o)["number"].endswith("-00002")


def test_a_field_error_names_the_field_and_writes_nothing(office: Office) -> None:
    o = office
    o.desk.clock.day = D(2024, 2, 20)
    bad = o.run("clerk", "submit", "-", stdin=application(
        id_number=PERSON[:17] + ("0" if PERSON[-1] != "0" else "1"), applicant_name="",
        account={"holder": "张小三", "bank": "聊城农商银行", "number": "62284800x"},
    ))  # fmt: skip
    assert bad.code == 1
    lines = bad.stderr.splitlines()
    assert any(ln.startswith("错误：字段 id_number：") and "校验" in ln for ln in lines), lines
    assert "错误：字段 applicant_name：须填写申请人姓名" in lines
    assert "错误：字段 account.number：账号须为数字" in lines
    assert lines[-1] == "未作任何更改。"
    unknown = o.run("clerk", "submit", "-", stdin=application(colour="红"))
    assert unknown.code == 1 and "字段 colour：未知的字段" in unknown.stderr
    not_json = o.run("clerk", "submit", o.file("a.json", "{'id_number': 1"))
    assert not_json.code == 2 and "不是有效的 JSON：第 1 行" in not_json.stderr
    with o.desk.app.state.store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application)) == 0

    number = submitted(o)["number"]
    before = o.version(number)
    visit = o.file("visit.json", json.dumps({**VISIT, "visited_on": "2024-02-21",
                                             "income": 12000}))  # fmt: skip
    refused = o.run("clerk", "visit", number, visit, "--version", before)
    assert refused.code == 1
    assert "字段 income：家庭近12个月总收入须为带两位小数的元字符串" in refused.stderr
    o.ok("clerk", "withdraw", number, "--version", before, "--opinion", "申请人撤回")
    stale = o.run("clerk", "resubmit", number, "--version", before)
    assert stale.code == 1 and "已被他人修改" in stale.stderr and "user:clerk" in stale.stderr
    assert o.detail(number)["application"]["state"] == "withdrawn"


def test_roles_and_jurisdictions(office: Office) -> None:
    o = office
    o.desk.clock.day = D(2024, 2, 20)
    bureau = o.run("bureau", "submit", "-", stdin=application())
    assert bureau.code == 1
    assert "错误：权限：角色 审核人员（reviewer）不办理医疗救助申请" in bureau.stderr
    number = submitted(o)["number"]
    reviewer = o.step("reviewer", "accept", number)
    assert reviewer.code == 1 and "错误：权限：" in reviewer.stderr
    assert "乡镇经办" in reviewer.stderr and "未作任何更改" in reviewer.stderr
    assert o.ok("bureau", "show", number).code == 0  # the bureau's reviewer may read

    # 阳谷县's clerk: the applicant is not in their jurisdiction, and 东昌府区's
    # application is not there for them at all
    far = o.run("yanggu", "submit", "-", stdin=application())
    assert far.code == 1 and "字段 id_number" in far.stderr and "371521" in far.stderr
    assert o.run("yanggu", "show", number).code == 1
    assert f"没有申请 {number}" in o.run("yanggu", "accept", number, "--version", "1").stderr
    assert o.ok("yanggu", "list").stdout.strip() == "没有符合条件的申请"
    assert o.detail(number)["application"]["version"] == 1  # nothing changed


def test_the_password_is_checked_and_never_on_the_command_line(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    o = office
    monkeypatch.delenv("JIUZHU_PASSWORD")
    none = o.run("clerk", "list")
    assert none.code == 2 and "JIUZHU_PASSWORD" in none.stderr
    wrong = o.run("clerk", "list", "--password-stdin", stdin="not the password\n")
    assert wrong.code == 1 and "用户名或密码不正确" in wrong.stderr
    nobody = o.run("nobody", "list", "--password-stdin", stdin=PASSWORD + "\n")
    assert nobody.code == 1 and "用户名或密码不正确" in nobody.stderr
    o.desk.clock.day = D(2024, 2, 20)
    good = o.run("clerk", "submit", "-", "--password-stdin",
                 stdin=PASSWORD + "\n" + application())  # fmt: skip
    assert good.code == 0, good.stderr
    with o.desk.app.state.store.sessions() as s:
        failed = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "user.login_failed")
        )
    assert failed == 1  # the known account's failure is audited
    disabled = invoke(["user", "disable", "clerk.b", "--db", o.db])
    assert disabled.code == 0
    gone = o.run("clerk.b", "list", "--password-stdin", stdin=PASSWORD + "\n")
    assert gone.code == 1 and "此账户已停用" in gone.stderr


def test_a_scattered_reimbursement_approved_by_staff(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cheap_hashes: None
) -> None:
    """tests/test_applications_scattered.py's bill, hand-worked there: 住院救助 8000.00 and
    二次医疗救助 3360.00, 11360.00 to the person; the same bill again is refused."""
    for o in open_office(db_url, tmp_path, monkeypatch, "maoming-2018", "440902", D(2019, 4, 1)):
        hold(o.desk, MAOMING, "dibao", "2019-01-01")
        o.desk.settle(inpatient_claim(1, MAOMING, "1000.00", settlement_date="2019-04-01",
                                      admission_date="2019-04-01"))  # fmt: skip
        o.desk.clock.day = D(2019, 5, 20)
        bill = {
            "issuer": "茂名市某镇卫生院", "bill_number": "FP-0001", "visit_type": "inpatient",
            "settlement_date": "2019-05-10", "admission_date": "2019-05-10",
            "hospital_level": 2, "referred": True, "total": "25000.00",
            "full_self_pay": "5000.00", "partial_self_pay": "0.00", "policy_scope": "20000.00",
            "insurance": {"basic_insurance": "10000.00", "critical_illness_insurance": "0.00"},
        }  # fmt: skip
        body = {
            "id_number": MAOMING, "kind": "医疗救助零星报销", "applicant_name": "陈低保",
            "township": "袂花镇", "bill": bill,
            "account": {"holder": "陈低保", "bank": "茂名农商银行", "number": "6217000010203040"},
        }  # fmt: skip
        out = o.ok("clerk", "submit", o.file("零星报销.json", json.dumps(body)), "--json")
        number = json.loads(out.stdout)["application"]["number"]
        for item in o.detail(number)["checklist"]:
            png = o.file(f"{item['key']}.png", PNG)
            o.ok("clerk", "attach", number, item["key"], png, "--version", o.version(number))
        o.done("clerk", "accept", number)
        o.done("reviewer", "assess", number)
        shown = o.ok("reviewer", "show", number).stdout
        assert "核定救助金额：11360.00 元" in shown and "二次医疗救助：0.00 → 3360.00" in shown
        o.done("reviewer", "review", number, "--opinion", "票据真实")
        o.done("approver", "approve", number, "--opinion", "同意")
        o.done("approver", "pay", number, "--voucher", "LX-1")
        assert "已于 2019-05-20 支付" in o.ok("approver", "show", number).stdout
        again = o.run("clerk", "submit", "-", stdin=json.dumps(body))
        assert again.code == 1 and "字段 bill.bill_number" in again.stderr
        assert "同一票据不能重复报销" in again.stderr
