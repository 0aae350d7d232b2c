"""Speed, accuracy and memory of the transcription configurations.

    python bench/transcribe.py [--model tiny.en] [--long-minutes 3]

Transcribes the espeak-ng fixtures (known sentences) and a longer recording made by
repeating them, once per configuration, and prints per configuration and file:
real-time factor (transcription seconds / audio seconds; model loading excluded),
word error rate against the known text, peak RSS, and the segment count.

Each run is a separate process so its peak RSS is its own. Configurations:
  direct      faster-whisper WhisperModel.transcribe called as-is (beam 5, no VAD,
              no word timestamps) on the whole file: the baseline
  seq+vad     transcripts.whisper.transcribe, sequential, Silero VAD (the default)
  seq         transcripts.whisper.transcribe, sequential, no VAD
  batch+vad   transcripts.whisper.transcribe, BatchedInferencePipeline, VAD
  batch       transcripts.whisper.transcribe, BatchedInferencePipeline, no VAD
All use int8 on CPU, beam 5, and (except direct) word timestamps.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "tests" / "fixtures" / "audio"
SENTENCES = (AUDIO / "sentences.txt").read_text().splitlines()
CONFIGS = ["direct", "seq+vad", "seq", "batch+vad", "batch"]

sys.path.insert(0, str(ROOT))


# Varied interview-style sentences for the long recording: exact repetition of a few
# sentences is unlike speech and sends Whisper's previous-text prompt into loops.
LONG_SENTENCES = [
    "Good morning and thank you for taking the time to speak with us today.",
    "Could you start by describing your role at the health plan?",
    "Many of our members see several doctors and take a lot of medicines.",
    "The biggest problem is that nobody owns the whole care plan.",
    "We call every new member soon after enrollment.",
    "Some people do not have a phone, so we send a letter or visit them at home.",
    "Transportation to appointments is still hard in the rural counties.",
    "Care partners often know more about the member than the chart does.",
    "We would like one card and one number to call for everything.",
    "The state should publish the quality results every year.",
    "Providers told us the paperwork takes time away from patients.",
    "Nursing home residents need a team that visits them in person.",
    "Language access matters, especially for Spanish speaking families.",
    "We meet with the community groups once a month to hear concerns.",
    "It took almost six weeks to get the wheelchair approved.",
    "The hospital discharge plan was never shared with her primary doctor.",
    "Behavioral health services should be part of the same plan.",
    "We track emergency room visits and hospital readmissions closely.",
    "Members can choose to stay with the doctors they already know.",
    "Please tell us what you would change if you could change one thing.",
    "Housing is the first need for many of the people we serve.",
    "The ombudsman program helps people appeal a denied service.",
    "Our staff received training on dementia and caregiver support.",
    "Thank you, that is very helpful, and we will share a summary with the state.",
]
VOICES = [("en-us", 150), ("en-gb", 160), ("en-us+f3", 140), ("en-gb-x-rp", 170)]


def make_long_recording(minutes: float, folder: Path) -> tuple[Path, str]:
    """About `minutes` of known speech as a 16 kHz WAV, and the text spoken.

    Uses espeak-ng when installed (different voices and speeds each round through
    LONG_SENTENCES), otherwise repeats the three-sentence fixture.
    """
    import numpy as np
    from faster_whisper import decode_audio

    clips: list[tuple[np.ndarray, str]] = []
    if shutil.which("espeak-ng"):
        for voice, speed in VOICES:
            for n, sentence in enumerate(LONG_SENTENCES):
                wav = folder / f"{voice}-{n}.wav"
                subprocess.run(
                    ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), sentence],
                    check=True,
                )
                clips.append((decode_audio(str(wav)), sentence))
    else:
        print("espeak-ng not found: the long recording repeats the fixture", file=sys.stderr)
        clips.append((decode_audio(str(AUDIO / "three_sentences.mp3")), " ".join(SENTENCES)))

    pause = np.zeros(12_000, dtype=np.float32)  # 0.75 s between sentences
    target = int(minutes * 60 * 16_000)
    parts: list[np.ndarray] = []
    spoken: list[str] = []
    length = 0
    while length < target:
        audio, text = clips[len(spoken) % len(clips)]
        parts += [audio, pause]
        spoken.append(text)
        length += len(audio) + len(pause)
    path = folder / f"long_{minutes:g}min.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        for part in parts:
            w.writeframes((np.clip(part, -1, 1) * 32767).astype("<i2").tobytes())
    return path, " ".join(spoken)


def child(config: str, audio: str, model: str, cache_dir: str) -> None:
    """Run one configuration on one file and print a JSON line."""
    import ctranslate2

    from transcripts.whisper import load_model, resolve_device, resolve_model, transcribe

    # Temperature fallback samples at random; fix the seed so reruns compare.
    ctranslate2.set_random_seed(1)
    started = time.perf_counter()
    device, compute_type = resolve_device("auto")
    whisper = load_model(resolve_model(model, Path(cache_dir)), device, compute_type)
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    if config == "direct":
        segments, info = whisper.transcribe(audio, beam_size=5)
        pieces = [s.text for s in segments]
        duration = info.duration
    else:
        result = transcribe(
            audio,
            model=model,
            cache_dir=Path(cache_dir),
            vad=config.endswith("+vad"),
            batched=config.startswith("batch"),
        )
        pieces = [s.text for s in result.segments]
        duration = result.duration_ms / 1000
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "load_s": load_s,
                "seconds": elapsed,
                "duration": duration,
                "text": " ".join(pieces),
                "segments": len(pieces),
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "device": f"{device}/{compute_type}",
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--long-minutes", type=float, default=3.0, help="0 to skip")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument(
        "--cache-dir", default=str(Path(tempfile.gettempdir()) / "engage-whisper-models")
    )
    parser.add_argument("--child", nargs=2, metavar=("CONFIG", "AUDIO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.model, args.cache_dir)
        return

    from transcripts.segments import word_error_rate

    with tempfile.TemporaryDirectory() as tmp:
        files = [
            (AUDIO / "one_sentence.wav", SENTENCES[0]),
            (AUDIO / "three_sentences.mp3", " ".join(SENTENCES)),
        ]
        if args.long_minutes:
            files.append(make_long_recording(args.long_minutes, Path(tmp)))
        print(f"model {args.model}, {os.cpu_count()} CPUs visible, beam 5")
        print(
            f"{'config':<10} {'file':<22} {'audio s':>8} {'RTF':>6} {'WER':>6} "
            f"{'peak RSS':>9} {'segs':>5}  device"
        )
        for config in args.configs.split(","):
            for path, reference in files:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--model",
                        args.model,
                        "--cache-dir",
                        args.cache_dir,
                        "--child",
                        config,
                        str(path),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                row = json.loads(out.stdout.strip().splitlines()[-1])
                wer = word_error_rate(reference, row["text"])
                print(
                    f"{config:<10} {path.name:<22} {row['duration']:8.1f} "
                    f"{row['seconds'] / row['duration']:6.3f} {wer:6.1%} {row['rss_mb']:7.0f}MB "
                    f"{row['segments']:5d}  {row['device']}"
                )


if __name__ == "__main__":
    main()
