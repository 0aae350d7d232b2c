"""Forms shared by several blueprints."""

from collections.abc import Iterable
from enum import Enum

from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.fields.choices import SelectChoice


def select_choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def enum_choices(members) -> list[SelectChoice]:
    """Select options for enum members that have a ``label``."""
    return select_choices((m.value, m.label) for m in members if isinstance(m, Enum))


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-protected button for a POST action."""

    submit = SubmitField("Confirm")
