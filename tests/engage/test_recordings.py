"""Uploading recordings: validated by content, stored once, streamed with Range, transcribed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from models import Job, JobStatus, Recording, Role, StudyRole, Transcript
from tests.worker import wait_for
from transcripts.segments import word_error_rate

AUDIO = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
SENTENCES = (AUDIO / "sentences.txt").read_text().splitlines()


@pytest.fixture
def team(make):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    return study, owner, coder


def upload(client, study, name: str, data: bytes | None = None, **fields):
    content = data if data is not None else (AUDIO / name).read_bytes()
    form = {"title": fields.pop("title", "Interview 1"), "language": "", **fields,
            "file": (io.BytesIO(content), name)}
    return client.post(f"/studies/{study.id}/recordings", data=form,
                       content_type="multipart/form-data")


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "recordings"
    return list(folder.iterdir()) if folder.exists() else []


def test_upload_probes_stores_and_queues_transcription(app, client, login, team, db):
    study, owner, _ = team
    login(owner)
    response = upload(client, study, "three_sentences.mp3", title="County interview")
    recording = db.session.scalar(db.select(Recording))
    assert response.headers["Location"] == f"/studies/{study.id}/recordings/{recording.id}"
    assert recording.title == "County interview"
    assert recording.original_filename == "three_sentences.mp3"
    assert 10_000 < recording.duration_ms < 12_500
    assert recording.audio_codec.startswith("mp3") and len(recording.sha256) == 64
    (path,) = stored_files(app)
    assert path.name == recording.stored_name and path.read_bytes() == (
        AUDIO / "three_sentences.mp3").read_bytes()
    assert not str(path).startswith(app.static_folder)
    job = db.session.scalar(db.select(Job))
    assert (job.kind, job.target_id, job.status) == ("transcribe", recording.id, JobStatus.QUEUED)
    page = client.get(f"/studies/{study.id}/recordings/{recording.id}").get_data(as_text=True)
    assert "County interview" in page and "queued" in page


@pytest.mark.parametrize(("name", "data", "message"), [
    ("notes.mp3", b"These are my interview notes, not audio.\n" * 50,
     "not a recording we can read"),
    ("empty.wav", b"", "The file is empty"),
    ("truncated.wav", (AUDIO / "one_sentence.wav").read_bytes()[:60], "recording"),
    ("video_only.mp4", None, "This video has no sound track"),
])
def test_bad_media_is_refused_with_a_clear_message_and_nothing_stored(
        app, client, login, team, db, name, data, message):
    study, owner, _ = team
    login(owner)
    response = upload(client, study, name, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Job.id))) == 0
    assert stored_files(app) == []


def test_same_file_twice_is_detected(app, client, login, team, db):
    study, owner, _ = team
    login(owner)
    upload(client, study, "one_sentence.wav", title="First")
    response = upload(client, study, "one_sentence.wav", title="Again")
    assert "already uploaded to this study as “First”" in response.get_data(as_text=True)
    assert len(stored_files(app)) == 1


@pytest.mark.parametrize("app_config", [{"RECORDING_MAX_BYTES": 10_000}], indirect=True)
def test_size_limit(app, client, login, team, db):
    study, owner, _ = team
    login(owner)
    response = upload(client, study, "one_sentence.wav")
    assert "larger than the limit of 9.8 KB" in response.get_data(as_text=True)
    assert stored_files(app) == []


@pytest.mark.parametrize("app_config", [{"RECORDING_MAX_DURATION_S": 5}], indirect=True)
def test_duration_limit(app, client, login, team, db):
    study, owner, _ = team
    login(owner)
    response = upload(client, study, "three_sentences.ogg")
    assert response.status_code == 400
    assert "more than the limit of 5 s" in response.get_data(as_text=True)
    assert stored_files(app) == []


def test_coder_cannot_upload(client, login, team, db):
    study, _, coder = team
    login(coder)
    assert upload(client, study, "one_sentence.wav").status_code == 403


def test_audio_route_serves_ranges_to_members_only(app, client, login, team, make, db):
    study, owner, coder = team
    login(owner)
    upload(client, study, "one_sentence.wav")
    recording = db.session.scalar(db.select(Recording))
    client.post("/logout")
    login(coder)
    url = f"/studies/{study.id}/recordings/{recording.id}/audio"
    full = client.get(url)
    assert full.status_code == 200 and full.mimetype == "audio/wav"
    assert full.headers["Accept-Ranges"] == "bytes"
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{recording.size_bytes}"
    assert part.data == (AUDIO / "one_sentence.wav").read_bytes()[100:200]
    client.post("/logout")
    login(make.user(Role.RESEARCHER))
    assert client.get(url).status_code == 404


def test_rerun_on_edited_transcript_asks_first(client, login, team, db):
    from engage.transcript_editor.operations import create_transcript
    from transcripts.segments import Segment

    study, owner, _ = team
    login(owner)
    upload(client, study, "one_sentence.wav")
    recording = db.session.scalar(db.select(Recording))
    db.session.get(Job, 1).status = JobStatus.SUCCEEDED
    transcript = create_transcript(study.id, [Segment(0, 1000, "Hello")], title="t",
                                   source="whisper", recording=recording)
    transcript.segments[0].edited = True
    db.session.commit()
    url = f"/studies/{study.id}/recordings/{recording.id}/transcribe"
    page = client.post(url, data={"model": "tiny.en", "language": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "Coders have edited the current transcript" in page
    assert db.session.scalar(db.select(db.func.count(Job.id))) == 1
    response = client.post(url, data={"model": "tiny.en", "language": "",
                                      "replace_edits": "y"})
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Job.id))) == 2
    assert client.post(url, data={"model": "not-a-model"}).status_code == 302
    assert db.session.scalar(db.select(db.func.count(Job.id))) == 2


@pytest.mark.worker
def test_upload_is_transcribed_by_the_worker(client, login, team, db, start_worker):
    study, owner, _ = team
    start_worker()
    login(owner)
    upload(client, study, "three_sentences.ogg")
    job = db.session.scalar(db.select(Job))
    job, seen = wait_for(db, job.id, lambda j: j.status.finished, timeout=120)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert any(0 < p < 100 for p in seen)
    transcript = db.session.scalar(db.select(Transcript))
    assert transcript.is_current and transcript.model == "tiny.en"
    assert transcript.language == "en"
    text = " ".join(s.text for s in transcript.segments)
    assert word_error_rate(" ".join(SENTENCES), text) < 0.35, text
    starts = [s.start_ms for s in transcript.segments]
    assert starts == sorted(starts) and transcript.segments[-1].end_ms <= 12_500
    assert all(s.words for s in transcript.segments)
    page = client.get(f"/studies/{study.id}/transcripts/{transcript.id}").get_data(as_text=True)
    assert "care coordination" in page.lower()


@pytest.mark.worker
def test_missing_file_fails_in_plain_words_and_can_be_retried(client, login, team, db, app,
                                                             start_worker):
    study, owner, _ = team
    login(owner)
    upload(client, study, "one_sentence.wav")
    recording = db.session.scalar(db.select(Recording))
    path = Path(app.config["UPLOAD_FOLDER"]) / "recordings" / recording.stored_name
    hidden = path.with_suffix(".away")
    path.rename(hidden)
    start_worker()
    job, _ = wait_for(db, 1, lambda j: j.status.finished, timeout=60)
    assert job.status is JobStatus.FAILED
    assert job.error == "The recording's file is missing from storage. Upload it again."
    assert db.session.get(Recording, recording.id) is not None
    hidden.rename(path)
    assert client.post(f"/jobs/{job.id}/retry").status_code == 302
    job, _ = wait_for(db, 1, lambda j: j.status.finished, timeout=120)
    assert job.status is JobStatus.SUCCEEDED, job.error


def test_other_languages_get_the_multilingual_model(client, login, team, db):
    study, owner, _ = team
    login(owner)
    upload(client, study, "one_sentence.wav", language="es")
    job = db.session.scalar(db.select(Job))
    assert job.params["model"] == "base"
    recording = db.session.scalar(db.select(Recording))
    assert recording.language == "es"
    job.status = JobStatus.FAILED
    db.session.commit()
    page = client.post(f"/studies/{study.id}/recordings/{recording.id}/transcribe",
                       data={"model": "tiny.en", "language": "es"},
                       follow_redirects=True).get_data(as_text=True)
    assert "understands English only" in page


def test_transcribe_cli(app, tmp_path):
    out = tmp_path / "out.vtt"
    result = app.test_cli_runner().invoke(args=[
        "engage", "transcribe", str(AUDIO / "one_sentence.wav"), "--format", "vtt", "-o",
        str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("WEBVTT") and "care coordination" in text.lower()
    bad = tmp_path / "notes.mp3"
    bad.write_text("not audio at all " * 40)
    result = app.test_cli_runner().invoke(args=["engage", "transcribe", str(bad)])
    assert result.exit_code == 1 and "not a recording we can read" in result.output


@pytest.fixture
def sessions(make, team):
    """Two scheduled sessions of the team's study (a day apart) and one of another study."""
    from datetime import timedelta

    study, owner, _ = team
    offer = make.offer(study, starts_in=(timedelta(days=2), timedelta(days=3)),
                       title="Provider interviews", actor=owner)
    earlier, later = sorted(offer.sessions, key=lambda s: s.starts_at)
    elsewhere = make.offer(make.study(), title="Other study's interviews").sessions[0]
    return earlier, later, elsewhere


def test_upload_links_the_chosen_session(client, login, team, sessions, db):
    from engage.recordings.operations import session_label
    from models import AuditEvent

    study, owner, _ = team
    earlier, later, elsewhere = sessions
    login(owner)
    page = client.get(f"/studies/{study.id}/recordings").get_data(as_text=True)
    options = page[page.index('<select id="session"'):]
    options = options[:options.index("</select>")]
    # This study's sessions only, most recent first, labelled with local time and title.
    assert options.index(f'value="{later.id}"') < options.index(f'value="{earlier.id}"')
    assert session_label(later) in options and "Provider interviews" in session_label(later)
    assert session_label(later).startswith(later.local_start.strftime("%a, %b"))
    assert f'value="{elsewhere.id}"' not in options
    assert '<option selected value="">None</option>' in options

    response = upload(client, study, "one_sentence.wav", session=str(earlier.id))
    assert response.status_code == 302
    recording = db.session.scalar(db.select(Recording))
    assert [s.id for s in recording.sessions] == [earlier.id]
    assert db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "session.recording")).detail == {"recording": recording.id}
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/studies/{study.id}/sessions/{earlier.id}" in shown

    upload(client, study, "three_sentences.ogg", title="Not from a session", session="")
    unlinked = db.session.scalar(db.select(Recording).where(
        Recording.title == "Not from a session"))
    assert unlinked is not None and unlinked.sessions == []


@pytest.mark.parametrize(("value", "message"), [
    ("elsewhere", "Choose a session of this study, or none."),
    ("999999", "Choose a session of this study, or none."),
    ("not-a-number", "Choose a session from the list, or none."),
])
def test_upload_refuses_a_session_not_of_this_study(app, client, login, team, sessions, db,
                                                    value, message):
    from models.scheduling import session_recording

    study, owner, _ = team
    if value == "elsewhere":
        value = str(sessions[2].id)
    login(owner)
    response = upload(client, study, "one_sentence.wav", session=value)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<p class="error" id="session-error">{message} </p>' in html
    assert db.session.scalar(db.select(db.func.count(Recording.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Job.id))) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(session_recording)) == 0
    assert stored_files(app) == []


def test_upload_page_preselects_the_session_given_in_the_address(client, login, team,
                                                                 sessions):
    study, owner, _ = team
    earlier, _, elsewhere = sessions
    login(owner)
    page = client.get(f"/studies/{study.id}/recordings?session={earlier.id}")
    assert f'<option selected value="{earlier.id}">' in page.get_data(as_text=True)
    for ignored in (elsewhere.id, "junk"):  # another study's session, or nonsense: no choice
        html = client.get(f"/studies/{study.id}/recordings?session={ignored}").get_data(
            as_text=True)
        assert '<option selected value="">None</option>' in html
        assert f'value="{elsewhere.id}"' not in html


def test_linking_a_session_of_another_study_is_refused_by_the_operation(app, team, sessions,
                                                                        db):
    from engage.recordings.operations import RecordingError, upload_recording

    study, owner, _ = team
    with app.test_request_context(), pytest.raises(RecordingError, match="of this study"):
        upload_recording(owner, study, None, title="x", language=None, translate=False,
                         session=sessions[2])
    assert stored_files(app) == []
