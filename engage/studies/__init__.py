"""Studies: overview, members, codebook, participants and comments."""

from flask import Blueprint

bp = Blueprint("studies", __name__, url_prefix="/studies")
bp.study_nav = [
    (10, "studies.show", "Overview"),
    (90, "studies.members", "Members"),
]

from engage.studies import routes  # noqa: E402,F401
