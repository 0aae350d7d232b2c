"""Admin operations on accounts. They flush; the request commits."""

from __future__ import annotations

from sqlalchemy import func, select

from engage.audit import record
from engage.auth.operations import AccountError, generate_password
from models import Role, User, db


def update_user(actor: User, user: User, *, name: str, role: Role, active: bool) -> User:
    if user.id == actor.id and (role is not Role.ADMIN or not active):
        raise AccountError("You cannot remove your own administrator role or deactivate "
                           "yourself; ask another administrator.")
    if user.role is Role.ADMIN and (role is not Role.ADMIN or not active):
        admins = db.session.scalar(select(func.count(User.id)).where(
            User.role == Role.ADMIN, User.active.is_(True)))
        if admins <= 1:
            raise AccountError("Engage needs at least one active administrator.")
    changes = {field: [str(before), str(after)] for field, before, after in (
        ("name", user.name, name.strip()), ("role", user.role.value, role.value),
        ("active", user.active, active)) if before != after}
    user.name, user.role, user.active = name.strip(), role, active
    if changes:
        record("user.update", actor, target=("user", user.id), changes=changes)
    db.session.flush()
    return user


def reset_password(actor: User, user: User) -> str:
    password = generate_password()
    user.set_password(password)
    user.failed_logins = 0
    user.locked_until = None
    record("user.password_reset", actor, target=("user", user.id))
    db.session.flush()
    return password
