"""Topic models: BERTopic runs as jobs, the topic browser, run comparison, charts."""

from flask import Blueprint

bp = Blueprint("topics", __name__)
bp.study_nav = [(70, "topics.index", "Topics")]

from engage.topics import routes  # noqa: E402,F401
