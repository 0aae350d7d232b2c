"""Celery wired to the Flask app (Flask's documented ``celery_init_app`` pattern)."""

from __future__ import annotations

from celery import Celery, Task
from celery.signals import worker_ready
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        broker_connection_retry_on_startup=True,
        # Progress, results and errors live in the Job table, not a result backend.
        task_ignore_result=True,
        # A job whose worker dies is not acknowledged, so the broker can hand it out again.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        include=["engage.tasks"],
    )
    celery_app.conf.update(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app

    @worker_ready.connect(weak=False)
    def _sweep_on_start(sender=None, **kwargs) -> None:
        from engage.jobs.operations import sweep_stale_jobs

        hostname = getattr(sender, "hostname", None)
        with app.app_context():
            sweep_stale_jobs(restarted_worker=hostname)

    return celery_app
