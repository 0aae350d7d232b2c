"""Shaping codings for pages: highlighted text and per-unit lists (no database writes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from coding.anchoring import pieces
from models import Coding, Suggestion


@dataclass(frozen=True)
class Mark:
    text: str
    start: int
    codings: tuple[Coding, ...]

    @property
    def color(self) -> str | None:
        return self.codings[-1].code.color if self.codings else None

    @property
    def title(self) -> str:
        return ", ".join(dict.fromkeys(c.code.name for c in self.codings))


def marks(text: str, codings: Sequence[Coding]) -> list[Mark]:
    """The text cut where codings start and end; each piece lists the codings over it."""
    usable = [c for c in codings if c.start_char < c.end_char]
    return [Mark(p.text, p.start, tuple(usable[i] for i in p.covered_by))
            for p in pieces(text, [(c.start_char, c.end_char) for c in usable])]


@dataclass(frozen=True)
class EvidenceMark:
    text: str
    evidence: bool


def evidence_marks(text: str, evidence: Iterable[dict]) -> list[EvidenceMark]:
    spans = [(e["start"], e["end"]) for e in evidence or []
             if 0 <= e["start"] < e["end"] <= len(text)]
    return [EvidenceMark(p.text, bool(p.covered_by)) for p in pieces(text, spans)]


def by_unit(rows: Iterable[Coding | Suggestion]) -> dict[object, list]:
    grouped: dict[object, list] = defaultdict(list)
    for row in rows:
        grouped[row.unit_ref].append(row)
    return grouped


def stale(coding: Coding, text: str) -> bool:
    """True when the stored quote is no longer what the offsets point at."""
    return coding.needs_check or text[coding.start_char:coding.end_char] != coding.quote
