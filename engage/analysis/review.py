"""The review queue: coders accept, reject or re-code machine suggestions.

Accepting codes the sentence(s) holding the suggestion's evidence (the whole
unit for a classifier suggestion, which has none); the coding is attributed
to the coder and remembers its suggestion. Every decision is stored, so
learning can read what coders thought, and so that in a blind pass each
coder decides independently.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import Select, func, select

from coding.anchoring import cover, sentence_span
from engage.analysis.layers import layer_for, pending_for
from engage.analysis.operations import CodingError, active_code, apply_codes
from engage.analysis.units import load_unit, unit_ids_in_group
from models import (
    Code,
    CodingOrigin,
    Comment,
    Consultation,
    Decision,
    Study,
    Suggestion,
    SuggestionDecision,
    SuggestionStatus,
    Transcript,
    TranscriptSegment,
    User,
    db,
)

ORDERS = (("confidence", "Highest confidence first"), ("document", "Document order"))


@dataclass
class QueueFilter:
    code: int | None = None
    transcript: int | None = None
    source: str = ""  # "", "transcript" or "comment"
    group: str = ""
    min_confidence: float | None = None
    max_confidence: float | None = None
    order: str = "confidence"

    def as_args(self) -> dict[str, object]:
        """Query-string arguments that reproduce this filter (empty ones left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) not in (None, "")}


def review_query(actor: User, study: Study, f: QueueFilter) -> Select:
    query = (select(Suggestion).join(Code, Suggestion.code_id == Code.id)
             .outerjoin(TranscriptSegment, Suggestion.segment_id == TranscriptSegment.id)
             .where(Suggestion.study_id == study.id, Code.retired.is_(False),
                    pending_for(actor, study.id)))
    if f.code:
        query = query.where(Suggestion.code_id == f.code)
    if f.transcript:
        query = query.where(TranscriptSegment.transcript_id == f.transcript)
    if f.source == "transcript":
        query = query.where(Suggestion.segment_id.isnot(None))
    elif f.source == "comment":
        query = query.where(Suggestion.comment_id.isnot(None))
    if f.group:
        segment_ids, comment_ids = unit_ids_in_group(study, f.group)
        query = query.where((Suggestion.segment_id.in_(segment_ids or [-1]))
                            | (Suggestion.comment_id.in_(comment_ids or [-1])))
    if f.min_confidence is not None:
        query = query.where(Suggestion.confidence >= f.min_confidence)
    if f.max_confidence is not None:
        query = query.where(Suggestion.confidence <= f.max_confidence)
    if f.order == "document":
        return query.order_by(TranscriptSegment.transcript_id, TranscriptSegment.position,
                              Suggestion.comment_id, Suggestion.confidence.desc(),
                              Suggestion.id)
    return query.order_by(Suggestion.confidence.desc(), Suggestion.id)


@dataclass(frozen=True)
class QueueItem:
    suggestion: Suggestion | None
    index: int
    total: int


def queue_item(actor: User, study: Study, f: QueueFilter, index: int = 0) -> QueueItem:
    query = review_query(actor, study, f)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    index = max(0, min(index, max(total - 1, 0)))
    suggestion = db.session.scalar(query.offset(index).limit(1)) if total else None
    return QueueItem(suggestion, index, total)


def is_pending_for(actor: User, suggestion: Suggestion) -> bool:
    return db.session.scalar(select(func.count(Suggestion.id)).where(
        Suggestion.id == suggestion.id, pending_for(actor, suggestion.study_id))) == 1


def accepted_span(text: str, suggestion: Suggestion) -> tuple[int, int]:
    """The sentences that hold the evidence; the whole text without evidence."""
    spans = [(e["start"], e["end"]) for e in suggestion.evidence or []
             if 0 <= e["start"] < e["end"] <= len(text)
             and text[e["start"]:e["end"]] == e["text"]]
    covered = cover(spans)
    if covered is None:
        return sentence_span(text, 0, len(text)) if text.strip() else (0, len(text))
    return sentence_span(text, *covered)


def decide(actor: User, study: Study, suggestion: Suggestion, decision: Decision,
           code: Code | None = None) -> SuggestionDecision:
    """Record a coder's decision; accepting or changing codes the passage."""
    if suggestion.study_id != study.id:
        raise CodingError("That suggestion belongs to another study.")
    if not is_pending_for(actor, suggestion):
        raise CodingError("This suggestion has already been decided; the queue moved on.")
    ref = suggestion.unit_ref
    layer = layer_for(actor, ref)
    coding = None
    applied: Code | None = None
    if decision is Decision.ACCEPT:
        applied = active_code(study, suggestion.code)
    elif decision is Decision.CHANGE:
        applied = active_code(study, code)
        if applied.id == suggestion.code_id:
            decision = Decision.ACCEPT
    if applied is not None:
        unit = load_unit(study, ref)
        if unit is None:
            raise CodingError("The passage of this suggestion is gone.")
        start, end = accepted_span(unit.text, suggestion)
        (coding,) = apply_codes(actor, study, ref, [applied], start=start, end=end,
                                origin=CodingOrigin.SUGGESTION, suggestion=suggestion)
    record = SuggestionDecision(
        suggestion_id=suggestion.id, user_id=actor.id, assignment_id=layer, decision=decision,
        code_id=applied.id if applied else None, coding_id=coding.id if coding else None)
    db.session.add(record)
    if layer is None:
        suggestion.status = {Decision.ACCEPT: SuggestionStatus.ACCEPTED,
                             Decision.REJECT: SuggestionStatus.REJECTED,
                             Decision.CHANGE: SuggestionStatus.CHANGED}[decision]
    db.session.flush()
    return record


def queue_filters_choices(study: Study) -> dict[str, list[tuple[object, str]]]:
    """Options for the queue's filter form: transcripts, stakeholder groups."""
    transcripts = db.session.execute(
        select(Transcript.id, Transcript.title).where(
            Transcript.study_id == study.id, Transcript.is_current.is_(True))
        .order_by(Transcript.title)).all()
    groups = [g.name for g in study.stakeholder_groups]
    others = {str(a.get("stakeholder_group")) for (a,) in db.session.execute(
        select(Comment.answers).join(Consultation).where(Consultation.study_id == study.id))
        if a and a.get("stakeholder_group")}
    return {"transcripts": [(t.id, t.title) for t in transcripts],
            "groups": [(g, g) for g in groups + sorted(others - set(groups))]}
