"""Forms shared by several blueprints, and the commit-or-refuse step of a POST view."""

from collections.abc import Callable, Iterable
from enum import Enum
from typing import TypeVar

from flask import flash
from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.fields.choices import SelectChoice

from models import db

T = TypeVar("T")


def select_choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def enum_choices(members) -> list[SelectChoice]:
    """Select options for enum members that have a ``label``."""
    return select_choices((m.value, m.label) for m in members if isinstance(m, Enum))


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-protected button for a POST action."""

    submit = SubmitField("Confirm")


def perform(operation: Callable[[], T], success: str | Callable[[T], str] | None = None,
            errors: type[Exception] | tuple[type[Exception], ...] = ValueError) -> T | None:
    """Run one domain operation of a POST view: commit and flash ``success``, or flash
    why it was refused (and roll back, so nothing of it is kept). Returns the result,
    or None when refused.

    ``success`` may be a function of the result, called after the commit. Exceptions
    that are not ``errors`` propagate, uncommitted.
    """
    try:
        result = operation()
    except errors as error:
        db.session.rollback()
        flash(str(error), "error")
        return None
    db.session.commit()
    if success is not None:
        flash(success(result) if callable(success) else success, "success")
    return result
