"""Coding: codings, machine suggestions and coders' decisions, memos, independent coding.

Codings and suggestions point at a *unit*: a transcript segment or a public
comment, never both (``segment_id`` xor ``comment_id``, enforced by a check
constraint). Offsets are Unicode code-point positions in the unit's text,
half-open, as REFI-QDA counts them; ``quote`` keeps the coded words so a later
change to the text is noticed instead of silently pointing elsewhere.

A coding with ``assignment_id`` belongs to one coder's independent (blind)
pass over a transcript; the study's codings of record have none. An
adjudicated assignment writes its result as codings of record.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow


def _enum(cls):
    return db.Enum(cls, native_enum=False, length=20,
                   values_callable=lambda e: [m.value for m in e])


def _one_unit() -> CheckConstraint:
    return CheckConstraint("(segment_id IS NULL) <> (comment_id IS NULL)", name="one_unit")


class UnitRef(tuple):
    """("segment", id) or ("comment", id), printable as ``segment:12``."""

    __slots__ = ()

    def __new__(cls, kind: str, id_: int):
        if kind not in ("segment", "comment"):
            raise ValueError(f"unknown unit kind {kind!r}")
        return super().__new__(cls, (kind, int(id_)))

    @property
    def kind(self) -> str:
        return self[0]

    @property
    def id(self) -> int:
        return self[1]

    def __str__(self) -> str:
        return f"{self[0]}:{self[1]}"

    @classmethod
    def parse(cls, text: str) -> UnitRef:
        kind, _, number = (text or "").partition(":")
        if not number.isdigit():
            raise ValueError(f"not a unit reference: {text!r}")
        return cls(kind, int(number))


class OnUnit:
    """Columns and helpers shared by everything that points at a segment or a comment."""

    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_segment.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), index=True)

    @property
    def unit_ref(self) -> UnitRef:
        if self.segment_id is not None:
            return UnitRef("segment", self.segment_id)
        return UnitRef("comment", self.comment_id)

    def set_unit(self, ref: UnitRef) -> None:
        self.segment_id = ref.id if ref.kind == "segment" else None
        self.comment_id = ref.id if ref.kind == "comment" else None


class CodingOrigin(enum.StrEnum):
    MANUAL = "manual"
    SUGGESTION = "suggestion"  # an accepted (or re-coded) suggestion
    ADJUDICATED = "adjudicated"
    IMPORT = "import"

    @property
    def label(self) -> str:
        return {"manual": "coded by hand", "suggestion": "accepted suggestion",
                "adjudicated": "adjudicated", "import": "imported"}[self.value]


class Coding(OnUnit, db.Model):
    __tablename__ = "coding"
    __table_args__ = (
        _one_unit(),
        CheckConstraint("start_char >= 0 AND end_char >= start_char", name="span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="CASCADE"), index=True)
    start_char: Mapped[int]
    end_char: Mapped[int]
    # The coded words when the span was last made or confirmed.
    quote: Mapped[str] = mapped_column(Text)
    coder_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True)
    origin: Mapped[CodingOrigin] = mapped_column(_enum(CodingOrigin),
                                                 default=CodingOrigin.MANUAL)
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("coding_assignment.id", ondelete="CASCADE"), index=True)
    suggestion_id: Mapped[int | None] = mapped_column(
        ForeignKey("suggestion.id", ondelete="SET NULL"))
    # Set when an edit to the text touched the coded words: a person must look.
    needs_check: Mapped[bool] = mapped_column(default=False)
    check_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    code: Mapped[Code] = relationship()  # noqa: F821
    coder: Mapped[User | None] = relationship()  # noqa: F821
    memos: Mapped[list[Memo]] = relationship(back_populates="coding",
                                             cascade="all, delete-orphan",
                                             order_by="Memo.created_at")

    def __repr__(self) -> str:
        return f"<Coding {self.id} {self.unit_ref} {self.start_char}-{self.end_char}>"


class SuggestionStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CHANGED = "changed"  # accepted with another code


class Suggestion(OnUnit, db.Model):
    """A code the tagger proposes for a unit, with its evidence, awaiting coders."""

    __tablename__ = "suggestion"
    __table_args__ = (_one_unit(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="CASCADE"), index=True)
    confidence: Mapped[float]
    # [{"start", "end", "text", "term", "pattern_id"}] in code points of the unit text.
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    # "rules", "classifier" or "rules+classifier" (coding.suggest).
    source: Mapped[str] = mapped_column(String(20), default="rules")
    rule_confidence: Mapped[float | None]
    model_probability: Mapped[float | None]
    # The decision in the shared (non-blind) layer; blind coders' decisions are separate.
    status: Mapped[SuggestionStatus] = mapped_column(
        _enum(SuggestionStatus), default=SuggestionStatus.PENDING, index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    code: Mapped[Code] = relationship()  # noqa: F821
    decisions: Mapped[list[SuggestionDecision]] = relationship(
        back_populates="suggestion", cascade="all, delete-orphan")


class Decision(enum.StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    CHANGE = "change"


class SuggestionDecision(db.Model):
    """A coder's verdict on a suggestion: what the review queue and learning read."""

    __tablename__ = "suggestion_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestion.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True)
    # The blind pass the decision was made in; None for the shared layer.
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("coding_assignment.id", ondelete="CASCADE"), index=True)
    decision: Mapped[Decision] = mapped_column(_enum(Decision))
    # The code applied (the suggested one, or the one changed to); None when rejected.
    code_id: Mapped[int | None] = mapped_column(ForeignKey("code.id", ondelete="CASCADE"))
    coding_id: Mapped[int | None] = mapped_column(ForeignKey("coding.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    suggestion: Mapped[Suggestion] = relationship(back_populates="decisions")
    user: Mapped[User | None] = relationship()  # noqa: F821


class Memo(db.Model):
    """A note on a coding, a code, a transcript, a comment, or (none of these) the study."""

    __tablename__ = "memo"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN coding_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN code_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN transcript_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN comment_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    coding_id: Mapped[int | None] = mapped_column(
        ForeignKey("coding.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("code.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    author: Mapped[User | None] = relationship()  # noqa: F821
    coding: Mapped[Coding | None] = relationship(back_populates="memos")

    @property
    def target_type(self) -> str:
        for kind in ("coding", "code", "transcript", "comment"):
            if getattr(self, f"{kind}_id") is not None:
                return kind
        return "study"


class AssignmentStatus(enum.StrEnum):
    OPEN = "open"  # coders are coding
    ADJUDICATED = "adjudicated"  # the result became the study's codings
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"open": "coding in progress", "adjudicated": "adjudicated",
                "cancelled": "cancelled"}[self.value]


class CodingAssignment(db.Model):
    """Two or more coders coding one transcript independently."""

    __tablename__ = "coding_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcript.id", ondelete="CASCADE"), index=True)
    # Blind: each coder sees only their own codings until adjudication.
    blind: Mapped[bool] = mapped_column(default=True)
    status: Mapped[AssignmentStatus] = mapped_column(
        _enum(AssignmentStatus), default=AssignmentStatus.OPEN, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]

    coders: Mapped[list[AssignmentCoder]] = relationship(
        back_populates="assignment", cascade="all, delete-orphan",
        order_by="AssignmentCoder.id")
    transcript: Mapped[Transcript] = relationship()  # noqa: F821
    adjudications: Mapped[list[Adjudication]] = relationship(
        back_populates="assignment", cascade="all, delete-orphan")


class AssignmentCoder(db.Model):
    __tablename__ = "assignment_coder"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("coding_assignment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    done_at: Mapped[datetime | None]

    assignment: Mapped[CodingAssignment] = relationship(back_populates="coders")
    user: Mapped[User] = relationship()  # noqa: F821


class Adjudication(db.Model):
    """A researcher's ruling on one disagreement: a code on a segment, applied or not."""

    __tablename__ = "adjudication"
    __table_args__ = (UniqueConstraint("assignment_id", "segment_id", "code_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("coding_assignment.id", ondelete="CASCADE"), index=True)
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("transcript_segment.id", ondelete="CASCADE"))
    code_id: Mapped[int] = mapped_column(ForeignKey("code.id", ondelete="CASCADE"))
    # None: do not apply; else whose spans to keep.
    apply_from_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    apply: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    assignment: Mapped[CodingAssignment] = relationship(back_populates="adjudications")


class SpeakerLink(db.Model):
    """Who a speaker label in a transcript is: gives segments a stakeholder group.

    ``speaker`` "" stands for every segment whose label is not linked itself
    (e.g. a one-to-one interview transcribed without speaker labels).
    """

    __tablename__ = "speaker_link"
    __table_args__ = (UniqueConstraint("transcript_id", "speaker"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcript.id", ondelete="CASCADE"), index=True)
    speaker: Mapped[str] = mapped_column(String(120), default="")
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True)

    participant: Mapped[Participant] = relationship()  # noqa: F821


class TaggerModel(db.Model):
    """What the tagger learned from coders in a study (``coding.learning.LearnedModel``)."""

    __tablename__ = "tagger_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    backend: Mapped[str] = mapped_column(String(20))
    # {code_key: CodeLearning.to_dict()} for every code with decisions.
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    examples: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
