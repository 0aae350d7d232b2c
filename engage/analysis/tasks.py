"""Background jobs for coding: tagging a transcript or a study, and learning from coders."""

from __future__ import annotations

from engage.analysis import learning, tagging
from engage.jobs.runner import Progress, job_task
from models import Job


@job_task(tagging.TAG_TRANSCRIPT)
def tag_transcript(job: Job, progress: Progress) -> str:
    """Suggest codes for every segment of one transcript (``target``)."""
    return tagging.run_tag_transcript(job, progress)


@job_task(tagging.TAG_STUDY)
def tag_study(job: Job, progress: Progress) -> str:
    """Suggest codes for the study's current transcripts and its comments."""
    return tagging.run_tag_study(job, progress)


@job_task(learning.LEARN)
def learn_codes(job: Job, progress: Progress) -> str:
    """Re-weight patterns and train the classifier from coders' decisions, then re-tag."""
    return learning.run_learning(job, progress)
