"""The topic-run job: BERTopic over a study's documents, with progress."""

from __future__ import annotations

from engage.jobs.runner import JobCancelled, JobFailed, Progress, job_task
from engage.topics.operations import TopicError, execute_run, fail_run
from models import Job, TopicRun, TopicRunStatus, db


@job_task("topic-run")
def topic_run(job: Job, progress: Progress) -> str:
    run = db.session.get(TopicRun, job.target_id)
    if run is None:
        raise JobFailed("The topic run was deleted before it could start.")
    run.status = TopicRunStatus.RUNNING
    db.session.commit()
    try:
        return execute_run(run, progress)
    except TopicError as error:
        fail_run(job.target_id, str(error))
        raise JobFailed(str(error)) from error
    except JobCancelled:
        fail_run(job.target_id, "Cancelled before it finished.")
        raise
    except MemoryError as error:
        message = ("The worker ran out of memory fitting this topic model. Narrow the "
                   "filters, or ask an administrator to add memory.")
        fail_run(job.target_id, message)
        raise JobFailed(message) from error
    except Exception:
        fail_run(job.target_id, "The run stopped because of an unexpected error; see its job.")
        raise
