from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from coding.redaction import LABELS
from engage.consultations.moderation import ModerationAction
from engage.consultations.operations import ConsultationData
from engage.consultations.questions import CATALOGUE_LABELS
from engage.i18n import LANGUAGES

TIMEZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
             "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
             "America/Puerto_Rico", "UTC"]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _valid_timezone(form, field) -> None:
    try:
        ZoneInfo(field.data)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("Choose a time zone from the list.") from exc


class ConsultationForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    slug = StringField("Public address", validators=[Optional(), Length(max=80)],
                       description="The form will be at /c/<address>. Leave empty for a "
                                   "consultation that only receives imported comments.")
    summary = TextAreaField("Summary", validators=[Length(max=2000)],
                            description="One or two sentences shown above the draft.")
    draft = TextAreaField("Draft text (Markdown)", validators=[Length(max=200_000)],
                          description="Headings (## Section) become the sections commenters "
                                      "can choose.", render_kw={"rows": 14})
    opens_at = DateTimeLocalField("Opens", validators=[Optional()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField("Closes", validators=[Optional()], format="%Y-%m-%dT%H:%M")
    timezone = SelectField("Time zone of these dates",
                           choices=[SelectChoice(z, z.replace("_", " ")) for z in TIMEZONES],
                           validators=[_valid_timezone])
    languages = CheckboxesField(
        "Languages of the form",
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        default=list(LANGUAGES))
    questions = CheckboxesField(
        "Questions besides the comment (all optional for commenters)",
        choices=[SelectChoice(key, text) for key, text in CATALOGUE_LABELS])
    publish_comments = BooleanField("Publish approved comments on the public page")
    max_comment_length = IntegerField("Longest comment accepted (characters)", default=10_000,
                                      validators=[NumberRange(100, 100_000)])
    submit = SubmitField("Save consultation")

    def data_for(self) -> ConsultationData:
        zone = ZoneInfo(self.timezone.data)

        def utc(local: datetime | None) -> datetime | None:
            return local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")) if local else None

        return ConsultationData(
            title=self.title.data, slug=(self.slug.data or "").strip().lower() or None,
            summary=self.summary.data or "", draft=self.draft.data or "",
            opens_at=utc(self.opens_at.data), closes_at=utc(self.closes_at.data),
            timezone=self.timezone.data, languages=list(self.languages.data or []),
            question_keys=list(self.questions.data or []),
            publish_comments=bool(self.publish_comments.data),
            max_comment_length=self.max_comment_length.data)

    def fill_from(self, consultation) -> None:
        zone = ZoneInfo(consultation.timezone)
        for name in ("opens_at", "closes_at"):
            moment = getattr(consultation, name)
            self[name].data = moment.astimezone(zone).replace(tzinfo=None) if moment else None
        self.questions.data = [q["key"] for q in consultation.questions or []]


STATUS_ACTIONS = [SelectChoice(a.value, a.label) for a in ModerationAction]


class ModerateForm(FlaskForm):
    action = SelectField("Action", choices=STATUS_ACTIONS)
    reason = StringField("Reason (needed to reject)", validators=[Length(max=2000)])
    submit = SubmitField("Apply")


class BulkForm(ModerateForm):
    scope = SelectField("Apply to", choices=[
        SelectChoice("selected", "The comments ticked below"),
        SelectChoice("matching", "Every comment matching the filters")])
    # The filters of the page the form was on, for scope "matching".
    filters = HiddenField()


KIND_NAMES = {"email": "Email address", "phone": "Phone number",
              "member_id": "Medicare or Medicaid ID", "ssn": "Social Security number",
              "dob": "Date of birth", "address": "Street address", "name": "Person's name"}


class RedactionForm(FlaskForm):
    add_text = StringField("Also mask this text (every occurrence)",
                           validators=[Length(max=500)])
    add_kind = SelectField("Kind", choices=[SelectChoice(k, KIND_NAMES.get(k, v))
                                            for k, v in LABELS.items()], default="name")
    redetect = BooleanField("Start again from automatic detection")
    submit = SubmitField("Update masking")


class PublicTextForm(FlaskForm):
    public_body = TextAreaField("Public version", validators=[DataRequired()],
                                render_kw={"rows": 8})
    submit = SubmitField("Save public version")


class ImportUploadForm(FlaskForm):
    file = FileField("CSV file", description="UTF-8 CSV with a header row, for example a "
                                             "regulations.gov export.")
    submit = SubmitField("Preview")


MAPPING_FIELDS = [
    ("text", "Comment text"),
    ("external_id", "Comment ID (used to spot duplicates)"),
    ("author_name", "Name (or first name)"),
    ("author_last_name", "Last name"),
    ("organization", "Organization"),
    ("email", "Email"),
]


class ImportMappingForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    text = SelectField("Comment text", validators=[DataRequired("Choose the text column.")])
    external_id = SelectField("Comment ID (used to spot duplicates)", default="")
    author_name = SelectField("Name (or first name)", default="")
    author_last_name = SelectField("Last name", default="")
    organization = SelectField("Organization", default="")
    email = SelectField("Email", default="")
    consent_to_publish = BooleanField(
        "These comments are already public: approved ones may be published here too")
    submit = SubmitField("Import comments")

    def set_columns(self, columns: list[str]) -> None:
        none = [SelectChoice("", "(none)")]
        options = [SelectChoice(c, c) for c in columns]
        self.text.choices = [SelectChoice("", "(choose)")] + options
        for name, _ in MAPPING_FIELDS[1:]:
            self[name].choices = none + options


class GroupCampaignsForm(FlaskForm):
    threshold = FloatField("Similarity needed (0.5 to 1)", default=0.8,
                           validators=[NumberRange(0.5, 1.0)],
                           description="Share of three-word phrases two comments must have "
                                       "in common. 0.8 joins letters with small edits.")
    boilerplate = TextAreaField(
        "Boilerplate to ignore (one line each)", render_kw={"rows": 4},
        validators=[Length(max=20_000)],
        description="Text added to many unrelated comments, such as a docket line; it "
                    "would otherwise make them look alike.")
    submit = SubmitField("Group campaigns")
