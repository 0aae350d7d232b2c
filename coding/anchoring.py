"""Keeping coded spans on the right words when the text under them changes.

Offsets are Unicode code-point positions (REFI-QDA's rule; a Python ``str``
index is a code point), half-open: ``text[start:end]`` is the coded quote.

When a coder corrects a transcript segment, every coding and suggestion on it
goes through :func:`remap_span`, which aligns the old and new text character
by character (``difflib``) and says what happened to the coded words:

* ``unchanged`` — same words at the same offsets;
* ``moved`` — same words, shifted by an edit elsewhere in the text;
* ``changed`` — an edit touched the coded words; the span now covers what
  replaced them, and the coding must be flagged for a person to check;
* ``deleted`` — every coded character is gone; the span is empty, flagged.

So a span never silently points at different words: either its quote is
exactly what it was, or the caller is told to flag it. :func:`split_span` and
:func:`MERGE_SEPARATOR` cover segment splits and merges, and :func:`reanchor`
finds a stored quote again in a text that changed without a diff (for example
a comment's public version regenerated after a redaction change).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Status = Literal["unchanged", "moved", "changed", "deleted"]

# merge_with_next joins two segment texts with one space.
MERGE_SEPARATOR = " "

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+")


@dataclass(frozen=True)
class Remapped:
    start: int
    end: int
    status: Status

    @property
    def needs_check(self) -> bool:
        return self.status in ("changed", "deleted")


class Alignment:
    """Character alignment of ``old`` to ``new``, computed once for many spans."""

    def __init__(self, old: str, new: str):
        self.old, self.new = old, new
        # new index of each old character that survived unchanged, else -1
        self._to_new = [-1] * len(old)
        # where an old boundary lands when a span starts / ends there and nothing maps:
        # inside a replaced stretch a start goes before the replacement, an end after it
        self._start_at = [0] * (len(old) + 1)
        self._end_at = [0] * (len(old) + 1)
        matcher = SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                for k in range(i2 - i1 + 1):
                    if k < i2 - i1:
                        self._to_new[i1 + k] = j1 + k
                    self._start_at[i1 + k] = j1 + k
                    if k:  # an end at i1 belongs to the operation before (an insertion)
                        self._end_at[i1 + k] = j1 + k
            else:
                for k in range(i1, i2 + 1):
                    self._start_at[k] = j1 if k < i2 else j2
                    self._end_at[k] = j2 if k > i1 else j1

    def remap(self, start: int, end: int) -> Remapped:
        old = self.old
        if not 0 <= start <= end <= len(old):
            raise ValueError(f"span {start}-{end} is outside the text (length {len(old)})")
        if self.old == self.new:
            return Remapped(start, end, "unchanged")
        if start == end:
            point = self._start_at[start]
            return Remapped(point, point, "deleted")
        mapped = [self._to_new[i] for i in range(start, end)]
        kept = [m for m in mapped if m >= 0]
        if not kept:
            point = self._start_at[start]
            return Remapped(point, point, "deleted")
        new_start, new_end = kept[0], kept[-1] + 1
        intact = len(kept) == len(mapped) and new_end - new_start == len(mapped)
        if intact:
            status: Status = "unchanged" if (new_start, new_end) == (start, end) else "moved"
            return Remapped(new_start, new_end, status)
        # Words inside or at the edge of the span changed: cover what replaced them.
        if mapped[0] < 0:
            new_start = self._start_at[start]
        if mapped[-1] < 0:
            new_end = max(new_start, self._end_at[end])
        if not self.new[new_start:new_end].strip():  # only spaces survived
            return Remapped(new_start, new_start, "deleted")
        return Remapped(new_start, new_end, "changed")


def remap_span(old: str, new: str, start: int, end: int) -> Remapped:
    """Where ``old[start:end]`` is in ``new`` (see the module docstring)."""
    return Alignment(old, new).remap(start, end)


@dataclass(frozen=True)
class SplitText:
    """How ``split_segment`` cut a text: ``first``/``second`` and where each began."""

    first: str
    second: str
    first_offset: int
    second_offset: int

    @classmethod
    def at(cls, text: str, at: int) -> SplitText:
        head, tail = text[:at], text[at:]
        return cls(head.strip(), tail.strip(), len(head) - len(head.lstrip()),
                   at + len(tail) - len(tail.lstrip()))


def split_span(split: SplitText, start: int, end: int
               ) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """The parts of ``[start, end)`` that fall in the first and second new texts.

    A span across the cut becomes two spans (one per new segment); whitespace
    trimmed at the cut is dropped from both.
    """
    parts: list[tuple[int, int] | None] = []
    for offset, part in ((split.first_offset, split.first),
                         (split.second_offset, split.second)):
        s = max(start, offset) - offset
        e = min(end, offset + len(part)) - offset
        parts.append((s, e) if s < e else None)
    return parts[0], parts[1]


def merge_shift(first_text: str) -> int:
    """Offset added to spans of the following segment when it is merged into ``first_text``."""
    return len(first_text) + len(MERGE_SEPARATOR)


def reanchor(quote: str, text: str, near: int = 0) -> tuple[int, int] | None:
    """The occurrence of ``quote`` in ``text`` closest to ``near``, or None."""
    if not quote:
        return None
    best: int | None = None
    position = text.find(quote)
    while position >= 0:
        if best is None or abs(position - near) < abs(best - near):
            best = position
        position = text.find(quote, position + 1)
    return None if best is None else (best, best + len(quote))


def validate_span(text: str, start: int, end: int) -> None:
    """Raise ``ValueError`` in plain words unless ``[start, end)`` is a non-empty span in text."""
    if not isinstance(start, int) or not isinstance(end, int):
        raise ValueError("the start and end of a span must be whole numbers")
    if start < 0 or end > len(text):
        raise ValueError(
            f"the span {start}-{end} is outside the text, which has {len(text)} characters")
    if start >= end:
        raise ValueError("the span is empty: select at least one character")
    if not text[start:end].strip():
        raise ValueError("the span holds only spaces: select some words")


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop leading and trailing whitespace from a span (selections often include it)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to the whole sentence(s) it lies in.

    Accepting a suggestion codes the sentences holding its evidence, not the
    bare matched term; a unit without sentence ends is coded whole.
    """
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    s = max(b for b in bounds if b <= start)
    later = [b for b in bounds if b >= end]
    e = min(later) if later else len(text)
    return trim_span(text, s, e)


def cover(spans: Iterable[tuple[int, int]]) -> tuple[int, int] | None:
    spans = list(spans)
    if not spans:
        return None
    return min(s for s, _ in spans), max(e for _, e in spans)


def merge_intervals(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of half-open intervals, sorted; touching intervals join."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


@dataclass(frozen=True)
class Piece:
    """A stretch of text and the indexes of the spans that cover it (for highlighting)."""

    start: int
    end: int
    text: str
    covered_by: tuple[int, ...]


def pieces(text: str, spans: Sequence[tuple[int, int]]) -> list[Piece]:
    """Cut ``text`` at every span boundary; each piece lists the spans over it.

    Spans may overlap (overlapping codings are allowed); out-of-range spans are
    clipped rather than trusted.
    """
    n = len(text)
    clipped = [(max(0, min(s, n)), max(0, min(e, n))) for s, e in spans]
    bounds = sorted({0, n, *(b for span in clipped for b in span)})
    out = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if a == b:
            continue
        covering = tuple(i for i, (s, e) in enumerate(clipped) if s <= a and b <= e and s < e)
        out.append(Piece(a, b, text[a:b], covering))
    return out
