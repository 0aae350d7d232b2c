"""Theme summaries for a report: DOCX, Markdown and HTML from the same data.

``Report`` holds what a reader needs and nothing that identifies a person:
quotes are attributed by stakeholder group, source and session kind, never
by name. Whoever builds a ``Report`` passes quote texts as the public may
read them (comment quotes redacted); ``scrub`` masks once more any personal
data the redaction patterns find and the names of known participants, as a
last line of defence before a file leaves the system.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from coding.redaction import redact

MAX_QUOTES = 5


@dataclass(frozen=True)
class Quote:
    text: str
    source: str  # "Transcript" or "Public comment"
    stakeholder_group: str
    session_kind: str | None = None

    @property
    def attribution(self) -> str:
        parts = [self.stakeholder_group, self.source]
        if self.session_kind and self.source != "Public comment":
            parts.append(self.session_kind)
        return " · ".join(parts)


@dataclass
class ThemeSection:
    name: str
    status: str
    summary: str
    counts: list[tuple[str, int]]  # (stakeholder group, documents), largest first
    quotes: list[Quote]
    codes: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)


@dataclass
class Method:
    corpus: list[str] = field(default_factory=list)
    model: list[str] = field(default_factory=list)
    parameters: list[str] = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    agreement: list[str] = field(default_factory=list)


@dataclass
class Report:
    study: str
    generated_at: datetime
    method: Method
    themes: list[ThemeSection]
    description: str = ""


def scrub(text: str, known_names: Iterable[str] = ()) -> str:
    """Mask personal data and known names in ``text`` (idempotent on masked text)."""
    return redact(text, tuple(known_names)).text


def pick_quotes(quotes: Sequence[Quote], limit: int = MAX_QUOTES) -> list[Quote]:
    """Up to ``limit`` quotes, spread over stakeholder groups before repeating one."""
    chosen: list[Quote] = []
    seen_text: set[str] = set()
    rounds: dict[str, list[Quote]] = {}
    for q in quotes:
        key = " ".join(q.text.lower().split())
        if key in seen_text or not key:
            continue
        seen_text.add(key)
        rounds.setdefault(q.stakeholder_group, []).append(q)
    while len(chosen) < limit and any(rounds.values()):
        for group in list(rounds):
            if rounds[group] and len(chosen) < limit:
                chosen.append(rounds[group].pop(0))
    return chosen


# --- Markdown and HTML ---------------------------------------------------------------------


def _md_escape_inline(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in text)


def to_markdown(report: Report) -> str:
    lines = [f"# Theme summary: {_md_escape_inline(report.study)}", "",
             f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC by Engage.", ""]
    if report.description:
        lines += [_md_escape_inline(report.description), ""]
    lines += ["## Method", ""]
    for title, items in (("Corpus", report.method.corpus), ("Model", report.method.model),
                         ("Parameters", report.method.parameters),
                         ("Coders", report.method.coders),
                         ("Agreement", report.method.agreement)):
        if items:
            lines.append(f"**{title}**")
            lines.append("")
            lines += [f"- {_md_escape_inline(item)}" for item in items]
            lines.append("")
    lines += ["## Themes", ""]
    if not report.themes:
        lines += ["No themes yet.", ""]
    for theme in report.themes:
        lines += [f"### {_md_escape_inline(theme.name)}", "", f"*Status: {theme.status}*", ""]
        if theme.summary:
            lines += [theme.summary.strip(), ""]
        if theme.counts:
            lines += ["| Stakeholder group | Documents |", "|---|---:|"]
            lines += [f"| {_md_escape_inline(g)} | {n} |" for g, n in theme.counts]
            lines.append("")
        if theme.codes:
            lines += ["Related codes: " + ", ".join(_md_escape_inline(c) for c in theme.codes),
                      ""]
        if theme.topics:
            lines += ["Topics: " + ", ".join(_md_escape_inline(t) for t in theme.topics), ""]
        for quote in theme.quotes:
            body = [f"> {_md_escape_inline(line)}" if line.strip() else ">"
                    for line in quote.text.strip().splitlines()]
            lines += body + [">", f"> — {_md_escape_inline(quote.attribution)}", ""]
    return "\n".join(lines).rstrip() + "\n"


def to_html(report: Report) -> str:
    """A standalone HTML page: the Markdown rendered with raw HTML switched off."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(to_markdown(report))
    title = html.escape(f"Theme summary: {report.study}")
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{title}</title>\n<style>body{{font-family:system-ui,sans-serif;"
            "max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
            "blockquote{border-left:4px solid #4a6fa5;margin:1rem 0;padding:.25rem 1rem;"
            "background:#f5f7fa}table{border-collapse:collapse}th,td{border:1px solid #ccc;"
            "padding:.25rem .6rem}</style>\n</head>\n<body>\n"
            f"{body}</body>\n</html>\n")


# --- DOCX ----------------------------------------------------------------------------------


def to_docx(report: Report) -> bytes:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.title = f"Theme summary: {report.study}"
    doc.core_properties.author = "Engage"
    doc.add_heading(f"Theme summary: {report.study}", level=0)
    doc.add_paragraph(f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC by Engage.")
    if report.description:
        doc.add_paragraph(report.description)
    doc.add_heading("Method", level=1)
    for title, items in (("Corpus", report.method.corpus), ("Model", report.method.model),
                         ("Parameters", report.method.parameters),
                         ("Coders", report.method.coders),
                         ("Agreement", report.method.agreement)):
        if not items:
            continue
        p = doc.add_paragraph()
        p.add_run(title).bold = True
        for item in items:
            doc.add_paragraph(item, style="List Bullet")
    doc.add_heading("Themes", level=1)
    if not report.themes:
        doc.add_paragraph("No themes yet.")
    for theme in report.themes:
        doc.add_heading(theme.name, level=2)
        status = doc.add_paragraph()
        status.add_run(f"Status: {theme.status}").italic = True
        for para in (theme.summary or "").strip().split("\n\n"):
            if para.strip():
                doc.add_paragraph(para.strip())
        if theme.counts:
            table = doc.add_table(rows=1, cols=2)
            table.style = "Table Grid"
            table.rows[0].cells[0].text = "Stakeholder group"
            table.rows[0].cells[1].text = "Documents"
            for group, n in theme.counts:
                cells = table.add_row().cells
                cells[0].text = group
                cells[1].text = str(n)
            doc.add_paragraph()
        if theme.codes:
            doc.add_paragraph("Related codes: " + ", ".join(theme.codes))
        if theme.topics:
            doc.add_paragraph("Topics: " + ", ".join(theme.topics))
        for quote in theme.quotes:
            p = doc.add_paragraph(style="Quote")
            p.add_run(f"“{quote.text.strip()}”")
            attribution = doc.add_paragraph()
            run = attribution.add_run(f"— {quote.attribution}")
            run.font.size = Pt(9)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
