"""Transcript data: segments with times in milliseconds, words, and confidence.

Times are integers in milliseconds everywhere (storage, formats, the player) so that
nothing drifts through float rounding when a transcript is edited, exported and
imported again.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# Whisper's own fallback thresholds (faster-whisper `log_prob_threshold` and
# `no_speech_threshold`): a segment beyond them is one the model itself doubted, so a
# coder should listen to it before relying on the text.
LOW_AVG_LOGPROB = -1.0
HIGH_NO_SPEECH_PROB = 0.6


def is_low_confidence(avg_logprob: float | None, no_speech_prob: float | None) -> bool:
    """True when Whisper's scores say the segment should be checked by a person.

    Missing scores (imported or hand-written segments) are not flagged: there is no
    machine guess to doubt.
    """
    if avg_logprob is not None and avg_logprob < LOW_AVG_LOGPROB:
        return True
    return no_speech_prob is not None and no_speech_prob > HIGH_NO_SPEECH_PROB


@dataclass(slots=True)
class Word:
    start_ms: int
    end_ms: int
    text: str
    probability: float


@dataclass(slots=True)
class Segment:
    start_ms: int
    end_ms: int
    text: str
    speaker: str | None = None
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    words: list[Word] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.start_ms < 0 or self.end_ms < self.start_ms:
            raise ValueError(
                f"segment times must satisfy 0 <= start <= end, got {self.start_ms}..{self.end_ms}"
            )

    @property
    def needs_review(self) -> bool:
        return is_low_confidence(self.avg_logprob, self.no_speech_prob)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        words = [Word(**w) for w in data.get("words") or []]
        return cls(**{**data, "words": words})


@dataclass(slots=True)
class TranscriptResult:
    language: str
    language_probability: float
    duration_ms: int
    model: str
    segments: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for a job's result column or `--format json`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranscriptResult:
        segments = [Segment.from_dict(s) for s in data.get("segments") or []]
        return cls(**{**data, "segments": segments})


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing transcripts."""
    return re.findall(r"[\w']+", text.lower().replace("’", "'"))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)
