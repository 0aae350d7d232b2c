"""Recordings of interviews and focus groups, stored outside the web root."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db


class Recording(TimestampMixin, db.Model):
    __tablename__ = "recording"
    __table_args__ = (UniqueConstraint("study_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # What the uploader called the file: shown, never used as a path.
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int]
    container: Mapped[str] = mapped_column(String(80), default="")
    audio_codec: Mapped[str] = mapped_column(String(40), default="")
    # None means detect the language; "es" etc. forces it.
    language: Mapped[str | None] = mapped_column(String(12))
    translate: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    transcripts: Mapped[list[Transcript]] = relationship(  # noqa: F821
        back_populates="recording", cascade="all, delete-orphan",
        order_by="Transcript.created_at.desc()")

    # Scheduled sessions this recording was made in (linked on the session's page).
    sessions: Mapped[list[StudySession]] = relationship(  # noqa: F821
        secondary="session_recording", viewonly=True)

    @property
    def current_transcript(self) -> Transcript | None:  # noqa: F821
        return next((t for t in self.transcripts if t.is_current), None)
