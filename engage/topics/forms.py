from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from engage.forms import select_choices


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


SOURCE_CHOICES = select_choices([("all", "Transcript segments and comments"),
                                 ("transcripts", "Transcript segments only"),
                                 ("comments", "Comments only")])
CAMPAIGN_CHOICES = select_choices([
    ("n", "Count every campaign member (N voices)"),
    ("one", "Count each form-letter campaign as one voice"),
])


class RunForm(FlaskForm):
    name = StringField("Name (optional)", validators=[Optional(), Length(max=200)])
    source = RadioField("Documents", choices=SOURCE_CHOICES, default="all")
    session_kinds = MultiCheckboxField("Only these session kinds (transcripts)")
    groups = MultiCheckboxField("Only these stakeholder groups")
    consultation_ids = MultiCheckboxField("Only these consultations (comments)", coerce=int)
    date_from = DateField("From date", validators=[Optional()])
    date_to = DateField("To date", validators=[Optional()])
    campaigns = RadioField("Form-letter campaigns", choices=CAMPAIGN_CHOICES, default="n")
    min_topic_size = IntegerField("Minimum topic size (leave empty to choose from the corpus "
                                  "size)", validators=[Optional(), NumberRange(2, 500)])
    n_neighbors = IntegerField("UMAP neighbours (leave empty to choose)",
                               validators=[Optional(), NumberRange(2, 100)])
    nr_topics = IntegerField("Reduce to at most this many topics (optional)",
                             validators=[Optional(), NumberRange(2, 200)])
    submit = SubmitField("Start topic run")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")


class RenameForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=200)])
    submit = SubmitField("Rename")


class NoiseForm(FlaskForm):
    noise = HiddenField(default="1")
    submit = SubmitField("Mark as noise")


class MergeForm(FlaskForm):
    topics = MultiCheckboxField("Topics to merge", coerce=int)
    into = SelectField("Merge into", coerce=int)
    submit = SubmitField("Merge topics")


class CompareForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form

    a = SelectField("Run", coerce=int)
    b = SelectField("Compare with", coerce=int)
    submit = SubmitField("Compare")
