from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

EXPORT_FORMATS = ("txt", "vtt", "srt", "docx")


class SegmentForm(FlaskForm):
    speaker = StringField("Speaker", validators=[Optional(), Length(max=120)])
    text = TextAreaField("Text", validators=[DataRequired(), Length(max=20_000)])
    submit = SubmitField("Save")


class SplitForm(FlaskForm):
    at = IntegerField("Split after character", validators=[DataRequired(), NumberRange(min=1)])
    submit = SubmitField("Split")


class RenameSpeakerForm(FlaskForm):
    old = SelectField("Speaker", validators=[Optional()])
    new = StringField("New name", validators=[DataRequired(), Length(max=120)])
    submit = SubmitField("Rename everywhere")


class ImportTranscriptForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    file = FileField("Transcript file (WebVTT, SRT, TXT or DOCX)")
    recording = SelectField("Recording it belongs to", coerce=int, default=0)
    submit = SubmitField("Import")
