"""Consultation setup and overview. Moderation, campaigns and import views live in
their own modules, imported at the end."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user

from engage.access import get_in_study_or_404, study_view
from engage.consultations import bp, drafts
from engage.consultations.forms import ConsultationForm
from engage.consultations.operations import (
    ConsultationError,
    campaign_count,
    create_consultation,
    rejection_counts,
    status_counts,
    study_consultations,
    update_consultation,
)
from engage.jobs.operations import recent_jobs
from engage.public.operations import RejectionReason
from models import Comment, Consultation, StudyRole, db

BASE = "/studies/<int:study_id>/consultations"


def load_consultation(study, consultation_id: int) -> Consultation:
    return get_in_study_or_404(Consultation, consultation_id, study)


def load_comment(consultation: Consultation, comment_id: int) -> Comment:
    """A comment of this consultation (the consultation was loaded inside the study)."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.consultation_id != consultation.id:
        abort(404)
    return comment


def is_researcher() -> bool:
    return g.study_role is StudyRole.RESEARCHER


@bp.get(BASE)
@study_view()
def index(study):
    rows = [(c, status_counts(c)) for c in study_consultations(study)]
    return render_template("consultations/index.html", study=study, rows=rows,
                           can_edit=is_researcher())


@bp.route(f"{BASE}/new", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def new(study):
    form = ConsultationForm()
    if form.validate_on_submit():
        try:
            consultation = create_consultation(current_user, study, form.data_for())
        except ConsultationError as error:
            form[error.field or "title"].errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Consultation “{consultation.title}” created.", "success")
            return redirect(url_for("consultations.show", study_id=study.id,
                                    consultation_id=consultation.id))
    status = 400 if form.errors else 200
    return render_template("consultations/form.html", study=study, form=form,
                           consultation=None), status


@bp.get(f"{BASE}/<int:consultation_id>")
@study_view()
def show(study, consultation_id):
    consultation = load_consultation(study, consultation_id)
    return render_template(
        "consultations/show.html", study=study, consultation=consultation,
        phase=consultation.phase(), counts=status_counts(consultation),
        rejections=rejection_counts(consultation), rejection_labels=RejectionReason.LABELS,
        campaigns=campaign_count(consultation), sections=drafts.sections(consultation.draft),
        jobs=[j for j in recent_jobs(study.id, limit=20)
              if j.target_type == "consultation" and j.target_id == consultation.id][:5],
        can_edit=is_researcher())


@bp.route(f"{BASE}/<int:consultation_id>/edit", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def edit(study, consultation_id):
    consultation = load_consultation(study, consultation_id)
    form = ConsultationForm(obj=consultation)
    if not form.is_submitted():
        form.fill_from(consultation)
    if form.validate_on_submit():
        try:
            update_consultation(current_user, consultation, form.data_for())
        except ConsultationError as error:
            form[error.field or "title"].errors.append(str(error))
        else:
            db.session.commit()
            flash("Consultation saved.", "success")
            return redirect(url_for("consultations.show", study_id=study.id,
                                    consultation_id=consultation.id))
    status = 400 if form.errors else 200
    return render_template("consultations/form.html", study=study, form=form,
                           consultation=consultation), status


from engage.consultations import data_routes, moderation_routes  # noqa: E402,F401
