"""Analysis: coding transcripts and comments, the review queue, agreement, queries, memos.

(Named ``analysis`` because ``coding`` is the Flask-free domain package.)
"""

from flask import Blueprint

bp = Blueprint("analysis", __name__, url_prefix="/studies/<int:study_id>")
bp.study_nav = [
    (70, "analysis.overview", "Coding"),
    (72, "analysis.review", "Review"),
    (75, "analysis.queries", "Queries"),
]

from engage.analysis import (  # noqa: E402,F401
    agreement_routes,
    query_routes,
    review_routes,
    routes,
)
