"""A study's codebook: hierarchical codes."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db


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
    color: Mapped[str] = mapped_column(String(7), default="#4a6fa5")
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False)

    children: Mapped[list[Code]] = relationship(
        back_populates="parent", order_by="Code.position", cascade="all, delete-orphan"
    )
    parent: Mapped[Code | None] = relationship(back_populates="children", remote_side=[id])

    def __repr__(self) -> str:
        return f"<Code {self.key}>"
