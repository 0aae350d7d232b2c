"""Jinja filters shared by the templates."""

from __future__ import annotations

from flask import Flask

from engage.uploads import human_size


def clock(seconds: int | float) -> str:
    """1:02:03 or 2:03, as media players show time."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def init_app(app: Flask) -> None:
    app.add_template_filter(clock)
    app.add_template_filter(human_size, "filesize")
