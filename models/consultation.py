"""Public comment periods, the comments they receive, and form-letter campaigns."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db, utcnow


def _enum(cls):
    return db.Enum(cls, native_enum=False, length=20,
                   values_callable=lambda e: [m.value for m in e])


class Consultation(TimestampMixin, db.Model):
    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # The public address: /c/<slug>. None keeps the consultation internal (imports only).
    slug: Mapped[str | None] = mapped_column(String(80), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    # Markdown; its headings are the sections commenters can refer to.
    draft: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["en", "es"])
    # Structured questions: [{"key", "label": {"en", "es"}, "kind": "choice|text|yesno",
    # "choices": [{"value", "label": {...}}]}]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    publish_comments: Mapped[bool] = mapped_column(default=False)
    max_comment_length: Mapped[int] = mapped_column(default=10_000)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    comments: Mapped[list[Comment]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan")

    def phase(self, now: datetime | None = None) -> ConsultationPhase:
        """Where the comment period stands; only ``OPEN`` accepts comments."""
        now = now or utcnow()
        if not self.slug:
            return ConsultationPhase.INTERNAL
        if self.opens_at is None or now < self.opens_at:
            return ConsultationPhase.NOT_OPEN
        if self.closes_at is not None and now >= self.closes_at:
            return ConsultationPhase.CLOSED
        return ConsultationPhase.OPEN


class ConsultationPhase(enum.StrEnum):
    INTERNAL = "internal"  # no public address: comments come by import only
    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"internal": "Internal (import only)", "not_open": "Not open yet",
                "open": "Open", "closed": "Closed"}[self.value]


class CommentSource(enum.StrEnum):
    FORM = "form"
    IMPORT = "import"


class CommentStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for moderation
    HELD = "held"  # looked automated (honeypot, too fast): a person decides
    FLAGGED = "flagged"
    APPROVED = "approved"
    REJECTED = "rejected"


class Comment(TimestampMixin, db.Model):
    __tablename__ = "comment"
    __table_args__ = (UniqueConstraint("consultation_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    # The identifier the comment had where it came from (e.g. a regulations.gov Document ID).
    external_id: Mapped[str | None] = mapped_column(String(80))
    # Given to the commenter on the receipt page.
    tracking_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[CommentSource] = mapped_column(_enum(CommentSource))
    status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus), default=CommentStatus.PENDING, index=True)
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(12))
    section_ref: Mapped[str | None] = mapped_column(String(200))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consent_to_publish: Mapped[bool] = mapped_column(default=False)
    # Personal data: researchers and admins only.
    author_name: Mapped[str] = mapped_column(String(200), default="")
    organization: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    # What the public sees: None until redacted or edited; the original body is kept.
    public_body: Mapped[str | None] = mapped_column(Text)
    # [{"start", "end", "kind", "original"}] offsets into `body`.
    redactions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    attachment_stored_name: Mapped[str | None] = mapped_column(String(80))
    attachment_text: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="SET NULL"), index=True)
    # What a campaign member wrote beyond the form letter.
    personal_addition: Mapped[str | None] = mapped_column(Text)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None]

    consultation: Mapped[Consultation] = relationship(back_populates="comments")
    campaign: Mapped[Campaign | None] = relationship(
        back_populates="members", foreign_keys=[campaign_id])


class Campaign(TimestampMixin, db.Model):
    """Identical or near-identical comments: a form letter and the people who sent it."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    template: Mapped[str] = mapped_column(Text)
    representative_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="SET NULL", use_alter=True))
    similarity_min: Mapped[float] = mapped_column(default=1.0)

    members: Mapped[list[Comment]] = relationship(
        back_populates="campaign", foreign_keys=[Comment.campaign_id])


class IntakeRejection(db.Model):
    """A submission refused outright (rate limit, closed, too large): counted, not stored."""

    __tablename__ = "intake_rejection"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
