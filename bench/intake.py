"""Benchmark public comment intake against the real server on loopback.

    python bench/intake.py                       # waitress via `engage serve --no-worker`
    python bench/intake.py --server gunicorn     # if gunicorn is installed
    python bench/intake.py --clients 32 --duration 20

A fresh instance folder (SQLite in WAL mode, the embedded default) is migrated
with `flask db upgrade` and given one open consultation. Each client is one
visitor with its own keep-alive connection and session cookie: it opens the
form (CSRF token, signed start time), waits out the minimum fill time once,
then sends the form again and again. Every abuse check stays on except the
rate limits, which are raised so that the benchmark measures intake, not the
limiter. Only the POSTs are timed (the redirect to the receipt is not followed).

Printed: submissions/s sustained over the run, p50/p90/p99/max latency, status
counts, and the count check: responses that promised a receipt (303) against
rows in the comment table. The loop is bounded by --duration and --max-requests.
This is a benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = re.compile(r'name="(csrf_token|started)" type="hidden" value="([^"]*)"')
BODY = ("I am a care partner for my mother, who has Medicare and Medicaid. Please keep her "
        "doctors in network during the transition and send notices in Spanish. Comment {n}.")


def prepare(instance: Path, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    code = """
from datetime import UTC, datetime, timedelta
from engage import create_app
from engage.studies.operations import create_study
from engage.auth.operations import create_user
from models import Consultation, Role, db
app = create_app()
with app.app_context():
    user, _ = create_user("bench@example.org", "Bench", Role.RESEARCHER)
    study = create_study(user, "Bench study")
    now = datetime.now(UTC)
    db.session.add(Consultation(study_id=study.id, title="Bench draft", slug="bench",
                   draft="# Draft\\n\\n## Vision\\nOne plan.\\n",
                   opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=1)))
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def start_server(kind: str, port: int, env: dict[str, str], workers: int,
                 threads: int) -> subprocess.Popen:
    if kind == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
                   "--workers", str(workers), "--worker-class", "gthread", "--threads",
                   str(threads), "--log-level", "warning"]
    else:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "engage", "serve",
                   "--no-worker", "--port", str(port)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)


def wait_until_up(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited while starting")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/c/bench")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


class Visitor:
    """One browser: a keep-alive connection, a session cookie and the form's tokens."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.fields: dict[str, str] = {}

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _remember_cookie(self, response: http.client.HTTPResponse) -> None:
        for header in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in header:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)

    def open_form(self) -> None:
        self.conn.request("GET", "/c/bench/comment")
        response = self.conn.getresponse()
        page = response.read().decode()
        self._remember_cookie(response)
        self.fields = dict(HIDDEN.findall(page))

    def submit(self, n: int) -> int:
        data = urllib.parse.urlencode({**self.fields, "body": BODY.format(n=n), "section": ""})
        self.conn.request("POST", "/c/bench/comment", body=data, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie})
        response = self.conn.getresponse()
        response.read()
        self._remember_cookie(response)
        return response.status


def run(port: int, clients: int, duration: float, max_requests: int, min_fill: float):
    visitors = [Visitor(port) for _ in range(clients)]
    for v in visitors:
        v.open_form()
    time.sleep(min_fill + 0.2)  # the form's minimum fill time, once per visitor
    for v in visitors:
        v.conn.close()  # servers drop idle keep-alive connections; start the timed part fresh
    counter = iter(range(max_requests))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    start = time.perf_counter()
    deadline = start + duration

    def work(visitor: Visitor) -> None:
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            t0 = time.perf_counter()
            try:
                status = visitor.submit(n)
            except (OSError, http.client.HTTPException):
                status = 0
                visitor.conn.close()
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1

    threads = [threading.Thread(target=work, args=(v,)) for v in visitors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, statuses


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=["waitress", "gunicorn"], default="waitress")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of load")
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads each")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="engage-bench-"))
    min_fill = 5
    env = dict(os.environ, ENGAGE_INSTANCE_PATH=str(instance),
               ENGAGE_INTAKE_MIN_FILL_SECONDS=str(min_fill),
               ENGAGE_INTAKE_RATE_LIMIT_PER_IP="1000000 per minute",
               ENGAGE_INTAKE_RATE_LIMIT_PER_CONSULTATION="1000000 per minute")
    port = free_port()
    server = None
    try:
        prepare(instance, env)
        server = start_server(args.server, port, env, args.workers, args.threads)
        wait_until_up(port, server)
        elapsed, latencies, statuses = run(port, args.clients, args.duration,
                                           args.max_requests, min_fill)
        with sqlite3.connect(instance / "engage.sqlite") as db:
            rows = db.execute("select count(*) from comment").fetchone()[0]
            held = db.execute("select count(*) from comment where status='held'").fetchone()[0]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(instance, ignore_errors=True)

    accepted = statuses.get(303, 0)
    ms = [x * 1000 for x in latencies]
    print(f"server: {args.server} on 127.0.0.1, {args.clients} clients, "
          f"{os.cpu_count()} CPUs, SQLite WAL")
    print(f"submissions: {len(latencies):,} in {elapsed:.1f} s "
          f"-> {len(latencies) / elapsed:.0f} submissions/s")
    print(f"latency ms: p50 {percentile(ms, 50):.1f}  p90 {percentile(ms, 90):.1f}  "
          f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}  mean {statistics.fmean(ms):.1f}")
    print(f"responses: {dict(sorted(statuses.items()))}")
    print(f"count check: {accepted:,} receipts promised (303), {rows:,} rows stored "
          f"({held} held), lost: {accepted - rows}")
    if accepted != rows:
        raise SystemExit("MISMATCH between responses and rows")


if __name__ == "__main__":
    main()
