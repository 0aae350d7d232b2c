"""Exports: theme summaries, CSVs and REFI-QDA files; REFI-QDA project import; CLI."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/studies/<int:study_id>/exports")
bp.study_nav = [(80, "exports.index", "Exports")]

from engage.exports import cli, routes  # noqa: E402,F401
