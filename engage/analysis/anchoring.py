"""Keeping codings, suggestions and theme quotes on the right words when a unit's text changes.

The transcript editor calls these after editing, reverting, splitting or
merging a segment, and moderation calls :func:`text_changed` when a comment's
public (redacted) text changes. Codings whose words survived move with them;
codings whose words were edited are flagged ``needs_check`` with the reason,
so nothing silently points at other words. Suggestions are machine output: an
evidence span that was edited is dropped, and a suggestion left without
evidence is withdrawn (the next tagging run proposes again from the new text).
Theme quotes follow their words too.

A flagged coding on a segment keeps the quote it had. A comment is different:
coders only ever read its public version, and words leave that version when a
moderator masks them as personal data. So on a comment, a flagged coding (and a
theme quote whose words changed) takes its quote from the new public text only
(a newly masked name reads as its label, "[name]"), and the reason never
repeats the old words.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from coding.anchoring import Alignment, Remapped, SplitText, merge_shift, split_span
from coding.redaction import LABELS
from models import (
    Coding,
    Suggestion,
    SuggestionStatus,
    ThemeEvidence,
    TranscriptSegment,
    UnitRef,
    db,
)

# A redaction label in a comment's public text ("[name]", "[phone]", ...).
_LABEL = re.compile("|".join(re.escape(label) for label in LABELS.values()))


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _ref(unit: TranscriptSegment | UnitRef) -> UnitRef:
    return unit if isinstance(unit, UnitRef) else UnitRef("segment", unit.id)


def _on(model, ref: UnitRef):
    """The filter for rows of ``model`` (Coding, Suggestion, ThemeEvidence) on ``ref``."""
    return (model.comment_id if ref.kind == "comment" else model.segment_id) == ref.id


class _PublicText:
    """Where flagged spans land in a comment's new public text, and why, in a coder's words."""

    def __init__(self, alignment: Alignment):
        self.alignment = alignment
        old_labels = [(m.span(), alignment.remap(*m.span()))
                      for m in _LABEL.finditer(alignment.old)]
        survived = {r.start for _, r in old_labels if not r.needs_check}
        # Labels the change put in (a masked name), and ones it took out (an unmasked one).
        self.new_labels = [m.span() for m in _LABEL.finditer(alignment.new)
                           if m.start() not in survived]
        self.lost_labels = [span for span, r in old_labels if r.needs_check]

    def cover(self, result: Remapped) -> tuple[int, int]:
        """The remapped span, widened to whole new labels it touches, so that a coding
        on "Jane Doe" ends up on "[name]", not on a few letters of it (or nothing)."""
        start, end = result.start, result.end
        for a, b in self.new_labels:
            if (a < end and start < b) or (start == end and a <= start < b):
                start, end = min(start, a), max(end, b)
        return start, end

    def reason(self, old_start: int, old_end: int, start: int, end: int, status: str) -> str:
        if any(a < end and start < b for a, b in self.new_labels):
            rest = _LABEL.sub("", self.alignment.new[start:end])
            return "some of the coded words were redacted" if re.search(r"\w", rest) \
                else "the coded words were redacted"
        if any(a < old_end and old_start < b for a, b in self.lost_labels):
            return "a redaction in the coded words was removed"
        if status == "deleted":
            return "the coded words were removed from the public version"
        return "the coded words were edited in the public version"


def text_changed(unit: TranscriptSegment | UnitRef, old: str, new: str) -> int:
    """Re-anchor everything on ``unit`` (a segment, or a ``UnitRef`` to a segment or a
    comment) after its text went from ``old`` to ``new``; for a comment, its public text.

    Returns how many codings were flagged for a person to check.
    """
    if old == new:
        return 0
    ref = _ref(unit)
    alignment = Alignment(old, new)
    public = _PublicText(alignment) if ref.kind == "comment" else None
    flagged = sum(_recode(coding, alignment, public) for coding in db.session.scalars(
        select(Coding).where(_on(Coding, ref))))
    for suggestion in db.session.scalars(select(Suggestion).where(
            _on(Suggestion, ref), Suggestion.status == SuggestionStatus.PENDING)):
        kept = []
        for e in suggestion.evidence or []:
            if not 0 <= e["start"] < e["end"] <= len(old):
                continue
            result = alignment.remap(e["start"], e["end"])
            if result.status in ("unchanged", "moved"):
                kept.append({**e, "start": result.start, "end": result.end})
        if kept or not suggestion.evidence:
            suggestion.evidence = kept
        else:
            db.session.delete(suggestion)
    for evidence in db.session.scalars(select(ThemeEvidence).where(_on(ThemeEvidence, ref))):
        if not 0 <= evidence.start_char <= evidence.end_char <= len(old):
            if public and evidence.quote not in new:  # it may hold words masked since
                evidence.quote = ""
            continue
        result = alignment.remap(evidence.start_char, evidence.end_char)
        evidence.start_char, evidence.end_char = result.start, result.end
        if public and result.needs_check:
            evidence.start_char, evidence.end_char = public.cover(result)
            evidence.quote = new[evidence.start_char:evidence.end_char]
    db.session.flush()
    return flagged


def _recode(coding: Coding, alignment: Alignment, public: _PublicText | None) -> bool:
    """Move one coding with its words; True when it was flagged for a person to check."""
    old, new = alignment.old, alignment.new
    if not 0 <= coding.start_char <= coding.end_char <= len(old):
        coding.needs_check = True
        coding.check_reason = "its span no longer fitted the text"
        if public and coding.quote not in new:  # it may hold words masked since
            coding.quote = ""
        return True
    result = alignment.remap(coding.start_char, coding.end_char)
    if not result.needs_check:
        coding.start_char, coding.end_char = result.start, result.end
        return False
    coding.needs_check = True
    if public:
        start, end = public.cover(result)
        coding.check_reason = public.reason(coding.start_char, coding.end_char, start, end,
                                            result.status)
        coding.start_char, coding.end_char = start, end
        coding.quote = new[start:end]
        return True
    coding.start_char, coding.end_char = result.start, result.end
    coding.check_reason = (f"the coded words “{_short(coding.quote)}” were edited to "
                           f"“{_short(new[result.start:result.end])}”"
                           if result.status == "changed"
                           else f"the coded words “{_short(coding.quote)}” were deleted")
    return True


def segment_split(segment: TranscriptSegment, new_segment: TranscriptSegment, old: str,
                  at: int) -> int:
    """Share codings and suggestions between the two halves of a split segment.

    A coding across the cut becomes one coding per half (same code, coder and
    pass; memos stay with the first half) and both halves are flagged, since
    the coded passage is no longer in one piece.
    """
    split = SplitText.at(old, at)
    flagged = 0
    for coding in db.session.scalars(select(Coding).where(Coding.segment_id == segment.id)).all():
        first, second = split_span(split, coding.start_char, coding.end_char)
        if first and second:
            coding.start_char, coding.end_char = first
            coding.quote = split.first[first[0]:first[1]]
            twin = Coding(study_id=coding.study_id, code_id=coding.code_id,
                          segment_id=new_segment.id, start_char=second[0], end_char=second[1],
                          quote=split.second[second[0]:second[1]], coder_id=coding.coder_id,
                          origin=coding.origin, assignment_id=coding.assignment_id,
                          suggestion_id=coding.suggestion_id)
            for c in (coding, twin):
                c.needs_check = True
                c.check_reason = "the segment was split inside the coded passage"
            db.session.add(twin)
            flagged += 2
        elif second:
            coding.segment_id = new_segment.id
            coding.start_char, coding.end_char = second
        elif first:
            coding.start_char, coding.end_char = first
        else:  # only trimmed whitespace was coded
            coding.needs_check = True
            coding.check_reason = "the segment was split and only spaces were left coded"
            coding.start_char = coding.end_char = 0
            flagged += 1
    for suggestion in db.session.scalars(select(Suggestion).where(
            Suggestion.segment_id == segment.id,
            Suggestion.status == SuggestionStatus.PENDING)).all():
        halves: dict[int, list[dict]] = {0: [], 1: []}
        for e in suggestion.evidence or []:
            first, second = split_span(split, e["start"], e["end"])
            if first and not second:
                halves[0].append({**e, "start": first[0], "end": first[1]})
            elif second and not first:
                halves[1].append({**e, "start": second[0], "end": second[1]})
        if halves[1] and not halves[0]:
            suggestion.segment_id = new_segment.id
            suggestion.evidence = halves[1]
        elif halves[0]:
            suggestion.evidence = halves[0]
        elif suggestion.evidence:
            db.session.delete(suggestion)
    db.session.flush()
    return flagged


def segments_merged(segment: TranscriptSegment, following: TranscriptSegment,
                    first_text: str) -> None:
    """Move the following segment's codings and suggestions into the merged segment.

    Call before the following segment is deleted (its rows would go with it).
    """
    shift = merge_shift(first_text)
    for coding in db.session.scalars(select(Coding).where(
            Coding.segment_id == following.id)).all():
        coding.segment_id = segment.id
        coding.start_char += shift
        coding.end_char += shift
    existing = {s.code_id: s for s in db.session.scalars(select(Suggestion).where(
        Suggestion.segment_id == segment.id))}
    for suggestion in db.session.scalars(select(Suggestion).where(
            Suggestion.segment_id == following.id)).all():
        moved = [{**e, "start": e["start"] + shift, "end": e["end"] + shift}
                 for e in suggestion.evidence or []]
        mine = existing.get(suggestion.code_id)
        if mine is not None and mine.status is SuggestionStatus.PENDING \
                and suggestion.status is SuggestionStatus.PENDING:
            mine.evidence = list(mine.evidence or []) + moved
            mine.confidence = max(mine.confidence, suggestion.confidence)
            db.session.delete(suggestion)
        else:
            suggestion.segment_id = segment.id
            suggestion.evidence = moved
    db.session.flush()
