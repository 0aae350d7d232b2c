"""Studies: overview, members, codebook, participants and comments."""

from flask import Blueprint

bp = Blueprint("studies", __name__, url_prefix="/studies")

from engage.studies import routes  # noqa: E402,F401
