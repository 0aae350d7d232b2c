"""Probing uploads by content: real fixtures, renamed and damaged files."""

import hashlib
import random
import time
import wave
from pathlib import Path

import pytest

from transcripts.probe import MediaError, MediaInfo, probe_media, sha256_file

AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"


def probe_or_error(path: Path) -> MediaInfo | MediaError:
    try:
        return probe_media(path)
    except MediaError as exc:
        return exc


@pytest.mark.parametrize(
    ("name", "format_name", "codec", "seconds"),
    [
        ("one_sentence.wav", "wav", "pcm_s16le", 4.06),
        ("three_sentences.mp3", "mp3", "mp3float", 11.07),
        ("three_sentences.ogg", "ogg", "opus", 11.07),
        ("three_sentences.m4a", "mov,mp4,m4a,3gp,3g2,mj2", "aac", 11.07),
        # No duration in the header: measured from the packets.
        ("one_sentence.webm", "matroska,webm", "opus", 4.06),
    ],
)
def test_probes_real_recordings(name, format_name, codec, seconds):
    info = probe_media(AUDIO / name)
    assert info.has_audio
    assert info.format_name == format_name
    assert info.audio_codec == codec
    assert info.duration_s == pytest.approx(seconds, abs=0.1)
    assert info.channels == 1
    assert info.sample_rate in (16000, 48000)


def test_extension_is_ignored(tmp_path):
    renamed = tmp_path / "interview.txt"
    renamed.write_bytes((AUDIO / "three_sentences.mp3").read_bytes())
    assert probe_media(renamed).format_name == "mp3"


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".m4a"])
def test_text_file_renamed_as_audio_is_refused(tmp_path, suffix):
    fake = tmp_path / f"notes{suffix}"
    fake.write_text("Interview notes\nThe participant described care coordination.\n" * 20)
    with pytest.raises(MediaError, match="not a recording we can read"):
        probe_media(fake)


def test_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.mp3"
    empty.touch()
    with pytest.raises(MediaError, match="empty"):
        probe_media(empty)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(MediaError, match="could not be found"):
        probe_media(tmp_path / "nope.wav")


def test_wav_with_no_samples_has_zero_duration(tmp_path):
    silent = tmp_path / "zero.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    with pytest.raises(MediaError, match="length is zero"):
        probe_media(silent)


def test_video_without_sound_track_is_refused():
    with pytest.raises(MediaError, match="no sound track"):
        probe_media(AUDIO / "video_only.mp4")


def test_video_without_sound_can_be_described():
    info = probe_media(AUDIO / "video_only.mp4", require_audio=False)
    assert not info.has_audio and info.audio_codec is None
    assert info.duration_s == pytest.approx(1.0, abs=0.2)


def test_duration_limit():
    with pytest.raises(MediaError, match=r"11 s long, which is more than the limit of 5 s"):
        probe_media(AUDIO / "three_sentences.mp3", max_duration_s=5)
    assert probe_media(AUDIO / "three_sentences.mp3", max_duration_s=60).duration_s < 60


def test_duration_limit_without_duration_in_header():
    with pytest.raises(MediaError, match="at least"):
        probe_media(AUDIO / "one_sentence.webm", max_duration_s=2)


@pytest.mark.parametrize("name", ["one_sentence.wav", "three_sentences.mp3", "three_sentences.m4a"])
def test_header_only_files_are_refused(tmp_path, name):
    stub = tmp_path / "stub"
    stub.write_bytes((AUDIO / name).read_bytes()[:60])
    with pytest.raises(MediaError):
        probe_media(stub)


def test_truncated_mp4_is_refused(tmp_path):
    # The MP4 index (moov) is written last, so half a file cannot be read at all.
    half = tmp_path / "half.m4a"
    data = (AUDIO / "three_sentences.m4a").read_bytes()
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="damaged or incomplete"):
        probe_media(half)


@pytest.mark.parametrize(
    "name", ["one_sentence.wav", "one_sentence.webm", "three_sentences.mp3", "three_sentences.ogg"]
)
def test_truncated_or_corrupted_bytes_never_crash(tmp_path, name):
    data = (AUDIO / name).read_bytes()
    rng = random.Random(name)
    target = tmp_path / "damaged"
    for cut in (1, 10, 100, 1000, len(data) // 3, len(data) - 7):
        target.write_bytes(data[:cut])
        assert isinstance(probe_or_error(target), MediaInfo | MediaError)
    for _ in range(5):
        damaged = bytearray(data)
        for _ in range(100):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        target.write_bytes(bytes(damaged))
        assert isinstance(probe_or_error(target), MediaInfo | MediaError)


def test_random_bytes_are_refused_quickly(tmp_path):
    rng = random.Random(3)
    target = tmp_path / "random.wav"
    started = time.monotonic()
    for size in [1, 2, 16, 200, 4096, 100_000] * 10:
        target.write_bytes(rng.randbytes(size))
        assert isinstance(probe_or_error(target), MediaError)
    assert time.monotonic() - started < 20


def test_sha256_file_streams_in_chunks():
    path = AUDIO / "three_sentences.ogg"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sha256_file(path, chunk_size=1000) == expected
    assert sha256_file(path) == expected
