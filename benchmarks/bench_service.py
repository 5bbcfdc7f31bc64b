"""The HTTP service under load: ``POST /settlements`` against ``POST /floor``.

Run: ``.venv/bin/python benchmarks/bench_service.py [--pg-url URL] [--concurrency 8,32]
[--seconds 8] [--repeat 3]``. Results go to ``benchmarks/results/service.json`` and are
quoted in docs/performance.md.

For each database (a fresh SQLite file; a fresh schema on PostgreSQL, from ``--pg-url``
or ``JIUZHU_TEST_POSTGRES_URL``, skipped when neither is set):

1. Migrate, create a hospital token (jurisdiction 3715), and seed ``--persons`` people
   (valid 身份证号 of 聊城 东昌府区) each holding one category from 2023-01-01, straight
   into the registry tables.
2. Start ``jiuzhu serve`` (uvicorn, one process, as shipped) on 127.0.0.1.
3. A load client (this process: threads, one keep-alive ``http.client`` connection each,
   the lightest client the standard library has) drives, interleaved, ``--repeat`` times
   at each concurrency, for ``--seconds`` each:
   - ``settlement``: ``POST /settlements``, a realistic inpatient claim (no category: the
     service resolves it from the registry) for the next person in turn, a unique
     ``Idempotency-Key`` per request;
   - ``floor``: ``POST /floor`` (authenticate, one audit-log append, commit), served
     because the benchmark starts the server with ``--benchmark-floor``.
   Per window: requests/s, p50/p99 latency, errors, and the server process's CPU time per
   request (from /proc). The median over the runs is reported.

``--profile N`` instead settles N claims in-process (the same app through FastAPI's
TestClient) under cProfile on each database and prints where the time goes, with the
number of SQL statements per settlement.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import http.client
import io
import json
import os
import platform
import pstats
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, select, text

from jiuzhu.domain.ids import check_digit
from jiuzhu.service.app import create_app
from jiuzhu.storage.models import CategoryMembership, Person
from jiuzhu.usecases.access import Role
from jiuzhu.usecases.tokens import create_token

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "service.json"
POLICY = "liaocheng-2023"
CATEGORIES = ["dibao", "extreme_poor", "near_dibao", "monitored", "severe_disability"]


def person_id(k: int) -> str:
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=k // 500)
    first17 = f"371502{birth:%Y%m%d}{k % 500:03d}"
    return first17 + check_digit(first17)


def claim(k: int, person: str, rng: random.Random) -> dict[str, Any]:
    day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(360))
    total = rng.randrange(300_000, 8_000_000)  # 3,000.00 to 80,000.00 yuan, in fen
    full = total * rng.randrange(0, 8) // 100
    partial = total * rng.randrange(0, 10) // 100
    scope = total - full - partial
    basic = scope * rng.randrange(40, 70) // 100
    critical = (scope - basic) * rng.randrange(0, 30) // 100

    def y(fen: int) -> str:
        return f"{fen // 100}.{fen % 100:02d}"

    return {
        "claim_id": f"b{k}",
        "person_id": person,
        "visit_type": "inpatient",
        "settlement_date": day.isoformat(),
        "admission_date": (day - dt.timedelta(days=rng.randrange(1, 15))).isoformat(),
        "hospital_level": rng.choice([1, 2, 3]),
        "referred": True,
        "total": y(total),
        "full_self_pay": y(full),
        "partial_self_pay": y(partial),
        "policy_scope": y(scope),
        "insurance": {"basic_insurance": y(basic), "critical_illness_insurance": y(critical)},
    }


# -- databases ----------------------------------------------------------------------


def with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def prepare(url: str, persons: int) -> tuple[str, list[str]]:
    """Migrate, make a token, seed the registry; return the token and the ID numbers."""
    app = create_app(url, POLICY)
    service = app.state.store
    ids = [person_id(k) for k in range(persons)]
    with service.sessions() as s, s.begin():
        token = create_token(s, "聊城市人民医院", Role.hospital, "3715")
        now = dt.datetime.now(dt.UTC)
        for i in range(0, persons, 5000):
            s.execute(
                insert(Person),
                [
                    {"id_number": n, "public_id": uuid.uuid4().hex, "created_at": now}
                    for n in ids[i : i + 5000]
                ],
            )
        rows = s.execute(select(Person.id, Person.id_number)).all()
        s.execute(
            insert(CategoryMembership),
            [
                {
                    "person_id": pid,
                    "category": CATEGORIES[k % len(CATEGORIES)],
                    "valid_from": dt.date(2023, 1, 1),
                    "valid_to": None,
                    "source_kind": "certificate",
                    "certificate_number": f"Z{k:07d}",
                }
                for k, (pid, _) in enumerate(rows)
            ],
        )
    service.engine.dispose()
    return token, ids


# -- the server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("jiuzhu")
    cmd = [
        str(exe),
        "serve",
        "--db",
        url,
        "--policy",
        POLICY,
        "--port",
        str(port),
        "--benchmark-floor",
    ]
    proc = subprocess.Popen(
        [*cmd, "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/openapi.json")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("jiuzhu serve did not start")


def _own_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in found]


def cpu_seconds(pid: int) -> float:
    """CPU time of the server: the process and its worker processes (``--workers``)."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            total += _own_cpu(p)
    return total


# -- the load client ----------------------------------------------------------------


class Feed:
    """The next request's body and key, shared by the client threads."""

    def __init__(self, ids: list[str], seed: int) -> None:
        self.ids = ids
        self.rng = random.Random(seed)
        self.k = 0
        self.lock = threading.Lock()

    def next(self) -> tuple[bytes, str]:
        with self.lock:
            k = self.k
            self.k += 1
            body = claim(k, self.ids[k % len(self.ids)], self.rng)
        return json.dumps(body).encode(), f"bench-{k}"


def drive(
    port: int, token: str, kind: str, feed: Feed, concurrency: int, seconds: float, pid: int
) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    statuses: dict[int, int] = {}
    start = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        start.wait()
        mine = latencies[i]
        while time.perf_counter() < stop_at[0]:
            if kind == "settlement":
                body, key = feed.next()
                headers = {**auth, "Idempotency-Key": key}
                path = "/settlements"
            else:
                body, headers, path = b"{}", auth, "/floor"
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                status = r.status
            except OSError:  # the server closed the connection (after a 500): reconnect
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            mine.append(time.perf_counter() - t0)
            if status != 201:
                errors[i] += 1
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    lat = sorted(x for xs in latencies for x in xs)
    n = len(lat)
    return {
        "requests": n,
        "errors": sum(errors),
        "statuses": statuses,
        "seconds": round(elapsed, 3),
        "rps": round(n / elapsed, 1),
        "p50_ms": round(lat[n // 2] * 1000, 2),
        "p99_ms": round(lat[min(n - 1, int(n * 0.99))] * 1000, 2),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(n, 1), 2),
    }


def bench_db(
    name: str, url: str, args: argparse.Namespace, concurrencies: list[int]
) -> dict[str, Any]:
    token, ids = prepare(url, args.persons)
    port = free_port()
    proc = start_server(url, port, args.workers)
    feed = Feed(ids, seed=1)
    out: dict[str, Any] = {}
    try:
        # warm-up: imports, connection pools, first queries
        drive(port, token, "settlement", feed, 4, 1.5, proc.pid)
        drive(port, token, "floor", feed, 4, 1.5, proc.pid)
        for c in concurrencies:
            runs: dict[str, list[dict[str, Any]]] = {"settlement": [], "floor": []}
            for r in range(args.repeat):
                order = ["settlement", "floor"] if r % 2 == 0 else ["floor", "settlement"]
                for kind in order:
                    res = drive(port, token, kind, feed, c, args.seconds, proc.pid)
                    runs[kind].append(res)
                    print(f"{name} c={c} {kind}: {res}", flush=True)
            summary = {}
            for kind, rs in runs.items():
                summary[kind] = {
                    key: statistics.median(x[key] for x in rs)
                    for key in ("rps", "p50_ms", "p99_ms", "server_cpu_ms_per_request")
                }
                summary[kind]["errors"] = sum(x["errors"] for x in rs)
            summary["ratio_settlement_to_floor"] = round(
                summary["settlement"]["rps"] / summary["floor"]["rps"], 3
            )
            out[str(c)] = {"median": summary, "runs": runs}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


# -- profile ------------------------------------------------------------------------


def profile(name: str, url: str, n: int) -> None:
    """The route bodies in this thread (cProfile sees only its own thread): authenticate,
    the use case, the response model; then the floor's body. No HTTP."""
    from jiuzhu.service.app import settlement_out
    from jiuzhu.service.floor import post_floor
    from jiuzhu.usecases import settle
    from jiuzhu.usecases.tokens import authenticate

    token, ids = prepare(url, max(n, 100))
    app = create_app(url, POLICY, migrate=False, floor=True)
    service = app.state.store
    statements = [0]

    def count(*_a: Any, **_k: Any) -> None:
        statements[0] += 1

    event.listen(service.engine, "before_cursor_execute", count)
    feed = Feed(ids, seed=2)
    header = f"Bearer {token}"

    class FakeRequest:
        pass

    request: Any = FakeRequest()
    request.app = app

    def one_settlement() -> None:
        body, key = feed.next()
        with service.single.connect() as conn:  # as the app's ``who``
            who = authenticate(conn, header)
        outcome = settle.settle(service, who, key, json.loads(body))
        json.dumps(settlement_out(outcome.view), default=str)

    for _ in range(20):
        one_settlement()
    t_plain = time.perf_counter()
    for _ in range(n):
        one_settlement()
    plain = (time.perf_counter() - t_plain) / n
    statements[0] = 0
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(n):
        one_settlement()
    prof.disable()
    took = time.perf_counter() - t0
    settle_stmts = statements[0] / n
    statements[0] = 0
    t1 = time.perf_counter()
    for _ in range(n):
        post_floor(request, header)
    floor_took = time.perf_counter() - t1
    floor_stmts = statements[0] / n
    service.engine.dispose()
    print(
        f"\n== {name}: {n} settlements in-process, one at a time: {plain * 1000:.2f} ms each"
        f" ({took / n * 1000:.2f} under cProfile), {settle_stmts:.1f} SQL statements each; floor"
        f" {floor_took / n * 1000:.2f} ms each (no profiler), {floor_stmts:.1f} statements"
    )
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(60)
    buf.write("\n-- by own time --\n")
    stats.sort_stats("tottime").print_stats(25)
    print(buf.getvalue())


# -- main ---------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg-url", default=os.environ.get("JIUZHU_TEST_POSTGRES_URL"))
    ap.add_argument("--concurrency", default="8,32")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--workers", type=int, default=1, help="jiuzhu serve --workers")
    ap.add_argument("--profile", type=int, default=0, help="profile N settlements instead")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    wanted = args.databases.split(",")
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": os.getloadavg(),
        },
        "method": {
            "server": f"jiuzhu serve --workers {args.workers} (uvicorn), 127.0.0.1",
            "client": "this process, threads, one keep-alive http.client connection each",
            "seconds_per_window": args.seconds,
            "repeat": args.repeat,
            "persons": args.persons,
            "policy": POLICY,
        },
        "databases": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        targets: list[tuple[str, str, str | None]] = []
        if "sqlite" in wanted:
            targets.append(("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", None))
        if "postgresql" in wanted and args.pg_url:
            pg_schema = f"bench_{uuid.uuid4().hex[:12]}"
            targets.append(("postgresql", with_search_path(args.pg_url, pg_schema), pg_schema))
        for name, url, schema in targets:
            admin = create_engine(args.pg_url) if schema else None
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                if args.profile:
                    profile(name, url, args.profile)
                else:
                    results["databases"][name] = bench_db(name, url, args, concurrencies)
            finally:
                if admin is not None:
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()
    if args.profile:
        return
    results["machine"]["load_average_at_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
