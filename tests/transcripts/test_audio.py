"""Silencing stretches of a recording: the rest of it is untouched, bad input is refused."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from transcripts.audio import merge_spans, silence_spans
from transcripts.probe import MediaError, probe_media

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"


def loudness(path: Path) -> np.ndarray:
    """RMS of each 100 ms of the file, mono at 16 kHz."""
    with av.open(str(path)) as media:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
        samples = np.concatenate([c.to_ndarray().reshape(-1)
                                  for f in media.decode(media.streams.audio[0])
                                  for c in resampler.resample(f)])
    n = len(samples) // 1600
    return np.sqrt(np.mean(samples[: n * 1600].reshape(n, 1600) ** 2, axis=1))


def test_merge_spans() -> None:
    assert merge_spans([(5, 9), (0, 3), (2, 4), (9, 12), (20, 20), (-5, 1)]) == [
        (0, 4), (5, 12)]


@pytest.mark.parametrize("name", ["three_sentences.ogg", "three_sentences.m4a",
                                  "one_sentence.wav"])
def test_silences_only_the_spans(tmp_path: Path, name: str) -> None:
    source = AUDIO / name
    target = tmp_path / "out.ogg"
    length_ms = silence_spans(source, target, [(1_000, 2_500), (2_000, 3_000)])
    original, edited = loudness(source), loudness(target)
    assert abs(length_ms - probe_media(source).duration_s * 1000) < 100
    assert edited[11:29].max() < 1e-4  # 1.1 s to 2.9 s: silent
    spoken = [i for i in range(len(original)) if not 9 <= i <= 30 and original[i] > 0.02]
    assert spoken, "the fixture should have speech outside the spans"
    assert np.corrcoef(original[spoken], edited[spoken])[0, 1] > 0.9  # the rest still heard
    assert source.read_bytes() != target.read_bytes()


def test_refuses_a_file_without_sound(tmp_path: Path) -> None:
    target = tmp_path / "out.ogg"
    with pytest.raises(MediaError, match="no sound track|could not be rewritten"):
        silence_spans(AUDIO / "video_only.mp4", target, [(0, 1000)])
    assert not target.exists()


def test_refuses_garbage(tmp_path: Path) -> None:
    garbage = tmp_path / "x.ogg"
    garbage.write_bytes(b"OggS" + bytes(500))
    with pytest.raises(MediaError):
        silence_spans(garbage, tmp_path / "out.ogg", [(0, 1000)])
    assert not (tmp_path / "out.ogg").exists()
