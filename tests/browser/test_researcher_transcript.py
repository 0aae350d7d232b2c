"""A researcher uploads an interview, follows progress, reads along, corrects and downloads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

AUDIO = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
pytestmark = pytest.mark.browser


def test_upload_transcribe_read_along_correct_and_download(page, live_server, sign_in,
                                                          tmp_path):
    sign_in(page, "researcher")
    page.get_by_role("link", name="Demo: Medicare-Medicaid integration strategy").click()
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Recordings").click()
    page.get_by_label("Title").fill("Interview with a county official")
    page.get_by_label(re.compile("^Recording")).set_input_files(AUDIO / "three_sentences.mp3")
    page.get_by_role("button", name="Upload and transcribe").click()

    # Progress updates in place (no reload) until the job is done.
    status = page.locator("[data-job-field=status]")
    expect(status).to_have_text("succeeded", timeout=120_000)
    page.get_by_role("link", name="Read the transcript").click()

    segments = page.locator("li.segment")
    expect(segments).to_have_count(3)
    expect(segments.nth(0)).to_contain_text("coordination")

    # Selecting a time stamp seeks the player and highlights that segment.
    segments.nth(2).locator("[data-seek]").click()
    current = page.evaluate("document.getElementById('player').currentTime")
    assert current >= 7.0
    expect(segments.nth(2)).to_have_class(re.compile(r"\bplaying\b"))

    # Fix a word and name the speaker.
    second = segments.nth(1)
    second.locator("summary").click()
    second.get_by_label("Text").fill("Please tell us how members find a doctor in your county.")
    second.get_by_label("Speaker").fill("Facilitator")
    second.get_by_role("button", name="Save").click()
    edited = page.locator("li.segment").nth(1)
    expect(edited).to_contain_text("find a doctor in your county")
    expect(edited.locator(".speaker")).to_have_text("Facilitator")

    with page.expect_download() as download:
        page.get_by_role("link", name="VTT").click()
    vtt = Path(download.value.path()).read_text()
    assert "<v Facilitator>Please tell us how members find a doctor" in vtt
    with page.expect_download() as download:
        page.get_by_role("link", name="DOCX").click()
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"
