from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from engage.forms import enum_choices
from engage.topics.forms import MultiCheckboxField
from models import ThemeStatus


class NewThemeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give the theme a name."),
                                           Length(max=200)])
    summary = TextAreaField("Summary", validators=[Length(max=20000)])
    submit = SubmitField("Create theme")


class ThemeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give the theme a name."),
                                           Length(max=200)])
    summary = TextAreaField("Summary (what the evidence says, in your words)",
                            validators=[Length(max=20000)])
    status = SelectField("Status", choices=enum_choices(ThemeStatus))
    submit = SubmitField("Save")


class TopicsForm(FlaskForm):
    topics = MultiCheckboxField("Topics", coerce=int)
    submit = SubmitField("Save topics")


class CodesForm(FlaskForm):
    codes = MultiCheckboxField("Codes", coerce=int)
    submit = SubmitField("Save codes")


class EvidenceForm(FlaskForm):
    unit = StringField("Document", validators=[DataRequired(), Length(max=40)])
    quote = TextAreaField("Exact words to quote (leave empty for the whole document)",
                          validators=[Optional(), Length(max=20000)])
    note = StringField("Note (optional)", validators=[Optional(), Length(max=2000)])
    coding_id = HiddenField()
    topic_id = HiddenField()
    submit = SubmitField("Add quote")
