"""Paginating list pages, in one place."""

from __future__ import annotations

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from models import db


def paginate(query: Select, per_page: int | None = None) -> Pagination:
    """Page through ``query`` using ``?page=``; a bad page number gives 404, not a 500."""
    return db.paginate(
        query,
        page=request.args.get("page", 1, type=int),
        per_page=per_page or current_app.config["PAGE_SIZE"],
        max_per_page=200,
        error_out=True,
    )
