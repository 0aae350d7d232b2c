from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from engage.access import get_in_study_or_404, study_view
from engage.exports import bp
from engage.exports.forms import ImportProjectForm
from engage.exports.operations import FORMATS, ExportError, export
from engage.exports.qdpx import ImportError_, import_qdpx
from engage.security import recent_login_required
from engage.uploads import UploadError, receive_upload
from models import StudyRole, TopicRun, db


@bp.get("")
@study_view(StudyRole.RESEARCHER)
def index(study):
    runs = db.session.scalars(select(TopicRun).where(
        TopicRun.study_id == study.id, TopicRun.status == "done")
        .order_by(TopicRun.created_at.desc())).all()
    return render_template("exports/index.html", study=study, runs=runs, formats=FORMATS,
                           form=ImportProjectForm())


@bp.get("/<fmt>")
@study_view(StudyRole.RESEARCHER)
@recent_login_required
def download(study, fmt):
    if fmt not in FORMATS:
        abort(404)
    run = None
    if request.args.get("run"):
        run = get_in_study_or_404(TopicRun, request.args.get("run", type=int) or 0, study)
    try:
        out = export(current_user, study, fmt, run=run,
                     include_audio=request.args.get("audio") == "1")
    except ExportError as error:
        flash(str(error), "error")
        return redirect(url_for("exports.index", study_id=study.id))
    db.session.commit()  # the audit record
    from io import BytesIO

    return send_file(BytesIO(out.data), mimetype=out.mimetype, as_attachment=True,
                     download_name=out.filename)


@bp.post("/import")
@study_view(StudyRole.RESEARCHER)
@recent_login_required
def import_project(study):
    form = ImportProjectForm()
    if form.validate_on_submit():
        try:
            stored = receive_upload(form.file.data, "project-imports",
                                    max_bytes=current_app.config["IMPORT_MAX_BYTES"])
        except UploadError as error:
            form.file.errors.append(str(error))
        else:
            try:
                summary = import_qdpx(current_user, study, stored.path)
            except ImportError_ as error:
                db.session.rollback()
                form.file.errors.append(f"The project was not imported: {error}")
            else:
                from engage.audit import record

                record("study.import", current_user, study_id=study.id, format="qdpx",
                       codings=summary.codings)
                db.session.commit()
                flash(summary.message(), "success")
                for warning in summary.warnings[:10]:
                    flash(warning, "warning")
                return redirect(url_for("exports.index", study_id=study.id))
            finally:
                stored.discard()
    runs = db.session.scalars(select(TopicRun).where(
        TopicRun.study_id == study.id, TopicRun.status == "done")).all()
    return render_template("exports/index.html", study=study, runs=runs, formats=FORMATS,
                           form=form), 400
