"""The study navigation bar: each blueprint adds its own entries.

A blueprint declares ``study_nav = [(order, endpoint, label), ...]``; the base
template shows them in order for the current study.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    entries = sorted(
        entry for bp in app.blueprints.values() for entry in getattr(bp, "study_nav", ()))

    @app.context_processor
    def inject_study_nav():
        return {"study_nav": [(endpoint, label) for _, endpoint, label in entries]}
