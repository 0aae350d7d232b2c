"""Factories for test rows. Each flushes and returns the row."""

from __future__ import annotations

import functools
import itertools
from datetime import timedelta

from werkzeug.security import generate_password_hash

from engage.studies.operations import create_study
from models import (
    Comment,
    CommentSource,
    Consultation,
    Job,
    Role,
    Study,
    StudyMember,
    StudyRole,
    Transcript,
    User,
    utcnow,
)

_seq = itertools.count(1)


class Factory:
    PASSWORD = "correct horse battery staple"

    def __init__(self, db):
        self.db = db

    def user(self, role: Role = Role.RESEARCHER, *, name: str | None = None,
             email: str | None = None, active: bool = True) -> User:
        n = next(_seq)
        user = User(email=email or f"user{n}@example.org", name=name or f"User {n}",
                    role=role, active=active)
        user.password_hash = _password_hash()  # hashing is deliberately slow; do it once
        self.db.session.add(user)
        self.db.session.commit()
        return user

    def study(self, owner: User | None = None, name: str | None = None) -> Study:
        owner = owner or self.user(Role.RESEARCHER)
        study = create_study(owner, name or f"Study {next(_seq)}")
        self.db.session.commit()
        return study

    def member(self, study: Study, user: User, role: StudyRole) -> StudyMember:
        member = StudyMember(study=study, user=user, role=role)
        self.db.session.add(member)
        self.db.session.commit()
        return member

    def job(self, study: Study | None = None, **fields) -> Job:
        job = Job(kind=fields.pop("kind", "worker-check"),
                  study_id=study.id if study else None, **fields)
        self.db.session.add(job)
        self.db.session.commit()
        return job

    def consultation(self, study: Study | None = None, *, open_: bool = True,
                     **fields) -> Consultation:
        """A public consultation, open now unless ``open_`` is False or dates are given."""
        study = study or self.study()
        n = next(_seq)
        now = utcnow()
        defaults = {
            "title": f"Draft strategy {n}", "slug": f"draft-{n}",
            "draft": "# Draft\n\n## Vision\nOne plan.\n\n## Phased approach\nTwo regions.\n",
            "opens_at": now - timedelta(days=1) if open_ else now + timedelta(days=1),
            "closes_at": now + timedelta(days=30),
        }
        consultation = Consultation(study_id=study.id, **{**defaults, **fields})
        self.db.session.add(consultation)
        self.db.session.commit()
        return consultation

    def comment(self, consultation: Consultation, body: str = "A comment.", **fields) -> Comment:
        comment = Comment(consultation_id=consultation.id, body=body,
                          source=fields.pop("source", CommentSource.FORM), **fields)
        self.db.session.add(comment)
        self.db.session.commit()
        return comment

    def transcript(self, study: Study, texts, *, title: str | None = None,
                   speakers=None) -> Transcript:
        """A transcript of ``texts`` (one segment each, 5 s apart), committed."""
        from engage.transcript_editor.operations import create_transcript
        from transcripts.segments import Segment

        speakers = list(speakers) if speakers is not None else [None] * len(texts)
        segments = [Segment(start_ms=i * 5000, end_ms=i * 5000 + 4000, text=text,
                            speaker=speaker)
                    for i, (text, speaker) in enumerate(zip(texts, speakers, strict=True))]
        transcript = create_transcript(study.id, segments, title=title or f"Interview {next(_seq)}",
                                       source="txt")
        self.db.session.commit()
        return transcript

    def participant(self, study: Study, name: str | None = None, **fields):
        """A participant of ``study`` (scheduling)."""
        from models import Participant

        n = next(_seq)
        participant = Participant(study_id=study.id, name=name or f"Participant {n}",
                                  email=fields.pop("email", f"p{n}@example.org"), **fields)
        self.db.session.add(participant)
        self.db.session.commit()
        return participant

    def offer(self, study: Study, participants=(), *, starts_in=(timedelta(days=3),),
              capacity: int = 1, actor: User | None = None, **fields):
        """Slots offered to ``participants`` (scheduling): one session per ``starts_in``."""
        from engage.scheduling.offers import OfferData, create_offer
        from models import SessionKind

        actor = actor or self.db.session.get(User, study.created_by_id)
        start = utcnow().replace(second=0, microsecond=0)
        data = OfferData(
            title=fields.pop("title", f"Interviews {next(_seq)}"),
            kind=fields.pop("kind", SessionKind.INTERVIEW),
            times=[start + delta for delta in starts_in],
            duration_minutes=fields.pop("duration_minutes", 60),
            timezone=fields.pop("timezone", "America/New_York"), capacity=capacity,
            min_notice_hours=fields.pop("min_notice_hours", 1),
            participant_ids=[p.id for p in participants], **fields)
        offer = create_offer(actor, study, data)
        self.db.session.commit()
        return offer


@functools.cache
def _password_hash() -> str:
    # A cheap method: tests sign in hundreds of times; the app itself hashes with scrypt.
    return generate_password_hash(Factory.PASSWORD, method="pbkdf2:sha256:1000")
