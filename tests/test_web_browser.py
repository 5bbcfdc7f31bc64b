"""The pages in a real browser (Debian's chromium, tests/browser.py), served by
``jiuzhu serve``: each page at a desktop's 1366×768 and a phone's width, with an axe
scan, a screenshot, nothing loaded from elsewhere and nothing wider than the screen;
the CJK font in use; keyboard only; and without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from jiuzhu.io.policy_files import shipped_ids
from tests.browser import *  # noqa: F403
from tests.browser import (
    VIEWPORTS,
    axe_violations,
    describe_violations,
    screenshot,
)

PAGES = [
    ("policies", "/web/policies", 200),
    *[(f"policy-{pid}", f"/web/policies/{pid}", 200) for pid in shipped_ids()],
    ("not-found", "/web/policies/no-such-policy", 404),
]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize(("name", "path", "status"), PAGES, ids=[p[0] for p in PAGES])
def test_page(
    browser: Browser, pages_server: str, name: str, path: str, status: int, viewport: str
) -> None:
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        response = page.goto(pages_server + path)
        assert response is not None and response.status == status
        expect(page.locator("h1")).to_be_visible()
        # the style sheet applied (a page without it would still "work")
        assert page.eval_on_selector("header.site", "e => getComputedStyle(e).display") != ""
        css_ok = page.evaluate(
            "() => document.styleSheets.length === 1 && "
            "document.styleSheets[0].cssRules.length > 20"
        )
        assert css_ok, "the style sheet did not load"
        foreign = [u for u in requested if not u.startswith(pages_server)]
        assert foreign == [], "loaded from elsewhere"
        # a 404 page logs its own status as a console error in chromium; nothing else may
        assert [p for p in problems if "404" not in p] == []
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
        shot = screenshot(page, f"{name}-{viewport}")
        assert shot.stat().st_size > 10_000
        violations = axe_violations(page)
        assert violations == [], describe_violations(violations)
    finally:
        context.close()


def test_chinese_is_drawn_with_a_cjk_font(page: Page, pages_server: str) -> None:
    """Which font chromium actually drew the heading with: the CJK one, not a fallback
    box font (DevTools protocol: CSS.getPlatformFontsForNode)."""
    page.goto(pages_server + "/web/policies/hangzhou-2023")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts: list[dict[str, Any]] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    families = {f["familyName"] for f in fonts}
    assert any("CJK" in f for f in families), families


def _focused(page: Page) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(
        """() => {
            const e = document.activeElement;
            const s = getComputedStyle(e);
            return {tag: e.tagName, id: e.id, text: (e.textContent || '').trim(),
                    href: e.getAttribute('href') || '',
                    ring: s.outlineStyle !== 'none' || s.boxShadow !== 'none'};
        }"""
    )
    return info


def _tab_to(page: Page, href: str, limit: int = 60) -> dict[str, Any]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focused(page)
        if now["href"] == href:
            return now
    raise AssertionError(f"Tab never reached {href}")


def test_keyboard_only(page: Page, pages_server: str) -> None:
    page.goto(pages_server + "/web/policies")
    page.keyboard.press("Tab")
    first = _focused(page)
    assert first["text"] == "跳到正文" and first["ring"]
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"
    link = _tab_to(page, "/web/policies/hangzhou-2023")
    assert link["ring"], "focus must be visible"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/web/policies/hangzhou-2023$"))
    # the table of contents leads to the values; their table scrolls from the keyboard
    _tab_to(page, "#params")
    page.keyboard.press("Enter")
    assert page.url.endswith("#params")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('scroll')"):
            break
    else:
        raise AssertionError("the table of values cannot be reached with Tab")
    assert _focused(page)["ring"]


def test_without_javascript(browser: Browser, pages_server: str) -> None:
    """The pages need no script: the same page, scripts off, has all its content."""
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(pages_server + "/web/policies/liaocheng-2023")
        expect(page.locator("h1")).to_contain_text("聊城")
        expect(page.locator("table.params tbody tr").first).to_be_visible()
        assert page.locator("script").count() == 0
        page.get_by_role("link", name="政策", exact=True).first.click()
        page.wait_for_url(re.compile(r"/web/policies$"))
    finally:
        context.close()


def test_stacked_tables_keep_their_meaning(browser: Browser, pages_server: str) -> None:
    """On a phone the rows of a table stack (CSS display: block); chromium's own
    accessibility tree must still hold a table with its headers, as a screen reader
    reads it (DevTools protocol: Accessibility.getFullAXTree)."""
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(pages_server + "/web/policies")
        assert page.eval_on_selector("table.stack tr", "e => getComputedStyle(e).display") == (
            "block"
        )
        cdp = context.new_cdp_session(page)
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
        roles = [n["role"]["value"] for n in nodes if "role" in n]
        policies = len(shipped_ids())
        assert roles.count("table") == 1
        assert roles.count("columnheader") == 5 and roles.count("rowheader") == policies
        assert roles.count("cell") == 4 * policies
    finally:
        context.close()
