"""The public comment form, built per consultation and language.

Labels, hints and error messages are in the commenter's language; the
consultation decides the length limit, the sections and the extra questions.
Two fields are for abuse resistance and never shown to people: ``website`` is
a honeypot (``honeypot_field``; the booking pages' registration form has it too)
and ``started`` carries the signed time the form was shown.
"""

from __future__ import annotations

import json
from functools import lru_cache, partial
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from engage.consultations import drafts
from engage.consultations.questions import label
from engage.i18n import format_number, format_size, translate
from models import Consultation

WHOLE_DRAFT = ""


def honeypot_field(label: str) -> StringField:
    """The honeypot: a field people never meet (the template hides it with the ``.hp``
    class, and it is out of the tab order), labelled "leave empty" for anyone who meets
    it anyway. Software that fills in every field fills it in; see ``honeypot_filled``."""
    return StringField(label, render_kw={"tabindex": "-1", "autocomplete": "off"})


def honeypot_filled(value: str | None) -> bool:
    return bool(value and value.strip())


class _MaxLength:
    """Length check whose message says how long the comment is (translated)."""

    def __init__(self, maximum: int, lang: str):
        self.maximum, self.lang = maximum, lang

    def __call__(self, form, field) -> None:
        length = len(field.data or "")
        if length > self.maximum:
            raise ValidationError(translate(
                self.lang, "Your comment must be {max} characters or fewer; it has {length}.",
                max=format_number(self.maximum, self.lang),
                length=format_number(length, self.lang)))


def _question_field(spec: dict[str, Any], lang: str):
    t = partial(translate, lang)
    text = label(spec, lang)
    kind = spec.get("kind")
    if kind == "text":
        return StringField(f"{text} {t('(optional)')}", validators=[
            Optional(), Length(max=200, message=t("This must be 200 characters or fewer."))])
    if kind == "yesno":
        choices = [SelectChoice("yes", t("Yes")), SelectChoice("no", t("No")),
                   SelectChoice("prefer_not", t("Prefer not to say"))]
    else:
        choices = [SelectChoice(c["value"], label(c, lang)) for c in spec.get("choices", [])]
    # Optional, but an answer must be one of the offered ones.
    return RadioField(f"{text} {t('(optional)')}", choices=choices, validate_choice=True,
                      validators=[Optional()],
                      invalid_choice_message=t("Choose one of the answers."))


def question_field_name(spec: dict[str, Any]) -> str:
    return f"q_{spec['key']}"


def build_comment_form(consultation: Consultation, lang: str, attachment_limit: int,
                       **kwargs) -> FlaskForm:
    form_class = _form_class(lang, consultation.max_comment_length, consultation.draft,
                             json.dumps(consultation.questions or [], sort_keys=True),
                             attachment_limit)
    return form_class(**kwargs)


@lru_cache(maxsize=64)
def _form_class(lang: str, max_length: int, draft: str, questions_json: str,
                attachment_limit: int) -> type[FlaskForm]:
    """The form class for one consultation's settings and language. Cached: building
    it per request was a tenth of the intake path's time (see bench/intake.py)."""
    t = partial(translate, lang)
    section_choices = [SelectChoice(WHOLE_DRAFT, t("The whole draft"))] + [
        SelectChoice(s.title, s.title) for s in drafts.sections(draft)]
    attrs: dict[str, Any] = {
        "body": TextAreaField(t("Your comment"), validators=[
            DataRequired(t("Enter your comment.")), _MaxLength(max_length, lang)],
            description=t("Up to {max} characters.", max=format_number(max_length, lang)),
            render_kw={"rows": 12, "data-maxlength": max_length,
                       "data-counter": t("{count} of {max} characters used")}),
        "section": SelectField(
            t("Which part of the draft is your comment about?"), choices=section_choices,
            default=WHOLE_DRAFT, validate_choice=True,
            invalid_choice_message=t("Choose a part of the draft from the list.")),
        "author_name": StringField(t("Your name (optional)"), validators=[
            Optional(), Length(max=200, message=t("This must be 200 characters or fewer."))],
            render_kw={"autocomplete": "name"}),
        "organization": StringField(t("Organization (optional)"), validators=[
            Optional(), Length(max=200, message=t("This must be 200 characters or fewer."))],
            render_kw={"autocomplete": "organization"}),
        "email": EmailField(t("Email for a receipt (optional)"), validators=[
            Optional(), Length(max=254, message=t(
                "Enter an email address like name@example.org, or leave it empty.")),
            Email(message=t("Enter an email address like name@example.org, or leave it empty."),
                  check_deliverability=False)],
            description=t("We use it only to send your receipt. It is never published."),
            render_kw={"autocomplete": "email"}),
        "attachment": FileField(
            t("Attach a document (optional)"),
            description=t("PDF, Word (.docx) or plain text (.txt), up to {size}.",
                          size=format_size(attachment_limit)),
            render_kw={"accept": ".pdf,.docx,.txt,application/pdf,text/plain,application/"
                                 "vnd.openxmlformats-officedocument.wordprocessingml.document"}),
        "consent": BooleanField(t(
            "You may publish my comment (names, phone numbers and other personal details "
            "are removed first).")),
        "website": honeypot_field(t("Leave this field empty")),
        "started": HiddenField(),
        "submit": SubmitField(t("Send comment")),
    }
    for spec in json.loads(questions_json):
        attrs[question_field_name(spec)] = _question_field(spec, lang)
    return type("PublicCommentForm", (FlaskForm,), attrs)


def answers_from(form: FlaskForm, consultation: Consultation) -> dict[str, str]:
    answers = {}
    for spec in consultation.questions or []:
        value = form[question_field_name(spec)].data
        if value not in (None, "", "None"):
            answers[spec["key"]] = str(value).strip()
    return answers
