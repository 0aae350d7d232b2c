from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from engage.forms import enum_choices
from models import StudyRole

STUDY_ROLE_CHOICES = enum_choices(reversed(StudyRole))


class StudyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    submit = SubmitField("Save study")


class AddMemberForm(FlaskForm):
    email = EmailField("Email of an existing account", validators=[DataRequired(), Email()])
    role = SelectField("Role in this study", choices=STUDY_ROLE_CHOICES, default="coder")
    submit = SubmitField("Add member")


class MemberRoleForm(FlaskForm):
    role = SelectField("Role", choices=STUDY_ROLE_CHOICES)
    submit = SubmitField("Change role")
