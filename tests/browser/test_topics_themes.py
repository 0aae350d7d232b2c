"""The issue's acceptance path in a real browser: demo comments plus a transcript, a topic
run in the worker, Plotly charts under the CSP, rename and merge, two themes, DOCX and
.qdpx downloads, and the .qdpx imported into a new study."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from docx import Document
from lxml import etree
from playwright.sync_api import expect

from tests.browser.axe import serious_violations

ROOT = Path(__file__).resolve().parents[2]
VTT = ROOT / "engage" / "demo_data" / "demo-interview.vtt"
pytestmark = pytest.mark.browser


def test_topics_themes_and_exports(page, live_server, sign_in, tmp_path):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, "researcher")
    page.get_by_role("link", name="Demo: Medicare-Medicaid integration strategy").click()
    study_nav = page.get_by_role("navigation", name="Study")

    # A transcript next to the 199 imported comments.
    study_nav.get_by_role("link", name="Transcripts").click()
    page.get_by_label("Title").fill("Key informant interview")
    page.get_by_label(re.compile("^Transcript file")).set_input_files(VTT)
    page.get_by_role("button", name="Import").click()

    study_nav.get_by_role("link", name="Topics").click()
    page.get_by_label("Name (optional)").fill("Comments and interview")
    page.get_by_role("button", name="Start topic run").click()
    expect(page.get_by_role("heading", name="Comments and interview")).to_be_visible()
    expect(page.get_by_role("heading", name="Topics", exact=True)).to_be_visible(
        timeout=240_000)  # job.js reloads the page when the worker is done

    # Plotly, served by the app, draws every chart; the CSP blocks nothing.
    for name in ("by_group", "by_source", "barchart"):
        expect(page.locator(f"#chart-{name} .main-svg").first).to_be_visible()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], \
        problems

    assert serious_violations(page) == []  # charts, tables and forms, WCAG 2.1 AA

    rows = page.locator("table.topics tbody tr")
    first = rows.nth(0)
    first.get_by_label("Name").fill("Work requirements")
    first.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Topic renamed “Work requirements”.")).to_be_visible()
    merge = page.locator("form[action$='/merge']")
    boxes = merge.get_by_role("checkbox")
    boxes.nth(1).check()
    boxes.nth(2).check()
    into = merge.get_by_label("Merge into")
    into.select_option(index=1)
    merge.get_by_role("button", name="Merge topics").click()
    expect(page.get_by_text(re.compile("^Merged into"))).to_be_visible()
    expect(page.get_by_role("heading", name="Merged topics")).to_be_visible()

    # Two themes, each from a topic and two of its quotes.
    for n, name in enumerate(("Work requirements for food assistance", "Local voices")):
        study_nav.get_by_role("link", name="Themes").click()
        page.get_by_label("Name").fill(name)
        page.get_by_label("Summary").fill(f"What commenters said, theme {n + 1}.")
        page.get_by_role("button", name="Create theme").click()
        topics = page.locator("form[action$='/topics']")
        topics.get_by_role("checkbox").nth(n).check()
        topics.get_by_role("button", name="Save topics").click()
        for _ in range(2):
            page.get_by_role("button", name="Add as quote").first.click()
            expect(page.get_by_text("Quote added.")).to_be_visible()
        expect(page.locator("#evidence + ol li")).to_have_count(2)
    assert serious_violations(page) == []

    study_nav.get_by_role("link", name="Exports").click()
    assert serious_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Theme summary (Word, .docx)").click()
    doc = Document(download.value.path())
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Work requirements for food assistance" in text and "Local voices" in text
    assert text.count("— ") >= 4  # attributed quotes
    with page.expect_download() as download:
        page.get_by_role("link", name="REFI-QDA project (.qdpx)").click()
    qdpx = Path(download.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(qdpx)) as zf:
        qde = zf.read("project.qde")
    schema = etree.XMLSchema(etree.parse(str(ROOT / "coding" / "schemas" / "Project.xsd")))
    assert schema.validate(etree.fromstring(qde)), schema.error_log

    # Into a new study.
    page.goto(live_server["url"] + "/studies/new")
    page.get_by_label("Name").fill("Re-imported demo")
    page.get_by_role("button", name="Save study").click()
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Exports").click()
    target = tmp_path / "demo.qdpx"
    target.write_bytes(qdpx)
    page.get_by_label(re.compile("^REFI-QDA project")).set_input_files(target)
    page.get_by_role("button", name="Import project").click()
    # Other scenarios on this server may have added comments; the 199 real ones are there.
    imported = page.get_by_text(re.compile(r"^Imported \d+ transcripts, \d+ comments"))
    expect(imported).to_be_visible()
    assert int(re.search(r"(\d+) comments", imported.inner_text()).group(1)) >= 199
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Themes").click()
    expect(page.get_by_role("link", name="Local voices")).to_be_visible()
