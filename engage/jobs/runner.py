"""Running a job inside a Celery task: status, progress, cancellation and failures."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from celery import shared_task
from sqlalchemy import update

from models import Job, JobStatus, db, utcnow

log = logging.getLogger(__name__)


class JobFailed(Exception):
    """A failure with a message written for the researcher who started the job."""


class JobCancelled(Exception):
    pass


UNEXPECTED = (
    "The job stopped because of an unexpected error. Nothing it had not finished was kept. "
    "Press Retry; if it fails again, an administrator can read the technical details below."
)


class Progress:
    """Reports progress. Each call commits, so call it between units of work."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self, percent: float, message: str | None = None) -> None:
        db.session.refresh(self.job, ["cancel_requested"])
        if self.job.cancel_requested:
            raise JobCancelled
        self.job.progress = max(0, min(100, int(percent)))
        if message is not None:
            self.job.message = message
        self.job.heartbeat_at = utcnow()
        db.session.commit()


JobFunction = Callable[[Job, Progress], str | None]
TASKS: dict[str, object] = {}


def job_task(kind: str) -> Callable[[JobFunction], JobFunction]:
    """Register ``fn(job, progress) -> final message`` as the Celery task for ``kind``."""

    def register(fn: JobFunction) -> JobFunction:
        @shared_task(name=f"engage.jobs.{kind}", bind=True)
        def task(self, job_id: int) -> None:
            run_job(job_id, fn, worker=self.request.hostname)

        TASKS[kind] = task
        return fn

    return register


def run_job(job_id: int, fn: JobFunction, worker: str | None = None) -> Job | None:
    now = utcnow()
    # Claim the job atomically: a redelivered or duplicate message finds it no longer queued.
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED).values(
            status=JobStatus.RUNNING, attempts=Job.attempts + 1, worker=worker,
            started_at=now, heartbeat_at=now, message="Started")
    ).rowcount
    db.session.commit()
    if not claimed:
        log.info("skipping job %s: missing, cancelled or already taken", job_id)
        return db.session.get(Job, job_id)
    job = db.session.get(Job, job_id)
    try:
        final_message = fn(job, Progress(job))
    except JobCancelled:
        db.session.rollback()
        _finish(job_id, JobStatus.CANCELLED,
                message="Cancelled; the work in progress was discarded")
    except JobFailed as failure:
        db.session.rollback()
        _finish(job_id, JobStatus.FAILED, error=str(failure), message="Failed")
    except Exception as exc:  # any other error still ends the job with a readable reason
        log.exception("job %s failed", job_id)
        db.session.rollback()
        detail = "".join(traceback.format_exception(exc))[-4000:]
        _finish(job_id, JobStatus.FAILED, error=UNEXPECTED, detail=detail, message="Failed")
    else:
        _finish(job_id, JobStatus.SUCCEEDED, message=final_message or "Done", progress=100)
    return db.session.get(Job, job_id)


def _finish(job_id: int, status: JobStatus, *, message: str, error: str | None = None,
            detail: str | None = None, progress: int | None = None) -> None:
    job = db.session.get(Job, job_id)
    job.status = status
    job.message = message
    job.error = error
    job.error_detail = detail
    job.finished_at = utcnow()
    if progress is not None:
        job.progress = progress
    db.session.commit()
