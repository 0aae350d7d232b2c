from flask import flash, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required

from engage.access import load_job
from engage.forms import ConfirmForm, perform
from engage.jobs import bp
from engage.jobs.operations import is_stale, request_cancel, retry, sweep_stale_jobs
from models import StudyRole, db


@bp.get("/jobs/<int:job_id>")
@login_required
def show(job_id):
    job = load_job(job_id, current_user)
    return render_template("jobs/show.html", job=job, confirm=ConfirmForm())


@bp.get("/jobs/<int:job_id>.json")
@login_required
def status(job_id):
    job = load_job(job_id, current_user)
    if is_stale(job):
        sweep_stale_jobs()
        db.session.refresh(job)
    return jsonify(
        id=job.id, kind=job.kind, status=job.status.value, progress=job.progress,
        message=job.message, error=job.error, finished=job.status.finished,
        started_at=job.started_at.isoformat() if job.started_at else None,
        finished_at=job.finished_at.isoformat() if job.finished_at else None,
    )


@bp.post("/jobs/<int:job_id>/retry")
@login_required
def retry_job(job_id):
    job = load_job(job_id, current_user, StudyRole.RESEARCHER)
    if ConfirmForm().validate_on_submit():
        perform(lambda: retry(job, current_user), "The job is queued again.")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.post("/jobs/<int:job_id>/cancel")
@login_required
def cancel_job(job_id):
    job = load_job(job_id, current_user, StudyRole.RESEARCHER)
    if ConfirmForm().validate_on_submit():
        try:
            request_cancel(job, current_user)
        except ValueError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Cancellation requested.", "info")
    return redirect(url_for("jobs.show", job_id=job.id))
