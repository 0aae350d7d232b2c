"""Forms shared by several blueprints."""

from enum import Enum

from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.fields.choices import SelectChoice


def enum_choices(members) -> list[SelectChoice]:
    """Select options for enum members that have a ``label``."""
    return [SelectChoice(m.value, m.label) for m in members if isinstance(m, Enum)]


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-protected button for a POST action."""

    submit = SubmitField("Confirm")
