from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from engage.forms import enum_choices
from models import Role

ROLE_CHOICES = enum_choices(Role)


class UserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="coder")
    submit = SubmitField("Create account")


class EditUserForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Account is active (can sign in)")
    submit = SubmitField("Save")


class ResetPasswordForm(FlaskForm):
    submit = SubmitField("Generate a new password")


class WorkerCheckForm(FlaskForm):
    submit = SubmitField("Run a worker check")
