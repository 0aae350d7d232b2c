"""Forms shared by several blueprints."""

from flask_wtf import FlaskForm
from wtforms import SubmitField


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-protected button for a POST action."""

    submit = SubmitField("Confirm")
