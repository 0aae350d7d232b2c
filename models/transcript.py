"""Transcripts, their timed segments, and every edit coders make to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db, utcnow


class Transcript(TimestampMixin, db.Model):
    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    # None for transcripts imported without audio.
    recording_id: Mapped[int | None] = mapped_column(
        ForeignKey("recording.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # "whisper" or the imported format ("vtt", "srt", "txt", "docx").
    source: Mapped[str] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(12))
    language_probability: Mapped[float | None]
    model: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[int | None]
    # A re-run keeps the old transcript current until the new one has succeeded.
    is_current: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    recording: Mapped[Recording | None] = relationship(back_populates="transcripts")  # noqa: F821
    segments: Mapped[list[TranscriptSegment]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan",
        order_by="TranscriptSegment.position")


class TranscriptSegment(db.Model):
    __tablename__ = "transcript_segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcript.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    start_ms: Mapped[int]
    end_ms: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    speaker: Mapped[str | None] = mapped_column(String(120))
    avg_logprob: Mapped[float | None]
    no_speech_prob: Mapped[float | None]
    needs_review: Mapped[bool] = mapped_column(default=False)
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    edited: Mapped[bool] = mapped_column(default=False)

    transcript: Mapped[Transcript] = relationship(back_populates="segments")
    revisions: Mapped[list[SegmentRevision]] = relationship(
        back_populates="segment", cascade="all, delete-orphan",
        order_by="SegmentRevision.created_at.desc()")


class SegmentRevision(db.Model):
    """One change to a segment: who, when, which field, before and after."""

    __tablename__ = "segment_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("transcript_segment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "text", "speaker", "split" or "merge".
    field: Mapped[str] = mapped_column(String(20))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)

    segment: Mapped[TranscriptSegment] = relationship(back_populates="revisions")
    user: Mapped[User | None] = relationship()  # noqa: F821
