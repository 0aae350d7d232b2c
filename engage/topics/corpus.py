"""The documents of a topic run: transcript segments and comments matching the filters.

A document is what a coder would read: a segment's text, or a comment's
public (redacted) text, never the personal data only a researcher may see.
Each carries what the topic browser splits by: source, stakeholder group
(a speaker linked to a participant, or the group a commenter chose), session
kind (when the recording belongs to a scheduled session), a date, and its
campaign.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from coding.topics import clean_text
from engage.consultations.moderation import ANALYSED, public_text
from models import (
    Comment,
    Consultation,
    Participant,
    SessionKind,
    SpeakerLink,
    StakeholderGroup,
    Study,
    StudySession,
    Transcript,
    TranscriptSegment,
    db,
)
from models.scheduling import session_recording

SOURCES = ("all", "transcripts", "comments")
NO_GROUP = "Not recorded"
PUBLIC_COMMENT = "Public comment"
NO_SESSION = "No session linked"


@dataclass
class CorpusFilters:
    source: str = "all"
    session_kinds: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    consultation_ids: list[int] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    campaigns: str = "n"  # "one": a campaign counts as one voice

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["date_from"] = self.date_from.isoformat() if self.date_from else None
        data["date_to"] = self.date_to.isoformat() if self.date_to else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusFilters:
        def day(value):
            return date.fromisoformat(value) if value else None

        return cls(source=data.get("source") or "all",
                   session_kinds=list(data.get("session_kinds") or []),
                   groups=list(data.get("groups") or []),
                   consultation_ids=[int(i) for i in data.get("consultation_ids") or []],
                   date_from=day(data.get("date_from")), date_to=day(data.get("date_to")),
                   campaigns=data.get("campaigns") or "n")

    def describe(self) -> str:
        parts = [{"all": "transcript segments and comments", "transcripts":
                  "transcript segments", "comments": "comments"}.get(self.source, self.source)]
        if self.session_kinds:
            parts.append("sessions: " + ", ".join(
                SessionKind(k).label if k in SessionKind._value2member_map_ else k
                for k in self.session_kinds))
        if self.groups:
            parts.append("groups: " + ", ".join(self.groups))
        if self.consultation_ids:
            parts.append(f"{len(self.consultation_ids)} consultation(s)")
        if self.date_from or self.date_to:
            parts.append(f"dated {self.date_from or '…'} to {self.date_to or '…'}")
        parts.append("campaigns counted as one voice" if self.campaigns == "one"
                     else "each campaign member counted")
        return "; ".join(parts)


@dataclass
class CorpusDocument:
    segment_id: int | None
    comment_id: int | None
    text: str
    source: str  # "transcript" or "comment"
    stakeholder_group: str | None
    session_kind: str | None
    dated_at: datetime | None
    campaign_id: int | None = None
    representative: bool = True  # fitted when campaigns count as one voice
    weight: float = 1.0

    @property
    def key(self) -> str:
        return f"segment:{self.segment_id}" if self.segment_id is not None \
            else f"comment:{self.comment_id}"


def build_corpus(study: Study, filters: CorpusFilters) -> list[CorpusDocument]:
    docs: list[CorpusDocument] = []
    if filters.source in ("all", "transcripts"):
        docs += _segments(study, filters)
    if filters.source in ("all", "comments"):
        docs += _comments(study, filters)
    docs = [d for d in docs if len(clean_text(d.text)) >= 3]
    if filters.groups:
        wanted = set(filters.groups)
        docs = [d for d in docs if (d.stakeholder_group or NO_GROUP) in wanted]
    start = datetime.combine(filters.date_from, time.min, UTC) if filters.date_from else None
    end = (datetime.combine(filters.date_to, time.min, UTC) + timedelta(days=1)
           if filters.date_to else None)
    if start or end:
        docs = [d for d in docs if d.dated_at is not None
                and (start is None or d.dated_at >= start) and (end is None or d.dated_at < end)]
    _weigh_campaigns(docs, filters.campaigns)
    return docs


def session_kinds_of(transcripts: Sequence[Transcript]) -> dict[int, StudySession]:
    """transcript id -> the scheduled session its recording belongs to."""
    recording_ids = {t.recording_id for t in transcripts if t.recording_id}
    if not recording_ids:
        return {}
    rows = db.session.execute(
        select(session_recording.c.recording_id, StudySession)
        .join(StudySession, StudySession.id == session_recording.c.session_id)
        .where(session_recording.c.recording_id.in_(recording_ids))).all()
    by_recording = {recording_id: session for recording_id, session in rows}
    return {t.id: by_recording[t.recording_id] for t in transcripts
            if t.recording_id in by_recording}


def speaker_groups(transcript_ids: Sequence[int]) -> dict[int, dict[str, tuple[int, str | None]]]:
    """transcript id -> speaker label ("" = everyone else) -> (participant id, group name)."""
    if not transcript_ids:
        return {}
    rows = db.session.execute(
        select(SpeakerLink.transcript_id, SpeakerLink.speaker, Participant.id,
               StakeholderGroup.name)
        .join(Participant, SpeakerLink.participant_id == Participant.id)
        .outerjoin(StakeholderGroup, Participant.stakeholder_group_id == StakeholderGroup.id)
        .where(SpeakerLink.transcript_id.in_(list(transcript_ids)))).all()
    out: dict[int, dict[str, tuple[int, str | None]]] = {}
    for transcript_id, speaker, participant_id, group in rows:
        out.setdefault(transcript_id, {})[speaker or ""] = (participant_id, group)
    return out


def speaker_link(links: dict[str, tuple[int, str | None]],
                 speaker: str | None) -> tuple[int, str | None] | None:
    if speaker and speaker in links:
        return links[speaker]
    return links.get("")


def _segments(study: Study, filters: CorpusFilters) -> list[CorpusDocument]:
    transcripts = list(db.session.scalars(select(Transcript).where(
        Transcript.study_id == study.id, Transcript.is_current.is_(True))
        .order_by(Transcript.id)))
    if not transcripts:
        return []
    sessions = session_kinds_of(transcripts)
    if filters.session_kinds:
        wanted = set(filters.session_kinds)
        transcripts = [t for t in transcripts
                       if t.id in sessions and sessions[t.id].kind.value in wanted]
    links = speaker_groups([t.id for t in transcripts])
    docs = []
    for transcript in transcripts:
        session = sessions.get(transcript.id)
        dated = session.starts_at if session else transcript.created_at
        kind = session.kind.label if session else NO_SESSION
        for segment in db.session.scalars(select(TranscriptSegment).where(
                TranscriptSegment.transcript_id == transcript.id)
                .order_by(TranscriptSegment.position)):
            link = speaker_link(links.get(transcript.id, {}), segment.speaker)
            docs.append(CorpusDocument(
                segment.id, None, segment.text, "transcript", link[1] if link else None, kind,
                dated + timedelta(milliseconds=segment.start_ms) if dated else None))
    return docs


def comment_group(comment: Comment) -> str | None:
    value = (comment.answers or {}).get("stakeholder_group")
    return str(value) if value else None


def _comments(study: Study, filters: CorpusFilters) -> list[CorpusDocument]:
    if filters.session_kinds:
        return []  # comments come from no session
    query = (select(Comment).join(Consultation)
             .where(Consultation.study_id == study.id, Comment.status.in_(ANALYSED))
             .order_by(Comment.consultation_id, Comment.id))
    if filters.consultation_ids:
        query = query.where(Comment.consultation_id.in_(filters.consultation_ids))
    return [CorpusDocument(None, c.id, public_text(c), "comment", comment_group(c),
                           PUBLIC_COMMENT, c.created_at, c.campaign_id)
            for c in db.session.scalars(query)]


def _weigh_campaigns(docs: list[CorpusDocument], mode: str) -> None:
    """Weights per the campaign setting; in "one" mode only one member per campaign is
    fitted (the campaign's representative when it is in the corpus)."""
    from coding.form_letters import comment_weights

    comments = [d for d in docs if d.comment_id is not None]
    weights = comment_weights(((d.comment_id, d.campaign_id) for d in comments),
                              "one" if mode == "one" else "n")
    for d in comments:
        d.weight = weights.get(d.comment_id, 1.0)
    if mode != "one":
        return
    from models import Campaign

    campaign_ids = {d.campaign_id for d in comments if d.campaign_id is not None}
    representatives = dict(db.session.execute(select(Campaign.id, Campaign.representative_id)
                                              .where(Campaign.id.in_(campaign_ids))).all()) \
        if campaign_ids else {}
    present = {d.comment_id for d in comments}
    chosen: dict[int, int] = {}
    for d in comments:
        if d.campaign_id is None:
            continue
        rep = representatives.get(d.campaign_id)
        chosen.setdefault(d.campaign_id, rep if rep in present else d.comment_id)
    for d in comments:
        d.representative = d.campaign_id is None or chosen[d.campaign_id] == d.comment_id
