import mimetypes

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from engage.access import get_in_study_or_404, study_view
from engage.forms import ConfirmForm, perform, select_choices
from engage.pagination import paginate
from engage.recordings import bp
from engage.recordings.forms import TranscribeForm, UploadRecordingForm
from engage.recordings.operations import (
    FILES,
    RecordingError,
    active_transcription,
    latest_transcription,
    session_label,
    start_transcription,
    study_sessions,
    upload_recording,
)
from engage.uploads import stored_path
from models import Recording, StudyRole, StudySession, db

# Containers FFmpeg reports, mapped to what browsers play.
AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg",
               "flac": "audio/flac", "matroska,webm": "audio/webm",
               "mov,mp4,m4a,3gp,3g2,mj2": "audio/mp4"}


@bp.get("")
@study_view()
def index(study):
    page = paginate(select(Recording).where(Recording.study_id == study.id)
                    .order_by(Recording.created_at.desc()))
    return render_template("recordings/index.html", study=study, page=page,
                           form=_upload_form(study))


@bp.post("")
@study_view(StudyRole.RESEARCHER)
def upload(study):
    form = _upload_form(study)
    if form.validate_on_submit():
        session = (get_in_study_or_404(StudySession, form.session.data, study)
                   if form.session.data else None)
        try:
            recording = upload_recording(current_user, study, form.file.data,
                                         title=form.title.data, language=form.language.data,
                                         translate=form.translate.data, session=session)
        except RecordingError as error:
            form.file.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"“{recording.title}” is uploaded; transcription has started.", "success")
            return redirect(url_for("recordings.show", study_id=study.id,
                                    recording_id=recording.id))
    page = paginate(select(Recording).where(Recording.study_id == study.id)
                    .order_by(Recording.created_at.desc()))
    return render_template("recordings/index.html", study=study, page=page, form=form), 400


@bp.get("/<int:recording_id>")
@study_view()
def show(study, recording_id):
    recording = get_in_study_or_404(Recording, recording_id, study)
    return render_template("recordings/show.html", study=study, recording=recording,
                           job=latest_transcription(recording),
                           running=active_transcription(recording),
                           form=_transcribe_form(recording), confirm=ConfirmForm())


@bp.post("/<int:recording_id>/transcribe")
@study_view(StudyRole.RESEARCHER)
def transcribe(study, recording_id):
    recording = get_in_study_or_404(Recording, recording_id, study)
    form = _transcribe_form(recording)
    if form.validate_on_submit():
        job = perform(lambda: start_transcription(current_user, recording,
                                                  model=form.model.data,
                                                  language=form.language.data,
                                                  translate=form.translate.data,
                                                  replace_edits=form.replace_edits.data),
                      errors=RecordingError)
        if job is not None:
            return redirect(url_for("jobs.show", job_id=job.id))
    else:
        flash("Choose a model from the list.", "error")
    return redirect(url_for("recordings.show", study_id=study.id, recording_id=recording.id))


@bp.get("/<int:recording_id>/audio")
@study_view()
def audio(study, recording_id):
    recording = get_in_study_or_404(Recording, recording_id, study)
    mimetype = AUDIO_TYPES.get(recording.container) or mimetypes.guess_type(
        recording.original_filename)[0] or "application/octet-stream"
    # conditional=True answers Range requests (206), which the player needs to seek.
    return send_file(stored_path(FILES, recording.stored_name), mimetype=mimetype,
                     conditional=True, etag=recording.sha256, max_age=3600)


def _upload_form(study) -> UploadRecordingForm:
    """The upload form offering this study's sessions; ``?session=<id>`` preselects one."""
    form = UploadRecordingForm()
    sessions = study_sessions(study)
    form.session.choices = select_choices(
        [("", "None"), *((s.id, session_label(s)) for s in sessions)])
    if request.method == "GET":
        wanted = request.args.get("session", type=int)
        form.session.data = wanted if wanted in {s.id for s in sessions} else None
    return form


def _transcribe_form(recording: Recording) -> TranscribeForm:
    form = TranscribeForm(language=recording.language or "", translate=recording.translate)
    choices = list(current_app.config["WHISPER_MODEL_CHOICES"])
    configured = current_app.config["WHISPER_MODEL"]
    if configured not in choices:
        choices.insert(0, configured)
    form.model.choices = select_choices((c, c) for c in choices)
    if not form.model.data:
        form.model.data = configured
    return form
