"""Check that an uploaded file really is a recording we can transcribe.

Everything is decided from the file's content (FFmpeg's probe via PyAV), never from
its name or the Content-Type the browser sent. Uploaded bytes are untrusted, so every
step is bounded and every PyAV failure becomes a `MediaError` with a message a
researcher can act on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

# Shorter than this cannot hold a spoken word; it also catches files whose header
# promises audio but whose data is (almost) all missing.
MIN_DURATION_S = 0.1

# How much audio is actually decoded to prove the sound track is readable. Decoding a
# little is enough to catch garbage behind a valid header without paying for a full
# decode of a two-hour interview at upload time.
DECODE_CHECK_S = 1.0

# Packets tried before giving up on a sound track that never yields a decodable frame.
MAX_UNDECODABLE_PACKETS = 200

# PyAV raises FFmpegError subclasses, which also derive from OSError/ValueError/EOFError
# depending on the code; a damaged file can surface any of them (or a bare IndexError
# from a malformed stream table), so they all mean "unreadable" here.
_AV_ERRORS = (av.FFmpegError, OSError, ValueError, EOFError, IndexError)

_UNREADABLE = (
    "This file is not a recording we can read. It may not be an audio or video file, "
    "or it may be damaged or incomplete."
)


class MediaError(Exception):
    """The file cannot be used as a recording; `message` is safe to show to users."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class MediaInfo:
    duration_s: float
    has_audio: bool
    format_name: str
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None


def format_duration(seconds: float) -> str:
    """'1 h 05 min', '3 min 20 s', '12 s' — for messages, not for timestamps."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s" if total else f"{seconds:.2f} s"


def probe_media(
    path: str | Path,
    *,
    max_duration_s: float | None = None,
    require_audio: bool = True,
) -> MediaInfo:
    """Probe `path` and return what it contains, or raise `MediaError`.

    Raises for: a missing or empty file, content FFmpeg does not recognise, no sound
    track (when `require_audio`), a sound track that cannot be decoded, a recording
    shorter than MIN_DURATION_S, and one longer than `max_duration_s`.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise MediaError("The file could not be found or opened.") from None
    if size == 0:
        raise MediaError("The file is empty (0 bytes). Please upload the recording again.")

    try:
        # A file object (not the path) gives FFmpeg no file name, so the container
        # format is recognised from the bytes alone and a renamed file cannot fool it.
        with path.open("rb") as fh, av.open(fh, mode="r", metadata_errors="ignore") as container:
            return _inspect(container, max_duration_s, require_audio)
    except MediaError:
        raise
    except _AV_ERRORS:
        raise MediaError(_UNREADABLE) from None


def _inspect(
    container: av.container.InputContainer,
    max_duration_s: float | None,
    require_audio: bool,
) -> MediaInfo:
    format_name = container.format.name
    if not container.streams.audio:
        if require_audio:
            if container.streams.video:
                raise MediaError(
                    "This video has no sound track, so there is nothing to transcribe."
                )
            raise MediaError(_UNREADABLE)
        return MediaInfo(
            _container_duration(container) or 0.0, False, format_name, None, None, None
        )

    stream = container.streams.audio[0]
    codec = stream.codec_context
    duration = _stream_duration(stream) or _container_duration(container)
    at_least = ""
    if duration is None:
        # Streams such as browser-made WebM or raw AAC carry no total duration; add up
        # packet durations instead (demuxing only, no decoding), stopping once past
        # the limit so a huge file cannot keep us busy.
        duration = _scan_duration(container, stream, max_duration_s)
        container.seek(0)
        at_least = "at least "

    if duration < MIN_DURATION_S:
        raise MediaError("The recording is empty: it contains no sound (its length is zero).")
    if max_duration_s is not None and duration > max_duration_s:
        raise MediaError(
            f"The recording is {at_least}{format_duration(duration)} long, which is more than the "
            f"limit of {format_duration(max_duration_s)}. Please split it into shorter parts."
        )
    _check_decodable(container, stream)
    return MediaInfo(
        duration_s=duration,
        has_audio=True,
        format_name=format_name,
        audio_codec=codec.name,
        sample_rate=codec.sample_rate or None,
        channels=codec.channels or None,
    )


def _stream_duration(stream: av.audio.stream.AudioStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _container_duration(container: av.container.InputContainer) -> float | None:
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


def _scan_duration(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    max_duration_s: float | None,
) -> float:
    time_base = stream.time_base or Fraction(1, stream.codec_context.sample_rate or 1)
    first: int | None = None
    end = 0
    for packet in container.demux(stream):
        if packet.pts is None:
            continue
        if first is None:
            first = packet.pts
        end = max(end, packet.pts + (packet.duration or 0))
        seconds = float((end - first) * time_base)
        if max_duration_s is not None and seconds > max_duration_s:
            break
    if first is None:
        return 0.0
    return float((end - first) * time_base)


def _check_decodable(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> None:
    """Decode the first DECODE_CHECK_S seconds; raise if no sound comes out."""
    decoded_s = 0.0
    failures = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except _AV_ERRORS:
            # One bad packet is not fatal (players skip it too), a run of them is.
            failures += 1
            if failures > MAX_UNDECODABLE_PACKETS:
                break
            continue
        for frame in frames:
            if frame.sample_rate:
                decoded_s += frame.samples / frame.sample_rate
        if decoded_s >= DECODE_CHECK_S:
            return
    if decoded_s > 0:
        return  # a short recording that decoded to its end
    raise MediaError(
        "The sound track of this file could not be decoded. The file may be damaged "
        "or use an audio format we do not support."
    )


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks so large recordings never sit in memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
