"""The signed-in home page."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from engage.main import routes  # noqa: E402,F401
