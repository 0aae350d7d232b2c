"""A study's codebook: hierarchical codes, their match patterns, and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db, utcnow


class Code(TimestampMixin, db.Model):
    __tablename__ = "code"
    __table_args__ = (UniqueConstraint("study_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("code.id", ondelete="CASCADE"))
    # Stable slug (e.g. "integration-mechanisms") used by patterns and exports.
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # When to apply the code, and when not to (the codebook's decision rules).
    inclusion: Mapped[str] = mapped_column(Text, default="", server_default="")
    exclusion: Mapped[str] = mapped_column(Text, default="", server_default="")
    color: Mapped[str] = mapped_column(String(7), default="#4a6fa5")
    position: Mapped[int] = mapped_column(default=0)
    # Retired codes keep their codings and history but are not offered for new coding.
    retired: Mapped[bool] = mapped_column(default=False)
    retired_at: Mapped[datetime | None]
    # A code merged into another is retired; this says where its codings went.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("code.id", ondelete="SET NULL"))
    # The REFI-QDA GUID this code had in another tool, kept so re-imports match it.
    guid: Mapped[str | None] = mapped_column(String(36))

    # Never delete-orphan: moving a code to the top level must not delete it.
    children: Mapped[list[Code]] = relationship(
        back_populates="parent", order_by="Code.position", foreign_keys=[parent_id],
        cascade="save-update, merge")
    parent: Mapped[Code | None] = relationship(
        back_populates="children", remote_side=[id], foreign_keys=[parent_id])
    merged_into: Mapped[Code | None] = relationship(remote_side=[id],
                                                    foreign_keys=[merged_into_id])
    patterns: Mapped[list[CodePatternRule]] = relationship(
        back_populates="code", order_by="CodePatternRule.position",
        cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Code {self.key}>"


class CodePatternRule(db.Model):
    """Terms that suggest a code (``coding.tagger.CodePattern``), editable per study."""

    __tablename__ = "code_pattern"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="CASCADE"), index=True)
    # The concept's spellings: the term first, then variants and abbreviations.
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    lemma: Mapped[bool] = mapped_column(default=False)
    case_sensitive: Mapped[bool] = mapped_column(default=False)
    label: Mapped[str | None] = mapped_column(String(200))
    # Set by a researcher; None: the tagger's own specificity per term.
    weight: Mapped[float | None]
    # Lowered by learning when coders keep rejecting what this pattern suggests.
    learned_weight: Mapped[float | None]
    accepted: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    code: Mapped[Code] = relationship(back_populates="patterns")

    @property
    def concept(self) -> str:
        return self.label or (self.terms[0] if self.terms else "")


class CodeEvent(db.Model):
    """One change to a code: created, edited, moved, merged, retired, restored, imported."""

    __tablename__ = "code_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    # What changed, e.g. {"name": ["old", "new"]} or {"into": "other-key", "codings": 12}.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()  # noqa: F821
