"""A real Celery worker process on the SQLite broker runs jobs from the Job table."""

from __future__ import annotations

import os
import signal

import pytest

from engage.jobs.operations import WORKER_LOST, enqueue, retry
from models import JobStatus, Role
from tests.worker import wait_for

pytestmark = pytest.mark.worker


def test_worker_runs_job_and_reports_progress(db, make, start_worker, client, login):
    admin = make.user(Role.ADMIN)
    start_worker()
    job = enqueue("worker-check", actor=admin, params={"steps": 5, "delay": 0.5})
    db.session.commit()
    job, seen = wait_for(db, job.id, lambda j: j.status.finished)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.progress == 100
    assert job.message == "The worker reached the database: 0 studies, 0 comments."
    assert any(0 < p < 100 for p in seen), seen  # progress was visible while it ran
    assert seen == sorted(seen)
    assert job.started_at <= job.finished_at and job.attempts == 1
    login(admin)
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["status"] == "succeeded" and status["finished"] is True


def test_failed_job_explains_and_can_be_retried(db, make, start_worker):
    admin = make.user(Role.ADMIN)
    start_worker()
    job = enqueue("worker-check", actor=admin,
                  params={"fail": "The recording could not be read.", "delay": 0})
    db.session.commit()
    job, _ = wait_for(db, job.id, lambda j: j.status.finished)
    assert job.status is JobStatus.FAILED
    assert job.error == "The recording could not be read."
    job.params = {"steps": 1, "delay": 0}
    retry(job, admin)
    db.session.commit()
    job, _ = wait_for(db, job.id, lambda j: j.status.finished)
    assert job.status is JobStatus.SUCCEEDED and job.attempts == 2


def test_killed_worker_does_not_leave_job_running(db, make, start_worker):
    admin = make.user(Role.ADMIN)
    worker = start_worker(pool="solo")
    job = enqueue("worker-check", actor=admin, params={"steps": 100, "delay": 0.5})
    db.session.commit()
    wait_for(db, job.id, lambda j: j.status is JobStatus.RUNNING and j.progress > 0)
    os.killpg(worker.pid, signal.SIGKILL)  # as an out-of-memory kill or power loss would
    worker.wait()
    start_worker(pool="solo")  # the same node starting again knows its old jobs are dead
    job, _ = wait_for(db, job.id, lambda j: j.status.finished)
    assert job.status is JobStatus.FAILED
    assert job.error == WORKER_LOST


def test_cancel_running_job(db, make, start_worker):
    admin = make.user(Role.ADMIN)
    start_worker()
    job = enqueue("worker-check", actor=admin, params={"steps": 100, "delay": 0.2})
    db.session.commit()
    job, _ = wait_for(db, job.id, lambda j: j.status is JobStatus.RUNNING and j.progress > 0)
    from engage.jobs.operations import request_cancel

    request_cancel(job, admin)
    db.session.commit()
    job, _ = wait_for(db, job.id, lambda j: j.status.finished)
    assert job.status is JobStatus.CANCELLED
