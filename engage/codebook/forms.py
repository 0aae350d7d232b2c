from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FloatField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import ColorField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp


class CodeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    parent = SelectField("Parent code", coerce=int, default=0)
    description = TextAreaField("Description", validators=[Length(max=5000)])
    inclusion = TextAreaField("Apply when (inclusion)", validators=[Length(max=5000)])
    exclusion = TextAreaField("Do not apply when (exclusion)", validators=[Length(max=5000)])
    color = ColorField("Color", default="#4a6fa5",
                       validators=[Regexp(r"^#[0-9A-Fa-f]{6}$", message="Use #RRGGBB.")])
    submit = SubmitField("Save code")


class EditCodeForm(CodeForm):
    parent = None  # moving has its own form


class MoveForm(FlaskForm):
    parent = SelectField("Move under", coerce=int, default=0)
    submit = SubmitField("Move")


class MergeForm(FlaskForm):
    target = SelectField("Merge into", coerce=int, validators=[DataRequired()])
    submit = SubmitField("Merge")


class PatternForm(FlaskForm):
    terms = TextAreaField("Terms (one per line: the term first, then its variants)",
                          validators=[DataRequired(), Length(max=10_000)])
    lemma = BooleanField("Match inflections (lemma): “provider network” also matches "
                         "“provider networks”")
    case_sensitive = BooleanField("Case-sensitive (for abbreviations that are also words, "
                                  "like PACE)")
    label = StringField("Concept name in explanations (optional)",
                        validators=[Optional(), Length(max=200)])
    weight = FloatField("Fixed weight between 0 and 1 (optional)",
                        validators=[Optional(), NumberRange(min=0.01, max=0.99)])
    submit = SubmitField("Save pattern")


class ImportForm(FlaskForm):
    file = FileField("Codebook file (REFI-QDA .qdc or .csv)")
    submit = SubmitField("Import")
