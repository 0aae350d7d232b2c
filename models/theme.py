"""Themes: a researcher's findings, built from topics, codes and hand-picked quotes."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db, utcnow


class ThemeStatus(enum.StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"
    FINAL = "final"

    @property
    def label(self) -> str:
        return self.value.capitalize()


theme_topic = Table(
    "theme_topic", db.metadata,
    Column("theme_id", ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True),
)
theme_code = Table(
    "theme_code", db.metadata,
    Column("theme_id", ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
    Column("code_id", ForeignKey("code.id", ondelete="CASCADE"), primary_key=True),
)


class Theme(TimestampMixin, db.Model):
    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ThemeStatus] = mapped_column(
        db.Enum(ThemeStatus, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e]),
        default=ThemeStatus.DRAFT)
    position: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    topics: Mapped[list[Topic]] = relationship(secondary=theme_topic,  # noqa: F821
                                               order_by="Topic.id")
    codes: Mapped[list[Code]] = relationship(secondary=theme_code,  # noqa: F821
                                             order_by="Code.position")
    evidence: Mapped[list[ThemeEvidence]] = relationship(
        back_populates="theme", cascade="all, delete-orphan",
        order_by="ThemeEvidence.position")


class ThemeEvidence(db.Model):
    """A quote supporting a theme: a span of a transcript segment or a comment."""

    __tablename__ = "theme_evidence"
    __table_args__ = (
        CheckConstraint("(segment_id IS NULL) <> (comment_id IS NULL)", name="one_unit"),
        CheckConstraint("start_char >= 0 AND end_char >= start_char", name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"),
                                          index=True)
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_segment.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    # Code-point offsets into the unit's text (a comment's public text), half-open.
    start_char: Mapped[int] = mapped_column(default=0)
    end_char: Mapped[int] = mapped_column(default=0)
    quote: Mapped[str] = mapped_column(Text)
    # Where it was picked from, if anywhere: a coding or a topic.
    coding_id: Mapped[int | None] = mapped_column(ForeignKey("coding.id", ondelete="SET NULL"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    theme: Mapped[Theme] = relationship(back_populates="evidence")

    @property
    def unit_key(self) -> str:
        return f"segment:{self.segment_id}" if self.segment_id is not None \
            else f"comment:{self.comment_id}"
