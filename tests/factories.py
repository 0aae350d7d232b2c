"""Factories for test rows. Each flushes and returns the row."""

from __future__ import annotations

import functools
import itertools

from werkzeug.security import generate_password_hash

from engage.studies.operations import create_study
from models import Job, Role, Study, StudyMember, StudyRole, User

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


@functools.cache
def _password_hash() -> str:
    return generate_password_hash(Factory.PASSWORD)
