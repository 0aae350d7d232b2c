"""Which codings a person sees and may change: the study's codings or a blind pass.

The study's codings of record have no assignment. While a transcript has an
open independent-coding assignment, each assigned coder works in their own
layer (codings with that ``assignment_id``) and, when the assignment is
blind, sees only their own codings there. Everyone else keeps working on the
codings of record. Study-level access (member, coder, researcher) is decided
in ``engage.access``; this module only chooses layers within a study.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select

from engage.access import study_role
from models import (
    AssignmentCoder,
    AssignmentStatus,
    Coding,
    CodingAssignment,
    StudyRole,
    TranscriptSegment,
    UnitRef,
    User,
    db,
)


def open_assignment(transcript_id: int) -> CodingAssignment | None:
    return db.session.scalar(select(CodingAssignment).where(
        CodingAssignment.transcript_id == transcript_id,
        CodingAssignment.status == AssignmentStatus.OPEN))


def my_assignment(user: User, transcript_id: int | None) -> CodingAssignment | None:
    """The open assignment on the transcript that ``user`` codes in, if any."""
    if transcript_id is None:
        return None
    return db.session.scalar(
        select(CodingAssignment).join(AssignmentCoder)
        .where(CodingAssignment.transcript_id == transcript_id,
               CodingAssignment.status == AssignmentStatus.OPEN,
               AssignmentCoder.user_id == user.id))


def my_open_assignments(user: User, study_id: int) -> list[CodingAssignment]:
    return list(db.session.scalars(
        select(CodingAssignment).join(AssignmentCoder)
        .where(CodingAssignment.study_id == study_id,
               CodingAssignment.status == AssignmentStatus.OPEN,
               AssignmentCoder.user_id == user.id)))


def transcript_of(ref: UnitRef) -> int | None:
    if ref.kind != "segment":
        return None
    return db.session.scalar(select(TranscriptSegment.transcript_id)
                             .where(TranscriptSegment.id == ref.id))


def layer_for(user: User, ref: UnitRef) -> int | None:
    """The assignment id new codings by ``user`` on this unit belong to (None: of record)."""
    assignment = my_assignment(user, transcript_of(ref))
    return assignment.id if assignment else None


def visible_codings(user: User, transcript_id: int | None = None) -> Select:
    """Codings ``user`` may see on one transcript (or on comments, for None)."""
    assignment = my_assignment(user, transcript_id)
    query = select(Coding)
    if assignment is None:
        return query.where(Coding.assignment_id.is_(None))
    query = query.where(Coding.assignment_id == assignment.id)
    if assignment.blind:
        query = query.where(Coding.coder_id == user.id)
    return query


def can_change(user: User, coding: Coding, study) -> bool:
    """Coders change their own codings; researchers also those of record by others."""
    if coding.assignment_id is not None:
        assignment = db.session.get(CodingAssignment, coding.assignment_id)
        return coding.coder_id == user.id and assignment.status is AssignmentStatus.OPEN
    return coding.coder_id == user.id or study_role(user, study) is StudyRole.RESEARCHER


def pending_for(user: User, study_id: int):
    """SQL condition: a suggestion still awaits ``user``'s decision in their layer."""
    from models import Suggestion, SuggestionDecision, SuggestionStatus

    mine = my_open_assignments(user, study_id)
    if not mine:
        return Suggestion.status == SuggestionStatus.PENDING
    blind_transcripts = [a.transcript_id for a in mine]
    # Comments (no segment) are never blind; the IS NOT NULL keeps NOT IN from meeting NULL.
    in_blind = and_(Suggestion.segment_id.isnot(None), Suggestion.segment_id.in_(
        select(TranscriptSegment.id).where(TranscriptSegment.transcript_id.in_(blind_transcripts))))
    decided_by_me = select(SuggestionDecision.id).where(
        SuggestionDecision.suggestion_id == Suggestion.id,
        SuggestionDecision.user_id == user.id,
        SuggestionDecision.assignment_id.in_([a.id for a in mine])).exists()
    return or_(and_(~in_blind, Suggestion.status == SuggestionStatus.PENDING),
               and_(in_blind, ~decided_by_me))
