from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from engage.forms import select_choices

# Whisper's codes for the languages agencies meet most; "" lets Whisper detect it.
LANGUAGE_CHOICES = select_choices([
    ("", "Detect automatically"), ("en", "English"), ("es", "Spanish"), ("zh", "Chinese"),
    ("vi", "Vietnamese"), ("ko", "Korean"), ("ru", "Russian"), ("ar", "Arabic"),
    ("fr", "French"), ("ht", "Haitian Creole"), ("pt", "Portuguese"), ("tl", "Tagalog"),
])


def _session_id(value) -> int | None:
    return int(value) if value not in (None, "") else None


class UploadRecordingForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    file = FileField("Recording (wav, mp3, m4a, ogg, webm, flac, mp4)")
    # Choices: "" (none) and this study's sessions, set by the view.
    session = SelectField("Session (optional)", coerce=_session_id, default=None,
                          invalid_value_message="Choose a session from the list, or none.",
                          invalid_choice_message="Choose a session of this study, or none.")
    language = SelectField("Spoken language", choices=LANGUAGE_CHOICES, default="")
    translate = BooleanField("Also translate into English")
    submit = SubmitField("Upload and transcribe")


class TranscribeForm(FlaskForm):
    model = SelectField("Whisper model", validators=[DataRequired()])
    language = SelectField("Spoken language", choices=LANGUAGE_CHOICES, default="",
                           validators=[Optional()])
    translate = BooleanField("Translate into English")
    replace_edits = BooleanField("Replace the current transcript even though coders edited it")
    submit = SubmitField("Transcribe again")
