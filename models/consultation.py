"""Public comment periods and the comments they receive."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db


class Consultation(TimestampMixin, db.Model):
    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    draft: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]

    comments: Mapped[list[Comment]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan"
    )


class CommentSource(enum.StrEnum):
    FORM = "form"
    IMPORT = "import"


class Comment(TimestampMixin, db.Model):
    __tablename__ = "comment"
    __table_args__ = (UniqueConstraint("consultation_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    # The identifier the comment had where it came from (e.g. a regulations.gov Document ID).
    external_id: Mapped[str | None] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[CommentSource] = mapped_column(
        db.Enum(CommentSource, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e])
    )

    consultation: Mapped[Consultation] = relationship(back_populates="comments")
