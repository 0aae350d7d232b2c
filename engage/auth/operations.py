"""Account operations: authentication with lockout, passwords, creating users."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from engage.audit import record
from models import Role, User, db, utcnow


class AccountError(ValueError):
    """A problem with account data, phrased for the person who entered it."""


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None


BAD_CREDENTIALS = "That email and password do not match an active account."


def authenticate(email: str, password: str, *, max_failures: int,
                 lockout_minutes: int) -> LoginResult:
    """Check a password, counting failures and locking the account after too many."""
    result = _authenticate(email, password, max_failures, lockout_minutes)
    if result.user:
        record("login", result.user)
    else:
        record("login.failed", None, email=email.strip().lower()[:254], reason=result.error)
    db.session.flush()
    return result


def _authenticate(email: str, password: str, max_failures: int,
                  lockout_minutes: int) -> LoginResult:
    user = find_user(email)
    now = utcnow()
    if user is None or not user.active:
        return LoginResult(None, BAD_CREDENTIALS)
    if user.locked_until and user.locked_until > now:
        minutes = math.ceil((user.locked_until - now).total_seconds() / 60)
        return LoginResult(None, f"Too many failed attempts: this account is locked for "
                                 f"{minutes} more minute{'s' if minutes != 1 else ''}.")
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
            db.session.flush()
            return LoginResult(None, f"Too many failed attempts: this account is locked for "
                                     f"{lockout_minutes} minutes.")
        db.session.flush()
        return LoginResult(None, BAD_CREDENTIALS)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.flush()
    return LoginResult(user)


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError("The current password is not right.")
    if current == new:
        raise AccountError("Choose a password different from the current one.")
    user.set_password(new)
    record("password.change", user, target=("user", user.id))
    db.session.flush()


def confirm_password(user: User, password: str) -> None:
    """Re-authentication before a sensitive action."""
    if not user.check_password(password):
        record("reauth.failed", user)
        raise AccountError("That password is not right.")
    record("reauth", user)


def create_user(email: str, name: str, role: Role, password: str | None = None,
                actor: User | None = None) -> tuple[User, str]:
    """Create an account; returns it with its password (generated when none is given)."""
    email = email.strip().lower()
    if find_user(email):
        raise AccountError(f"An account with the email {email} already exists.")
    password = password or generate_password()
    user = User(email=email, name=name.strip(), role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("user.create", actor, target=("user", user.id), email=email, role=role.value)
    return user, password


def generate_password() -> str:
    # Four groups of four from an unambiguous alphabet: easy to read out, ~80 bits.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))
