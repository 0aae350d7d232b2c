"""Consultation setup and the counts researchers watch. They flush; the request commits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from engage.consultations.questions import build_questions
from models import (
    Campaign,
    Comment,
    CommentStatus,
    Consultation,
    IntakeRejection,
    Study,
    User,
    db,
)

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,78}[a-z0-9])$")


class ConsultationError(ValueError):
    """A refused change, phrased for the researcher; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class ConsultationData:
    title: str
    slug: str | None = None
    summary: str = ""
    draft: str = ""
    opens_at: datetime | None = None  # aware, UTC
    closes_at: datetime | None = None
    timezone: str = "America/New_York"
    languages: list[str] = field(default_factory=lambda: ["en", "es"])
    question_keys: list[str] = field(default_factory=list)
    publish_comments: bool = False
    max_comment_length: int = 10_000


def _check(data: ConsultationData, consultation: Consultation | None) -> None:
    if data.slug:
        if not SLUG.match(data.slug):
            raise ConsultationError(
                "Use 3 to 80 lower-case letters, digits and hyphens, e.g. draft-strategy-2027.",
                "slug")
        taken = db.session.scalar(select(Consultation.id).where(Consultation.slug == data.slug))
        if taken and (consultation is None or taken != consultation.id):
            raise ConsultationError("Another consultation already uses this address.", "slug")
        if data.opens_at is None or data.closes_at is None:
            raise ConsultationError(
                "A public consultation needs an opening and a closing date.", "opens_at")
    if data.opens_at and data.closes_at and data.closes_at <= data.opens_at:
        raise ConsultationError("The closing date must be after the opening date.", "closes_at")
    if not data.languages:
        raise ConsultationError("Choose at least one language.", "languages")


def _apply(consultation: Consultation, data: ConsultationData, study: Study) -> None:
    consultation.title = data.title.strip()
    consultation.slug = data.slug or None
    consultation.summary = data.summary.strip()
    consultation.draft = data.draft
    consultation.opens_at, consultation.closes_at = data.opens_at, data.closes_at
    consultation.timezone = data.timezone
    consultation.languages = list(data.languages)
    consultation.publish_comments = data.publish_comments
    consultation.max_comment_length = data.max_comment_length
    # Questions already asked keep their wording; only added or removed ones change.
    current = {q["key"]: q for q in consultation.questions or []}
    fresh = {q["key"]: q for q in build_questions(data.question_keys, study)}
    consultation.questions = [current.get(key, q) for key, q in fresh.items()]


def create_consultation(actor: User, study: Study, data: ConsultationData) -> Consultation:
    _check(data, None)
    consultation = Consultation(study_id=study.id, created_by_id=actor.id, questions=[])
    _apply(consultation, data, study)
    db.session.add(consultation)
    db.session.flush()
    return consultation


def update_consultation(actor: User, consultation: Consultation,
                        data: ConsultationData) -> Consultation:
    _check(data, consultation)
    study = db.session.get(Study, consultation.study_id)
    _apply(consultation, data, study)
    db.session.flush()
    return consultation


def status_counts(consultation: Consultation) -> dict[str, int]:
    rows = db.session.execute(
        select(Comment.status, func.count(Comment.id))
        .where(Comment.consultation_id == consultation.id).group_by(Comment.status)).all()
    counts = {s.value: 0 for s in CommentStatus}
    counts.update({status.value: n for status, n in rows})
    counts["all"] = sum(n for _, n in rows)
    return counts


def rejection_counts(consultation: Consultation) -> dict[str, int]:
    rows = db.session.execute(
        select(IntakeRejection.reason, func.count(IntakeRejection.id))
        .where(IntakeRejection.consultation_id == consultation.id)
        .group_by(IntakeRejection.reason)).all()
    return dict(sorted(rows))


def campaign_count(consultation: Consultation) -> int:
    return db.session.scalar(select(func.count(Campaign.id))
                             .where(Campaign.consultation_id == consultation.id))


def study_consultations(study: Study) -> list[Consultation]:
    return list(db.session.scalars(select(Consultation).where(Consultation.study_id == study.id)
                                   .order_by(Consultation.created_at.desc(),
                                             Consultation.id.desc())))
