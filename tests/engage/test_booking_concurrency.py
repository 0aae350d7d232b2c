"""The last seat, raced for by several people at once against the real server and database.

The server is `engage serve` (waitress, 8 threads) on its own SQLite file; each
racer has its own browser session (cookie jar, CSRF token) and its own invitation.
They all submit at the same moment: exactly one gets the seat, the others get the
"full" page, and the database holds one booking.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engage import create_app
from models import Booking, BookingStatus, Role, StudySession, db
from tests.engage.test_serve import free_port
from tests.factories import Factory

ROOT = Path(__file__).resolve().parents[2]
RACERS = 8


@pytest.fixture
def racing_instance(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("ENGAGE_INSTANCE_PATH", str(instance))
    app = create_app()
    with app.app_context():
        db.create_all()
        make = Factory(db)
        owner = make.user(Role.RESEARCHER)
        study = make.study(owner)
        people = [make.participant(study, f"Racer {i}") for i in range(RACERS)]
        offer = make.offer(study, people, actor=owner, capacity=1,
                           starts_in=(timedelta(days=2),))
        from engage.scheduling.messages import invitation_link

        paths = ["/book/" + invitation_link(i).split("/book/", 1)[1]
                 for i in offer.invitations]
        session_id = offer.sessions[0].id
        db.session.remove()
        db.engine.dispose()
    return {"app": app, "instance": instance, "paths": paths, "session_id": session_id}


def _serve(instance: Path):
    port = free_port()
    env = dict(os.environ, ENGAGE_INSTANCE_PATH=str(instance),
               ENGAGE_BOOKING_RATE_LIMIT="1000 per minute")
    log = (instance / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "engage", "serve", "--no-worker",
         "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/login").close()
            return server, base
        except OSError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)


def test_only_one_of_many_racers_gets_the_last_seat(racing_instance):
    server, base = _serve(racing_instance["instance"])
    barrier = threading.Barrier(RACERS)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def race(path: str) -> None:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = opener.open(base + path).read().decode()
        slot = re.search(r'name="slot" id="slot-(\d+)"', page).group(1)
        form = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                                        page).group(1),
                "consent_text_id": re.search(r'name="consent_text_id" type="hidden" '
                                             r'value="(\d+)"', page).group(1),
                "slot": slot, "consent_name": "Racer", "consent_given": "y"}
        body = urllib.parse.urlencode(form).encode()
        barrier.wait(timeout=30)
        try:
            response = opener.open(urllib.request.Request(base + path, data=body))
            outcome = (response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            outcome = (error.code, error.read().decode())
        with lock:
            results.append(outcome)

    try:
        threads = [threading.Thread(target=race, args=(p,)) for p in racing_instance["paths"]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    assert len(results) == RACERS, (racing_instance["instance"] / "serve.log").read_text()
    winners = [body for status, body in results if status == 200]
    losers = [(status, body) for status, body in results if status != 200]
    assert len(winners) == 1 and "You are booked." in winners[0]
    assert all(status == 409 and "This session is full" in body for status, body in losers), [
        s for s, _ in losers]
    with racing_instance["app"].app_context():
        assert db.session.get(StudySession, racing_instance["session_id"]).booked_count == 1
        booked = db.session.scalars(select(Booking).where(
            Booking.status == BookingStatus.BOOKED)).all()
        assert len(booked) == 1
        db.session.remove()
        db.engine.dispose()
