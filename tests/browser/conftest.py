"""Browser tests: Debian's Chromium driven by Playwright against the real server and worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """`engage serve` (web + Celery worker) on a fresh demo instance."""
    instance = tmp_path_factory.mktemp("browser") / "instance"
    env = dict(os.environ, ENGAGE_INSTANCE_PATH=str(instance),
               ENGAGE_LOGIN_RATE_LIMIT="1000 per minute")
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([*flask, "engage", "demo"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    accounts = {line.split()[0]: (line.split()[1], line.split()[2])
                for line in (instance / "demo-accounts.txt").read_text().splitlines()}
    port = _free_port()
    log = (instance / "serve.log").open("w")
    server = subprocess.Popen([*flask, "engage", "serve", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/login").close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start; see " + log.name) from None
            time.sleep(0.3)
    yield {"url": base, "accounts": accounts, "instance": instance}
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    yield page
    if getattr(request.node, "failed", False):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def sign_in(live_server):
    def sign_in_as(page, role: str) -> None:
        email, password = live_server["accounts"][role]
        page.goto(live_server["url"] + "/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(live_server["url"] + "/")

    return sign_in_as


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.failed = True
