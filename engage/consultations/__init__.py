"""Consultations for researchers: setup, moderation, campaigns, CSV import."""

from flask import Blueprint

bp = Blueprint("consultations", __name__)
bp.study_nav = [(50, "consultations.index", "Consultations")]

from engage.consultations import routes  # noqa: E402,F401
