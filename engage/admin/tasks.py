"""The worker check admins run from the System page."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from engage.jobs.runner import JobFailed, Progress, job_task
from models import Comment, Consultation, Job, Study, db


@job_task("worker-check")
def worker_check(job: Job, progress: Progress) -> str:
    """Prove the worker reaches the database: count studies and comments in steps.

    Admins run it from the System page; ``steps`` and ``delay`` let a test watch
    progress move.
    """
    steps = int(job.params.get("steps", 4))
    delay = float(job.params.get("delay", 0.2))
    if job.params.get("fail"):
        raise JobFailed(str(job.params["fail"]))
    studies = db.session.scalar(select(func.count(Study.id)))
    for step in range(1, steps + 1):
        time.sleep(delay)
        progress(100 * step / (steps + 1), f"Step {step} of {steps}")
    comments = db.session.scalar(
        select(func.count(Comment.id)).join(Consultation)
    )
    return f"The worker reached the database: {studies} studies, {comments} comments."
