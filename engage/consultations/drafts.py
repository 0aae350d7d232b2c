"""The draft a consultation asks about: Markdown, rendered safely, split into sections.

Commenters say which part of the draft they mean by choosing a section; the
sections are the draft's headings (level 2 and below, or level 1 when the
draft has no others), so researchers structure the draft the way they write it.

Rendering escapes raw HTML and turns images into plain links: the public pages
must not load anything from another server, and the draft is typed by staff,
not trusted as markup.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    level: int


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).disable("image")


def _anchor(title: str, used: set[str]) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = "section-" + (re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-") or "part")
    anchor, n = base, 2
    while anchor in used:
        anchor, n = f"{base}-{n}", n + 1
    used.add(anchor)
    return anchor


def _headings(draft: str) -> list[tuple[int, int, str]]:
    """(token index, level, title) of every heading."""
    tokens = _markdown().parse(draft or "")
    return [(i, int(tok.tag[1]), tokens[i + 1].content.strip())
            for i, tok in enumerate(tokens) if tok.type == "heading_open"]


def sections(draft: str) -> list[Section]:
    return list(_sections(draft))


@lru_cache(maxsize=32)
def _sections(draft: str) -> tuple[Section, ...]:
    # Cached: every form request needs the sections of the same few drafts.
    headings = _headings(draft)
    if not headings:
        return ()
    chosen = [h for h in headings if h[1] >= 2] or headings
    used: set[str] = set()
    anchors = {i: _anchor(title, used) for i, _, title in headings}
    return tuple(Section(anchors[i], title[:200], level) for i, level, title in chosen if title)


def render(draft: str) -> Markup:
    """HTML for the draft, headings carrying the anchors ``sections`` names."""
    md = _markdown()
    tokens = md.parse(draft or "")
    used: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            tok.attrSet("id", _anchor(tokens[i + 1].content.strip(), used))
    # Safe: raw HTML in the draft was escaped by markdown-it (html=False).
    return Markup(md.renderer.render(tokens, md.options, {}))  # noqa: S704 (html=False escapes)
