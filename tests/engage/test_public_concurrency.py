"""A burst of parallel submissions at the real server: every 2xx is exactly one stored row.

The server is `flask engage serve --no-worker` (waitress, 8 threads) in its own
process on a temporary database, with CSRF on and the real session cookie, as
a browser meets it. The per-consultation limit is set below the burst, so the
same run checks that refused (429) submissions store nothing and are counted.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Comment, IntakeRejection
from tests.engage.test_serve import free_port

ROOT = Path(__file__).resolve().parents[2]
BURST = 120
ALLOWED = 90  # the consultation's limit for this test
HIDDEN = re.compile(r'name="(csrf_token|started)" type="hidden" value="([^"]*)"')
TRACKING = re.compile(r"ENG-[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture
def server(app, make, instance_path):
    consultation = make.consultation(slug="burst")
    env = dict(os.environ, ENGAGE_INSTANCE_PATH=str(instance_path),
               ENGAGE_SECRET_KEY="only-for-tests",
               ENGAGE_SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
               ENGAGE_INTAKE_MIN_FILL_SECONDS="0",
               ENGAGE_INTAKE_RATE_LIMIT_PER_IP="100000 per minute",
               ENGAGE_INTAKE_RATE_LIMIT_PER_CONSULTATION=f"{ALLOWED} per minute")
    log = instance_path / "serve.log"
    for _attempt in range(3):  # a free port can be taken by another process before we bind it
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "engage", "serve", "--no-worker",
             "--port", str(port)], cwd=ROOT, env=env, stdout=log.open("a"),
            stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        if _wait_until_serving(f"{base}/c/burst", process):
            break
        process.kill()
        process.wait()
    else:
        pytest.fail("the server did not start:\n" + log.read_text()[-3000:])
    yield base, consultation
    process.terminate()
    process.wait(timeout=20)


def _wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def submit(base: str, n: int) -> tuple[int, str | None]:
    """One visitor: open the form (cookie, tokens), send it; (status, tracking number)."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(f"{base}/c/burst/comment", timeout=30).read().decode()
    fields = dict(HIDDEN.findall(form))
    fields.update(body=f"Parallel comment number {n}. Keep my doctors.", section="")
    data = urllib.parse.urlencode(fields).encode()
    try:
        with opener.open(f"{base}/c/burst/comment", data=data, timeout=30) as response:
            page = response.read().decode()  # the receipt, after the 303
            found = TRACKING.search(page)
            return response.status, found.group() if found else None
    except urllib.error.HTTPError as error:
        return error.code, None


def test_parallel_burst_every_success_is_one_stored_comment(server, db):
    base, consultation = server
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda n: submit(base, n), range(BURST)))
    statuses = [status for status, _ in results]
    succeeded = [tracking for status, tracking in results if 200 <= status < 300]
    db.session.expire_all()
    stored = set(db.session.scalars(select(Comment.tracking_number)))
    assert len(succeeded) == len(stored) == ALLOWED, statuses
    assert set(succeeded) == stored  # each receipt names a stored comment, none twice
    assert statuses.count(429) == BURST - ALLOWED
    refused = db.session.scalar(select(func.count(IntakeRejection.id)))
    assert refused == BURST - ALLOWED
    bodies = db.session.scalars(select(Comment.body)).all()
    assert len(set(bodies)) == ALLOWED
