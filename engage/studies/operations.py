"""Study operations. They flush; the request commits once."""

from __future__ import annotations

from sqlalchemy import func, select

from coding.vocabulary import DEFAULT_STAKEHOLDER_GROUPS
from engage.audit import record
from engage.auth.operations import find_user
from models import Role, StakeholderGroup, Study, StudyMember, StudyRole, User, db


class StudyError(ValueError):
    """A refused study change, phrased for the person who asked for it."""


def create_study(actor: User, name: str, description: str = "") -> Study:
    if actor.role not in (Role.ADMIN, Role.RESEARCHER):
        raise StudyError("Only researchers and administrators can create studies.")
    study = Study(name=name.strip(), description=description.strip(), created_by_id=actor.id)
    db.session.add(study)
    study.members.append(StudyMember(user=actor, role=StudyRole.RESEARCHER))
    seed_defaults(study)
    db.session.flush()
    record("study.create", actor, study_id=study.id, target=("study", study.id))
    return study


def update_study(actor: User, study: Study, name: str, description: str) -> Study:
    study.name, study.description = name.strip(), description.strip()
    db.session.flush()
    return study


def seed_defaults(study: Study) -> None:
    """Give a new study the guide's stakeholder groups and default codebook."""
    for position, (name, description) in enumerate(DEFAULT_STAKEHOLDER_GROUPS):
        study.stakeholder_groups.append(
            StakeholderGroup(name=name, description=description, position=position))
    db.session.flush()
    from engage.codebook.patterns import seed_default_codebook

    seed_default_codebook(study)  # codes and their starting match patterns


def add_member(actor: User, study: Study, email: str, role: StudyRole) -> StudyMember:
    user = find_user(email)
    if user is None or not user.active:
        raise StudyError(f"No active account uses {email}. An administrator can create one.")
    if user.role is Role.CODER and role is StudyRole.RESEARCHER:
        raise StudyError(f"{user.name} has a coder account and can only be a coder here.")
    if db.session.scalar(select(StudyMember).where(StudyMember.study_id == study.id,
                                                   StudyMember.user_id == user.id)):
        raise StudyError(f"{user.name} is already a member of this study.")
    member = StudyMember(study=study, user=user, role=role)
    db.session.add(member)
    db.session.flush()
    record("member.add", actor, study_id=study.id, target=("user", user.id), role=role.value)
    return member


def change_member_role(actor: User, member: StudyMember, role: StudyRole) -> StudyMember:
    if member.user.role is Role.CODER and role is StudyRole.RESEARCHER:
        raise StudyError(f"{member.user.name} has a coder account and can only be a coder here.")
    if member.role is StudyRole.RESEARCHER and role is not StudyRole.RESEARCHER:
        _keep_one_researcher(member)
    record("member.role", actor, study_id=member.study_id, target=("user", member.user_id),
           before=member.role.value, after=role.value)
    member.role = role
    db.session.flush()
    return member


def remove_member(actor: User, member: StudyMember) -> None:
    if member.role is StudyRole.RESEARCHER:
        _keep_one_researcher(member)
    record("member.remove", actor, study_id=member.study_id, target=("user", member.user_id),
           role=member.role.value)
    db.session.delete(member)
    db.session.flush()


def _keep_one_researcher(member: StudyMember) -> None:
    researchers = db.session.scalar(
        select(func.count(StudyMember.id)).where(StudyMember.study_id == member.study_id,
                                                 StudyMember.role == StudyRole.RESEARCHER))
    if researchers <= 1:
        raise StudyError("A study needs at least one researcher. Add another one first.")
