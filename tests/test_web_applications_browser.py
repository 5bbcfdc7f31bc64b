"""The application pages in a real browser (Debian's chromium, tests/browser.py) over the
demo database of ``jiuzhu demo --web`` (with its five applications), served by ``jiuzhu
serve``, with the county's staff added by ``jiuzhu user create`` and a hospital's token
by ``jiuzhu token create``, as a bureau would.

- A 聊城 application of an ordinary insured person whose claim of two months ago the
  hospital settled at the desk, taken from 登记 and 受理 through 入户调查, 公示 and 审批 to
  支付, each step by the member of the right role through the page's own form. The engine
  computes the look-back by hand: 60% × (30000.00 − 10000.00) = 12000.00 (因病致贫 after
  identification: 1万 deductible, 60%, 2万 cap; 聊城实施方案 四(一)); the person's page
  then shows the 补付 with its cause.
- Another refused at the township; its written notice (附件5) downloaded as PDF and its
  text read.
- The county reviewer has no 审批 form; the 管理员 who recorded the home visit is refused
  the approval (不得审核、审批本人登记或调查的申请); a member of another county sees nothing.
- Every new page (the registration form, the application in each state, with every form
  the 管理员 may use) at 1366×768 and a 360 px phone: an axe scan, nothing wider than the
  screen, no full ID number, a screenshot; the registration form from the keyboard alone.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pypdf import PdfReader

from jiuzhu.cli.demo_pages import DEMO_USER, HOSPITAL, id_number, people
from jiuzhu.usecases.unit import beijing_today
from tests.application_api import PNG
from tests.browser import *  # noqa: F403
from tests.browser import JIUZHU, VIEWPORTS, axe_violations, describe_violations, screenshot
from tests.service_helpers import inpatient_claim
from tests.test_web_staff_browser import _tab_until, demo_server

__all__ = ["demo_server"]

PASSWORD = "浏览器测试用的密码 2024"
STAFF = {
    "clerk": ("古楼街道经办", "township_clerk", "371502"),
    "visitor": ("古楼街道调查员", "township_clerk", "371502"),
    "reviewer": ("东昌府区医保审核", "county_reviewer", "371502"),
    "approver": ("东昌府区医保审批", "county_approver", "371502"),
    "far": ("阳谷县经办", "township_clerk", "371521"),
}
ORDINARY = id_number("371502", "19660315", 901)  # not on the roster: an ordinary person
KEYED = id_number("371502", "19700820", 903)
REFUSED = people()[2]  # 王德福, 湖西街道: the demo has no application of his
DOCUMENTS = ("身份证件或社会保障卡", "医疗诊断书", "医疗费用收据", "医疗保险报销证明材料",
             "家庭经济状况说明")  # fmt: skip
TODAY = beijing_today()


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def _masked(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


@pytest.fixture(scope="module")
def server(demo_server: dict[str, str]) -> dict[str, str]:
    """The demo, its county's staff, and the ordinary person's claim of 60 days ago."""
    db = demo_server["db"]
    for username, (name, role, where) in STAFF.items():
        subprocess.run(
            [JIUZHU, "user", "create", username, "--name", name, "--role", role,
             "--jurisdiction", where, "--password-stdin", "--db", db],
            input=PASSWORD, capture_output=True, text=True, check=True,
        )  # fmt: skip
    made = subprocess.run(
        [JIUZHU, "token", "create", "--client", HOSPITAL, "--role", "hospital",
         "--jurisdiction", "3715", "--db", db],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    token = made.stdout.split()[0]
    claim = inpatient_claim(1, ORDINARY, "30000.00", claim_id="browser-lookback-1",
                            settlement_date=ago(60), admission_date=ago(70))  # fmt: skip
    r = httpx.post(
        demo_server["base"] + "/settlements",
        json=claim,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "browser-lookback-1"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["settlement"]["medical_assistance"] == "0.00"  # ordinary: nothing yet
    return demo_server


def _context(browser: Browser, viewport: str = "desktop") -> BrowserContext:
    return browser.new_context(
        viewport=VIEWPORTS[viewport], locale="zh-CN", timezone_id="Asia/Shanghai"
    )


def _login(page: Page, server: dict[str, str], who: str) -> None:
    page.goto(server["base"] + "/web/login")
    page.get_by_label("用户名").fill(who)
    page.get_by_label("密码").fill(server["password"] if who == DEMO_USER else PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/web/worklist"))


class Member:
    """One member of staff in a browser of their own."""

    def __init__(self, browser: Browser, server: dict[str, str], who: str) -> None:
        self.server = server
        self.context = _context(browser)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: self.problems.append(f"{m.text} {m.location}") if m.type == "error" else None,
        )
        _login(self.page, server, who)

    def open(self, url: str) -> Page:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        return self.page

    def form(self, key: str) -> Any:
        return self.page.locator(f"form#{key}")

    def take(self, url: str, key: str, **fields: str) -> None:
        """Fill the step's form on the application's page and send it."""
        page = self.open(url)
        form = self.form(key)
        for name, value in fields.items():
            form.locator(f"[name='{name}']").fill(value)
        form.get_by_role("button").last.click()
        page.wait_for_url(re.compile(r"/web/applications/[0-9a-f]{32}#history$"))
        expect(page.locator(".error-summary")).to_have_count(0)

    def close(self) -> None:
        assert self.problems == []
        self.context.close()


def check(page: Page, name: str, *numbers: str) -> None:
    """Every page: nothing wider than the screen, no ID number in full, a screenshot,
    axe."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: {overflow}px wider than the screen"
    html = page.content()
    for n in (ORDINARY, KEYED, REFUSED[2], *(p[2] for p in people()), *numbers):
        assert n not in html, f"{name}: an ID number in full"
    assert screenshot(page, name).stat().st_size > 10_000
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)


def register(m: Member, number: str, name: str, township: str, received: str) -> str:
    page = m.open(m.server["base"] + "/web/applications")
    page.get_by_label("申请人身份证号").fill(number)
    page.get_by_label("申请人姓名").fill(name)
    page.locator("#submit-township").fill(township)
    page.locator("#submit-received_on").fill(received)
    page.get_by_label("申请事由").fill("重病住院，医疗费用负担重")
    page.get_by_label("户名").fill(name)
    page.get_by_label("开户行").fill("聊城农商银行")
    page.get_by_label("账号").fill("6228480099998888")
    page.get_by_role("button", name="登记申请").click()
    page.wait_for_url(re.compile(r"/web/applications/[0-9a-f]{32}$"))
    assert number not in page.url
    return page.url


def accept(m: Member, url: str) -> None:
    page = m.open(url)
    for label in DOCUMENTS:
        page.locator("#upload-key").select_option(label=label)
        page.locator("#upload-file").set_input_files(
            files=[{"name": "scan.png", "mimeType": "image/png", "buffer": PNG}]
        )
        m.form("upload").get_by_role("button", name="上传").click()
        page.wait_for_url(re.compile(r"#documents$"))
    expect(page.locator("#documents + .scroll .badge.served")).to_have_count(5)
    m.take(url, "accept", opinion="材料齐全，受理")


def visit(m: Member, url: str, name: str, day: str) -> None:
    m.take(url, "record_visit", visited_on=day, investigators="古楼街道调查员、村委会干部",
           **{"members-0-name": name, "members-0-relation": "本人", "members-0-age": "58",
              "members-0-health": "患病", "members-0-income": "2400.00"},
           income="2400.00", assets="自有住房一处，无车辆，无存款", illness="重病住院，长期治疗",
           opinion="经入户调查，家庭经济困难，患病属实", witness_name="刘主任",
           witness_title="村委会主任")  # fmt: skip


# -- the whole way ------------------------------------------------------------------------


def test_an_application_from_registration_to_payment(
    browser: Browser, server: dict[str, str]
) -> None:
    clerk = Member(browser, server, "clerk")
    url = register(clerk, ORDINARY, "陈建华", "古楼街道", ago(40))
    check(clerk.page, "application-received-desktop")
    accept(clerk, url)
    expect(clerk.page.locator(".facts").first).to_contain_text("入户调查")

    visitor = Member(browser, server, "visitor")
    visit(visitor, url, "陈建华", ago(35))
    clerk.take(url, "township_approve", opinion="情况属实，同意上报",
               publicity_start=ago(30), publicity_end=ago(23))  # fmt: skip
    page = clerk.open(url)
    expect(page.locator("#publicity + h3")).to_contain_text(f"审核公示：{ago(30)} 至 {ago(23)}")
    listed = page.get_by_role("link", name="打印公示名单（PDF）").get_attribute("href")
    assert listed is not None
    pdf = clerk.context.request.get(server["base"] + listed)
    listed_text = _pdf_text(pdf.body())
    assert pdf.ok and "陈*华" in listed_text and _masked(ORDINARY) in listed_text
    clerk.take(url, "close_publicity")

    reviewer = Member(browser, server, "reviewer")
    page = reviewer.open(url)
    assert page.locator("form#approve").count() == 0
    check(page, "application-county-review-desktop")
    reviewer.take(url, "assess", identified_on=TODAY.isoformat(), opinion="按认定后待遇重新计算")
    page = reviewer.open(url)
    expect(page.locator(".amount").first).to_have_text("结算引擎核定的救助金额：12000.00 元")
    explained = page.locator("#assessment ~ .adjustment").first
    expect(explained).to_contain_text("原 0.00 元，重新计算后 12000.00 元，差额 12000.00 元")
    check(page, "application-assessed-desktop")
    reviewer.take(url, "review", opinion="同意")
    page = reviewer.open(url)
    assert page.locator("form#approve").count() == 0  # a reviewer does not approve
    expect(page.locator("#actions")).to_be_visible()

    approver = Member(browser, server, "approver")
    page = approver.open(url)
    expect(approver.form("approve")).to_contain_text("核定救助金额：12000.00 元")
    approver.take(url, "approve", opinion="同意救助",
                  publicity_start=ago(20), publicity_end=ago(14))  # fmt: skip
    approver.take(url, "close_publicity")
    approver.take(url, "pay", voucher="ZF-浏览器-0001")
    page = approver.open(url)
    expect(page.locator(".facts").first).to_contain_text("已支付")
    expect(page.locator("#payment ~ ul").first).to_contain_text("12000.00 元")
    steps = page.locator("ol.timeline > li strong").all_inner_texts()
    for step in ("登记申请", "受理并入户调查", "提交入户调查记录", "乡镇审核通过并公示",
                 "公示期满报县级审核", "核定救助金额", "县级审核通过（核定救助金额）",
                 "县级审批通过", "结果公示期满", "支付"):  # fmt: skip
        assert step in steps, step
    expect(page.locator("ol.timeline")).to_contain_text("visitor（乡镇经办）")
    notice = page.get_by_role("link", name="打印（PDF）").first.get_attribute("href")
    assert notice is not None
    text = _pdf_text(approver.context.request.get(server["base"] + notice).body())
    assert "医疗救助审批结果通知书" in text and "12000.00" in text
    check(page, "application-paid-desktop")

    # the person's page: the 补付 of the look-back, with its cause
    page = clerk.open(server["base"] + "/web/persons")
    page.get_by_label("身份证号").fill(ORDINARY)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(r"/web/persons/[0-9a-f]{32}$"))
    adjustments = page.locator("#adjustments + .scroll table")
    expect(adjustments).to_contain_text("补付 12000.00")
    expect(adjustments).to_contain_text("认定为因病致贫重病患者")
    check(page, "application-person-lookback-desktop")
    for m in (clerk, visitor, reviewer, approver):
        m.close()


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


INVESTIGATED = id_number("371502", "19580612", 907)  # ordinary, no application in the demo


def test_nobody_approves_what_they_investigated(browser: Browser, server: dict[str, str]) -> None:
    """The city's 管理员 may take every step, so only the case itself stands in the way:
    having recorded the home visit, they are refused the approval with the reason beside
    办理 and nothing changes; the county's approver then approves."""
    clerk = Member(browser, server, "clerk")
    url = register(clerk, INVESTIGATED, "赵春生", "古楼街道", ago(30))
    accept(clerk, url)
    admin = Member(browser, server, DEMO_USER)
    visit(admin, url, "赵春生", ago(28))
    clerk.take(url, "township_approve", opinion="情况属实，同意上报",
               publicity_start=ago(26), publicity_end=ago(19))  # fmt: skip
    clerk.take(url, "close_publicity")
    reviewer = Member(browser, server, "reviewer")
    reviewer.take(url, "assess", identified_on=TODAY.isoformat(), opinion="按认定后待遇计算")
    reviewer.take(url, "review", opinion="同意")

    page = admin.open(url)
    form = admin.form("approve")
    form.locator("[name='opinion']").fill("同意救助")
    form.locator("[name='publicity_start']").fill(ago(5))
    form.locator("[name='publicity_end']").fill(ago(1))
    form.get_by_role("button").last.click()
    expect(page.locator(".error-summary")).to_contain_text("不得审核、审批本人登记或调查的申请")
    page = admin.open(url)
    expect(page.locator(".facts").first).to_contain_text("县级审批")
    assert "县级审批通过" not in page.locator("ol.timeline").inner_text()
    check(page, "application-own-case-desktop", INVESTIGATED)

    approver = Member(browser, server, "approver")
    approver.take(url, "approve", opinion="同意救助",
                  publicity_start=ago(5), publicity_end=ago(1))  # fmt: skip
    expect(approver.page.locator("ol.timeline")).to_contain_text("县级审批通过")
    # the refused step is answered 403 (a page with the form and its error): chromium logs it
    refused = [p for p in admin.problems if "status of 403" in p and "/steps/approve" in p]
    assert len(refused) == 1
    admin.problems = [p for p in admin.problems if p not in refused]
    for m in (clerk, admin, reviewer, approver):
        m.close()


def test_a_refusal_and_its_printed_notice(browser: Browser, server: dict[str, str]) -> None:
    h, name, number = REFUSED
    clerk = Member(browser, server, "clerk")
    url = register(clerk, number, name, h.township, ago(20))
    accept(clerk, url)
    visit(Member(browser, server, "visitor"), url, name, ago(18))
    clerk.take(url, "township_refuse", opinion="家庭年收入高于当地认定标准",
               clause="聊城实施方案 四(一)")  # fmt: skip
    page = clerk.open(url)
    expect(page.locator(".facts").first).to_contain_text("不予救助")
    check(page, "application-refused-desktop")
    link = page.get_by_role("link", name="打印（PDF）")
    notice = link.get_attribute("href")
    assert notice is not None
    with page.expect_download() as download:
        page.evaluate("(a) => { a.setAttribute('download', ''); a.click(); }",
                      link.element_handle())  # fmt: skip
    data = download.value.path().read_bytes()
    text = _pdf_text(data).replace("\n", "")
    assert "不符合医疗救助条件书面告知书" in text
    assert name in text and "家庭年收入高于当地认定标准" in text and "四(一)" in text
    assert number not in text
    clerk.close()

    far = Member(browser, server, "far")  # 阳谷县: nothing of it
    response = far.page.goto(url)
    assert response is not None and response.status == 404
    expect(far.page.locator("h1")).to_have_text("页面不存在")
    assert all("status of 404" in p for p in far.problems)  # the 404 asked for
    far.problems.clear()
    assert far.context.request.get(server["base"] + notice).status == 404
    for tab in ("todo", "done", "closed"):
        far.open(server["base"] + f"/web/worklist?tab={tab}")
        assert name not in far.page.content()
    far.close()


def test_the_registration_form_from_the_keyboard(browser: Browser, server: dict[str, str]) -> None:
    clerk = Member(browser, server, "clerk")
    page = clerk.open(server["base"] + "/web/applications")
    first = _tab_until(page, lambda f: f["id"] == "submit-id_number")
    assert first["ring"]
    page.keyboard.type(KEYED[:10])  # too short: refused beside the field
    _tab_until(page, lambda f: f["id"] == "submit-applicant_name")
    page.keyboard.type("钱秀兰")
    _tab_until(page, lambda f: f["id"] == "submit-township")
    page.keyboard.type("古楼街道")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("#submit-id_number-error")).to_contain_text("身份证号须为18位")
    expect(page.locator("#submit-applicant_name")).to_have_value("钱秀兰")
    # chromium logs the refusal's 422 as a console error: that one was asked for
    assert all("status of 422" in p for p in clerk.problems)
    clerk.problems.clear()
    check(page, "application-new-error-desktop")
    focus = _tab_until(page, lambda f: f["id"] == "submit-id_number")
    assert focus["ring"]
    page.keyboard.type(KEYED)
    button = _tab_until(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "登记申请")
    assert button["ring"]
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/web/applications/[0-9a-f]{32}$"))
    expect(page.locator("h1")).to_contain_text("因病致贫重病患者医疗救助认定")
    expect(page.locator(".facts").first).to_contain_text(_masked(KEYED))
    clerk.close()


# -- every new page, at both sizes --------------------------------------------------------


@pytest.fixture(scope="module")
def demo_applications(browser: Browser, server: dict[str, str]) -> dict[str, str]:
    """The demo's applications by their state, as the 管理员's worklist links them."""
    m = Member(browser, server, DEMO_USER)
    found: dict[str, str] = {}
    try:
        for tab in ("todo", "closed"):
            page = m.open(server["base"] + f"/web/worklist?tab={tab}")
            for row in page.locator("table tbody tr").all():
                state = row.locator("td[data-label='办理环节']").inner_text().split("\n")[0]
                href = row.locator("th a").get_attribute("href")
                assert href is not None
                found.setdefault(state.strip(), server["base"] + href)
    finally:
        m.close()
    assert {"受理", "入户调查", "县级审核", "不予救助", "已支付"} <= set(found), found
    return found


PAGES = {
    "new": None,
    "received": "受理",
    "home-visit": "入户调查",
    "county-review": "县级审核",
    "refused": "不予救助",
    "paid": "已支付",
}


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_application_page(
    browser: Browser,
    server: dict[str, str],
    demo_applications: dict[str, str],
    name: str,
    viewport: str,
) -> None:
    context = _context(browser, viewport)
    requested: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: requested.append(r.url))
        _login(page, server, DEMO_USER)
        state = PAGES[name]
        target = server["base"] + "/web/applications" if state is None else demo_applications[state]
        response = page.goto(target)
        assert response is not None and response.status == 200
        if name == "home-visit":  # the 管理员 may take every step: the visit form is there
            expect(page.locator("form#record_visit")).to_be_visible()
        if name == "county-review":
            expect(page.locator("form#assess")).to_be_visible()
        check(page, f"application-{name}-{viewport}")
        assert [u for u in requested if not u.startswith(server["base"])] == []
    finally:
        context.close()


def test_worklist_with_applications(browser: Browser, server: dict[str, str]) -> None:
    m = Member(browser, server, DEMO_USER)
    page = m.open(server["base"] + "/web/worklist?tab=todo")
    expect(page.locator("table tbody tr.is-overdue")).not_to_have_count(0)
    expect(page.locator(".badge.overdue").first).to_have_text("已超期")
    check(page, "application-worklist-desktop")
    m.close()
