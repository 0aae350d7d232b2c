"""Topic-model runs: stored embeddings, runs, their topics and each document's topic.

A run keeps everything needed to read it later without refitting: its
parameters and the reasons for them, the corpus it saw (one
``TopicAssignment`` per document, with the text hash and the stakeholder
group, source and session kind the document had then), the topics with their
words, sizes and representative documents, and BERTopic's charts as Plotly
JSON. Researchers rename, merge and mark topics as noise; the model's own
numbering (``Topic.number``, ``TopicAssignment.original_number``) is kept so
merges can be undone and runs compared.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db, utcnow


class Embedding(db.Model):
    """A text's vector under one model, keyed by the text's sha256 (shared across runs)."""

    __tablename__ = "embedding"
    __table_args__ = (UniqueConstraint("model", "text_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    text_hash: Mapped[str] = mapped_column(String(64))
    dimensions: Mapped[int]
    # float32 little-endian (coding.embeddings.to_bytes)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TopicRunStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class TopicRun(TimestampMixin, db.Model):
    __tablename__ = "topic_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[TopicRunStatus] = mapped_column(
        db.Enum(TopicRunStatus, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e]),
        default=TopicRunStatus.RUNNING)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # What the researcher asked for: {"source", "session_kinds", "groups", "consultation_ids",
    # "date_from", "date_to", "campaigns": "one"|"n", overrides...}
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the model used: coding.topics.TopicParams.to_dict(), reasons included.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    embedding_model: Mapped[str] = mapped_column(String(200), default="")
    clusterer: Mapped[str] = mapped_column(String(20), default="")
    n_documents: Mapped[int] = mapped_column(default=0)
    n_topics: Mapped[int] = mapped_column(default=0)
    outlier_share: Mapped[float] = mapped_column(default=0.0)
    # {"embed_s", "fit_s", "total_s", "embedded": n, "reused": n, ...}
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # BERTopic's charts as drawn when the run was fitted: {name: Plotly figure JSON}.
    figures: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    finished_at: Mapped[datetime | None]

    topics: Mapped[list[Topic]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="Topic.position",
        foreign_keys="Topic.run_id")
    created_by: Mapped[User | None] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<TopicRun {self.id} {self.name!r}>"


class Topic(db.Model):
    __tablename__ = "topic"
    __table_args__ = (UniqueConstraint("run_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("topic_run.id", ondelete="CASCADE"),
                                        index=True)
    # BERTopic's topic id; -1 collects the documents no topic took.
    number: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    # The researcher's name for it; None shows the generated label.
    name: Mapped[str | None] = mapped_column(String(200))
    # [[word, weight], ...], best first
    keywords: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(default=0)
    # Campaign members weigh 1/N when the run counts a campaign as one voice.
    weighted_size: Mapped[float] = mapped_column(default=0.0)
    # ["segment:12", "comment:3", ...] closest to the centroid first
    representatives: Mapped[list[str]] = mapped_column(JSON, default=list)
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary)
    is_noise: Mapped[bool] = mapped_column(default=False)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("topic.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    run: Mapped[TopicRun] = relationship(back_populates="topics", foreign_keys=[run_id])
    merged_into: Mapped[Topic | None] = relationship(remote_side=[id],
                                                     foreign_keys=[merged_into_id])

    @property
    def words(self) -> list[str]:
        return [w for w, _ in self.keywords]

    @property
    def generated_label(self) -> str:
        if self.number == -1:
            return "Unassigned (outliers)"
        return ", ".join(self.words[:4]) or f"Topic {self.number}"

    @property
    def label(self) -> str:
        return self.name or self.generated_label

    @property
    def is_outliers(self) -> bool:
        return self.number == -1

    @property
    def active(self) -> bool:
        return self.merged_into_id is None


class TopicAssignment(db.Model):
    """One document of a run (a transcript segment or a comment) and its topic."""

    __tablename__ = "topic_assignment"
    __table_args__ = (
        CheckConstraint("(segment_id IS NULL) <> (comment_id IS NULL)", name="one_unit"),
        Index("ix_topic_assignment_run_topic", "run_id", "topic_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("topic_run.id", ondelete="CASCADE"),
                                        index=True)
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_segment.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), index=True)
    # The topic the document is in now (merges move it); the model's number stays.
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id", ondelete="CASCADE"),
                                          index=True)
    original_number: Mapped[int]
    probability: Mapped[float] = mapped_column(default=0.0)
    weight: Mapped[float] = mapped_column(default=1.0)
    # Whether the document was part of the fit (campaign members counted as one voice
    # are assigned afterwards).
    fitted: Mapped[bool] = mapped_column(default=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    # What the document was when the run saw it.
    source: Mapped[str] = mapped_column(String(20))
    stakeholder_group: Mapped[str | None] = mapped_column(String(120))
    session_kind: Mapped[str | None] = mapped_column(String(60))
    dated_at: Mapped[datetime | None]

    topic: Mapped[Topic] = relationship()

    @property
    def unit_key(self) -> str:
        return f"segment:{self.segment_id}" if self.segment_id is not None \
            else f"comment:{self.comment_id}"
