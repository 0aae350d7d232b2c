"""Carrying coders' work over when a recording is transcribed again.

A new transcription becomes the recording's current transcript and the old
one stays as history, untouched apart from what moves off it. What was done
on the old one follows (``coding.carry_over`` finds the words again):

* codings of record, and codings of an open independent-coding pass, are
  copied onto the new segments with the same code, coder, origin, suggestion
  and date; their memos move with them. A coding whose words changed, were
  split across segments or were not found is still carried (to the passage
  heard at the same time) but flagged ``needs_check`` with the reason;
* an open independent-coding pass moves: a new pass on the new transcript
  with the same coders, its rulings carried to the new segments; the old pass
  is cancelled, its layers kept for the record. Layers of closed passes are
  history and stay;
* speaker links are copied where the new transcript has the same speaker
  label ("" — every unlabelled segment — always carries);
* theme quotes move when their words are found unchanged in one segment;
  otherwise they stay on the old segment and the summary says so;
* memos on the transcript move to the new one;
* pending suggestions are dropped: the tagger proposes again from the new text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select, update

from coding.carry_over import NewTranscript, TimedText, short
from engage.audit import record
from models import (
    Adjudication,
    AssignmentCoder,
    AssignmentStatus,
    Coding,
    CodingAssignment,
    Memo,
    SpeakerLink,
    Suggestion,
    SuggestionStatus,
    ThemeEvidence,
    Transcript,
    TranscriptSegment,
    User,
    db,
    utcnow,
)


@dataclass
class CarryOver:
    """What a re-transcription carried over, for the job's message and the audit log."""

    carried: int = 0  # codings now on the new transcript, flagged ones included
    flagged: int = 0  # of those, how many need a person to check the span
    not_carried: int = 0
    speaker_links: int = 0
    speakers_left: list[str] = field(default_factory=list)  # labels the new text lacks
    evidence_moved: int = 0
    evidence_left: list[str] = field(default_factory=list)  # theme quotes not found
    memos_moved: int = 0
    suggestions_dropped: int = 0
    assignments_moved: int = 0

    def message(self) -> str:
        """The summary a researcher reads, e.g. "12 codings carried over to the new
        transcript, 2 need checking."; "" when there was nothing to carry."""
        sentences = []
        if self.carried or self.not_carried:
            text = f"{_count(self.carried, 'coding')} carried over to the new transcript"
            if self.flagged:
                text += f", {self.flagged} need{'s' if self.flagged == 1 else ''} checking"
            if self.not_carried:
                text += f", {self.not_carried} could not be carried"
            sentences.append(text)
        if self.evidence_left:
            quotes = ", ".join(f"“{short(q, 40)}”" for q in self.evidence_left[:3])
            more = len(self.evidence_left) - 3
            sentences.append(
                f"{_count(len(self.evidence_left), 'theme quote')} stayed on the old "
                f"transcript because the words changed: {quotes}"
                + (f" and {more} more" if more > 0 else ""))
        if self.speakers_left:
            labels = ", ".join(f"“{s}”" for s in self.speakers_left)
            sentences.append(f"The new transcript has no speaker {labels}: link its "
                             "speakers to participants again")
        return " ".join(f"{s}." for s in sentences)

    def as_detail(self) -> dict:
        return {"carried": self.carried, "flagged": self.flagged,
                "not_carried": self.not_carried, "speaker_links": self.speaker_links,
                "speakers_left": self.speakers_left, "evidence_moved": self.evidence_moved,
                "evidence_left": len(self.evidence_left), "memos_moved": self.memos_moved,
                "suggestions_dropped": self.suggestions_dropped,
                "assignments_moved": self.assignments_moved}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _on(column, transcript: Transcript):
    """``column`` (a segment id) points into ``transcript``."""
    return column.in_(select(TranscriptSegment.id).where(
        TranscriptSegment.transcript_id == transcript.id))


def _timed(segment: TranscriptSegment) -> TimedText:
    return TimedText(segment.id, segment.start_ms, segment.end_ms, segment.text)


def carry_over(old: Transcript, new: Transcript, *, actor_id: int | None = None) -> CarryOver:
    """Carry the work on ``old`` over to ``new`` (see the module docstring); flushes."""
    summary = CarryOver()
    if old.id == new.id:
        return summary
    old_segments = {s.id: _timed(s) for s in old.segments}
    finder = NewTranscript([_timed(s) for s in new.segments])
    passes = _move_open_passes(old, new, actor_id, summary)
    copies = _carry_codings(old, old_segments, finder, passes, summary)
    _carry_rulings(passes, old_segments, finder, copies)
    _carry_evidence(old, old_segments, finder, copies, summary)
    _carry_speaker_links(old, new, summary)
    summary.memos_moved += db.session.execute(update(Memo).where(
        Memo.transcript_id == old.id).values(transcript_id=new.id)).rowcount
    summary.suggestions_dropped = db.session.execute(delete(Suggestion).where(
        _on(Suggestion.segment_id, old), Suggestion.status == SuggestionStatus.PENDING)).rowcount
    db.session.flush()
    if summary.message() or summary.memos_moved or summary.suggestions_dropped:
        actor = db.session.get(User, actor_id) if actor_id else None
        record("transcript.carry_over", actor, study_id=new.study_id,
               target=("transcript", new.id), from_transcript=old.id, **summary.as_detail())
    return summary


def _carry_codings(old: Transcript, old_segments: dict[int, TimedText], finder: NewTranscript,
                   passes: dict[int, CodingAssignment], summary: CarryOver
                   ) -> dict[int, list[Coding]]:
    """Copy the codings; returns old coding id -> its copies (one per part)."""
    copies: dict[int, list[Coding]] = {}
    codings = db.session.scalars(select(Coding).where(_on(Coding.segment_id, old))
                                 .order_by(Coding.id)).all()
    for coding in codings:
        if coding.assignment_id is not None and coding.assignment_id not in passes:
            continue  # a closed independent pass: history, like the transcript it was on
        match = finder.find(old_segments[coding.segment_id], coding.start_char,
                            coding.end_char, coding.quote)
        if match is None:
            summary.not_carried += 1
            continue
        reasons = [match.reason, coding.check_reason if coding.needs_check else None]
        reason = "; ".join(r for r in reasons if r) or None
        made = []
        for part in match.parts:
            made.append(Coding(
                study_id=coding.study_id, code_id=coding.code_id, segment_id=part.key,
                start_char=part.start, end_char=part.end,
                quote=part.text if match.words_kept else coding.quote,
                coder_id=coding.coder_id, origin=coding.origin,
                assignment_id=passes[coding.assignment_id].id if coding.assignment_id else None,
                suggestion_id=coding.suggestion_id, created_at=coding.created_at,
                needs_check=coding.needs_check or match.needs_check,
                check_reason=reason if (coding.needs_check or match.needs_check) else None))
        db.session.add_all(made)
        for memo in list(coding.memos):
            memo.coding = made[0]
            summary.memos_moved += 1
        copies[coding.id] = made
        summary.carried += 1
        summary.flagged += bool(made[0].needs_check)
    db.session.flush()
    return copies


def _carry_evidence(old: Transcript, old_segments: dict[int, TimedText],
                    finder: NewTranscript, copies: dict[int, list[Coding]],
                    summary: CarryOver) -> None:
    for evidence in db.session.scalars(select(ThemeEvidence).where(
            _on(ThemeEvidence.segment_id, old)).order_by(ThemeEvidence.id)):
        match = finder.find(old_segments[evidence.segment_id], evidence.start_char,
                            evidence.end_char, evidence.quote)
        place = match.whole if match is not None else None
        if place is None:
            summary.evidence_left.append(evidence.quote)
            continue
        evidence.segment_id, evidence.start_char, evidence.end_char = (
            place.key, place.start, place.end)
        evidence.quote = place.text
        if evidence.coding_id in copies:
            evidence.coding_id = copies[evidence.coding_id][0].id
        summary.evidence_moved += 1


def _carry_speaker_links(old: Transcript, new: Transcript, summary: CarryOver) -> None:
    labels = {s.speaker or "" for s in new.segments} | {""}
    taken = set(db.session.scalars(select(SpeakerLink.speaker).where(
        SpeakerLink.transcript_id == new.id)))
    for link in db.session.scalars(select(SpeakerLink).where(
            SpeakerLink.transcript_id == old.id).order_by(SpeakerLink.speaker)):
        if link.speaker not in labels:
            summary.speakers_left.append(link.speaker)
        elif link.speaker not in taken:
            db.session.add(SpeakerLink(transcript_id=new.id, speaker=link.speaker,
                                       participant_id=link.participant_id))
            summary.speaker_links += 1


def _move_open_passes(old: Transcript, new: Transcript, actor_id: int | None,
                      summary: CarryOver) -> dict[int, CodingAssignment]:
    """Open independent passes go on on the new transcript; returns old id -> new pass."""
    moved: dict[int, CodingAssignment] = {}
    for assignment in db.session.scalars(select(CodingAssignment).where(
            CodingAssignment.transcript_id == old.id,
            CodingAssignment.status == AssignmentStatus.OPEN)).all():
        twin = CodingAssignment(study_id=assignment.study_id, transcript_id=new.id,
                                blind=assignment.blind, created_by_id=assignment.created_by_id,
                                created_at=assignment.created_at)
        twin.coders = [AssignmentCoder(user_id=c.user_id, done_at=c.done_at)
                       for c in assignment.coders]
        db.session.add(twin)
        assignment.status = AssignmentStatus.CANCELLED
        assignment.closed_by_id, assignment.closed_at = actor_id, utcnow()
        moved[assignment.id] = twin
        summary.assignments_moved += 1
    db.session.flush()
    return moved


def _carry_rulings(passes: dict[int, CodingAssignment], old_segments: dict[int, TimedText],
                   finder: NewTranscript, copies: dict[int, list[Coding]]) -> None:
    """A ruling goes where the layer codings it rules on went (else to the same time)."""
    landed: dict[tuple[int, int, int], list[int]] = {}
    for coding in db.session.scalars(select(Coding).where(
            Coding.assignment_id.in_(list(passes)))):
        key = (coding.assignment_id, coding.segment_id, coding.code_id)
        landed.setdefault(key, []).extend(c.segment_id for c in copies.get(coding.id, []))
    for old_id, twin in passes.items():
        ruled: set[tuple[int, int]] = set()
        for ruling in db.session.scalars(select(Adjudication).where(
                Adjudication.assignment_id == old_id).order_by(Adjudication.id)):
            targets = landed.get((old_id, ruling.segment_id, ruling.code_id))
            if not targets and ruling.segment_id in old_segments:
                old = old_segments[ruling.segment_id]
                best = finder.best_segment(old.start_ms, old.end_ms)
                targets = [best.key] if best else []
            for segment_id in dict.fromkeys(targets or []):
                if (segment_id, ruling.code_id) in ruled:
                    continue
                ruled.add((segment_id, ruling.code_id))
                db.session.add(Adjudication(
                    assignment_id=twin.id, segment_id=segment_id, code_id=ruling.code_id,
                    apply_from_id=ruling.apply_from_id, apply=ruling.apply, note=ruling.note,
                    decided_by_id=ruling.decided_by_id, decided_at=ruling.decided_at))
    db.session.flush()
