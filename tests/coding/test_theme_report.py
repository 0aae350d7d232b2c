"""Theme summaries: DOCX, Markdown and HTML carry themes, counts and attributed quotes."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document

from coding.theme_report import (
    Method,
    Quote,
    Report,
    ThemeSection,
    pick_quotes,
    scrub,
    to_docx,
    to_html,
    to_markdown,
)


def _report() -> Report:
    return Report(
        study="Duals <strategy>", generated_at=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
        method=Method(corpus=["Topic run “All”: 300 documents."], model=["BERTopic"],
                      parameters=["Minimum topic size 9"], coders=["Casey Coder: 12 codings"],
                      agreement=["percent agreement 91%"]),
        themes=[ThemeSection(
            name="Getting to care", status="Final",
            summary="Rides fail people.\n\nEspecially in rural counties.",
            counts=[("Providers", 7), ("Public", 3)],
            quotes=[Quote("The van never came.", "Transcript", "Providers", "Focus group"),
                    Quote("<script>alert(1)</script> rides!", "Public comment",
                          "Health plans")],
            codes=["Transportation"], topics=["rides, van, late"])])


def test_docx_has_theme_names_quotes_and_counts():
    data = to_docx(_report())
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Theme summary: Duals <strategy>" in text
    assert "Getting to care" in text and "Status: Final" in text
    assert "“The van never came.”" in text
    assert "— Providers · Transcript · Focus group" in text
    assert "— Health plans · Public comment" in text
    assert "Casey Coder: 12 codings" in text and "percent agreement 91%" in text
    cells = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert cells == [["Stakeholder group", "Documents"], ["Providers", "7"], ["Public", "3"]]


def test_markdown_and_html_escape_what_people_wrote():
    md = to_markdown(_report())
    assert "### Getting to care" in md
    assert "> The van never came." in md and "> — Providers · Transcript · Focus group" in md
    assert "| Providers | 7 |" in md
    html = to_html(_report())
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<blockquote>" in html and "<table>" in html
    assert html.startswith("<!doctype html>")


def test_pick_quotes_spreads_over_groups_and_skips_repeats():
    quotes = [Quote(f"q{i}", "Transcript", "A") for i in range(4)] + [
        Quote("q0", "Transcript", "A"), Quote("b1", "Public comment", "B"),
        Quote("c1", "Public comment", "C")]
    chosen = pick_quotes(quotes, limit=5)
    assert [q.text for q in chosen] == ["q0", "b1", "c1", "q1", "q2"]


def test_scrub_masks_contacts_and_known_names():
    text = scrub("Call Dana Whitfield at 919-555-0142 or dana@example.org.", ["Dana Whitfield"])
    assert "Dana" not in text and "Whitfield" not in text
    assert "919-555-0142" not in text and "dana@example.org" not in text
    assert scrub(text, ["Dana Whitfield"]) == text
