"""A researcher withdraws a participant in Chromium: the page says what is theirs, refuses
a mistyped name, and erases them once confirmed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import serious_violations

pytestmark = pytest.mark.browser


def test_researcher_withdraws_a_participant(page, live_server, sign_in):
    sign_in(page, "researcher")
    page.goto(live_server["url"] + "/studies/1/participants")
    page.get_by_role("link", name="Add participant").click()
    page.get_by_label("Name").fill("Wren Withdrawn")
    page.get_by_label("Email").fill("wren@example.org")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Wren Withdrawn")).to_be_visible()

    page.get_by_role("link", name="Withdraw Wren Withdrawn").click()
    expect(page.get_by_text("No recording or transcript is linked to them")).to_be_visible()
    page.get_by_role("radio", name="Delete their recordings and transcripts").check()
    page.get_by_label("Type the participant's name to confirm").fill("Wren")
    page.get_by_role("button", name="Withdraw and erase").click()
    expect(page.get_by_text("does not match this participant's name").first).to_be_visible()
    assert serious_violations(page) == []

    page.get_by_label("Type the participant's name to confirm").fill("Wren Withdrawn")
    page.get_by_role("button", name="Withdraw and erase").click()
    expect(page.get_by_text("The participant was withdrawn")).to_be_visible()
    expect(page.get_by_text("This person's data was erased")).to_be_visible()
    expect(page.get_by_text("wren@example.org")).to_have_count(0)
    expect(page.get_by_role("link", name="Withdraw")).to_have_count(0)
