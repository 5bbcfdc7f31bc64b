"""The staff pages in a real browser (Debian's chromium, tests/browser.py) over the demo
database that ``jiuzhu demo --web`` seeds (the README's command), served by ``jiuzhu
serve``: login (and that the Secure cookies stick on plain-HTTP loopback), the person
search and page, the settlement page and its print view, the worklist; each at
1366×768 and a phone's width with an axe scan, a screenshot and nothing wider than the
screen; keyboard only; logout."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from jiuzhu.cli.demo_pages import DEMO_NAME, DEMO_USER, people
from tests.browser import *  # noqa: F403
from tests.browser import (
    JIUZHU,
    VIEWPORTS,
    _free_port,
    axe_violations,
    describe_violations,
    screenshot,
)

FIRST = people()[0]  # the demo's first person: settlements, a reversal, adjustments


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``jiuzhu demo --web --no-serve`` seeds a database and prints the account; then
    ``jiuzhu serve`` serves it on a free loopback port."""
    where = tmp_path_factory.mktemp("demo")
    db = where / "jiuzhu-demo.db"
    port = _free_port()
    seeded = subprocess.run(
        [JIUZHU, "demo", "--web", "--db", str(db), "--port", str(port), "--no-serve"],
        capture_output=True, text=True, check=True, cwd=where,
    )  # fmt: skip
    password = re.search(r"密码：(\S+)（", seeded.stdout)
    address = re.search(r"网址：(\S+)", seeded.stdout)
    assert password and address, seeded.stdout
    log = (where / "serve.log").open("wb")
    proc = subprocess.Popen(
        [JIUZHU, "serve", "--db", str(db), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/web/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((where / "serve.log").read_text(errors="replace")[-2000:])
            time.sleep(0.2)
        yield {"base": base, "address": address.group(1), "password": password.group(1),
               "db": str(db)}  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
        log.close()


def _context(browser: Browser, viewport: str = "desktop") -> BrowserContext:
    return browser.new_context(
        viewport=VIEWPORTS[viewport], locale="zh-CN", timezone_id="Asia/Shanghai"
    )


def _login(page: Page, server: dict[str, str]) -> None:
    page.goto(server["base"] + "/web/login")
    page.get_by_label("用户名").fill(DEMO_USER)
    page.get_by_label("密码").fill(server["password"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/web/worklist"))


def _find_person(page: Page, server: dict[str, str]) -> str:
    page.goto(server["base"] + "/web/persons")
    page.get_by_label("身份证号").fill(FIRST[2])
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(r"/web/persons/[0-9a-f]{32}$"))
    return page.url


@pytest.fixture(scope="module")
def addresses(browser: Browser, demo_server: dict[str, str]) -> dict[str, str]:
    """The demo's person page and one of their settlements (with adjustments)."""
    context = _context(browser)
    try:
        page = context.new_page()
        _login(page, demo_server)
        person = _find_person(page, demo_server)
        page.locator(".badge.served", has_text="已调整").first.wait_for()
        row = page.locator("tr", has=page.locator(".badge.served", has_text="已调整")).first
        settlement = row.locator("th a").get_attribute("href")
        assert settlement is not None
        return {"person": person, "settlement": demo_server["base"] + settlement}
    finally:
        context.close()


def _check(page: Page, server: dict[str, str], name: str) -> None:
    """What every page must pass: its style, nothing from elsewhere, no overflow, no ID
    number in full, axe, and a screenshot to look at."""
    css_ok = page.evaluate(
        "() => document.styleSheets.length === 1 && document.styleSheets[0].cssRules.length > 20"
    )
    assert css_ok, "the style sheet did not load"
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the screen"
    assert FIRST[2] not in page.content(), "an ID number in full"
    shot = screenshot(page, name)
    assert shot.stat().st_size > 10_000
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)


PAGES = ["login", "worklist", "search", "person", "settlement", "print", "settlements"]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", PAGES)
def test_staff_page(
    browser: Browser,
    demo_server: dict[str, str],
    addresses: dict[str, str],
    name: str,
    viewport: str,
) -> None:
    context = _context(browser, viewport)
    requested: list[str] = []
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: requested.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        if name == "login":
            page.goto(demo_server["base"] + "/web/login")
            expect(page.locator("h1")).to_have_text("工作人员登录")
        else:
            _login(page, demo_server)
            target = {
                "worklist": demo_server["base"] + "/web/worklist",
                "search": demo_server["base"] + "/web/persons",
                "person": addresses["person"],
                "settlement": addresses["settlement"],
                "print": addresses["settlement"] + "/print",
                "settlements": demo_server["base"] + "/web/settlements",
            }[name]
            response = page.goto(target)
            assert response is not None and response.status == 200
        _check(page, demo_server, f"staff-{name}-{viewport}")
        assert [u for u in requested if not u.startswith(demo_server["base"])] == []
        assert problems == []
    finally:
        context.close()


def test_the_demo_command_prints_the_address(demo_server: dict[str, str]) -> None:
    assert demo_server["address"].endswith("/web/")


def test_login_sets_secure_cookies_that_stick_on_loopback(
    browser: Browser, demo_server: dict[str, str]
) -> None:
    """Chromium keeps a Secure, __Host- cookie from http://127.0.0.1 (a secure context):
    the login holds from page to page."""
    context = _context(browser)
    try:
        page = context.new_page()
        _login(page, demo_server)
        cookies = {c["name"]: c for c in context.cookies()}
        session = cookies["__Host-jz_session"]
        assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"
        assert session["path"] == "/" and "__Host-jz_login" not in cookies
        page.goto(demo_server["base"] + "/web/settlements")
        expect(page.locator("form.who")).to_contain_text(DEMO_NAME)
        assert page.evaluate("() => document.cookie") == ""  # HttpOnly: no script sees it
    finally:
        context.close()


def test_a_wrong_password_is_shown_beside_the_field(
    browser: Browser, demo_server: dict[str, str]
) -> None:
    context = _context(browser)
    try:
        page = context.new_page()
        page.goto(demo_server["base"] + "/web/login")
        page.get_by_label("用户名").fill("nobody")
        page.get_by_label("密码").fill("wrong password here")
        page.get_by_role("button", name="登录").click()
        expect(page.locator("#password-error")).to_contain_text("用户名或密码不正确")
        assert page.get_by_label("密码").get_attribute("aria-invalid") == "true"
        _check(page, demo_server, "staff-login-error-desktop")
    finally:
        context.close()


def _focused(page: Page) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {tag: e.tagName, id: e.id, name: e.getAttribute('name') || '',
                    text: (e.textContent || '').trim(), href: e.getAttribute('href') || '',
                    ring: s.outlineStyle !== 'none' || s.boxShadow !== 'none'}; }"""
    )
    return info


def _tab_until(page: Page, test: Any, limit: int = 80) -> dict[str, Any]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focused(page)
        if test(now):
            return now
    raise AssertionError("Tab never got there")


def test_keyboard_only(browser: Browser, demo_server: dict[str, str]) -> None:
    """Login, the person search, a settlement and its print view, and logout, from the
    keyboard alone, with the focus always visible."""
    context = _context(browser)
    try:
        page = context.new_page()
        page.goto(demo_server["base"] + "/web/login")
        field = _tab_until(page, lambda f: f["id"] == "username")
        assert field["ring"]
        page.keyboard.type(DEMO_USER)
        page.keyboard.press("Tab")
        assert _focused(page)["id"] == "password"
        page.keyboard.type(demo_server["password"])
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/web/worklist"))
        link = _tab_until(page, lambda f: f["href"] == "/web/persons")
        assert link["ring"]
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/web/persons$"))
        _tab_until(page, lambda f: f["id"] == "id_number")
        page.keyboard.type(FIRST[2])
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/web/persons/[0-9a-f]{32}$"))
        assert FIRST[2] not in page.url
        found = _tab_until(page, lambda f: f["href"].startswith("/web/settlements/"))
        assert found["ring"]
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/web/settlements/[0-9a-f]{32}$"))
        _tab_until(page, lambda f: f["href"].endswith("/print"))
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/print$"))
        logout = _tab_until(page, lambda f: f["text"] == "退出")
        assert logout["ring"] and logout["tag"] == "BUTTON"
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/web/login\?out=1$"))
        expect(page.locator(".notice")).to_have_text("您已退出登录。")
        page.goto(demo_server["base"] + "/web/settlements")
        page.wait_for_url(re.compile(r"/web/login\?next="))
    finally:
        context.close()


def test_the_print_view_prints_the_statement_alone(
    browser: Browser, demo_server: dict[str, str], addresses: dict[str, str], tmp_path: Path
) -> None:
    """Printed (chromium's PDF of the print media), the 结算单 has no header, navigation or
    footer, and holds every tier of the page."""
    context = _context(browser)
    try:
        page = context.new_page()
        _login(page, demo_server)
        page.goto(addresses["settlement"] + "/print")
        page.emulate_media(media="print")
        for hidden in ("header.site", "nav.main-nav", "footer.site", ".screen-only"):
            expect(page.locator(hidden)).to_be_hidden()
        expect(page.locator("h1.sheet-title")).to_have_text("医疗救助“一站式”结算单")
        expect(page.locator("table.tiers tbody tr").first).to_be_visible()
        pdf = tmp_path / "statement.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
        page.emulate_media(media="screen")
        page.screenshot(path=str(screenshot(page, "staff-print-screen-desktop")), full_page=True)
    finally:
        context.close()
