"""``jiuzhu serve`` as shipped, over real HTTP on loopback: one process and ``--workers 2``
(uvicorn's supervisor with our TCP socket; docs/service.md), on SQLite and, when
configured, PostgreSQL. A token from ``jiuzhu token create``, a settlement, its retry,
a read, and a request without a token."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.db_fixtures import db_url, make_id
from tests.service_helpers import inpatient_claim, register_at

__all__ = ["db_url"]

JIUZHU = str(Path(sys.executable).with_name("jiuzhu"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=[1, 2], ids=["one-process", "two-workers"])
def server(request: pytest.FixtureRequest, db_url: str) -> Iterator[tuple[str, str, str]]:
    create = ["token", "create", "--client", "聊城某医院", "--role", "hospital"]
    token = subprocess.run(
        [JIUZHU, *create, "--jurisdiction", "3715", "--db", db_url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = _free_port()
    cmd = [JIUZHU, "serve", "--db", db_url, "--port", str(port), "--workers", str(request.param)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"jiuzhu serve did not start: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield base, token, db_url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()


def test_settle_retry_read_over_real_http(server: tuple[str, str, str]) -> None:
    base, token, url = server
    person = make_id(31)
    register_at(url, person)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.post("/settlements", json=inpatient_claim(1, person)).status_code == 401
        ids = set()
        for _ in range(3):  # keep-alive: the same connection, the same answer
            r = client.post(
                "/settlements",
                json=inpatient_claim(1, person),
                headers={**auth, "Idempotency-Key": "once"},
            )
            assert r.status_code in (200, 201), r.text
            ids.add(r.json()["id"])
        assert len(ids) == 1
        got = client.get(f"/settlements/{ids.pop()}", headers=auth)
        assert got.status_code == 200
        body = got.json()
        # 20000.00 in scope, insurance 0.00, 低保 70% in 聊城
        assert body["settlement"]["medical_assistance"] == "14000.00"
        assert body["person"]["id_number"] == person[:4] + "*" * 10 + person[-4:]


def test_the_access_log_masks_id_numbers(tmp_path: Path) -> None:
    """Defect: the access log carried whole ID numbers (in paths and query strings)."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    person = make_id(32)
    port = _free_port()
    cmd = [JIUZHU, "serve", "--db", url, "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        r = httpx.get(f"{base}/persons/{person}?claim={person}", timeout=10)
        assert r.status_code == 401
        assert httpx.post(f"{base}/floor", timeout=10).status_code == 404  # off by default
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    logs = out.decode() + err.decode()
    assert "/persons/" in logs  # the access line is there
    assert person not in logs and person[:4] + "*" * 10 + person[-4:] in logs
