"""The participant's side: booking links, public registration, calendar feeds. No account."""

from flask import Blueprint

bp = Blueprint("booking", __name__, url_prefix="/book")

from engage.booking import routes  # noqa: E402,F401
