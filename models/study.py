"""Studies, their members and stakeholder groups: the unit everything hangs off."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db


class StudyRole(enum.StrEnum):
    """A member's role inside one study; ordered from least to most able."""

    CODER = "coder"
    RESEARCHER = "researcher"

    @property
    def rank(self) -> int:
        return list(StudyRole).index(self)

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Study(TimestampMixin, db.Model):
    __tablename__ = "study"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    members: Mapped[list[StudyMember]] = relationship(
        back_populates="study", cascade="all, delete-orphan"
    )
    stakeholder_groups: Mapped[list[StakeholderGroup]] = relationship(
        back_populates="study", cascade="all, delete-orphan", order_by="StakeholderGroup.position"
    )

    def __repr__(self) -> str:
        return f"<Study {self.id} {self.name!r}>"


class StudyMember(TimestampMixin, db.Model):
    __tablename__ = "study_member"
    __table_args__ = (UniqueConstraint("study_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[StudyRole] = mapped_column(
        db.Enum(StudyRole, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e])
    )

    study: Mapped[Study] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")  # noqa: F821


class StakeholderGroup(db.Model):
    __tablename__ = "stakeholder_group"
    __table_args__ = (UniqueConstraint("study_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    study: Mapped[Study] = relationship(back_populates="stakeholder_groups")
