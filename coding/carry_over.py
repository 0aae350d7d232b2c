"""Finding coded words again in a new transcript of the same recording.

When a recording is transcribed again (a bigger Whisper model, another
language setting), the new segments have other boundaries, slightly other
times and sometimes other words. A span coded on an old segment is looked for
in the new segments heard at the same time (with :data:`SLACK_MS` either side,
since two runs rarely agree on timestamps to the millisecond), joined into one
*window* with :data:`~coding.anchoring.MERGE_SEPARATOR` as ``merge_with_next``
joins segments:

1. ``exact`` — the same characters (the occurrence nearest to where the
   character alignment of the old text puts the span);
2. ``normalised`` — the same words once case, runs of spaces and punctuation
   are ignored (Whisper re-runs often differ only in commas and capitals);
3. ``reworded`` — neither, but the character alignment
   (:class:`~coding.anchoring.Alignment`) says which new words replaced the
   coded ones and they still resemble them;
4. ``lost`` — nothing resembling the words is there: the span becomes the
   whole new segment that best overlaps the time the words were said.

A span found across a new segment boundary comes back as one part per
segment (``split``). Only ``exact`` and ``normalised`` matches are safe to
take without a person looking; the others carry a reason in plain words.
Offsets are code points, half-open, as everywhere in ``coding.anchoring``.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Literal

from coding.anchoring import MERGE_SEPARATOR, Alignment, reanchor, trim_span

How = Literal["exact", "normalised", "split", "reworded", "lost"]

# How far outside an old segment's times a new segment may start or end and still be
# searched: two Whisper runs place the same words up to about a second apart.
SLACK_MS = 1000
# Above this many characters (old text + window) the character alignment is skipped: it
# is quadratic, and only a one-segment transcript of a long interview gets there.
ALIGN_LIMIT = 20_000
# How alike (difflib ratio, ignoring case) re-worded text must be to count as the same
# passage rather than as lost words.
MIN_LIKENESS = 0.4


@dataclass(frozen=True)
class TimedText:
    """A segment: its id (anything hashable), times in milliseconds and text."""

    key: Hashable
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class Placement:
    """Where (part of) the coded words are in the new transcript."""

    key: Hashable
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Match:
    parts: tuple[Placement, ...]
    how: How
    # Why a person should look at the span, phrased for a researcher; None if found as is.
    reason: str | None = None

    @property
    def needs_check(self) -> bool:
        return self.reason is not None

    @property
    def words_kept(self) -> bool:
        """True when the span holds the coded words (so its text can become the quote)."""
        return self.how in ("exact", "normalised", "split")

    @property
    def whole(self) -> Placement | None:
        """The one placement, when the words were found unchanged in one segment."""
        return self.parts[0] if self.how in ("exact", "normalised") else None


def short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def normalise(text: str) -> tuple[str, list[int]]:
    """``text`` case-folded, with punctuation dropped (dashes count as spaces) and each
    run of spaces made one; and, for each character of the result, its index in ``text``."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if ch.isspace() or category == "Pd":
            if out and out[-1] != " ":
                out.append(" ")
                index.append(i)
        elif not category.startswith("P"):
            for folded in ch.casefold():
                out.append(folded)
                index.append(i)
    if out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


@dataclass
class _Window:
    """The new segments heard around one old segment, joined into one text."""

    old: TimedText
    segments: list[TimedText]
    text: str = ""
    offsets: list[int] = field(default_factory=list)
    _alignment: Alignment | None = None
    _normalised: tuple[str, list[int]] | None = None

    def __post_init__(self) -> None:
        pieces, position = [], 0
        for segment in self.segments:
            self.offsets.append(position)
            pieces.append(segment.text)
            position += len(segment.text) + len(MERGE_SEPARATOR)
        self.text = MERGE_SEPARATOR.join(pieces)

    @property
    def alignment(self) -> Alignment | None:
        if self._alignment is None and len(self.old.text) + len(self.text) <= ALIGN_LIMIT:
            self._alignment = Alignment(self.old.text, self.text)
        return self._alignment

    @property
    def normalised(self) -> tuple[str, list[int]]:
        if self._normalised is None:
            self._normalised = normalise(self.text)
        return self._normalised

    def near(self, start: int, end: int | None) -> int:
        """Where in the window an old offset probably landed."""
        if end is not None and self.alignment is not None:
            return self.alignment.remap(start, end).start
        return round(start * len(self.text) / max(1, len(self.old.text)))

    def exact(self, words: str, near: int) -> tuple[int, int] | None:
        return reanchor(words, self.text, near)

    def loose(self, words: str, near: int) -> tuple[int, int] | None:
        wanted, _ = normalise(words)
        text, index = self.normalised
        found = reanchor(wanted, text, bisect_left(index, near))
        if found is None:
            return None
        start, end = index[found[0]], index[found[1] - 1] + 1
        # Punctuation the coder included at either end comes along.
        if _is_punctuation(words[-1]):
            while end < len(self.text) and _is_punctuation(self.text[end]):
                end += 1
        if _is_punctuation(words[0]):
            while start > 0 and _is_punctuation(self.text[start - 1]):
                start -= 1
        return start, end

    def parts(self, start: int, end: int) -> tuple[Placement, ...]:
        """The window span cut at segment boundaries, trimmed; empty pieces dropped."""
        out = []
        for offset, segment in zip(self.offsets, self.segments, strict=True):
            s = max(start, offset) - offset
            e = min(end, offset + len(segment.text)) - offset
            if s < e:
                s, e = trim_span(segment.text, s, e)
                if s < e:
                    out.append(Placement(segment.key, s, e, segment.text[s:e]))
        return tuple(out)


class NewTranscript:
    """The segments of a new transcript, searched for spans of the old one."""

    def __init__(self, segments: Sequence[TimedText], slack_ms: int = SLACK_MS):
        self.segments = sorted(segments, key=lambda s: (s.start_ms, s.end_ms))
        self.slack_ms = slack_ms
        self._windows: dict[Hashable, _Window] = {}

    def best_segment(self, start_ms: int, end_ms: int) -> TimedText | None:
        """The new segment overlapping ``[start_ms, end_ms)`` most (else the nearest)."""
        if not self.segments:
            return None

        def closeness(s: TimedText) -> tuple[int, int]:
            gap = max(s.start_ms - end_ms, start_ms - s.end_ms, 0)
            return overlap(start_ms, end_ms, s.start_ms, s.end_ms), -gap

        return max(self.segments, key=closeness)

    def window(self, old: TimedText) -> _Window:
        window = self._windows.get(old.key)
        if window is None:
            lo, hi = old.start_ms - self.slack_ms, old.end_ms + self.slack_ms
            near = [s for s in self.segments if s.start_ms < hi and s.end_ms > lo]
            if not near:
                best = self.best_segment(old.start_ms, old.end_ms)
                near = [best] if best is not None else []
            window = self._windows[old.key] = _Window(old, near)
        return window

    def find(self, old: TimedText, start: int, end: int, quote: str = "") -> Match | None:
        """Where ``old.text[start:end]`` (or ``quote``, if the span no longer fits the old
        text) is in the new transcript; None only when the new transcript is empty."""
        if not self.segments:
            return None
        fits = 0 <= start < end <= len(old.text) and old.text[start:end].strip() != ""
        words = old.text[start:end] if fits else quote
        window = self.window(old)
        if words.strip() and window.text:
            near = window.near(start, end if fits else None)
            for how, found in (("exact", window.exact(words, near)),
                               ("normalised", window.loose(words, near))):
                if found is not None:
                    return _found(window.parts(*found), how, words)
            if fits and window.alignment is not None:
                remapped = window.alignment.remap(start, end)
                now = window.text[remapped.start:remapped.end]
                if remapped.status != "deleted" and _alike(words, now):
                    parts = window.parts(remapped.start, remapped.end)
                    if parts:
                        return Match(parts, "reworded",
                                     f"re-transcription changed the words “{short(words)}” "
                                     f"to “{short(now)}”; check the span")
        return self._lost(old, start, end, words, fits)

    def _lost(self, old: TimedText, start: int, end: int, words: str, fits: bool) -> Match:
        span_ms = (old.start_ms, old.end_ms)
        if fits:  # the time the words were said, if speech ran evenly through the segment
            length, duration = len(old.text), old.end_ms - old.start_ms
            span_ms = (old.start_ms + duration * start // length,
                       old.start_ms + -(-duration * end // length))
        best = self.best_segment(*span_ms)
        if overlap(*span_ms, best.start_ms, best.end_ms) == 0:
            best = self.best_segment(old.start_ms, old.end_ms)
        s, e = trim_span(best.text, 0, len(best.text))
        what = f"the words “{short(words)}”" if words.strip() else "the coded words"
        return Match((Placement(best.key, s, e, best.text[s:e]),), "lost",
                     f"{what} are not in the new transcript; the coding now covers the "
                     "whole passage heard at that time — check the span")


def _found(parts: tuple[Placement, ...], how: How, words: str) -> Match:
    if len(parts) > 1:
        return Match(parts, "split", f"the new transcript splits “{short(words)}” across "
                                     f"{len(parts)} segments; check each part")
    return Match(parts, how)


def _alike(old: str, new: str) -> bool:
    if not new.strip():
        return False
    return SequenceMatcher(None, old.casefold(), new.casefold()).ratio() >= MIN_LIKENESS
