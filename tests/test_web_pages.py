"""The pages through FastAPI's test client: what each page says, its errors, its headers.

The policy pages must say what ``jiuzhu policy show`` says (both render
``domain.policy.summary``): every section, rule, value, clause and note, each note once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jiuzhu.domain.policy.summary import summarize
from jiuzhu.io.policy_files import load_compiled, locate, shipped_ids
from jiuzhu.web import PREFIX, create_pages, mount_pages
from jiuzhu.web import rendering as rendering_module
from jiuzhu.web.app import SECURITY_HEADERS
from jiuzhu.web.nav import NAV
from jiuzhu.web.rendering import environment
from jiuzhu.web.staff import Staff
from tests.english import english_words

SERVED = "liaocheng-2023"


class _Text(HTMLParser):
    """The text a person reads: no tags, no style or script."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def squeeze(text: str) -> str:
    """Runs of white space (the ideographic space included) as one space."""
    return re.sub(r"\s+", " ", text)


def text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return squeeze("".join(parser.parts))


def _client(served: str = SERVED, **sets: str) -> TestClient:
    app = FastAPI()
    compiled = load_compiled(served, sets=[f"{k}={v}" for k, v in sets.items()])
    mount_pages(app, compiled)
    return TestClient(app)


@pytest.fixture(scope="module")
def client() -> TestClient:
    return _client()


def test_policy_list(client: TestClient) -> None:
    r = client.get(f"{PREFIX}/policies")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = text_of(r.text)
    for pid in shipped_ids():
        compiled = load_compiled(pid)
        s = summarize(compiled)
        assert f'href="{PREFIX}/policies/{pid}"' in r.text
        assert compiled.policy.name in page
        assumed = sum(1 for p in s.params if p.note is not None)
        row = re.search(rf'/policies/{pid}".*?</tr>', r.text, re.S)
        assert row is not None
        cells = re.findall(r'class="num"[^>]*>(\d+)</td>', row.group(0))
        assert cells == [str(len(s.params)), str(assumed)]
    assert r.text.count('class="badge served"') == 1
    served_row = re.search(rf'/policies/{SERVED}".*?</tr>', r.text, re.S)
    assert served_row is not None and "本服务执行" in served_row.group(0)


@pytest.mark.parametrize("policy_id", shipped_ids())
def test_policy_page_says_what_the_summary_says(client: TestClient, policy_id: str) -> None:
    r = client.get(f"{PREFIX}/policies/{policy_id}")
    assert r.status_code == 200
    s = summarize(load_compiled(policy_id))
    page = text_of(r.text)
    assert f"<h1>{s.heading[0]}</h1>" in unescape(r.text)
    for line in s.heading:
        assert squeeze(line) in page
    for sec in s.sections:
        assert squeeze(sec.title) in page
        for rule in sec.rules:
            assert squeeze(rule.text) in page
            if rule.clause:
                assert squeeze(rule.clause) in page
    badges = r.text.count('class="badge assumed"')
    assert badges == sum(rule.assumed for sec in s.sections for rule in sec.rules)
    rows = re.findall(r'<tr role="row"[^>]*>\s*<th role="rowheader" scope="row">(.*?)</th>'
                      r'\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>',
                      r.text, re.S)  # fmt: skip
    params = rows
    assert [(unescape(n), unescape(v), unescape(c)) for n, v, c, _ in params] == [
        (p.name, p.value, p.clause or "—") for p in s.params
    ]
    marks = [re.sub(r"<[^>]+>", "", m) for *_, m in params]
    assert marks == [f"是，见说明 {p.note}" if p.note else "否" for p in s.params]
    assumed = sum(1 for p in s.params if p.note is not None)
    assert f"共 {len(s.params)} 项取值，其中 {assumed} 项为假定值" in page
    for i, note in enumerate(s.notes, 1):
        assert page.count(squeeze(note)) == 1, note
        assert f'<li id="note-{i}">' in r.text
    assert ("本服务执行此政策" in page) == (policy_id == SERVED)


def test_pages_speak_chinese(client: TestClient) -> None:
    """What a person reads is Chinese: Latin letters only for IDs, codes and names the
    documents themselves use (the notes cite sources by their own names)."""
    for path in ["/policies", *(f"/policies/{pid}" for pid in shipped_ids()), "/nowhere"]:
        html = client.get(PREFIX + path).text
        chrome = text_of(re.sub(r"<main.*</main>", "", html, flags=re.S))
        assert english_words(chrome) == set(), path
    page = text_of(client.get(f"{PREFIX}/policies").text)
    assert english_words(page) == set()


def test_a_served_policy_with_local_values() -> None:
    """A bureau's own values: the page shows them, and which values differ from the file."""
    rate = "benefits.medical_assistance.schedules.near_poor.rate"
    client = _client(**{rate: "60%"})
    page = text_of(client.get(f"{PREFIX}/policies/{SERVED}").text)
    assert "与公布文件不同的取值" in page
    assert "50% → 60%" in page
    assert "按 60% 救助" in page
    other = text_of(client.get(f"{PREFIX}/policies/hangzhou-2023").text)
    assert "与公布文件不同的取值" not in other and "本服务执行此政策" not in other


def test_a_served_policy_that_is_not_shipped(tmp_path: Path) -> None:
    source = locate(SERVED)
    own = tmp_path / "liaocheng-2099.yaml"
    own.write_text(
        source.read_text(encoding="utf-8").replace(f"id: {SERVED}", "id: liaocheng-2099", 1),
        encoding="utf-8",
    )
    app = FastAPI()
    mount_pages(app, load_compiled(str(own)))
    client = TestClient(app)
    listing = client.get(f"{PREFIX}/policies").text
    assert f'href="{PREFIX}/policies/liaocheng-2099"' in listing
    assert listing.count('class="badge served"') == 1
    page = client.get(f"{PREFIX}/policies/liaocheng-2099")
    assert page.status_code == 200 and "本服务执行此政策" in page.text


def test_unknown_policy_is_a_page_in_chinese(client: TestClient) -> None:
    r = client.get(f"{PREFIX}/policies/no-such-policy")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    page = text_of(r.text)
    assert "页面不存在" in page and "没有 ID 为「no-such-policy」的政策" in page
    long = "x" * 500
    shown = text_of(client.get(f"{PREFIX}/policies/{long}").text)
    assert "x" * 41 not in shown and "x" * 40 + "…" in shown
    hostile = client.get(f"{PREFIX}/policies/<script>alert(1)</script>")
    assert hostile.status_code == 404 and "<script>" not in hostile.text


@pytest.mark.parametrize(
    "path",
    [
        "/policies/..%2F..%2Fpolicies%2Fliaocheng-2023",
        "/policies/%2Fetc%2Fpasswd",
        "/policies/liaocheng-2023.yaml",
        f"/policies/{Path(__file__).resolve()}",
    ],
)
def test_an_address_never_names_a_file(client: TestClient, path: str) -> None:
    assert client.get(PREFIX + path).status_code == 404


def test_other_errors_are_pages_in_chinese(client: TestClient) -> None:
    r = client.get(f"{PREFIX}/no/such/page")
    assert r.status_code == 404 and "此页面已不存在" in text_of(r.text)
    r = client.post(f"{PREFIX}/policies")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert "不支持此请求方式" in text_of(r.text)


def test_a_fault_is_a_page_without_a_trace(caplog: pytest.LogCaptureFixture) -> None:
    pages = create_pages(load_compiled(SERVED))

    def broken() -> None:
        raise RuntimeError("secret detail 110101199003074514")

    pages.add_api_route("/broken/{who}", broken)
    app = FastAPI()
    app.mount(PREFIX, pages)
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="jiuzhu.web"):
        r = client.get(f"{PREFIX}/broken/110101199003074514")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    page = text_of(r.text)
    assert "内部错误" in page and "错误已记录" in page
    assert "secret" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text
    logged = [rec for rec in caplog.records if rec.name == "jiuzhu.web"]
    assert len(logged) == 1 and logged[0].exc_info is None
    message = logged[0].getMessage()
    assert "/broken/1101**********4514" in message and "RuntimeError: secret detail" in message
    assert "110101199003074514" not in caplog.text


def test_security_headers_on_every_answer(client: TestClient) -> None:
    css = re.search(r'href="([^"]+\.css[^"]*)"', client.get(f"{PREFIX}/policies").text)
    assert css is not None
    for path in [f"{PREFIX}/policies", css.group(1), f"{PREFIX}/nowhere"]:
        r = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert r.headers[name] == value, (path, name)
    assert "script-src 'self'" in SECURITY_HEADERS["content-security-policy"]


def test_the_style_sheet_is_served_with_its_digest(client: TestClient) -> None:
    html = client.get(f"{PREFIX}/policies").text
    found = re.search(r'href="(/web/static/jiuzhu\.css)\?v=([0-9a-f]{12})"', html)
    assert found is not None
    r = client.get(f"{found.group(1)}?v={found.group(2)}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert hashlib.sha256(r.content).hexdigest()[:12] == found.group(2)
    assert "immutable" in r.headers["cache-control"]
    assert client.get(f"{PREFIX}/static/nothing.css").status_code == 404
    assert "<script" not in html and "style=" not in html  # the CSP allows neither inline


def test_redirects_to_the_pages(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{PREFIX}/"
    r = client.get(f"{PREFIX}/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{PREFIX}/policies"


def test_mounted_by_the_service(tmp_path: Path) -> None:
    """The service's own app carries the pages; its API keeps answering JSON, and its
    OpenAPI document lists no page."""
    from jiuzhu.service.app import create_app

    app = create_app(f"sqlite:///{tmp_path / 'jiuzhu.db'}", SERVED)
    client = TestClient(app)
    assert client.get(f"{PREFIX}/policies/{SERVED}").status_code == 200
    assert client.get("/", follow_redirects=False).headers["location"] == f"{PREFIX}/"
    api = client.get("/no-such-route")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith(PREFIX)]


def test_navigation_for_nobody_and_for_staff(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = client.get(f"{PREFIX}/policies").text
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S)
    assert nav is not None
    assert re.findall(r">([^<]+)</a>", nav.group(0)) == ["政策"]
    assert "未登录" in text_of(html)
    clerk = Staff("zhang", "张某", "乡镇经办", "371502")
    monkeypatch.setattr(rendering_module, "current_staff", lambda _request: clerk)
    html = client.get(f"{PREFIX}/policies").text
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S)
    assert nav is not None
    # 申请 only once applications are handled (issue 13's source); these pages have none
    assert re.findall(r">([^<]+)</a>", nav.group(0)) == [
        item.label for item in NAV if not item.applications
    ]
    assert re.findall(r'href="([^"]+)" aria-current="page"', nav.group(0)) == [f"{PREFIX}/policies"]
    assert "张某" in text_of(html) and "乡镇经办" in text_of(html)


def test_times_are_beijing_time(client: TestClient) -> None:
    at = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
    assert (
        environment().from_string("{{ t|beijing }}").render(t=at) == "北京时间 2024-05-01 18:00:00"
    )
    footer = text_of(client.get(f"{PREFIX}/policies").text)
    assert re.search(r"本页生成于北京时间 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", footer)


def test_the_command_line_starts_without_the_pages() -> None:
    """``jiuzhu --help`` stays fast: the pages (Jinja2) load only when the service starts."""
    code = "import sys, jiuzhu.cli.main; print(sorted({'jinja2', 'jiuzhu.web'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
