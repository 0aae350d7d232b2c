"""A coder reviews suggested tags with the keyboard and codes a selected span with a memo;
the researcher tags the transcript and exports the codebook."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
XSD = Path(__file__).resolve().parents[2] / "coding" / "schemas" / "Codebook.xsd"

VTT = """WEBVTT

00:00:00.000 --> 00:00:05.000
<v Facilitator>Thank you for joining this interview today.

00:00:05.000 --> 00:00:12.000
<v Dana>We contract with D-SNP plans through the SMAC. Aligned enrollment is next.

00:00:12.000 --> 00:00:19.000
<v Dana>Care coordination for LTSS users is hard in rural counties.

00:00:19.000 --> 00:00:25.000
<v Dana>Our behavioral health providers are stretched thin, and PACE has a waitlist.
"""

SELECT_WORDS = """([unit, words]) => {
  const p = document.querySelectorAll('[data-unit]')[unit];
  const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
  let offset = 0, start = null, end = null;
  const at = p.textContent.indexOf(words);
  while (walker.nextNode()) {
    const node = walker.currentNode, len = node.textContent.length;
    if (start === null && at < offset + len) { start = [node, at - offset]; }
    if (start !== null && at + words.length <= offset + len) {
      end = [node, at + words.length - offset]; break; }
    offset += len;
  }
  const range = document.createRange();
  range.setStart(...start); range.setEnd(...end);
  const selection = window.getSelection();
  selection.removeAllRanges(); selection.addRange(range);
  document.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
}"""


def test_keyboard_review_and_span_coding(page, browser, live_server, sign_in, tmp_path):
    base = live_server["url"]
    vtt = tmp_path / "interview.vtt"
    vtt.write_text(VTT)
    # The researcher imports a transcript and tags it in the background.
    sign_in(page, "researcher")
    page.get_by_role("link", name="Demo: Medicare-Medicaid integration strategy").click()
    study_nav = page.get_by_role("navigation", name="Study")
    study_nav.get_by_role("link", name="Transcripts").click()
    page.get_by_label("Title").fill("Key informant interview")
    page.get_by_label(re.compile("^Transcript file")).set_input_files(vtt)
    page.get_by_role("button", name="Import").click()
    expect(page.locator("li.segment")).to_have_count(4)
    study_nav.get_by_role("link", name="Coding").click()
    page.get_by_role("button", name="Tag Key informant interview", exact=True).click()
    expect(page.locator("[data-job-field=status]")).to_have_text("succeeded", timeout=60_000)

    # The coder walks the queue with the keyboard only.
    coder = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    sign_in(coder, "coder")
    coder.get_by_role("link", name="Demo: Medicare-Medicaid integration strategy").click()
    coder.get_by_role("navigation", name="Study").get_by_role("link", name="Review").click()
    coder.get_by_label("Transcript").select_option(label="Key informant interview")
    coder.get_by_role("button", name="Filter").click()
    counter = coder.get_by_text(re.compile(r"^Suggestion \d+ of \d+$"))
    total = int(re.search(r"of (\d+)", counter.inner_text()).group(1))
    assert total >= 4
    card = coder.locator("#suggestion")
    expect(coder.locator("mark.evidence").first).to_be_visible()
    expect(card).to_be_focused()  # review.js is listening
    coder.keyboard.press("a")
    expect(coder.locator(".flash-success")).to_contain_text("Accepted")
    expect(counter).to_have_text(f"Suggestion 1 of {total - 1}")
    expect(card).to_be_focused()
    coder.keyboard.press("n")
    expect(counter).to_have_text(f"Suggestion 2 of {total - 1}")
    expect(card).to_be_focused()
    coder.keyboard.press("r")
    expect(coder.locator(".flash-success")).to_contain_text("Rejected")
    expect(counter).to_have_text(f"Suggestion 2 of {total - 2}")
    expect(card).to_be_focused()
    coder.keyboard.press("c")
    select = coder.get_by_label("Change to code")
    expect(select).to_be_focused()
    select.select_option(select.locator("option", has_text="Lessons learned")
                         .get_attribute("value"))
    select.press("Enter")
    expect(coder.locator(".flash-success")).to_contain_text(
        "Coded instead with “Lessons learned and best practices”")
    expect(counter).to_have_text(f"Suggestion 2 of {total - 3}")

    # Then codes a span by hand: select the words, pick a code, add a memo.
    coder.get_by_role("link", name="Open in the transcript").click()
    coder.wait_for_load_state("load")  # coding.js (deferred) is listening
    coder.evaluate(SELECT_WORDS, [2, "rural counties"])
    panel = coder.locator("#code-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-selection]")).to_have_text("rural counties")
    panel.get_by_label("Strategies to address equity").check()
    panel.get_by_label("Memo (optional)").fill("Rural access came up unprompted.")
    panel.get_by_role("button", name="Apply codes").click()
    expect(coder.locator(".flash-success")).to_contain_text("Coded “rural counties”")
    third = coder.locator("li.unit").nth(2)
    expect(third.locator("mark.coded", has_text="rural counties")).to_be_visible()
    expect(third.locator(".codings")).to_contain_text("1 memo")

    # The researcher exports the codebook as REFI-QDA.
    page.goto(base + "/")
    page.get_by_role("link", name="Demo: Medicare-Medicaid integration strategy").click()
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Codebook").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="REFI-QDA (.qdc)").click()
    data = Path(download.value.path()).read_bytes()
    etree.XMLSchema(etree.parse(str(XSD))).assertValid(etree.fromstring(data))
    assert b"Strategies to address equity" in data
    coder.context.close()


CODING_PAGES = ["/studies/1/coding", "/studies/1/review", "/studies/1/queries",
                "/studies/1/coding/memos", "/studies/1/coding/transcripts/1",
                "/studies/1/codebook/4", "/studies/1/codebook/new", "/studies/1/coding/comments/1",
                "/studies/1/coding/consultations/1", "/studies/1/coding/units/segment:1/code"]


def test_coding_pages_are_accessible(page, live_server, sign_in):
    from tests.browser.axe import fits_at_200_percent_zoom, serious_violations

    sign_in(page, "researcher")
    page.goto(live_server["url"] + "/studies/1/coding")
    page.get_by_role("button", name="Tag").first.click()  # suggestions make pages fuller
    expect(page.locator("[data-job-field=status]")).to_have_text("succeeded", timeout=60_000)
    problems = {}
    for path in CODING_PAGES:
        page.goto(live_server["url"] + path)
        violations, reflows = serious_violations(page), fits_at_200_percent_zoom(page)
        if violations or not reflows:
            problems[path] = (violations, "scrolls sideways at 200% zoom" if not reflows else "")
    assert problems == {}
