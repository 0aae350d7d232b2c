"""Transcript pages: read along with the audio, correct, import and export."""

from flask import Blueprint

bp = Blueprint("transcript_editor", __name__, url_prefix="/studies/<int:study_id>/transcripts")
bp.study_nav = [(45, "transcript_editor.index", "Transcripts")]

from engage.transcript_editor import routes  # noqa: E402,F401
