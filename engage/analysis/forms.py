from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from engage.analysis.agreement import FinalizeScope, ScopePreview
from engage.analysis.operations import MAX_MEMO
from engage.forms import select_choices


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CodeSpanForm(FlaskForm):
    """Code a span: offsets come from a selection (JS) or the exact words typed."""

    unit = HiddenField(validators=[DataRequired()])
    start = IntegerField("Start", validators=[Optional(), NumberRange(min=0)])
    end = IntegerField("End", validators=[Optional(), NumberRange(min=0)])
    quote = StringField("Words to code (leave empty to code the whole passage)",
                        validators=[Optional(), Length(max=20_000)])
    codes = MultiCheckboxField("Codes", coerce=int)
    memo = TextAreaField("Memo (optional)", validators=[Optional(), Length(max=MAX_MEMO)])
    submit = SubmitField("Apply codes")


class ChangeCodingForm(FlaskForm):
    code = SelectField("Code", coerce=int)
    quote = StringField("New words (optional)", validators=[Optional(), Length(max=20_000)])
    submit = SubmitField("Change")


class MemoForm(FlaskForm):
    body = TextAreaField("Memo", validators=[DataRequired(), Length(max=MAX_MEMO)])
    submit = SubmitField("Save memo")


class DecisionForm(FlaskForm):
    code = SelectField("Change to", coerce=int, validate_choice=False, default=0)


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    code = SelectField("Code", coerce=int, default=0, validate_choice=False)
    transcript = SelectField("Transcript", coerce=int, default=0, validate_choice=False)
    source = SelectField("Source", default="", validate_choice=False, choices=select_choices(
        [("", "Transcripts and comments"), ("transcript", "Transcripts"),
         ("comment", "Comments")]))
    group = SelectField("Stakeholder group", default="", validate_choice=False)
    min_confidence = FloatField("Confidence from", validators=[Optional(),
                                                               NumberRange(min=0, max=1)])
    max_confidence = FloatField("to", validators=[Optional(), NumberRange(min=0, max=1)])
    order = SelectField("Order", default="confidence", validate_choice=False)
    submit = SubmitField("Filter")


class AssignmentForm(FlaskForm):
    coders = MultiCheckboxField("Coders", coerce=int)
    blind = BooleanField("Blind: each coder sees only their own codings", default=True)
    submit = SubmitField("Start independent coding")


class AdjudicationForm(FlaskForm):
    segment = HiddenField(validators=[DataRequired()])
    code = HiddenField(validators=[DataRequired()])
    ruling = SelectField("Ruling", validate_choice=False)
    note = StringField("Note (optional)", validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Save ruling")


class SpeakerLinkForm(FlaskForm):
    speaker = SelectField("Speaker", validate_choice=False)
    participant = SelectField("Participant", coerce=int, default=0)
    submit = SubmitField("Link")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class FinalizeForm(FlaskForm):
    """Finalize a pass: which codings of record the adjudicated result replaces."""

    scope = RadioField("What the adjudicated result replaces", default=FinalizeScope.USED_CODES,
                       choices=select_choices((s.value, s.value) for s in FinalizeScope))

    def describe(self, preview: ScopePreview) -> "FinalizeForm":
        """Label the choices with what each would replace and keep."""
        self.scope.choices = select_choices([
            (FinalizeScope.USED_CODES,
             f"Replace codings of record for the codes used in this pass "
             f"({_count(preview.pass_codes, 'code')}); keep the others "
             f"({_count(preview.kept_codings, 'coding')} of "
             f"{_count(preview.kept_codes, 'other code')})"),
            (FinalizeScope.ALL,
             f"Replace all codings of record on this transcript "
             f"({_count(preview.total, 'coding')} now)")])
        return self
