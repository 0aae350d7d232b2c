"""Recordings: upload, validation by probing, storage, audio streaming, transcription jobs."""

from flask import Blueprint

bp = Blueprint("recordings", __name__, url_prefix="/studies/<int:study_id>/recordings")
bp.study_nav = [(40, "recordings.index", "Recordings")]

from engage.recordings import routes  # noqa: E402,F401
