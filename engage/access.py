"""Authorization, written once: who may see a study, and loading objects inside it.

Views never check membership themselves. They declare what they need with
``@study_view(...)`` or ``@role_required(...)`` and receive the loaded study.
Anything outside the user's studies answers 404, so ids from other studies
reveal nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, abort, g
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from engage.extensions import login_manager
from models import Role, Study, StudyMember, StudyRole, User, db


def init_app(app: Flask) -> None:
    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id))

    @app.context_processor
    def inject_access():
        return {"study_role": lambda study: study_role(current_user, study)}


def study_role(user: User, study: Study) -> StudyRole | None:
    """The user's role in the study; admins act as researchers everywhere."""
    if not user.is_authenticated:
        return None
    if user.is_admin:
        return StudyRole.RESEARCHER
    member = db.session.scalar(
        select(StudyMember).where(StudyMember.study_id == study.id,
                                  StudyMember.user_id == user.id)
    )
    return member.role if member else None


def visible_studies(user: User) -> Select:
    query = select(Study).order_by(Study.name)
    if not user.is_admin:
        query = query.join(StudyMember).where(StudyMember.user_id == user.id)
    return query


def load_study(study_id: int, user: User, needs: StudyRole = StudyRole.CODER) -> Study:
    study = db.session.get(Study, study_id)
    role = study_role(user, study) if study else None
    if role is None:
        abort(404)
    if role.rank < needs.rank:
        abort(403)
    g.study, g.study_role = study, role
    return study


def study_view(needs: StudyRole = StudyRole.CODER) -> Callable:
    """Decorate a view taking ``study_id``: it receives ``study`` instead, or 404/403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(study_id: int, **kwargs):
            return view(study=load_study(study_id, current_user, needs), **kwargs)

        wrapped.study_role_needed = needs
        return wrapped

    return decorator


def role_required(*roles: Role) -> Callable:
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(**kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(**kwargs)

        wrapped.roles_needed = roles
        return wrapped

    return decorator


def get_in_study_or_404(model: type, object_id: int, study: Study):
    """Load a row of ``model`` that belongs to ``study`` (it has ``study_id``)."""
    obj = db.session.get(model, object_id)
    if obj is None or obj.study_id != study.id:
        abort(404)
    return obj


def load_job(job_id: int, user: User, needs: StudyRole = StudyRole.CODER):
    """A job is visible with its study; a job outside any study is for admins only."""
    from models import Job

    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if job.study_id is not None:
        load_study(job.study_id, user, needs)
    elif not user.is_admin:
        abort(404)
    return job
