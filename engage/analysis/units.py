"""Units of coding: transcript segments and public comments behind one interface.

Everything that codes, tags, reviews, compares or counts asks this module for
units, so a segment and a comment are handled by the same code. A unit's text
is what coders are shown: a segment's text, or a comment's public (redacted)
text, never the personal data a researcher alone may read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from engage.consultations.moderation import public_text
from models import (
    Comment,
    CommentStatus,
    Consultation,
    Participant,
    SpeakerLink,
    StakeholderGroup,
    Study,
    Transcript,
    TranscriptSegment,
    UnitRef,
    db,
)

SOURCES = ("transcript", "comment")
# Comments worth coding: not rejected, not held as automated.
CODED_COMMENT_STATUSES = (CommentStatus.PENDING, CommentStatus.APPROVED, CommentStatus.FLAGGED)
PUBLIC_COMMENT = "Public comment"
NO_SESSION = "Transcript (no session linked)"
NO_GROUP = "Not recorded"


@dataclass(frozen=True)
class Unit:
    ref: UnitRef
    text: str
    source: str  # "transcript" or "comment"
    document_id: int  # the transcript, or the consultation
    document: str
    position: int
    speaker: str | None = None
    stakeholder_group: str | None = None
    session_kind: str = NO_SESSION
    start_ms: int | None = None
    external_id: str | None = None

    @property
    def group_label(self) -> str:
        return self.stakeholder_group or NO_GROUP

    @property
    def label(self) -> str:
        if self.source == "transcript":
            seconds = (self.start_ms or 0) // 1000
            clock = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" \
                if seconds >= 3600 else f"{seconds // 60:02d}:{seconds % 60:02d}"
            who = f" · {self.speaker}" if self.speaker else ""
            return f"{self.document} · {clock}{who}"
        ident = f" ({self.external_id})" if self.external_id else ""
        return f"Comment {self.ref.id}{ident} · {self.document}"


def _session_kind(transcript: Transcript) -> str:
    # A recording is linked to the scheduled session it was made in on the session's
    # page; until then there is no kind to report.
    sessions = transcript.recording.sessions if transcript.recording else []
    if not sessions:
        return NO_SESSION
    kind = sessions[0].kind
    return str(getattr(kind, "label", kind))


def speaker_groups(transcript_ids: Iterable[int]) -> dict[int, dict[str, str | None]]:
    """transcript id -> speaker label ("" for everyone else) -> stakeholder group name."""
    ids = list(set(transcript_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(SpeakerLink.transcript_id, SpeakerLink.speaker, StakeholderGroup.name)
        .join(Participant, SpeakerLink.participant_id == Participant.id)
        .outerjoin(StakeholderGroup, Participant.stakeholder_group_id == StakeholderGroup.id)
        .where(SpeakerLink.transcript_id.in_(ids))).all()
    out: dict[int, dict[str, str | None]] = {}
    for transcript_id, speaker, group in rows:
        out.setdefault(transcript_id, {})[speaker] = group
    return out


def group_of(links: dict[str, str | None], speaker: str | None) -> str | None:
    if speaker and speaker in links:
        return links[speaker]
    return links.get("")


def segment_units(segments: Sequence[TranscriptSegment]) -> list[Unit]:
    transcripts = {s.transcript_id: s.transcript for s in segments}
    links = speaker_groups(transcripts)
    return [Unit(UnitRef("segment", s.id), s.text, "transcript", s.transcript_id,
                 transcripts[s.transcript_id].title, s.position, s.speaker,
                 group_of(links.get(s.transcript_id, {}), s.speaker),
                 _session_kind(transcripts[s.transcript_id]), s.start_ms)
            for s in segments]


def comment_group(comment: Comment) -> str | None:
    """The stakeholder group the commenter chose on the form, if the form asked."""
    value = (comment.answers or {}).get("stakeholder_group")
    return str(value) if value else None


def comment_units(comments: Sequence[Comment]) -> list[Unit]:
    return [Unit(UnitRef("comment", c.id), public_text(c), "comment", c.consultation_id,
                 c.consultation.title, c.id, None, comment_group(c), PUBLIC_COMMENT, None,
                 c.external_id)
            for c in comments]


def transcript_units(transcript: Transcript) -> list[Unit]:
    return segment_units(list(transcript.segments))


def load_units(study: Study, refs: Iterable[UnitRef]) -> dict[UnitRef, Unit]:
    """The units behind ``refs`` that belong to ``study``; others are left out."""
    refs = set(refs)
    segment_ids = [r.id for r in refs if r.kind == "segment"]
    comment_ids = [r.id for r in refs if r.kind == "comment"]
    units: list[Unit] = []
    for chunk in _chunks(segment_ids):
        units += segment_units(db.session.scalars(
            select(TranscriptSegment).join(Transcript)
            .where(TranscriptSegment.id.in_(chunk), Transcript.study_id == study.id)).all())
    for chunk in _chunks(comment_ids):
        units += comment_units(db.session.scalars(
            select(Comment).join(Consultation)
            .where(Comment.id.in_(chunk), Consultation.study_id == study.id)).all())
    return {u.ref: u for u in units}


def load_unit(study: Study, ref: UnitRef) -> Unit | None:
    return load_units(study, [ref]).get(ref)


def study_units(study: Study, *, sources: Sequence[str] = SOURCES,
                transcript_id: int | None = None) -> list[Unit]:
    """Every unit of the study worth coding: current transcripts' segments, live comments."""
    units: list[Unit] = []
    if "transcript" in sources:
        query = (select(TranscriptSegment).join(Transcript)
                 .where(Transcript.study_id == study.id)
                 .order_by(Transcript.id, TranscriptSegment.position))
        query = (query.where(Transcript.id == transcript_id) if transcript_id
                 else query.where(Transcript.is_current.is_(True)))
        units += segment_units(db.session.scalars(query).all())
    if "comment" in sources and transcript_id is None:
        units += comment_units(db.session.scalars(
            select(Comment).join(Consultation)
            .where(Consultation.study_id == study.id,
                   Comment.status.in_(CODED_COMMENT_STATUSES))
            .order_by(Comment.consultation_id, Comment.id)).all())
    return units


def unit_ids_in_group(study: Study, group: str) -> tuple[list[int], list[int]]:
    """(segment ids, comment ids) of the study whose stakeholder group is ``group``."""
    links = speaker_groups(db.session.scalars(
        select(SpeakerLink.transcript_id).join(Transcript)
        .where(Transcript.study_id == study.id)).all())
    segment_ids = []
    if links:
        rows = db.session.execute(
            select(TranscriptSegment.id, TranscriptSegment.transcript_id,
                   TranscriptSegment.speaker)
            .where(TranscriptSegment.transcript_id.in_(list(links)))).all()
        segment_ids = [sid for sid, tid, speaker in rows
                       if group_of(links[tid], speaker) == group]
    comments = db.session.execute(
        select(Comment.id, Comment.answers).join(Consultation)
        .where(Consultation.study_id == study.id)).all()
    comment_ids = [cid for cid, answers in comments
                   if (answers or {}).get("stakeholder_group") == group]
    return segment_ids, comment_ids


def _chunks(ids: list[int], size: int = 900):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]
