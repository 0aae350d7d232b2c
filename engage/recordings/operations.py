"""Recording operations. They flush; the request (or the job) commits."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from engage.jobs.operations import enqueue
from engage.scheduling.sessions import link_recording
from engage.scheduling.timezones import describe
from engage.uploads import UploadError, receive_upload
from models import Job, JobStatus, Recording, SessionStatus, Study, StudySession, User, db
from transcripts.probe import MediaError, probe_media

FILES = "recordings"


class RecordingError(ValueError):
    """A refused recording action, phrased for the researcher."""


def upload_recording(actor: User, study: Study, file: FileStorage | None, *, title: str,
                     language: str | None, translate: bool, transcribe: bool = True,
                     session: StudySession | None = None) -> Recording:
    """Store a recording after probing its content, link it to the scheduled ``session``
    it was made in (if any), then queue its transcription."""
    if session is not None and session.study_id != study.id:
        raise RecordingError("Choose a session of this study, or none.")
    config = current_app.config
    try:
        stored = receive_upload(file, FILES, max_bytes=config["RECORDING_MAX_BYTES"])
    except UploadError as error:
        raise RecordingError(str(error)) from error
    try:
        info = probe_media(stored.path, max_duration_s=config["RECORDING_MAX_DURATION_S"])
        existing = db.session.scalar(select(Recording).where(
            Recording.study_id == study.id, Recording.sha256 == stored.sha256))
        if existing:
            raise RecordingError(
                f"This file was already uploaded to this study as “{existing.title}” on "
                f"{existing.created_at:%Y-%m-%d}.")
    except MediaError as error:
        stored.discard()
        raise RecordingError(error.message) from error
    except RecordingError:
        stored.discard()
        raise
    recording = Recording(
        study_id=study.id, title=title.strip(), original_filename=stored.original_filename,
        stored_name=stored.stored_name, sha256=stored.sha256, size_bytes=stored.size,
        duration_ms=round(info.duration_s * 1000), container=info.format_name or "",
        audio_codec=info.audio_codec or "", language=language or None, translate=translate,
        uploaded_by_id=actor.id)
    db.session.add(recording)
    db.session.flush()
    if session is not None:
        link_recording(actor, session, recording)
    if transcribe:
        start_transcription(actor, recording, model=choose_model(config, language, translate))
    return recording


def choose_model(config, language: str | None, translate: bool) -> str:
    """The configured model, or the multilingual one when English-only cannot do the job."""
    model = config["WHISPER_MODEL"]
    english_only = model.endswith(".en")
    if english_only and (translate or (language and language != "en")):
        return config["WHISPER_MULTILINGUAL_MODEL"]
    return model


def start_transcription(actor: User, recording: Recording, *, model: str,
                        language: str | None = None, translate: bool | None = None,
                        replace_edits: bool = False) -> Job:
    """Queue a (re-)transcription. The current transcript stays until the new one succeeds."""
    if model.endswith(".en") and ((language or recording.language or "en") != "en"
                                  or (translate if translate is not None else recording.translate)):
        raise RecordingError(f"The {model} model understands English only. Choose a "
                             "multilingual model such as base for this recording.")
    if active_transcription(recording):
        raise RecordingError("This recording is already being transcribed.")
    current = recording.current_transcript
    if current and any(s.edited for s in current.segments) and not replace_edits:
        raise RecordingError(
            "Coders have edited the current transcript. Tick “Replace the current transcript” "
            "to transcribe again; the edited version stays in the history.")
    if language is not None:
        recording.language = language or None
    if translate is not None:
        recording.translate = translate
    return enqueue("transcribe", actor=actor, study_id=recording.study_id,
                   target=("recording", recording.id), params={"model": model})


def active_transcription(recording: Recording) -> Job | None:
    return db.session.scalar(select(Job).where(
        Job.kind == "transcribe", Job.target_type == "recording", Job.target_id == recording.id,
        Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])))


def latest_transcription(recording: Recording) -> Job | None:
    return db.session.scalar(select(Job).where(
        Job.kind == "transcribe", Job.target_type == "recording", Job.target_id == recording.id,
    ).order_by(Job.id.desc()).limit(1))


def study_sessions(study: Study) -> list[StudySession]:
    """The study's scheduled sessions, most recent first."""
    return list(db.session.scalars(select(StudySession).where(
        StudySession.study_id == study.id).order_by(StudySession.starts_at.desc(),
                                                    StudySession.id.desc())))


def session_label(session: StudySession) -> str:
    """``Mon, Mar 15, 2027, 10:00 EDT · Title`` (in the session's own time zone)."""
    label = f"{describe(session.starts_at, session.timezone, False)} · {session.title}"
    return f"{label} (cancelled)" if session.status is SessionStatus.CANCELLED else label
