"""Browser tests of the pages: Playwright (pytest-playwright) driving Debian's chromium.

Playwright cannot download a browser here, so it launches the system's
(``JIUZHU_CHROMIUM``, default ``/usr/bin/chromium``; ``make test`` installs it through
``tools/system-packages --test``), headless, without the sandbox when run as root, and
with the background services that call out to the internet turned off (bureau networks
are closed; chromium otherwise keeps trying). axe-core comes from npm (``package.json``,
installed by ``make test`` into ``.venv/node``) and is injected into each page by the
test. Screenshots go to ``out/screenshots/`` (``JIUZHU_SCREENSHOTS``), to be looked at.

Use by importing the fixtures into a test module: ``from tests.browser import *``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("JIUZHU_CHROMIUM", "/usr/bin/chromium"))
NODE_MODULES = Path(os.environ.get("JIUZHU_NODE_MODULES", ROOT / ".venv" / "node" / "node_modules"))
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("JIUZHU_SCREENSHOTS", ROOT / "out" / "screenshots"))
JIUZHU = str(Path(sys.executable).with_name("jiuzhu"))

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 780}
"""The narrowest phone screens in common use (CSS pixels)."""
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}

QUIET = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--metrics-recording-only",
]
"""No GPU, and none of chromium's own calls out (updates, sync, safe browsing lists)."""

__all__ = [
    "browser_context_args",
    "browser_type_launch_args",
    "pages_server",
]


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium "
            "(make test-env, or tools/system-packages install --test as root)"
        )
    args = [*QUIET, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    return {"executable_path": str(CHROMIUM), "headless": True, "args": args}


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, Any]:
    # Beijing time and Chinese, as the staff's own machines
    return {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "viewport": DESKTOP}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pages_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``jiuzhu serve`` as shipped, on a free port of loopback over a new SQLite
    database; yields its base address."""
    db = tmp_path_factory.mktemp("web") / "jiuzhu.db"
    port = _free_port()
    cmd = [JIUZHU, "serve", "--db", f"sqlite:///{db}", "--port", str(port)]
    # The server's log goes to a file: a pipe nobody reads fills up and stops the server.
    log = (db.parent / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/web/policies", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                text = (db.parent / "serve.log").read_text(errors="replace")
                raise RuntimeError(f"jiuzhu serve did not start: {text[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
        log.close()
        assert "Logging error" not in (db.parent / "serve.log").read_text(errors="replace")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it stands (every rule axe runs by default:
    WCAG 2.0-2.2 A and AA, and its best practices)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} not found: run make test-env (npm ci of package-lock.json)")
    # evaluated through the DevTools protocol, which the pages' Content-Security-Policy
    # (scripts of their own origin only) does not stop, where a <script> tag would be
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return list(result["violations"])


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:5]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return "\n".join(lines)


def screenshot(page: Page, name: str) -> Path:
    """The whole page, as a PNG under :data:`SCREENSHOTS`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
