"""Property-based tests: hostile bytes and names never crash, hang or leave a file behind."""

from __future__ import annotations

import io
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding.attachments import AttachmentError, check_document
from models import Recording, Role
from transcripts.probe import MediaError, probe_media

AUDIO = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
WAV = (AUDIO / "one_sentence.wav").read_bytes()
MP3 = (AUDIO / "three_sentences.mp3").read_bytes()
OGG = (AUDIO / "three_sentences.ogg").read_bytes()

# Real media cut short or corrupted in the middle, random bytes, and headers of one
# format glued to the body of another.
hostile_media = st.one_of(
    st.binary(max_size=4096),
    st.sampled_from([WAV, MP3, OGG]).flatmap(
        lambda data: st.integers(0, len(data)).map(lambda n: data[:n])),
    st.tuples(st.sampled_from([WAV, MP3, OGG]), st.integers(0, 30_000), st.binary(
        min_size=1, max_size=512)).map(lambda t: t[0][:t[1]] + t[2] + t[0][t[1] + len(t[2]):]),
    st.sampled_from([b"RIFF\xff\xff\xff\x7fWAVEfmt ", b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f",
                     b"OggS" + b"\x00" * 60, b"\x1aE\xdf\xa3" + b"\xff" * 64]),
)
NAMES = st.sampled_from(["a.wav", "b.mp3", "c.ogg", "d.mp4", "../../etc/passwd",
                         "..\\..\\boot.ini", "x" * 300 + ".wav", "inter view.m4a", ""])


@contextmanager
def time_limit(seconds: int):
    def fail(signum, frame):
        raise AssertionError(f"took longer than {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=hostile_media)
def test_probe_refuses_or_accepts_but_never_crashes_or_hangs(tmp_path, data):
    path = tmp_path / "upload"
    path.write_bytes(data)
    with time_limit(10):
        try:
            info = probe_media(path, max_duration_s=4 * 3600)
        except MediaError as error:
            assert error.message and "Traceback" not in error.message
        else:
            assert info.duration_s > 0 and info.has_audio


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=4096), st.sampled_from([
    b"%PDF-1.7\n" + b"\x00" * 100, b"PK\x03\x04" + b"\xff" * 100, b"MZ\x90\x00",
    b"\x7fELF\x02\x01", "plain text comment".encode("utf-16"), b"\xff\xfe\x00\x00"])),
    name=st.sampled_from(["c.pdf", "c.docx", "c.txt", "c.exe", "c", "../c.txt"]))
def test_attachment_check_refuses_cleanly(tmp_path, data, name):
    path = tmp_path / "attachment"
    path.write_bytes(data)
    with time_limit(10):
        try:
            document = check_document(path, name, max_bytes=1024 * 1024)
        except AttachmentError as error:
            assert error.code in {"type", "mismatch", "executable", "too_large", "empty",
                                  "archive", "macros", "encrypted", "corrupt"}
        else:
            assert document.kind in {"pdf", "docx", "txt"}


@pytest.fixture
def signed_in(app, make):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    client = app.test_client()
    client.post("/login", data={"email": owner.email, "password": make.PASSWORD})
    return client, study


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=hostile_media, name=NAMES)
def test_hostile_recording_upload_stores_nothing(app, make, db, data, name, signed_in):
    client, study = signed_in
    folder = Path(app.config["UPLOAD_FOLDER"]) / "recordings"
    before = set(folder.iterdir()) if folder.exists() else set()
    count = db.session.scalar(db.select(db.func.count(Recording.id)))
    with time_limit(20):
        response = client.post(f"/studies/{study.id}/recordings", data={
            "title": "t", "language": "", "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data")
    after = set(folder.iterdir()) if folder.exists() else set()
    if response.status_code == 302:  # a real, if damaged, recording: stored once
        assert len(after - before) == 1
        assert db.session.scalar(db.select(db.func.count(Recording.id))) == count + 1
        recording = db.session.scalar(db.select(Recording).order_by(Recording.id.desc()))
        assert "/" not in recording.original_filename and "\\" not in (
            recording.original_filename)
        assert recording.stored_name.isalnum()
    else:
        assert response.status_code == 400
        assert after == before
        assert db.session.scalar(db.select(db.func.count(Recording.id))) == count


@pytest.mark.parametrize("name", ["../../etc/passwd.wav", "..\\..\\x.wav", "/abs/path.wav"])
def test_user_filenames_are_labels_never_paths(app, client, make, login, db, name):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    login(owner)
    client.post(f"/studies/{study.id}/recordings", data={
        "title": "t", "language": "", "file": (io.BytesIO(WAV), name)},
        content_type="multipart/form-data")
    recording = db.session.scalar(db.select(Recording))
    label = recording.original_filename
    assert label.endswith(".wav") and "/" not in label and "\\" not in label
    stored = Path(app.config["UPLOAD_FOLDER"]) / "recordings" / recording.stored_name
    assert stored.read_bytes() == WAV
