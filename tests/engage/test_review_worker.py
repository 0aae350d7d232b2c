"""Tagging runs in a real Celery worker: on request, and by itself after a transcription."""

from __future__ import annotations

import pytest

from engage.jobs.runner import run_job
from engage.recordings import tasks as recording_tasks
from engage.recordings.operations import FILES
from engage.uploads import stored_path
from models import (
    Job,
    JobStatus,
    Recording,
    Role,
    StudyRole,
    Suggestion,
    Transcript,
)
from tests.worker import wait_for
from transcripts.segments import Segment, TranscriptResult

pytestmark = pytest.mark.worker

SAID = ["Thank you for talking with us.",
        "Our members in D-SNP plans want aligned enrollment.",
        "Care coordination for LTSS users is what we need in rural counties."]


def test_tag_study_job_runs_in_the_worker_with_progress(client, login, make, db, start_worker):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    make.transcript(study, SAID * 200)  # 600 segments: more than one batch
    consultation = make.consultation(study)
    make.comment(consultation, "PACE is what our county needs.")
    start_worker()
    login(owner)
    client.post(f"/studies/{study.id}/coding/tag")
    job = db.session.scalar(db.select(Job).where(Job.kind == "tag-study"))
    job, seen = wait_for(db, job.id, lambda j: j.status.finished, timeout=120)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.message.startswith("Tagged 601 passages:")
    assert any(0 < p < 100 for p in seen), seen
    count = db.session.scalar(db.select(db.func.count(Suggestion.id)))
    assert count > 600
    assert db.session.scalar(db.select(Suggestion).where(Suggestion.comment_id.isnot(None)))
    page = client.get(f"/studies/{study.id}/review").get_data(as_text=True)
    assert f"Suggestion 1 of {count}" in page


def test_a_finished_transcription_is_tagged_automatically(app, make, db, start_worker,
                                                          monkeypatch):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    make.member(study, make.user(Role.CODER), StudyRole.CODER)
    recording = Recording(study_id=study.id, title="County interview", stored_name="abc123",
                          sha256="0" * 64, size_bytes=10, duration_ms=15_000,
                          uploaded_by_id=owner.id)
    db.session.add(recording)
    db.session.flush()
    stored_path(FILES, "abc123").write_bytes(b"not really audio")
    job = Job(kind="transcribe", study_id=study.id, target_type="recording",
              target_id=recording.id, created_by_id=owner.id, params={})
    db.session.add(job)
    db.session.commit()

    def fake_whisper(path, **options):  # Whisper itself is tested in tests/transcripts
        return TranscriptResult("en", 0.99, 15_000, "tiny.en", [
            Segment(start_ms=i * 5000, end_ms=i * 5000 + 4000, text=text)
            for i, text in enumerate(SAID)])

    monkeypatch.setattr(recording_tasks, "transcribe", fake_whisper)
    done = run_job(job.id, recording_tasks.transcribe_recording)
    assert done.status is JobStatus.SUCCEEDED, done.error
    transcript = db.session.scalar(db.select(Transcript))
    tag_job = db.session.scalar(db.select(Job).where(Job.kind == "tag-transcript"))
    assert (tag_job.target_id, tag_job.params) == (transcript.id, {"automatic": True})
    start_worker()
    tag_job, _ = wait_for(db, tag_job.id, lambda j: j.status.finished, timeout=90)
    assert tag_job.status is JobStatus.SUCCEEDED, tag_job.error
    on_transcript = db.session.scalars(db.select(Suggestion).where(
        Suggestion.segment_id.in_([s.id for s in transcript.segments]))).all()
    assert {s.segment_id for s in on_transcript} == {s.id for s in transcript.segments[1:]}
