"""Coding by hand: apply codes to spans, change or remove codings, and write memos.

Operations take the acting user, flush, and leave the commit to the request.
Spans are code-point offsets in the unit's text (see ``engage.analysis.units``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from coding.anchoring import reanchor, trim_span, validate_span
from engage.access import study_role
from engage.analysis.layers import can_change, layer_for
from engage.analysis.units import Unit, load_unit
from models import (
    Code,
    Coding,
    CodingOrigin,
    Comment,
    Decision,
    Memo,
    Participant,
    SpeakerLink,
    Study,
    StudyRole,
    Suggestion,
    SuggestionDecision,
    SuggestionStatus,
    Transcript,
    UnitRef,
    User,
    db,
)

MAX_MEMO = 20_000


class CodingError(ValueError):
    """A refused coding change, phrased for the coder."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def resolve_span(unit: Unit, *, start: int | None = None, end: int | None = None,
                 quote: str | None = None) -> Span:
    """The span a coder asked for: offsets (from a selection), exact words, or the whole unit."""
    text = unit.text
    quote = (quote or "").strip()
    if start is not None or end is not None:
        if start is None or end is None:
            raise CodingError("Give both the start and the end of the span.")
        try:
            validate_span(text, start, end)
        except ValueError as error:
            raise CodingError(f"Nothing was coded: {error}.") from error
        s, e = trim_span(text, start, end)
        return Span(s, e)
    if quote:
        found = reanchor(quote, text)
        if found is None:
            raise CodingError(f"Nothing was coded: the words “{_short(quote)}” are not in this "
                              "passage. Copy them exactly, or select them with the mouse.")
        return Span(*found)
    s, e = trim_span(text, 0, len(text))
    if s >= e:
        raise CodingError("Nothing was coded: the passage is empty.")
    return Span(s, e)


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def active_code(study: Study, code: Code | None) -> Code:
    if code is None or code.study_id != study.id:
        raise CodingError("Choose a code from this study's codebook.")
    if code.retired:
        raise CodingError(f"“{code.name}” is retired; choose an active code.")
    return code


def _unit_or_error(study: Study, ref: UnitRef) -> Unit:
    unit = load_unit(study, ref)
    if unit is None:
        raise CodingError("That passage is not part of this study.")
    return unit


def apply_codes(actor: User, study: Study, ref: UnitRef, codes: Sequence[Code], *,
                start: int | None = None, end: int | None = None, quote: str | None = None,
                memo: str = "", origin: CodingOrigin = CodingOrigin.MANUAL,
                suggestion: Suggestion | None = None) -> list[Coding]:
    """Code one span of a unit with one or more codes; overlapping codings are fine.

    Applying a code that the same coder already applied to the same span in
    the same layer changes nothing. A pending suggestion of the same code on
    the unit counts as accepted by this coding.
    """
    if not codes:
        raise CodingError("Choose at least one code.")
    unit = _unit_or_error(study, ref)
    span = resolve_span(unit, start=start, end=end, quote=quote)
    codes = [active_code(study, c) for c in dict.fromkeys(codes)]
    layer = layer_for(actor, ref)
    made = []
    for code in codes:
        existing = db.session.scalar(select(Coding).where(
            Coding.code_id == code.id, Coding.start_char == span.start,
            Coding.end_char == span.end, Coding.coder_id == actor.id,
            Coding.assignment_id.is_(layer) if layer is None else Coding.assignment_id == layer,
            *_unit_filter(Coding, ref)))
        coding = existing or Coding(
            study_id=study.id, code_id=code.id, start_char=span.start, end_char=span.end,
            quote=unit.text[span.start:span.end], coder_id=actor.id, origin=origin,
            assignment_id=layer, suggestion_id=suggestion.id if suggestion else None)
        if existing is None:
            coding.set_unit(ref)
            db.session.add(coding)
            db.session.flush()
            if suggestion is None:
                _settle_matching_suggestions(actor, study, ref, code, coding, layer)
        if memo.strip():
            add_memo(actor, study, memo, coding=coding)
        made.append(coding)
    db.session.flush()
    return made


def _unit_filter(model, ref: UnitRef) -> list:
    if ref.kind == "segment":
        return [model.segment_id == ref.id]
    return [model.comment_id == ref.id]


def _settle_matching_suggestions(actor: User, study: Study, ref: UnitRef, code: Code,
                                 coding: Coding, layer: int | None) -> None:
    for suggestion in db.session.scalars(select(Suggestion).where(
            Suggestion.study_id == study.id, Suggestion.code_id == code.id,
            *_unit_filter(Suggestion, ref))):
        if layer is None:
            if suggestion.status is not SuggestionStatus.PENDING:
                continue
            suggestion.status = SuggestionStatus.ACCEPTED
        elif db.session.scalar(select(SuggestionDecision.id).where(
                SuggestionDecision.suggestion_id == suggestion.id,
                SuggestionDecision.user_id == actor.id,
                SuggestionDecision.assignment_id == layer)):
            continue
        db.session.add(SuggestionDecision(
            suggestion_id=suggestion.id, user_id=actor.id, assignment_id=layer,
            decision=Decision.ACCEPT, code_id=code.id, coding_id=coding.id))


def _check_change(actor: User, study: Study, coding: Coding) -> None:
    if not can_change(actor, coding, study):
        if coding.assignment_id is not None:
            raise CodingError("This coding belongs to another coder's independent pass, or "
                              "the pass is closed; it cannot be changed.")
        raise CodingError("Only the coder who made this coding, or a researcher, can change "
                          "or remove it.")


def change_coding(actor: User, study: Study, coding: Coding, *, code: Code | None = None,
                  start: int | None = None, end: int | None = None,
                  quote: str | None = None) -> Coding:
    """Give a coding another code and/or another span of the same unit."""
    _check_change(actor, study, coding)
    if code is not None and code.id != coding.code_id:
        coding.code_id = active_code(study, code).id
    if start is not None or end is not None or (quote or "").strip():
        unit = _unit_or_error(study, coding.unit_ref)
        span = resolve_span(unit, start=start, end=end, quote=quote)
        coding.start_char, coding.end_char = span.start, span.end
        coding.quote = unit.text[span.start:span.end]
        coding.needs_check, coding.check_reason = False, None
    db.session.flush()
    db.session.expire(coding, ["code"])
    return coding


def confirm_coding(actor: User, study: Study, coding: Coding) -> Coding:
    """A coder looked at a coding flagged after a text edit and says its span is right."""
    _check_change(actor, study, coding)
    unit = _unit_or_error(study, coding.unit_ref)
    try:
        validate_span(unit.text, coding.start_char, coding.end_char)
    except ValueError:
        raise CodingError("The coded words were removed from the text; select the words to "
                          "code again, or remove this coding.") from None
    coding.quote = unit.text[coding.start_char:coding.end_char]
    coding.needs_check, coding.check_reason = False, None
    db.session.flush()
    return coding


def remove_coding(actor: User, study: Study, coding: Coding) -> None:
    _check_change(actor, study, coding)
    db.session.delete(coding)
    db.session.flush()


# --- memos ---------------------------------------------------------------------------------

def add_memo(actor: User, study: Study, body: str, *, coding: Coding | None = None,
             code: Code | None = None, transcript: Transcript | None = None,
             comment: Comment | None = None) -> Memo:
    body = (body or "").strip()
    if not body:
        raise CodingError("A memo needs some text.")
    if len(body) > MAX_MEMO:
        raise CodingError(f"A memo can be at most {MAX_MEMO:,} characters.")
    targets = [t for t in (coding, code, transcript, comment) if t is not None]
    if len(targets) > 1:
        raise CodingError("A memo belongs to one thing: a coding, a code, a transcript, a "
                          "comment, or the study.")
    for target in (coding, code, transcript):
        if target is not None and target.study_id != study.id:
            raise CodingError("That belongs to another study.")
    if comment is not None and comment.consultation.study_id != study.id:
        raise CodingError("That comment belongs to another study.")
    memo = Memo(study_id=study.id, author_id=actor.id, body=body,
                coding_id=coding.id if coding else None, code_id=code.id if code else None,
                transcript_id=transcript.id if transcript else None,
                comment_id=comment.id if comment else None)
    db.session.add(memo)
    db.session.flush()
    return memo


def _check_memo(actor: User, study: Study, memo: Memo) -> None:
    if memo.author_id != actor.id and study_role(actor, study) is not StudyRole.RESEARCHER:
        raise CodingError("Only the memo's author or a researcher can change it.")


def update_memo(actor: User, study: Study, memo: Memo, body: str) -> Memo:
    _check_memo(actor, study, memo)
    body = (body or "").strip()
    if not body:
        raise CodingError("A memo needs some text; delete it instead.")
    if len(body) > MAX_MEMO:
        raise CodingError(f"A memo can be at most {MAX_MEMO:,} characters.")
    memo.body = body
    db.session.flush()
    return memo


def delete_memo(actor: User, study: Study, memo: Memo) -> None:
    _check_memo(actor, study, memo)
    db.session.delete(memo)
    db.session.flush()


# --- who is speaking ---------------------------------------------------------------------

def link_speaker(actor: User, transcript: Transcript, speaker: str,
                 participant: Participant | None) -> SpeakerLink | None:
    """Say which participant a speaker label is ("" for all unlinked segments), or unlink."""
    speaker = (speaker or "").strip()
    if participant is not None and participant.study_id != transcript.study_id:
        raise CodingError("That participant belongs to another study.")
    labels = {s.speaker or "" for s in transcript.segments} | {""}
    if speaker not in labels:
        raise CodingError(f"No segment of this transcript has the speaker “{speaker}”.")
    link = db.session.scalar(select(SpeakerLink).where(
        SpeakerLink.transcript_id == transcript.id, SpeakerLink.speaker == speaker))
    if participant is None:
        if link is not None:
            db.session.delete(link)
        db.session.flush()
        return None
    if link is None:
        link = SpeakerLink(transcript_id=transcript.id, speaker=speaker)
        db.session.add(link)
    link.participant_id = participant.id
    db.session.flush()
    return link
