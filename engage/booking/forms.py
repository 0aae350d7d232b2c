"""Participants' forms. Labels and messages are translated in the templates and
operations, so these declare fields only; CSRF comes with FlaskForm. Public registration
has the public comment form's honeypot (``website``)."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

from engage.forms import select_choices
from engage.i18n import LANGUAGES
from engage.public.forms import honeypot_field


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class BookForm(FlaskForm):
    slot = RadioField(coerce=_int_or_none, validate_choice=False)
    consent_text_id = HiddenField()
    consent_name = StringField()
    consent_given = BooleanField()
    accessibility_needs = TextAreaField()
    submit = SubmitField()


class CancelForm(FlaskForm):
    submit = SubmitField()


class RegisterForm(FlaskForm):
    name = StringField()
    email = EmailField()
    preferred_language = SelectField(choices=select_choices(LANGUAGES.items()), default="en")
    group = SelectField(coerce=_int_or_none, validate_choice=False)
    accessibility_needs = TextAreaField()
    consent_text_id = HiddenField()
    consent_name = StringField()
    consent_given = BooleanField()
    website = honeypot_field("Leave this field empty")
    submit = SubmitField()
