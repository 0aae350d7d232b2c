"""Themes: a researcher's findings built from topics, codes and quotes."""

from flask import Blueprint

bp = Blueprint("themes", __name__, url_prefix="/studies/<int:study_id>/themes")
bp.study_nav = [(75, "themes.index", "Themes")]

from engage.themes import routes  # noqa: E402,F401
