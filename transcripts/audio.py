"""Editing a recording's sound: silencing stretches of it (a withdrawn speaker's turns).

A voice identifies a person as surely as a name does, so when someone leaves a
group recording their turns are made silent rather than only their words
removed from the transcript. The result is a new Ogg Opus file (48 kHz, the
source's channel count up to two); the source is not changed. Video, if the
upload had any, is not carried over: faces identify people too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np

from transcripts.probe import MediaError

RATE = 48_000


def merge_spans(spans_ms: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), e) for s, e in spans_ms if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def silence_spans(source: Path, target: Path, spans_ms: Iterable[tuple[int, int]]) -> int:
    """Write ``source``'s sound to ``target`` with ``spans_ms`` silent; returns its length in ms."""
    spans = [(s * RATE // 1000, e * RATE // 1000) for s, e in merge_spans(spans_ms)]
    written = 0
    try:
        with av.open(str(source)) as media, av.open(str(target), "w", format="ogg") as out:
            sound = next((s for s in media.streams if s.type == "audio"), None)
            if sound is None:
                raise MediaError("The recording has no sound track.")
            layout = "stereo" if (sound.codec_context.channels or 1) >= 2 else "mono"
            encoder = out.add_stream("libopus", rate=RATE, layout=layout)
            resampler = av.AudioResampler(format="flt", layout=layout, rate=RATE)
            for frame in media.decode(sound):
                for chunk in resampler.resample(frame):
                    written = _write(encoder, out, chunk, written, spans, layout)
            for chunk in resampler.resample(None):
                written = _write(encoder, out, chunk, written, spans, layout)
            for packet in encoder.encode(None):
                out.mux(packet)
    except (av.FFmpegError, OSError, ValueError) as error:
        target.unlink(missing_ok=True)
        raise MediaError(f"The recording's sound could not be rewritten ({error}).") from error
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return written * 1000 // RATE


def _write(encoder, out, chunk, written: int, spans: list[tuple[int, int]], layout: str) -> int:
    samples = chunk.to_ndarray().reshape(-1)  # packed: s0c0 s0c1 s1c0 ...
    channels = 2 if layout == "stereo" else 1
    n = samples.size // channels
    for start, end in spans:
        lo, hi = max(start - written, 0), min(end - written, n)
        if lo < hi:
            samples[lo * channels:hi * channels] = 0.0
    silent = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.float32),
                                        format="flt", layout=layout)
    silent.sample_rate = RATE
    silent.pts = written
    for packet in encoder.encode(silent):
        out.mux(packet)
    return written + n
