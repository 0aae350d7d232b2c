"""Embeddings are computed once per distinct text and model, then reused."""

from __future__ import annotations

import numpy as np
import pytest

from coding.embeddings import (
    DEFAULT_MODEL,
    EmbeddingError,
    MemoryStore,
    embed_texts,
    from_bytes,
    load_model,
    model_encoder,
    model_path,
    text_hash,
    to_bytes,
)


class CountingEncoder:
    def __init__(self):
        self.calls: list[list[str]] = []

    def __call__(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), t.count("a"), 1.0] for t in texts], dtype=np.float32)


def test_stored_texts_are_not_embedded_again():
    store, encoder = MemoryStore(), CountingEncoder()
    first = embed_texts(["one", "two", "one", "three"], model="m", store=store, encoder=encoder)
    assert encoder.calls == [["one", "two", "three"]]  # each distinct text once
    assert (first.computed, first.reused, first.distinct) == (3, 0, 3)
    assert first.vectors.shape == (4, 3)
    assert np.array_equal(first.vectors[0], first.vectors[2])
    second = embed_texts(["three", "one", "four"], model="m", store=store, encoder=encoder)
    assert encoder.calls[1:] == [["four"]]
    assert (second.computed, second.reused) == (1, 2)
    assert np.array_equal(second.vectors[0], first.vectors[3])
    # Keyed by model too: another model embeds everything itself.
    embed_texts(["one"], model="other", store=store, encoder=encoder)
    assert encoder.calls[-1] == ["one"]


def test_all_stored_means_the_model_is_never_called():
    store = MemoryStore()
    embed_texts(["a", "b"], model="m", store=store, encoder=CountingEncoder())

    def refuse(texts):
        raise AssertionError("the model was called")

    result = embed_texts(["b", "a", "b"], model="m", store=store, encoder=refuse)
    assert result.computed == 0 and result.reused == 2


def test_vectors_survive_bytes_and_hash_is_stable():
    v = np.array([0.25, -1.5, 3.0], dtype=np.float32)
    assert np.array_equal(from_bytes(to_bytes(v)), v)
    assert text_hash("é") == text_hash("é") != text_hash("e")
    assert len(text_hash("x")) == 64


def test_bundled_model_is_offline_and_normalised():
    import os

    assert model_path(DEFAULT_MODEL).joinpath("modules.json").exists()
    vectors = model_encoder()(["Rides to the clinic are late.", "The van never comes."])
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert load_model(DEFAULT_MODEL) is load_model(DEFAULT_MODEL)  # loaded once


def test_unknown_model_is_refused_with_a_reason(tmp_path):
    with pytest.raises(EmbeddingError, match="neither the bundled"):
        model_path(str(tmp_path / "missing"))
