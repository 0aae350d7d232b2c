"""Background work for scheduling: the reminders job and the beat tick that starts it."""

from __future__ import annotations

from celery import shared_task

from engage.jobs.operations import enqueue
from engage.jobs.runner import job_task
from engage.scheduling import REMINDER_TICK_TASK
from engage.scheduling.mail import deliver_left_over
from engage.scheduling.messages import due_reminders, send_due_reminders
from models import Job, JobStatus, db


@job_task("send-reminders")
def send_reminders(job, progress) -> str:
    sent = send_due_reminders(progress=progress)
    left_over = deliver_left_over()
    return f"Sent {sent} reminder(s)." + (f" Delivered {left_over} left-over message(s)."
                                          if left_over else "")


def reminder_tick() -> Job | None:
    """What beat runs: start a reminders job when some are due and none is waiting."""
    deliver_left_over()
    if not due_reminders():
        return None
    waiting = db.session.scalar(db.select(Job).where(
        Job.kind == "send-reminders", Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])))
    if waiting is not None:
        return None
    job = enqueue("send-reminders", actor=None)
    db.session.commit()
    return job


@shared_task(name=REMINDER_TICK_TASK, ignore_result=True)
def reminder_tick_task() -> None:
    reminder_tick()
