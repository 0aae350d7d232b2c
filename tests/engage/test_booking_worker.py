"""Reminders through a real Celery worker: the beat task starts the job, the job sends once."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engage.scheduling import REMINDER_TICK_TASK
from engage.scheduling.bookings import book
from engage.scheduling.tasks import reminder_tick
from models import Job, JobStatus, MessageKind, MessageStatus, OutboxMessage, Role
from tests.worker import wait_for

pytestmark = pytest.mark.worker


def test_beat_tick_runs_the_reminders_job_in_the_worker(app, db, make, start_worker,
                                                        instance_path):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    person = make.participant(study, "Priya Raman", email="priya@example.org",
                              preferred_language="es")
    offer = make.offer(study, [person], actor=owner, starts_in=(timedelta(hours=6),))
    book(offer.invitations[0], offer.sessions[0].id, consent_name="Priya",
         consent_given=True, consent_text_id=offer.consent_text_id)
    db.session.commit()
    start_worker()
    # What Celery beat sends every REMINDER_TICK_SECONDS.
    with app.extensions["celery"].connection_for_write() as connection:
        app.extensions["celery"].send_task(REMINDER_TICK_TASK, connection=connection)
    deadline = time.monotonic() + 60
    while (job := db.session.scalar(select(Job).where(Job.kind == "send-reminders"))) is None:
        assert time.monotonic() < deadline, "the tick did not start a reminders job"
        time.sleep(0.2)
        db.session.expire_all()
    job, _ = wait_for(db, job.id, lambda j: j.status.finished)
    assert job.status is JobStatus.SUCCEEDED, job.error_detail
    assert job.message == "Sent 1 reminder(s)."
    db.session.expire_all()
    reminder = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == MessageKind.REMINDER))
    assert reminder.status is MessageStatus.WRITTEN and reminder.language == "es"
    assert reminder.subject.startswith("Recordatorio:")
    eml = Path(instance_path) / "outbox" / reminder.file_name
    assert b"BEGIN:VCALENDAR" in eml.read_bytes() or b"text/calendar" in eml.read_bytes()
    assert reminder_tick() is None  # the next tick finds nothing due: sent once
