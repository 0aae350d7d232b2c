"""Themes: building them from topics, codes and quotes, and counting their support.

Evidence is a quote: a span of a transcript segment or of a comment's public
(redacted) text, in Unicode code points like codings. A theme's support is
every document behind it: its quotes, the documents of its topics (noise
left out) and the units coded with its codes (codings of record only);
counts by stakeholder group are of those distinct documents.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from engage.topics.corpus import NO_GROUP, comment_group, speaker_groups, speaker_link
from engage.topics.operations import document_texts, split_keys
from models import (
    Code,
    Coding,
    Comment,
    Consultation,
    Study,
    Theme,
    ThemeEvidence,
    ThemeStatus,
    Topic,
    TopicAssignment,
    TopicRun,
    Transcript,
    TranscriptSegment,
    User,
    db,
)


class ThemeError(ValueError):
    """A change to a theme that cannot be made; the message says why."""


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ThemeError("Give the theme a name.")
    if len(name) > 200:
        raise ThemeError("A theme name can have at most 200 characters.")
    return name


def create_theme(actor: User, study: Study, name: str, summary: str = "") -> Theme:
    position = db.session.scalar(select(func.coalesce(func.max(Theme.position), -1))
                                 .where(Theme.study_id == study.id)) + 1
    theme = Theme(study_id=study.id, name=_clean_name(name), summary=(summary or "").strip(),
                  created_by_id=actor.id if actor else None, position=position)
    db.session.add(theme)
    db.session.flush()
    return theme


def update_theme(actor: User, theme: Theme, *, name: str, summary: str,
                 status: ThemeStatus | str) -> Theme:
    theme.name = _clean_name(name)
    theme.summary = (summary or "").strip()
    theme.status = ThemeStatus(status)
    db.session.flush()
    return theme


def delete_theme(actor: User, theme: Theme) -> None:
    db.session.delete(theme)
    db.session.flush()


def set_topics(actor: User, theme: Theme, topics: Sequence[Topic]) -> None:
    for topic in topics:
        run = db.session.get(TopicRun, topic.run_id)
        if run is None or run.study_id != theme.study_id:
            raise ThemeError("A theme can only use topics of its own study.")
    theme.topics = list(topics)
    db.session.flush()


def set_codes(actor: User, theme: Theme, codes: Sequence[Code]) -> None:
    if any(code.study_id != theme.study_id for code in codes):
        raise ThemeError("A theme can only use codes of its own study.")
    theme.codes = list(codes)
    db.session.flush()


def unit_text(study: Study, key: str) -> str | None:
    """The text of ``segment:ID`` or ``comment:ID`` if it belongs to ``study``."""
    segment_ids, comment_ids = split_keys([key])
    if segment_ids:
        ok = db.session.scalar(select(TranscriptSegment.id).join(Transcript).where(
            TranscriptSegment.id == segment_ids[0], Transcript.study_id == study.id))
    else:
        ok = db.session.scalar(select(Comment.id).join(Consultation).where(
            Comment.id == comment_ids[0], Consultation.study_id == study.id))
    return document_texts([key]).get(key) if ok else None


def add_evidence(actor: User, theme: Theme, key: str, *, quote: str = "",
                 start: int | None = None, end: int | None = None, note: str = "",
                 coding: Coding | None = None, topic: Topic | None = None) -> ThemeEvidence:
    """Add a quote from a unit: its exact words (``quote``), a span, or the whole text."""
    study = db.session.get(Study, theme.study_id)
    try:
        text = unit_text(study, key)
    except ValueError:
        text = None
    if text is None:
        raise ThemeError(f"There is no transcript segment or comment {key!r} in this study.")
    if quote.strip():
        # The exact words, allowing any run of whitespace between them.
        pattern = r"\s+".join(re.escape(word) for word in quote.split())
        match = re.search(pattern, text)
        if match is None:
            raise ThemeError("Those words are not in that document; copy them exactly.")
        start, end = match.span()
    if start is None or end is None:
        start, end = 0, len(text)
    if not 0 <= start <= end <= len(text):
        raise ThemeError("That span is outside the document's text.")
    if start == end:
        raise ThemeError("A quote needs at least one character.")
    segment_ids, comment_ids = split_keys([key])
    position = len(theme.evidence)
    evidence = ThemeEvidence(
        theme_id=theme.id, segment_id=segment_ids[0] if segment_ids else None,
        comment_id=comment_ids[0] if comment_ids else None, start_char=start, end_char=end,
        quote=text[start:end], note=(note or "").strip(), position=position,
        coding_id=coding.id if coding else None, topic_id=topic.id if topic else None,
        added_by_id=actor.id if actor else None)
    theme.evidence.append(evidence)
    db.session.flush()
    return evidence


def add_coding_evidence(actor: User, theme: Theme, coding: Coding) -> ThemeEvidence:
    if coding.study_id != theme.study_id:
        raise ThemeError("That coding belongs to another study.")
    return add_evidence(actor, theme, str(coding.unit_ref), start=coding.start_char,
                        end=coding.end_char, coding=coding)


def remove_evidence(actor: User, evidence: ThemeEvidence) -> None:
    theme = evidence.theme
    theme.evidence.remove(evidence)
    for position, item in enumerate(theme.evidence):
        item.position = position
    db.session.flush()


def move_evidence(actor: User, evidence: ThemeEvidence, direction: str) -> None:
    items = list(evidence.theme.evidence)
    i = items.index(evidence)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]
        for position, item in enumerate(items):
            item.position = position
    db.session.flush()


# --- reading -------------------------------------------------------------------------------


def supporting_units(theme: Theme) -> set[str]:
    """Every document behind the theme: quotes, topic documents, coded units."""
    keys = {e.unit_key for e in theme.evidence}
    topic_ids = [t.id for t in theme.topics if not t.is_noise]
    if topic_ids:
        # Merged topics' documents already point at the topic they were merged into.
        for a in db.session.scalars(select(TopicAssignment).where(
                TopicAssignment.topic_id.in_(topic_ids))):
            keys.add(a.unit_key)
    code_ids = [c.id for c in theme.codes]
    if code_ids:
        for coding in db.session.scalars(select(Coding).where(
                Coding.code_id.in_(code_ids), Coding.assignment_id.is_(None),
                Coding.study_id == theme.study_id)):
            keys.add(str(coding.unit_ref))
    return keys


@dataclass(frozen=True)
class UnitInfo:
    key: str
    source: str  # "transcript" or "comment"
    stakeholder_group: str | None
    session_kind: str | None
    participant_id: int | None = None
    document: str = ""

    @property
    def group_label(self) -> str:
        return self.stakeholder_group or NO_GROUP


def unit_info(keys: Iterable[str]) -> dict[str, UnitInfo]:
    """Source, stakeholder group and session kind of each unit (no names)."""
    from engage.topics.corpus import NO_SESSION, PUBLIC_COMMENT, session_kinds_of

    segment_ids, comment_ids = split_keys(set(keys))
    out: dict[str, UnitInfo] = {}
    segments = []
    for i in range(0, len(segment_ids), 900):
        segments += db.session.scalars(select(TranscriptSegment).where(
            TranscriptSegment.id.in_(segment_ids[i:i + 900]))).all()
    transcripts = {s.transcript_id: s.transcript for s in segments}
    links = speaker_groups(list(transcripts))
    sessions = session_kinds_of(list(transcripts.values()))
    for s in segments:
        link = speaker_link(links.get(s.transcript_id, {}), s.speaker)
        session = sessions.get(s.transcript_id)
        out[f"segment:{s.id}"] = UnitInfo(
            f"segment:{s.id}", "transcript", link[1] if link else None,
            session.kind.label if session else NO_SESSION, link[0] if link else None,
            transcripts[s.transcript_id].title)
    for i in range(0, len(comment_ids), 900):
        for c in db.session.scalars(select(Comment).where(
                Comment.id.in_(comment_ids[i:i + 900]))):
            out[f"comment:{c.id}"] = UnitInfo(f"comment:{c.id}", "comment", comment_group(c),
                                              PUBLIC_COMMENT, None, c.consultation.title)
    return out


def group_counts(theme: Theme) -> Counter:
    """Distinct supporting documents per stakeholder group."""
    info = unit_info(supporting_units(theme))
    return Counter(i.group_label for i in info.values())


def study_themes(study: Study) -> list[Theme]:
    return list(db.session.scalars(select(Theme).where(Theme.study_id == study.id)
                                   .order_by(Theme.position, Theme.id)))


def topic_choices(study: Study) -> list[Topic]:
    """Active, not-noise topics of the study's finished runs, newest run first."""
    return list(db.session.scalars(
        select(Topic).join(TopicRun, Topic.run_id == TopicRun.id)
        .where(TopicRun.study_id == study.id, TopicRun.status == "done",
               Topic.merged_into_id.is_(None), Topic.is_noise.is_(False), Topic.number != -1)
        .order_by(TopicRun.created_at.desc(), Topic.position)))


def candidate_quotes(theme: Theme, limit: int = 12) -> list[tuple[str, str, Topic | None,
                                                                  Coding | None]]:
    """Quotes to pick from: its topics' typical documents and its codes' coded spans."""
    taken = {(e.unit_key, e.start_char, e.end_char) for e in theme.evidence}
    out: list[tuple[str, str, Topic | None, Coding | None]] = []
    keys = [(key, topic) for topic in theme.topics for key in topic.representatives]
    texts = document_texts({k for k, _ in keys})
    for key, topic in keys:
        text = texts.get(key)
        if text and (key, 0, len(text)) not in taken:
            out.append((key, text, topic, None))
    if theme.codes:
        for coding in db.session.scalars(select(Coding).where(
                Coding.code_id.in_([c.id for c in theme.codes]),
                Coding.assignment_id.is_(None)).order_by(Coding.id).limit(limit * 2)):
            if (str(coding.unit_ref), coding.start_char, coding.end_char) not in taken:
                out.append((str(coding.unit_ref), coding.quote, None, coding))
    return out[:limit * 2]
