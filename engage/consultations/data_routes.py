"""Form-letter campaigns (grouping and browsing) and CSV import."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from coding.comment_csv import ColumnMapping
from engage.access import study_view
from engage.consultations import bp
from engage.consultations.forms import (
    MAPPING_FIELDS,
    GroupCampaignsForm,
    ImportMappingForm,
    ImportUploadForm,
)
from engage.consultations.grouping import (
    campaign_members,
    campaign_summaries,
    last_grouping_params,
    start_grouping,
    suggested_boilerplate,
)
from engage.consultations.importing import (
    ImportError_,
    ImportPreview,
    preview_import,
    reopen_preview,
    start_import,
)
from engage.consultations.moderation import masked
from engage.consultations.routes import BASE, is_researcher, load_consultation
from models import Campaign, StudyRole, db


@bp.get(f"{BASE}/<int:consultation_id>/campaigns")
@study_view()
def campaigns(study, consultation_id):
    consultation = load_consultation(study, consultation_id)
    return render_template("consultations/campaigns.html", study=study,
                           consultation=consultation, summaries=campaign_summaries(consultation),
                           can_edit=is_researcher(), shown=_shown())


def _shown():
    # Templates and personal additions are free text from the public: coders read them masked.
    return (lambda text: text) if is_researcher() else masked


@bp.get(f"{BASE}/<int:consultation_id>/campaigns/<int:campaign_id>")
@study_view()
def campaign(study, consultation_id, campaign_id):
    consultation = load_consultation(study, consultation_id)
    item = db.session.get(Campaign, campaign_id)
    if item is None or item.consultation_id != consultation.id:
        abort(404)
    return render_template("consultations/campaign.html", study=study, consultation=consultation,
                           campaign=item, members=campaign_members(item), shown=_shown(),
                           researcher=is_researcher())


@bp.route(f"{BASE}/<int:consultation_id>/campaigns/group", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def group(study, consultation_id):
    consultation = load_consultation(study, consultation_id)
    form = GroupCampaignsForm()
    if form.validate_on_submit():
        job = start_grouping(current_user, consultation, form.threshold.data,
                             (form.boilerplate.data or "").splitlines())
        db.session.commit()
        flash("Grouping started. This page follows its progress.", "success")
        return redirect(url_for("jobs.show", job_id=job.id))
    suggestions = suggested_boilerplate(consultation)
    if not form.is_submitted():
        last = last_grouping_params(consultation)
        if last:
            form.threshold.data = last.get("threshold", 0.8)
            form.boilerplate.data = "\n".join(last.get("boilerplate") or [])
        else:
            form.boilerplate.data = "\n".join(line for line, _ in suggestions)
    return render_template("consultations/group.html", study=study, consultation=consultation,
                           form=form, suggestions=suggestions), 400 if form.errors else 200


@bp.route(f"{BASE}/<int:consultation_id>/import", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def import_upload(study, consultation_id):
    consultation = load_consultation(study, consultation_id)
    form = ImportUploadForm()
    if form.validate_on_submit():
        try:
            preview = preview_import(current_user, consultation, form.file.data)
        except ImportError_ as error:
            form.file.errors.append(str(error))
        else:
            return _preview_page(study, consultation, preview, _mapping_form(preview))
    return render_template("consultations/import.html", study=study, consultation=consultation,
                           form=form), 400 if form.errors else 200


def _mapping_form(preview: ImportPreview) -> ImportMappingForm:
    form = ImportMappingForm(formdata=None, token=preview.token)
    form.set_columns(preview.preview.columns)
    guessed = preview.preview.mapping
    for name, _ in MAPPING_FIELDS:
        form[name].data = (getattr(guessed, name) if guessed else None) or ""
    return form


def _preview_page(study, consultation, preview: ImportPreview, form: ImportMappingForm,
                  status: int = 200):
    return render_template("consultations/import_preview.html", study=study,
                           consultation=consultation, preview=preview, form=form,
                           fields=MAPPING_FIELDS), status


@bp.post(f"{BASE}/<int:consultation_id>/import/start")
@study_view(StudyRole.RESEARCHER)
def import_start(study, consultation_id):
    consultation = load_consultation(study, consultation_id)
    form = ImportMappingForm()
    try:
        preview = reopen_preview(consultation, form.token.data or "")
    except ImportError_ as error:
        flash(str(error), "error")
        return redirect(url_for("consultations.import_upload", study_id=study.id,
                                consultation_id=consultation.id))
    form.set_columns(preview.preview.columns)
    if form.validate_on_submit():
        mapping = ColumnMapping(**{name: form[name].data or None for name, _ in MAPPING_FIELDS})
        job = start_import(current_user, consultation, form.token.data, mapping,
                           bool(form.consent_to_publish.data))
        db.session.commit()
        flash("Import started. This page follows its progress.", "success")
        return redirect(url_for("jobs.show", job_id=job.id))
    return _preview_page(study, consultation, preview, form, 400)
