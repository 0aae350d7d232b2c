"""Keeping codings and suggestions on the right words when a segment's text changes.

The transcript editor calls these after editing, reverting, splitting or
merging a segment. Codings whose words survived move with them; codings
whose words were edited are flagged ``needs_check`` with the reason, and
keep the quote they had, so nothing silently points at other words.
Suggestions are machine output: an evidence span that was edited is dropped,
and a suggestion left without evidence is withdrawn (the next tagging run
proposes again from the new text).
"""

from __future__ import annotations

from sqlalchemy import select

from coding.anchoring import Alignment, SplitText, merge_shift, split_span
from models import (
    Coding,
    Suggestion,
    SuggestionStatus,
    TranscriptSegment,
    db,
)


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def text_changed(segment: TranscriptSegment, old: str, new: str) -> int:
    """Re-anchor everything on ``segment`` after its text went from ``old`` to ``new``.

    Returns how many codings were flagged for a person to check.
    """
    if old == new:
        return 0
    alignment = Alignment(old, new)
    flagged = 0
    for coding in db.session.scalars(select(Coding).where(Coding.segment_id == segment.id)):
        if not 0 <= coding.start_char <= coding.end_char <= len(old):
            coding.needs_check = True
            coding.check_reason = "its span no longer fitted the text"
            flagged += 1
            continue
        result = alignment.remap(coding.start_char, coding.end_char)
        coding.start_char, coding.end_char = result.start, result.end
        if result.status == "changed":
            coding.needs_check = True
            coding.check_reason = (f"the coded words “{_short(coding.quote)}” were edited to "
                                   f"“{_short(new[result.start:result.end])}”")
            flagged += 1
        elif result.status == "deleted":
            coding.needs_check = True
            coding.check_reason = f"the coded words “{_short(coding.quote)}” were deleted"
            flagged += 1
    for suggestion in db.session.scalars(select(Suggestion).where(
            Suggestion.segment_id == segment.id,
            Suggestion.status == SuggestionStatus.PENDING)):
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
    db.session.flush()
    return flagged


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
