"""Entry point for servers and workers: ``flask --app wsgi`` and ``celery -A wsgi.celery_app``."""

from engage import create_app

app = create_app()
celery_app = app.extensions["celery"]
