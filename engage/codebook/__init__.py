"""The codebook: hierarchical codes, patterns, history, REFI-QDA and CSV exchange."""

from flask import Blueprint

bp = Blueprint("codebook", __name__, url_prefix="/studies/<int:study_id>/codebook")
bp.study_nav = [(20, "codebook.index", "Codebook")]

from engage.codebook import routes  # noqa: E402,F401
