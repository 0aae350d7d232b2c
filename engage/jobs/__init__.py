"""Background jobs: tracking table operations, the task runner and the job pages."""

from flask import Blueprint

bp = Blueprint("jobs", __name__)

from engage.jobs import routes  # noqa: E402,F401
