"""axe-core on the main pages: no serious or critical WCAG 2.1 AA violation."""

from __future__ import annotations

import pytest

from tests.browser.axe import fits_at_200_percent_zoom, serious_violations

pytestmark = pytest.mark.browser

SIGNED_OUT = ["/login"]
RESEARCHER = [
    "/", "/studies/1", "/studies/1/codebook", "/studies/1/participants",
    "/studies/1/comments", "/studies/1/members", "/studies/1/recordings",
    "/studies/1/transcripts", "/account/password", "/studies/new",
    "/studies/1/participants/1/withdraw",
]
ADMIN = ["/admin/users", "/admin/audit", "/admin/system", "/admin/users/new"]


@pytest.mark.parametrize("path", SIGNED_OUT)
def test_signed_out_pages(page, live_server, path):
    page.goto(live_server["url"] + path)
    assert serious_violations(page) == []
    assert fits_at_200_percent_zoom(page)


def test_login_errors_are_accessible(page, live_server):
    page.goto(live_server["url"] + "/login")
    page.get_by_role("button", name="Sign in").click()  # empty form: errors shown
    assert page.get_by_role("alert").is_visible()
    assert serious_violations(page) == []


@pytest.mark.parametrize("path", RESEARCHER)
def test_researcher_pages(page, live_server, sign_in, path):
    sign_in(page, "researcher")
    page.goto(live_server["url"] + path)
    assert serious_violations(page) == []
    assert fits_at_200_percent_zoom(page), f"{path} scrolls sideways at 200% zoom"


def test_withdrawal_errors_are_accessible(page, live_server, sign_in):
    sign_in(page, "researcher")
    page.goto(live_server["url"] + "/studies/1/participants/1/withdraw")
    page.get_by_role("button", name="Withdraw and erase").click()  # nothing chosen: refused
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_text("Choose whether their recordings").first.is_visible()
    assert serious_violations(page) == []


@pytest.mark.parametrize("path", ADMIN)
def test_admin_pages(page, live_server, sign_in, path):
    sign_in(page, "admin")
    page.goto(live_server["url"] + path)
    assert serious_violations(page) == []
