"""Researcher forms for participants, sessions, offers, consent and attendance."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from engage.forms import enum_choices, select_choices
from engage.i18n import LANGUAGES
from engage.scheduling.consent import StaffConsent
from engage.scheduling.withdrawal import Retention
from models import Attendance, AttributeKind, SessionKind, SessionStatus

LANGUAGE_CHOICES = select_choices(LANGUAGES.items())


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ParticipantForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    organization = StringField("Organization", validators=[Length(max=200)])
    stakeholder_group_id = SelectField("Stakeholder group", coerce=_int_or_none,
                                       validate_choice=False)
    region = StringField("Region", validators=[Length(max=120)])
    county = StringField("County", validators=[Length(max=120)])
    email = StringField("Email", validators=[Optional(), Email(), Length(max=254)])
    phone = StringField("Phone", validators=[Length(max=40)])
    preferred_language = SelectField("Preferred language", choices=LANGUAGE_CHOICES,
                                     default="en")
    accessibility_needs = TextAreaField("Accessibility needs", validators=[Length(max=2000)])
    notes = TextAreaField("Notes", validators=[Length(max=5000)])
    submit = SubmitField("Save participant")


class ImportForm(FlaskForm):
    file = FileField("CSV file (UTF-8)")
    submit = SubmitField("Check the file")


class ImportConfirmForm(FlaskForm):
    stored = HiddenField(validators=[DataRequired()])
    submit = SubmitField("Import participants")


class AttributeForm(FlaskForm):
    label = StringField("Attribute name", validators=[DataRequired(), Length(max=120)])
    kind = SelectField("Type", choices=enum_choices(AttributeKind), default="text")
    submit = SubmitField("Add attribute")


class GroupForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField("Description", validators=[Length(max=2000)])
    submit = SubmitField("Save group")


class SessionForm(FlaskForm):
    kind = SelectField("Kind", choices=enum_choices(SessionKind), default="interview")
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    start_date = DateField("Date", validators=[DataRequired(message="Enter a date.")])
    start_time = TimeField("Starts at", validators=[DataRequired(message="Enter a time.")])
    end_time = TimeField("Ends at", validators=[DataRequired(message="Enter a time.")])
    timezone = StringField("Time zone (IANA name)", validators=[DataRequired()],
                           default="America/New_York")
    location = StringField("Location", validators=[Length(max=300)])
    video_url = StringField("Video link", validators=[Optional(), URL(require_tld=False),
                                                      Length(max=500)])
    capacity = IntegerField("Capacity (seats)", default=1,
                            validators=[InputRequired(), NumberRange(min=1, max=1000)])
    facilitators = MultiCheckboxField("Facilitators", coerce=int)
    guide_codes = MultiCheckboxField("Interview guide: domains covered", coerce=int)
    status = SelectField("Status", choices=enum_choices(SessionStatus), default="planned")
    is_public = BooleanField("Open to the public (listening sessions): anyone with the "
                             "public link may register")
    notes = TextAreaField("Notes for the team", validators=[Length(max=5000)])
    submit = SubmitField("Save session")


class OfferForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("Kind", choices=enum_choices(SessionKind), default="interview")
    times = TextAreaField("Times to offer, one a line (YYYY-MM-DD HH:MM)",
                          validators=[DataRequired(message="Enter at least one time.")])
    timezone = StringField("Time zone (IANA name)", validators=[DataRequired()],
                           default="America/New_York")
    duration_minutes = IntegerField("Duration (minutes)", default=60,
                                    validators=[InputRequired(), NumberRange(min=5, max=720)])
    capacity = IntegerField("Seats in each slot", default=1,
                            validators=[InputRequired(), NumberRange(min=1, max=1000)])
    buffer_minutes = IntegerField("Buffer kept free around each slot (minutes)", default=15,
                                  validators=[Optional(), NumberRange(min=0, max=240)])
    min_notice_hours = IntegerField("Minimum notice (hours before a slot it can be booked)",
                                    default=24,
                                    validators=[Optional(), NumberRange(min=0, max=24 * 60)])
    location = StringField("Location", validators=[Length(max=300)])
    video_url = StringField("Video link", validators=[Optional(), URL(require_tld=False),
                                                      Length(max=500)])
    facilitators = MultiCheckboxField("Facilitators", coerce=int)
    guide_codes = MultiCheckboxField("Interview guide: domains covered", coerce=int)
    consent_text_id = SelectField("Consent text", coerce=_int_or_none, validate_choice=False)
    participants = MultiCheckboxField("Invite these participants", coerce=int)
    expires_days = IntegerField("Links work for (days)", default=30,
                                validators=[Optional(), NumberRange(min=1, max=365)])
    submit = SubmitField("Offer slots and send invitations")


class InviteForm(FlaskForm):
    participants = MultiCheckboxField("Invite more participants", coerce=int)
    submit = SubmitField("Send invitations")


class ConsentForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)],
                        default="Consent to take part")
    body = TextAreaField("Consent text (English)", validators=[DataRequired()])
    body_es = TextAreaField("Consent text (Spanish, optional)")
    submit = SubmitField("Save as a new version")


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=enum_choices(SessionStatus))
    submit = SubmitField("Change status")


class AttendanceForm(FlaskForm):
    bookings = MultiCheckboxField("Participants", coerce=int)
    attendance = SelectField("Mark as", choices=enum_choices(Attendance))
    submit = SubmitField("Mark attendance")


class RecordConsentForm(FlaskForm):
    """Consent a participant gave a researcher (by phone, in person), recorded for them."""

    consent_text_id = HiddenField(filters=[_int_or_none])
    consent_given = BooleanField("The participant agreed to this consent text")
    consent_name = StringField("The participant's name, as they gave it",
                               validators=[Length(max=200)])
    submit = SubmitField("Record consent")


class StaffBookForm(RecordConsentForm):
    participant = SelectField("Participant", coerce=_int_or_none, validate_choice=False)
    consent = RadioField("Their consent", choices=enum_choices(StaffConsent), validators=[
        InputRequired("Choose whether you record the participant's consent now or it is "
                      "collected at the session.")])
    submit = SubmitField("Book participant")


class LinkRecordingForm(FlaskForm):
    recording = SelectField("Recording", coerce=_int_or_none, validate_choice=False)
    submit = SubmitField("Link recording")


class WithdrawForm(FlaskForm):
    """A participant's withdrawal: what becomes of their words, confirmed by their name."""

    retention = RadioField(
        "What happens to their recordings and transcripts",
        choices=enum_choices(Retention),
        validators=[InputRequired("Choose whether their recordings and transcripts are "
                                  "deleted or kept de-identified.")])
    confirm_name = StringField("Type the participant's name to confirm",
                               validators=[DataRequired("Type the participant's name.")])
    submit = SubmitField("Withdraw and erase")

    def __init__(self, *args, expected_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected_name = expected_name

    def validate_confirm_name(self, field) -> None:
        if " ".join(field.data.split()).casefold() != " ".join(
                self.expected_name.split()).casefold():
            raise ValidationError("The name typed does not match this participant's name.")
