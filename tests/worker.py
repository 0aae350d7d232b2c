"""Starting a real Celery worker process for a test, and waiting on jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from models import Job

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def start_worker(app, instance_path):
    """Start `celery worker` against the test app's database and broker files."""
    processes: list[subprocess.Popen] = []
    env = dict(os.environ,
               ENGAGE_INSTANCE_PATH=str(instance_path),
               ENGAGE_SECRET_KEY="only-for-tests",
               ENGAGE_SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
               ENGAGE_CELERY_BROKER_URL=app.config["CELERY_BROKER_URL"],
               ENGAGE_UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"])
    node = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log = instance_path / "worker.log"

    def start(pool: str = "prefork") -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi.celery_app", "worker", "--pool", pool,
             "--concurrency", "1", "-n", node, "--loglevel", "INFO"],
            cwd=ROOT, env=env, start_new_session=True,
            stdout=log.open("a"), stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            # A test's worker may be mid-job (tagging queued after a transcription); the
            # test is over, so a short grace is enough.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    if log.exists():
        print(log.read_text()[-3000:])


def wait_for(db, job_id: int, predicate, timeout: float = 60.0) -> tuple[Job, list[int]]:
    """Poll the Job row until ``predicate(job)``; returns it and the progress values seen."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        seen.append(job.progress)
        if predicate(job):
            return job, seen
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} stuck at {job.status} {job.progress}% {job.message}")
