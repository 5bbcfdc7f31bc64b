"""The application pages through FastAPI's test client (tests/web_applications.py): an
application of 聊城 taken from 登记 to 支付 by the members of each role through the pages'
own forms, the amount the engine computed shown line by line; a refusal and its notice
as a PDF; every form's errors beside their fields, CSRF refused, a stale version refused
with nothing lost, wrong roles refused, another county seeing nothing; the worklist and
the person page over the stored applications; ID numbers never in full."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from jiuzhu.storage.models import Application, ApplicationEvent, AuditEntry
from jiuzhu.web import PREFIX
from tests.application_api import PDF
from tests.db_fixtures import db_url, make_id
from tests.service_helpers import inpatient_claim
from tests.test_web_pages import text_of
from tests.web_applications import DOCUMENTS, VISIT_FORM, Desk, make_desk
from tests.web_helpers import cheap_hashes, csrf_of

__all__ = ["cheap_hashes", "db_url"]

PERSON = make_id(301)
MASKED = PERSON[:4] + "*" * 10 + PERSON[-4:]
D = dt.date


@pytest.fixture
def desk(db_url: str) -> Iterator[Desk]:
    yield from make_desk(db_url, D(2023, 1, 31))


def _claim(desk: Desk, ref: str, day: str, scope: str) -> None:
    desk.clock.day = max(desk.clock.day, D.fromisoformat(day))
    body = inpatient_claim(1, PERSON, scope, claim_id=ref, settlement_date=day, admission_date=day)
    assert desk.api.settle(body, ref).status_code == 201


def _submitted(desk: Desk, **over: str) -> str:
    fields = {
        "id_number": PERSON,
        "kind": "illness_impoverished",
        "applicant_name": "张小三",
        "township": "侯营镇",
        "received_on": desk.clock.day.isoformat(),
        "reason": "肝癌术后，医疗费用负担重",
        "account-holder": "张小三",
        "account-bank": "聊城农商银行",
        "account-number": "6228480012345678",
        **over,
    }
    r = desk.submit(**fields)
    assert r.status_code == 303, text_of(r.text)[-2000:]
    found = re.fullmatch(rf"{PREFIX}/applications/([0-9a-f]{{32}})", r.headers["location"])
    assert found is not None and PERSON not in r.headers["location"]
    return found.group(1)


def _field_error(html: str, field_id: str) -> str:
    found = re.search(
        rf'<p class="field-error[^"]*" id="{field_id}(?:-error)?"[^>]*>(.*?)</p>', html, re.S
    )
    assert found is not None, f"no error at {field_id}: {text_of(html)[-1500:]}"
    return text_of(found.group(1))


def _accepted(desk: Desk) -> str:
    desk.clock.day = D(2024, 2, 20)
    aid = _submitted(desk)
    for key in DOCUMENTS:
        assert desk.upload("clerk", aid, key).status_code == 303
    desk.ok("clerk", aid, "accept", opinion="材料齐全，受理")
    return aid


def _at_county_review(desk: Desk) -> str:
    aid = _accepted(desk)
    desk.clock.day = D(2024, 2, 22)
    desk.ok("clerk_b", aid, "record_visit", **{**VISIT_FORM, "visited_on": "2024-02-22"})
    desk.clock.day = D(2024, 2, 23)
    desk.ok("clerk", aid, "township_approve", opinion="情况属实，同意上报",
            publicity_start="2024-02-24", publicity_end="2024-03-01")  # fmt: skip
    desk.clock.day = D(2024, 3, 2)
    desk.ok("clerk", aid, "close_publicity")
    return aid


# -- the whole way, by the pages' forms --------------------------------------------------


def test_from_registration_to_payment_through_the_pages(desk: Desk) -> None:
    for ref, day, scope in [("c1", "2023-02-01", "8000.00"), ("c2", "2023-11-15", "5000.00")]:
        _claim(desk, ref, day, scope)
    aid = _at_county_review(desk)
    _claim(desk, "c3", "2024-03-09", "40000.00")
    desk.clock.day = D(2024, 3, 10)

    page = desk.page("reviewer", aid).text
    forms = re.findall(r'action="/web/applications/[0-9a-f]+/steps/(\w+)"', page)
    assert forms == ["assess", "review", "return_to_township", "refuse"]  # forward first
    assert "steps/approve" not in page  # a reviewer does not approve
    desk.ok("reviewer", aid, "assess", identified_on="2024-03-10", opinion="按认定后待遇重新计算")
    page = text_of(desk.page("reviewer", aid).text)
    assert "结算引擎核定的救助金额：20000.00 元" in page
    assert "原 0.00 元，重新计算后 1800.00 元，差额 1800.00 元" in page
    assert "计入 2024 年度的救助待遇和救助限额" in page
    desk.ok("reviewer", aid, "review", opinion="同意")

    desk.clock.day = D(2024, 3, 12)
    approve_page = desk.page("approver", aid).text
    version = re.findall(r'name="version" value="(\d+)"', approve_page)[0]
    refused = desk.login("reviewer").post(
        f"{PREFIX}/applications/{aid}/steps/approve",
        data={"csrf": csrf_of(desk.page("reviewer", aid).text), "version": version,
              "opinion": "同意"},
    )  # fmt: skip
    assert refused.status_code == 403 and "须由县级审批办理" in text_of(refused.text)
    assert "核定救助金额：20000.00 元" in text_of(approve_page)
    desk.ok("approver", aid, "approve", opinion="同意救助")
    page = desk.page("approver", aid).text
    notices = re.findall(rf'href="({PREFIX}/applications/{aid}/notices/[0-9a-f]+\.pdf)"', page)
    assert len(notices) == 1
    pdf = desk.login("approver").get(notices[0])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["cache-control"] == "no-store"

    desk.clock.day = D(2024, 3, 19)
    desk.ok("approver", aid, "close_publicity")
    desk.clock.day = D(2024, 3, 20)
    desk.ok("approver", aid, "pay", voucher="ZF2024-0001")
    page = desk.page("approver", aid).text
    text = text_of(page)
    assert "已支付" in text and "ZF2024-0001" in text and "************5678" in text
    assert "6228480012345678" not in page and PERSON not in page and MASKED in text
    for step in ("登记申请", "受理并入户调查", "提交入户调查记录", "乡镇审核通过并公示",
                 "公示期满报县级审核", "核定救助金额", "县级审核通过（核定救助金额）",
                 "县级审批通过", "结果公示期满", "支付"):  # fmt: skip
        assert step in text, step
    assert "意见：经入户调查，家庭经济困难，患病属实" in text
    assert "clerk_b（乡镇经办）" in text
    assert "本申请已办结（已支付）" in text

    store = desk.api.app.state.store
    with store.sessions() as s:
        actors = set(s.scalars(select(ApplicationEvent.actor)))
        assert {"user:clerk", "user:clerk_b", "user:reviewer", "user:approver"} <= actors
        audited = set(s.scalars(select(AuditEntry.actor).where(AuditEntry.action.like("app.%"))))
        assert {"user:clerk", "user:approver"} <= audited


def test_a_refusal_and_its_notice(desk: Desk) -> None:
    aid = _at_county_review(desk)
    desk.ok("reviewer", aid, "refuse", opinion="家庭经济状况不符合认定条件",
            clause="聊城实施方案 四(一)")  # fmt: skip
    page = desk.page("clerk", aid).text
    assert "不予救助" in text_of(page)
    [link] = re.findall(rf'href="({PREFIX}/applications/{aid}/notices/[0-9a-f]+\.pdf)"', page)
    pdf = desk.login("clerk").get(link)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert desk.login("far").get(link).status_code == 404


# -- errors beside their fields, CSRF, versions, roles, counties --------------------------


def test_the_submit_form_shows_each_error_beside_its_field(desk: Desk) -> None:
    desk.clock.day = D(2024, 2, 20)
    wrong = PERSON[:17] + ("0" if PERSON[-1] != "0" else "1")
    r = desk.submit(id_number=wrong, kind="illness_impoverished", applicant_name="",
                    received_on="2024-03-01")  # fmt: skip
    assert r.status_code == 422
    assert "校验码" in _field_error(r.text, "submit-id_number")
    assert "须填写申请人姓名" in _field_error(r.text, "submit-applicant_name")
    assert "晚于今天" in _field_error(r.text, "submit-received_on")
    assert PERSON[:17] not in r.text  # the number typed is neither echoed nor refilled
    assert 'href="#submit-applicant_name"' in r.text
    with desk.api.app.state.store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Application)) == 0
    aid = _submitted(desk)
    again = desk.submit(id_number=PERSON, kind="illness_impoverished", applicant_name="张小三",
                        township="侯营镇")  # fmt: skip
    assert again.status_code == 409
    assert "已有同类申请在办理中" in _field_error(again.text, "submit-kind")
    assert desk.page("clerk", aid).status_code == 200


def test_the_visit_form_errors_are_beside_each_field_and_the_values_kept(desk: Desk) -> None:
    aid = _accepted(desk)
    desk.clock.day = D(2024, 2, 22)
    bad = {**VISIT_FORM, "visited_on": "2024-02-22", "members-1-income": "9000",
           "witness_name": "", "income": "很多"}  # fmt: skip
    r = desk.step("clerk", aid, "record_visit", **bad)
    assert r.status_code == 422
    assert "两位小数" in _field_error(r.text, "record_visit-members-1-income")
    assert "须填写村（居）委会见证人" in _field_error(r.text, "record_visit-witness_name")
    assert "两位小数" in _field_error(r.text, "record_visit-income")
    assert 'value="肝癌术后，长期治疗"' in r.text or "肝癌术后，长期治疗</textarea>" in r.text
    assert 'name="members-0-name" type="text" value="张小三"' in r.text
    assert "入户调查" in text_of(desk.page("clerk", aid).text)
    with desk.api.app.state.store.sessions() as s:
        state = s.scalar(select(Application.state).where(Application.public_id == aid))
        assert state == "home_visit"


def test_a_stale_form_is_refused_and_nothing_is_lost(desk: Desk) -> None:
    aid = _accepted(desk)
    desk.clock.day = D(2024, 2, 22)
    r = desk.step("clerk", aid, "record_visit", stale=True,
                  **{**VISIT_FORM, "visited_on": "2024-02-22"})  # fmt: skip
    assert r.status_code == 409
    message = _field_error(r.text, "record_visit-form")
    assert "已被他人修改" in message and "未作任何更改" in message
    assert "经入户调查，家庭经济困难，患病属实</textarea>" in r.text  # what was typed is kept
    desk.ok("clerk", aid, "record_visit", **{**VISIT_FORM, "visited_on": "2024-02-22"})


def test_csrf_is_refused_and_nothing_is_done(desk: Desk) -> None:
    aid = _accepted(desk)
    client = desk.login("clerk")
    for data in ({"version": "3", "opinion": "x"}, {"version": "3", "csrf": "forged"}):
        r = client.post(f"{PREFIX}/applications/{aid}/steps/withdraw", data=data)
        assert r.status_code == 403 and "未作任何处理" in text_of(r.text)
    r = client.post(f"{PREFIX}/applications/{aid}/documents", data={"key": "identity"},
                    files={"file": ("a.pdf", PDF, "application/pdf")})  # fmt: skip
    assert r.status_code == 403
    r = client.post(f"{PREFIX}/applications", data={"id_number": PERSON})
    assert r.status_code == 403
    with desk.api.app.state.store.sessions() as s:
        assert (
            s.scalar(select(Application.state).where(Application.public_id == aid)) == "home_visit"
        )


def test_roles_and_counties(desk: Desk) -> None:
    aid = _accepted(desk)
    # another county: no page, no paper, nothing in its worklist or searches
    assert desk.page("far", aid).status_code == 404
    far = desk.login("far")
    assert "张小三" not in far.get(f"{PREFIX}/worklist?tab=todo").text
    r = far.post(f"{PREFIX}/applications/{aid}/steps/withdraw",
                 data={"csrf": csrf_of(far.get(f"{PREFIX}/persons").text), "version": "3",
                       "opinion": "x"})  # fmt: skip
    assert r.status_code == 404
    # a member who reads applications but takes no step sees no form
    bureau = desk.page("bureau", aid).text
    assert "/steps/" not in bureau and "只查阅申请" in text_of(bureau)
    # a step of another role is refused, its form absent
    reviewer = desk.page("reviewer", aid).text
    assert "steps/record_visit" not in reviewer
    r = desk.step("reviewer", aid, "record_visit", **{**VISIT_FORM, "visited_on": "2024-02-20"})
    assert r.status_code == 403
    assert "须由乡镇经办办理" in _field_error(r.text, "record_visit-form")  # not only the summary
    # the registration form is for township clerks and civil affairs
    assert "不登记申请" in text_of(desk.login("reviewer").get(f"{PREFIX}/applications").text)


def test_one_who_investigated_may_not_review(desk: Desk) -> None:
    aid = _accepted(desk)
    desk.clock.day = D(2024, 2, 22)
    desk.ok("admin", aid, "record_visit", **{**VISIT_FORM, "visited_on": "2024-02-22"})
    desk.ok("clerk", aid, "township_approve", opinion="同意",
            publicity_start="2024-02-23", publicity_end="2024-03-01")  # fmt: skip
    desk.clock.day = D(2024, 3, 2)
    desk.ok("clerk", aid, "close_publicity")
    desk.ok("reviewer", aid, "assess", identified_on="2024-03-02")
    r = desk.step("admin", aid, "review", opinion="同意")
    assert r.status_code == 403
    assert "不得审核、审批本人登记或调查的申请" in _field_error(r.text, "review-form")


def test_papers_upload_errors_and_viewing(desk: Desk) -> None:
    desk.clock.day = D(2024, 2, 20)
    aid = _submitted(desk)
    r = desk.upload("clerk", aid, "identity", b"not a picture")
    assert r.status_code == 422
    assert "只接受 PDF、JPEG 或 PNG" in _field_error(r.text, "upload-file")
    r = desk.upload("clerk", aid, "nothing")
    assert "材料清单中没有" in _field_error(r.text, "upload-key")
    assert desk.upload("clerk", aid, "identity", PDF).status_code == 303
    page = desk.page("clerk", aid).text
    [link] = re.findall(rf'href="({PREFIX}/applications/{aid}/documents/[0-9a-f]+)"', page)
    paper = desk.login("clerk").get(link)
    assert paper.content == PDF and paper.headers["content-type"] == "application/pdf"
    assert desk.login("far").get(link).status_code == 404


def test_publicity_objections_and_the_list_to_post(desk: Desk) -> None:
    aid = _accepted(desk)
    desk.clock.day = D(2024, 2, 22)
    desk.ok("clerk_b", aid, "record_visit", **{**VISIT_FORM, "visited_on": "2024-02-22"})
    r = desk.step("clerk", aid, "township_approve", opinion="同意", publicity_start="2024-02-23")
    assert r.status_code == 422
    assert "公示" in _field_error(r.text, "township_approve-publicity_start")
    desk.ok("clerk", aid, "township_approve", opinion="同意",
            publicity_start="2024-02-23", publicity_end="2024-03-01")  # fmt: skip
    desk.clock.day = D(2024, 2, 25)
    desk.ok("clerk", aid, "record_objection", text="邻居反映其有营运车辆一辆")
    page = desk.page("clerk", aid).text
    [objection] = re.findall(r'<option value="([0-9a-f]{32})">', page)
    r = desk.step("clerk", aid, "resolve_objection", objection=objection, resolution="")
    assert r.status_code == 422 and "须填写异议是否成立" in _field_error(
        r.text, "resolve_objection-upheld"
    )
    desk.ok("clerk", aid, "resolve_objection", objection=objection, upheld="不成立",
            resolution="经核查，车辆已于2023年转让")  # fmt: skip
    [link] = re.findall(r'href="(/web/publicity\.pdf\?[^"]+)"', page)
    pdf = desk.login("clerk").get(link.replace("&amp;", "&"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    early = desk.step("clerk", aid, "close_publicity")
    assert early.status_code == 422 and "尚未期满" in text_of(early.text)


# -- the worklist and the person page ---------------------------------------------------


def test_the_worklist_lists_the_stored_applications(desk: Desk) -> None:
    aid = _accepted(desk)
    clerk = desk.login("clerk")
    todo = clerk.get(f"{PREFIX}/worklist?tab=todo").text
    assert f'href="{PREFIX}/applications/{aid}"' in todo and MASKED in todo
    assert PERSON not in todo
    assert "受理并入户调查：clerk" in text_of(todo)
    desk.clock.day = D(2024, 3, 10)  # 入户调查 10 days from 2024-02-20: overdue
    assert "已超期" in text_of(clerk.get(f"{PREFIX}/worklist?tab=todo").text)
    filtered = clerk.get(f"{PREFIX}/worklist?tab=todo&state=township_review").text
    assert aid not in filtered
    done = desk.login("clerk").get(f"{PREFIX}/worklist?tab=done").text
    assert aid in done
    assert aid not in desk.login("clerk_b").get(f"{PREFIX}/worklist?tab=done").text
    assert aid not in desk.login("reviewer").get(f"{PREFIX}/worklist?tab=todo").text
    assert aid not in desk.login("far").get(f"{PREFIX}/worklist?tab=done").text


def test_the_persons_page_shows_open_applications_and_the_look_back(desk: Desk) -> None:
    for ref, day, scope in [("c1", "2023-02-01", "8000.00"), ("c2", "2023-11-15", "5000.00")]:
        _claim(desk, ref, day, scope)
    aid = _at_county_review(desk)
    person = re.search(r'href="/web/persons/([0-9a-f]{32})"', desk.page("clerk", aid).text)
    assert person is not None
    page = text_of(desk.login("clerk").get(f"{PREFIX}/persons/{person.group(1)}").text)
    assert "因病致贫重病患者医疗救助认定：县级审核" in page
    desk.clock.day = D(2024, 3, 10)
    desk.ok("reviewer", aid, "assess", identified_on="2024-03-10")
    desk.ok("reviewer", aid, "review", opinion="同意")
    desk.ok("approver", aid, "approve", opinion="同意救助")
    year = desk.login("clerk").get(f"{PREFIX}/persons/{person.group(1)}?year=2023").text
    adjustments = re.search(r'id="adjustments".*?</table>', year, re.S)
    assert adjustments is not None
    cells = text_of(adjustments.group(0))
    assert "补付 1800.00" in cells and "认定为因病致贫重病患者" in cells
