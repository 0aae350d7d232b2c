"""Recordings and transcripts: media probing, Whisper transcription, transcript formats.

Plain Python on purpose: nothing here imports Flask or the database models, so the
web app, the Celery worker and the CLI can all use it (and tests need no app).
"""
