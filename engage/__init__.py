"""Engage: the Flask application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    import os

    app = Flask(
        __name__,
        instance_path=os.environ.get("ENGAGE_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    from engage.config import load_config

    load_config(app, test_config)

    from engage.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"),
                     render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from engage.celery_app import celery_init_app

    celery_init_app(app)

    from engage import (
        access,
        admin,
        analysis,
        auth,
        booking,
        codebook,
        consultations,
        errors,
        exports,
        filters,
        jobs,
        main,
        navigation,
        public,
        recordings,
        scheduling,
        security,
        studies,
        themes,
        topics,
        transcript_editor,
    )

    access.init_app(app)
    errors.init_app(app)
    for blueprint in (auth.bp, main.bp, studies.bp, admin.bp, jobs.bp, consultations.bp,
                      public.bp, recordings.bp, transcript_editor.bp, scheduling.bp, booking.bp,
                      codebook.bp, analysis.bp, topics.bp, themes.bp, exports.bp):
        app.register_blueprint(blueprint)
    navigation.init_app(app)
    filters.init_app(app)
    security.init_app(app)

    from engage.cli import engage_cli

    app.cli.add_command(engage_cli)
    return app
