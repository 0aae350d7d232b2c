"""Creating, dispatching, retrying, cancelling and sweeping jobs.

Jobs are rows first and Celery messages second: a message is sent only after
the transaction that created the row commits, so a worker never looks for a
job it cannot see yet.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from models import Job, JobStatus, User, db, utcnow

log = logging.getLogger(__name__)

_PENDING = "engage.jobs_to_send"

WORKER_LOST = (
    "The background worker stopped while this job was running (it was restarted or ran "
    "out of memory). Nothing was saved from the unfinished run. Press Retry to run it again."
)
QUEUE_UNREACHABLE = (
    "The job could not be handed to the background worker because its queue is unreachable. "
    "Ask an administrator to check that the worker is running, then press Retry."
)


def enqueue(kind: str, *, actor: User | None, study_id: int | None = None,
            target: tuple[str, int] | None = None, params: dict[str, Any] | None = None) -> Job:
    """Record a job and send it to the worker once the current transaction commits."""
    from engage.tasks import TASKS

    if kind not in TASKS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(
        kind=kind,
        study_id=study_id,
        target_type=target[0] if target else None,
        target_id=target[1] if target else None,
        params=params or {},
        created_by_id=actor.id if actor else None,
        message="Waiting for the background worker",
    )
    db.session.add(job)
    db.session.flush()
    _send_after_commit(job)
    return job


def retry(job: Job, actor: User) -> Job:
    if not job.status.finished or job.status is JobStatus.SUCCEEDED:
        raise ValueError("Only a failed or cancelled job can be retried.")
    job.status = JobStatus.QUEUED
    job.progress = 0
    job.error = job.error_detail = None
    job.cancel_requested = False
    job.started_at = job.finished_at = job.heartbeat_at = None
    job.message = f"Retried by {actor.name}; waiting for the background worker"
    db.session.flush()
    _send_after_commit(job)
    return job


def request_cancel(job: Job, actor: User) -> Job:
    if job.status.finished:
        raise ValueError("This job has already finished.")
    if job.status is JobStatus.QUEUED:
        job.status = JobStatus.CANCELLED
        job.finished_at = utcnow()
        job.message = f"Cancelled by {actor.name} before it started"
    else:
        job.cancel_requested = True
        job.message = f"Cancelling (requested by {actor.name})"
    db.session.flush()
    return job


def sweep_stale_jobs(restarted_worker: str | None = None) -> int:
    """Fail running jobs whose worker is gone; returns how many were marked.

    A job is stale when the worker that ran it has just started again (it cannot
    still be running), or when it has not reported progress for
    ``JOB_STALE_AFTER_SECONDS``.
    """
    cutoff = utcnow() - timedelta(seconds=current_app.config["JOB_STALE_AFTER_SECONDS"])
    conditions = [Job.heartbeat_at < cutoff]
    if restarted_worker:
        conditions.append(Job.worker == restarted_worker)
    result = db.session.execute(
        update(Job)
        .where(Job.status == JobStatus.RUNNING, or_(*conditions))
        .values(status=JobStatus.FAILED, error=WORKER_LOST, finished_at=utcnow(),
                message="Stopped: the worker was lost")
    )
    db.session.commit()
    if result.rowcount:
        log.warning("marked %d stale job(s) failed", result.rowcount)
    return result.rowcount


def is_stale(job: Job) -> bool:
    if job.status is not JobStatus.RUNNING or job.heartbeat_at is None:
        return False
    limit = timedelta(seconds=current_app.config["JOB_STALE_AFTER_SECONDS"])
    return utcnow() - job.heartbeat_at > limit


def recent_jobs(study_id: int | None, limit: int = 20) -> list[Job]:
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    query = query.where(Job.study_id == study_id) if study_id else query.where(
        Job.study_id.is_(None))
    return list(db.session.scalars(query))


def _send_after_commit(job: Job) -> None:
    db.session.info.setdefault(_PENDING, []).append((job.id, job.kind))


def _send_pending(session: Session) -> None:
    from engage.tasks import TASKS

    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    celery = current_app.extensions["celery"]
    for job_id, kind in pending:
        try:
            # A connection of its own: pooled producers of the SQLAlchemy transport can be
            # left closed by another thread of a threaded server.
            with celery.connection_for_write() as connection:
                TASKS[kind].apply_async((job_id,), connection=connection)
        except Exception:  # the broker is down: say so on the job instead of leaving it queued
            log.exception("could not send job %s to the broker", job_id)
            with Session(db.engine) as other:
                other.execute(update(Job).where(Job.id == job_id).values(
                    status=JobStatus.FAILED, error=QUEUE_UNREACHABLE, finished_at=utcnow()))
                other.commit()


def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


event.listen(Session, "after_commit", _send_pending)
event.listen(Session, "after_soft_rollback", lambda session, previous: _forget_pending(session))
