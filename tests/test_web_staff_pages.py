"""The staff pages through FastAPI's test client: the person search (its errors beside
the field, the ID number never in an address), the person's year, the settlement page and
its 结算单, the settlement list and its filters, the worklist's mechanics over a source of
applications; roles and jurisdictions (a member of another county sees nothing); ID
numbers masked in every page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jiuzhu.usecases.access import Caller, Role
from jiuzhu.usecases.unit import Store
from jiuzhu.usecases.worklist import State, Tab, WorkItem, WorkQuery, tab_states, workflow
from jiuzhu.web import PREFIX
from tests.db_fixtures import db_url, make_id
from tests.service_api import MASKED, PERSON
from tests.service_helpers import inpatient_claim, register
from tests.test_web_pages import text_of
from tests.web_helpers import Web, cheap_hashes, csrf_of, web

__all__ = ["cheap_hashes", "db_url", "web"]

OUTSIDE = make_id(7, region="140105")  # 太原: outside the policy's area
UNREGISTERED = make_id(9)  # 东昌府区, never settled, not on a roster


@dataclass
class Settled:
    person: str
    reversed_id: str
    adjusted_id: str


@pytest.fixture
def settled(web: Web) -> Settled:
    """Three 2023 claims of one 低保 person; the first reversed, so the later ones are
    re-settled and adjusted (the 30000.00 cap no longer spent by the first)."""
    register(web.api.app, PERSON)
    ids = []
    for n, scope in [(1, "60000.00"), (2, "30000.00"), (3, "10000.00")]:
        r = web.api.settle(inpatient_claim(n, PERSON, scope), f"k{n}")
        assert r.status_code == 201, r.text
        ids.append(r.json())
    assert web.api.reverse(ids[0]["id"]).status_code == 200
    return Settled(ids[0]["person"]["id"], ids[0]["id"], ids[1]["id"])


def _search(client: TestClient, id_number: str) -> Any:
    token = csrf_of(client.get(f"{PREFIX}/persons").text)
    return client.post(
        f"{PREFIX}/persons", data={"id_number": id_number, "csrf": token}, follow_redirects=False
    )


def _no_full_id(*pages: str) -> None:
    for html in pages:
        assert PERSON not in html and UNREGISTERED not in html


# -- 人员查询 ------------------------------------------------------------------------------


def test_search_goes_to_the_persons_page_by_its_public_id(web: Web, settled: Settled) -> None:
    client = web.login("clerk")
    r = _search(client, PERSON)
    assert r.status_code == 303
    assert r.headers["location"] == f"{PREFIX}/persons/{settled.person}"
    assert PERSON not in r.headers["location"]
    full_width = PERSON.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert _search(client, full_width).headers["location"] == r.headers["location"]
    assert _search(client, PERSON.lower()).status_code == 303


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "请填写身份证号"),
        ("3715021980", "身份证号须为18位"),
        (PERSON[:17] + ("0" if PERSON[-1] != "0" else "1"), "身份证号校验码不正确"),
    ],
)
def test_search_errors_beside_the_field(web: Web, typed: str, message: str) -> None:
    client = web.login("clerk")
    r = _search(client, typed)
    assert r.status_code == 422
    error = re.search(r'<p class="field-error" id="id_number-error">(.*?)</p>', r.text, re.S)
    assert error is not None and message in error.group(1)
    assert 'aria-describedby="id_number-hint id_number-error" aria-invalid="true"' in r.text
    assert f'href="#id_number">{text_of(error.group(1)).replace("错误：", "")}' in r.text
    if typed:
        assert typed not in r.text  # neither echoed in the message nor refilled


def test_search_outside_the_jurisdiction_finds_nobody(web: Web, settled: Settled) -> None:
    far = web.login("far")  # 阳谷县 371521: the person is 东昌府区's
    r = _search(far, PERSON)
    assert r.status_code == 404
    assert "在您的辖区（371521）内没有身份证号为 " + MASKED + " 的人员" in text_of(r.text)
    assert _search(web.login("clerk"), OUTSIDE).status_code == 404
    assert _search(web.login("taiyuan"), PERSON).status_code == 404  # another city's admin


def test_search_for_someone_not_registered(web: Web) -> None:
    r = _search(web.login("clerk"), UNREGISTERED)
    assert r.status_code == 200
    page = text_of(r.text)
    assert "登记库中没有此人" in page and "普通参保人员" in page
    assert UNREGISTERED[:4] + "*" * 10 + UNREGISTERED[-4:] in page
    _no_full_id(r.text)


# -- a person's year ---------------------------------------------------------------------


def test_the_persons_year(web: Web, settled: Settled) -> None:
    client = web.login("clerk")
    r = client.get(f"{PREFIX}/persons/{settled.person}?year=2023")
    assert r.status_code == 200
    page = text_of(r.text)
    _no_full_id(r.text)
    assert MASKED in page and "低保对象" in page and "证书" in page
    assert "2023 年度结算（3 笔）" in page and "已撤销" in page and "已调整" in page
    # the caps: 聊城 医疗救助 30000.00 a year, of which the two claims left used 28000.00
    # (70% of 30000 + 10000), and 再救助's 20000.00
    caps = re.search(r'id="caps".*?</table>', r.text, re.S)
    assert caps is not None
    cells = text_of(caps.group(0))
    assert "医疗救助 住院、门诊慢特病 40000.00 30000.00 28000.00 2000.00 不设" in cells
    adjustments = re.search(r'id="adjustments".*?</table>', r.text, re.S)
    assert adjustments is not None and "补付 21000.00" in text_of(adjustments.group(0))
    assert "办理中的申请" in page and "本系统尚未开通依申请救助的办理" not in page
    assert '<option value="2023" selected>' in r.text and '<option value="2024">' in r.text
    this_year = text_of(client.get(f"{PREFIX}/persons/{settled.person}").text)
    assert "2024 年度没有结算" in this_year


def test_the_persons_page_is_nobodys_outside_the_jurisdiction(web: Web, settled: Settled) -> None:
    for who in ("far", "taiyuan"):
        r = web.login(who).get(f"{PREFIX}/persons/{settled.person}?year=2023")
        assert r.status_code == 404 and "没有此人，或此人不在您的辖区内" in text_of(r.text)
        _no_full_id(r.text)
    client = web.login("clerk")
    assert client.get(f"{PREFIX}/persons/{PERSON}").status_code == 404  # never by ID number
    assert client.get(f"{PREFIX}/persons/{settled.person}?year=23").status_code == 400
    assert client.get(f"{PREFIX}/persons/{settled.person}?year=1800").status_code == 400
    assert client.get(f"{PREFIX}/persons/{'0' * 32}").status_code == 404


def test_a_hospital_sees_its_own_settlements_of_the_person(web: Web, settled: Settled) -> None:
    own = text_of(web.login("desk").get(f"{PREFIX}/persons/{settled.person}?year=2023").text)
    assert "2023 年度结算（3 笔）" in own
    other = text_of(web.login("desk_b").get(f"{PREFIX}/persons/{settled.person}?year=2023").text)
    assert "2023 年度结算（0 笔）" in other and "聊城某医院" not in other


# -- a settlement and its 结算单 ------------------------------------------------------------


def test_the_settlement_page(web: Web, settled: Settled) -> None:
    client = web.login("reviewer")
    r = client.get(f"{PREFIX}/settlements/{settled.adjusted_id}")
    assert r.status_code == 200
    page = text_of(r.text)
    _no_full_id(r.text)
    assert "救助对象类别：低保对象" in page and "依据证书" in page
    assert "聊城实施方案 三(四)1" in page  # the clause of each tier
    assert "不设起付线，按 70% 计" in page  # its formula
    tiers = re.search(r'<table class="tiers".*?</table>', r.text, re.S)
    assert tiers is not None
    # answered 0.00 (the cap spent by the first claim), 21000.00 since its reversal
    assert "医疗救助 0.00 21000.00" in text_of(tiers.group(0))
    assert "补付 医疗救助 21000.00 元" in page and "撤销结算" in page
    assert "聊城某医院" in page and "打印结算单" in page
    reversed_page = text_of(client.get(f"{PREFIX}/settlements/{settled.reversed_id}").text)
    assert "此结算已撤销" in reversed_page and "录入错误" in reversed_page


def test_the_printable_statement(web: Web, settled: Settled) -> None:
    r = web.login("clerk").get(f"{PREFIX}/settlements/{settled.adjusted_id}/print")
    assert r.status_code == 200
    page = text_of(r.text)
    _no_full_id(r.text)
    assert "医疗救助“一站式”结算单" in page and "经办人签字" in page
    assert "各项支付（元）" in page and "结算后的调整" in page
    assert 'class="screen-only actions"' in r.text


def test_a_settlement_is_nobodys_outside_the_jurisdiction(web: Web, settled: Settled) -> None:
    for who in ("far", "taiyuan", "desk_b"):
        client = web.login(who)
        for suffix in ("", "/print"):
            r = client.get(f"{PREFIX}/settlements/{settled.adjusted_id}{suffix}")
            assert r.status_code == 404, (who, suffix)
            assert "没有此结算" in text_of(r.text) and "聊城某医院" not in r.text
    assert web.login("desk").get(f"{PREFIX}/settlements/{settled.adjusted_id}").status_code == 200
    bad = web.login("clerk").get(f"{PREFIX}/settlements/{PERSON}")
    assert bad.status_code == 404 and PERSON not in bad.text


# -- the settlement list ------------------------------------------------------------------


def test_the_settlement_list_and_its_filters(web: Web, settled: Settled) -> None:
    client = web.login("clerk")
    page = text_of(client.get(f"{PREFIX}/settlements").text)
    assert "结算（本页 3 笔）" in page and MASKED in page
    only = text_of(client.get(f"{PREFIX}/settlements?status=reversed").text)
    assert "结算（本页 1 笔）" in only
    none = client.get(f"{PREFIX}/settlements?settled_from=2023-02-15&settled_to=2023-02-16")
    assert "没有符合条件的结算" in text_of(none.text)
    r = client.get(f"{PREFIX}/settlements?settled_from=2023-13-01&settled_to=2023-01-01"
                   "&status=gone&after=x")  # fmt: skip
    assert r.status_code == 422
    for name, message in [
        ("settled_from", "起始日期须为日期"),
        ("status", "状态须为"),
        ("after", "页码有误"),
    ]:
        assert message in r.text and f'href="#{name}"' in r.text, name
    r = client.get(f"{PREFIX}/settlements?settled_from=2023-05-01&settled_to=2023-01-01")
    assert r.status_code == 422 and "截止日期不得早于起始日期" in r.text
    assert "结算（本页 0 笔）" not in text_of(web.login("far").get(f"{PREFIX}/settlements").text)
    assert "没有符合条件的结算" in text_of(web.login("far").get(f"{PREFIX}/settlements").text)
    assert "没有符合条件的结算" in text_of(web.login("desk_b").get(f"{PREFIX}/settlements").text)


def test_the_settlement_list_pages_by_cursor(web: Web, settled: Settled, monkeypatch: Any) -> None:
    from jiuzhu.web import settlement_pages

    monkeypatch.setattr(settlement_pages, "PER_PAGE", 2)
    client = web.login("clerk")
    first = client.get(f"{PREFIX}/settlements?status=")
    found = re.search(r'href="(/web/settlements\?[^"]*after=\d+)" rel="next"', first.text)
    assert found is not None
    second = client.get(found.group(1).replace("&amp;", "&"))
    assert "结算（本页 1 笔）" in text_of(second.text) and "第一页" in text_of(second.text)


# -- the worklist -------------------------------------------------------------------------


def test_the_worklist_without_a_source_of_applications(web: Web) -> None:
    from jiuzhu.usecases.worklist import NoApplications

    web.pages.state.applications = NoApplications()
    r = web.login("clerk").get(f"{PREFIX}/worklist")
    assert r.status_code == 200
    page = text_of(r.text)
    assert "尚未开通申请办理" in page and "待办" in page and "办结" in page
    nav = re.search(r'<nav class="main-nav".*?</nav>', r.text, re.S)
    assert nav is not None and "申请" not in text_of(nav.group(0))


def test_the_service_lists_its_stored_applications(web: Web) -> None:
    from jiuzhu.usecases.application_worklist import StoredApplications

    assert isinstance(web.pages.state.applications, StoredApplications)
    r = web.login("clerk").get(f"{PREFIX}/worklist")
    assert "待办中没有符合条件的申请" in text_of(r.text)
    nav = re.search(r'<nav class="main-nav".*?</nav>', r.text, re.S)
    assert nav is not None and "申请" in text_of(nav.group(0))


@dataclass
class Listed:
    """A source of applications for the tests: the rows it was given, filtered as a real
    one would by the query's states, actor and filters; it records what it was asked."""

    items: list[tuple[WorkItem, str]]
    """Each application and who took its last step."""
    asked: list[WorkQuery] = field(default_factory=list)
    enabled: bool = True

    def _match(self, q: WorkQuery) -> list[WorkItem]:
        self.asked.append(q)
        f = q.filters
        return [
            item
            for item, actor in self.items
            if item.state in q.states
            and (q.actor is None or actor == q.actor)
            and (f.kind is None or item.kind == f.kind)
            and (f.township is None or item.township == f.township)
            and (f.since is None or item.received_on >= f.since)
            and (f.until is None or item.received_on <= f.until)
        ]

    def count(self, store: Store, caller: Caller, query: WorkQuery) -> int:
        return len(self._match(query))

    def rows(self, store: Store, caller: Caller, query: WorkQuery) -> Sequence[WorkItem]:
        return self._match(query)[query.offset : query.offset + query.limit]

    def open_for_person(self, store: Store, caller: Caller, person: str) -> Sequence[WorkItem]:
        return [i for i, _ in self.items if i.person_public_id == person]


def _item(n: int, state: State, **over: Any) -> WorkItem:
    base = WorkItem(
        public_id=f"{n:032x}",
        kind="illness_impoverished",
        kind_zh="因病致贫重病患者医疗救助认定",
        person_public_id="p" * 32,
        person_masked=MASKED,
        person_name=f"申请人{n}",
        township="城关镇",
        state=state,
        state_zh=workflow().states[state].name,
        received_on=dt.date(2024, 6, 1) + dt.timedelta(days=n % 20),
        entered_on=dt.date(2024, 6, 10),
        due=dt.date(2024, 6, 15),
        overdue=n % 2 == 0,
        last_step=f"user:clerk 受理 #{n}",
    )
    return replace(base, **over)


def test_what_each_tab_holds_comes_from_the_transition_table() -> None:
    w = workflow()
    todo = tab_states(w, Role.civil_affairs, Tab.todo)
    assert todo == {State.received, State.supplement}  # 民政 accepts, returns, refuses
    assert tab_states(w, Role.hospital, Tab.todo) == frozenset()  # takes no step
    closed = tab_states(w, Role.hospital, Tab.closed)
    assert closed == {State.paid, State.refused, State.not_accepted, State.withdrawn}
    assert tab_states(w, Role.admin, Tab.done) == {s for s in State if w.is_open(s)}
    for role in Role:  # every role there is (issue 13 adds some): a set of open states
        assert all(w.is_open(s) for s in tab_states(w, role, Tab.todo))


def test_the_worklist_lists_filters_and_pages(web: Web, monkeypatch: Any) -> None:
    register(web.api.app, PERSON)  # a household-less person: townships come from rosters
    from jiuzhu.usecases import worklist as worklist_module

    monkeypatch.setattr(worklist_module, "townships", lambda store, caller: ["城关镇", "古楼街道"])
    items = [(_item(n, State.received), "user:clerk") for n in range(1, 26)]
    items += [(_item(99, State.supplement, township="古楼街道"), "user:other")]
    items += [(_item(100, State.paid), "user:clerk")]
    source = Listed(items)
    web.pages.state.applications = source
    client = web.login("clerk")
    r = client.get(f"{PREFIX}/worklist")
    assert r.status_code == 200
    page = text_of(r.text)
    assert "待办：共 26 件，第 1/2 页" in page
    assert page.count("已超期") >= 10 and 'class="is-overdue"' in r.text
    assert MASKED in page and PERSON not in r.text
    assert re.search(r'aria-current="page">待办 <span class="count">26</span>', r.text)
    assert source.asked[-1].states == {State.received, State.supplement}
    assert source.asked[-1].jurisdiction == "371502"
    # page 2 keeps the filters, and the audit says what was read
    second = client.get(f"{PREFIX}/worklist?tab=todo&kind=illness_impoverished&page=2")
    assert "第 2/2 页" in text_of(second.text) and source.asked[-1].offset == 20
    assert "kind=illness_impoverished&amp;page=1" not in second.text
    assert 'href="/web/worklist?tab=todo&amp;kind=illness_impoverished" rel="prev"' in second.text
    township = text_of(client.get(f"{PREFIX}/worklist?township=古楼街道").text)
    assert "待办：共 1 件" in township
    dated = text_of(client.get(f"{PREFIX}/worklist?since=2024-06-05&until=2024-06-06").text)
    assert "待办：共 4 件" in dated  # received 06-05 or 06-06: n % 20 in (4, 5)
    done = client.get(f"{PREFIX}/worklist?tab=done")
    assert source.asked[-1].actor == "user:clerk" and "已办：共 25 件" in text_of(done.text)
    closed = text_of(client.get(f"{PREFIX}/worklist?tab=closed").text)
    assert "办结：共 1 件" in closed and "已支付" in closed
    past = client.get(f"{PREFIX}/worklist?page=9")  # past the end: the last page
    assert "第 2/2 页" in text_of(past.text)


def test_the_worklist_filters_are_checked(web: Web) -> None:
    web.pages.state.applications = Listed([])
    client = web.login("clerk")
    r = client.get(f"{PREFIX}/worklist?tab=todo&kind=nothing&township=火星镇&state=paid"
                   "&since=2024-02-30&until=2024-01-01&page=0")  # fmt: skip
    assert r.status_code == 422
    for name, message in [
        ("kind", "没有这种申请"),
        ("township", "辖区内没有此乡镇"),
        ("state", "「待办」中没有此办理环节"),
        ("since", "起始日期须为日期"),
        ("page", "页码须为正整数"),
    ]:
        assert f'href="#{name}">{message}' in r.text, name
    assert 'id="kind-error"' in r.text and 'aria-invalid="true"' in r.text
    assert "共 " not in text_of(r.text)  # the list is not run
    r = client.get(f"{PREFIX}/worklist?since=2024-05-01&until=2024-01-01")
    assert "截止日期不得早于起始日期" in r.text
    assert client.get(f"{PREFIX}/worklist?tab=elsewhere").status_code == 422


def test_a_role_without_steps_has_no_todo(web: Web) -> None:
    web.pages.state.applications = Listed([(_item(1, State.received), "user:x")])
    page = text_of(web.login("desk").get(f"{PREFIX}/worklist").text)
    assert "不办理申请的任何环节，没有待办" in page


def test_open_applications_on_the_persons_page(web: Web, settled: Settled) -> None:
    item = _item(5, State.home_visit, person_public_id=settled.person)
    web.pages.state.applications = Listed([(item, "user:clerk")])
    client = web.login("clerk")
    page = text_of(client.get(f"{PREFIX}/persons/{settled.person}").text)
    assert "因病致贫重病患者医疗救助认定：入户调查" in page and "已超期" not in page
    nav = re.search(r'<nav class="main-nav".*?</nav>', client.get(f"{PREFIX}/worklist").text, re.S)
    assert nav is not None and "申请" in text_of(nav.group(0))
