"""People a study engages: interviewees, focus-group members, listening-session guests.

A participant has no account. Contact details (email, phone) are shown to researchers
and admins only. Free attributes are typed per study (``AttributeDefinition``) and kept
as JSON ``{key: value}``: text and dates as strings (ISO dates), numbers as numbers,
yes/no as booleans. They become REFI-QDA case variables later.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db


class AttributeKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    YES_NO = "yes_no"

    @property
    def label(self) -> str:
        return {"text": "Text", "number": "Number", "date": "Date", "yes_no": "Yes/no"}[self.value]


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
    # Messages and booking pages use this language when a translation exists.
    preferred_language: Mapped[str] = mapped_column(String(12), default="en",
                                                    server_default="en")
    accessibility_needs: Mapped[str] = mapped_column(Text, default="", server_default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict,
                                                       server_default="{}")
    # Set when a researcher erased the person's data; the row stays for counts.
    erased_at: Mapped[datetime | None]

    stakeholder_group: Mapped[StakeholderGroup | None] = relationship()  # noqa: F821


class AttributeDefinition(db.Model):
    """A typed participant attribute of one study (a REFI-QDA case variable)."""

    __tablename__ = "attribute_definition"
    __table_args__ = (UniqueConstraint("study_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    # The CSV column name and the JSON key: lower case letters, digits and underscores.
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(120))
    kind: Mapped[AttributeKind] = mapped_column(
        db.Enum(AttributeKind, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e]))
    position: Mapped[int] = mapped_column(default=0)
