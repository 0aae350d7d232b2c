"""People a study engages: interviewees, focus-group members."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db


class Participant(TimestampMixin, db.Model):
    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organization: Mapped[str] = mapped_column(String(200), default="")
    stakeholder_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("stakeholder_group.id", ondelete="SET NULL")
    )
    region: Mapped[str] = mapped_column(String(120), default="")
    county: Mapped[str] = mapped_column(String(120), default="")
    # Contact details: shown to researchers and admins only.
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    stakeholder_group: Mapped[StakeholderGroup | None] = relationship()  # noqa: F821
