"""Public pages: the comment form, receipts and published comments. No account needed."""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/c")

from engage.public import routes  # noqa: E402,F401
