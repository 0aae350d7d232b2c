"""Background jobs for consultations: CSV import and campaign grouping."""

from __future__ import annotations

from engage.consultations import grouping, importing
from engage.jobs.runner import Progress, job_task
from engage.public import receipts as _receipts  # noqa: F401  (registers "comment-receipt")
from models import Job


@job_task(importing.JOB_KIND)
def import_comments(job: Job, progress: Progress) -> str:
    """Import a previewed CSV into the job's consultation (``target``)."""
    return importing.run_import(job, progress)


@job_task(grouping.JOB_KIND)
def group_campaigns(job: Job, progress: Progress) -> str:
    """Replace the consultation's form-letter campaigns."""
    return grouping.run_grouping(job, progress)
