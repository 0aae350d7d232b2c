"""BERTopic runs: parameters for small corpora, reproducibility, outliers, campaigns."""

from __future__ import annotations

import numpy as np
import pytest

from coding.embeddings import DEFAULT_MODEL, MemoryStore, embed_texts, model_encoder
from coding.topics import (
    MIN_DOCUMENTS,
    TopicModelError,
    TopicSummary,
    choose_params,
    clean_text,
    ctfidf_keywords,
    fit_topics,
    match_topics,
    stop_words,
)
from tests.topic_corpus import corpus


@pytest.fixture(scope="module")
def labelled():
    texts, labels = corpus(30)
    vectors = embed_texts(texts, model=DEFAULT_MODEL, store=MemoryStore(),
                          encoder=model_encoder()).vectors
    return texts, labels, vectors


def test_parameters_follow_corpus_size_and_say_why():
    small, mid, large = choose_params(30), choose_params(300), choose_params(5000)
    assert small.min_topic_size == 3 and small.n_neighbors == 5
    assert mid.min_topic_size == 9 and mid.n_neighbors == 15
    assert large.min_topic_size == 10 and large.min_df == 2
    assert any("300 documents" in r for r in mid.reasons)
    assert any("random state 42" in r for r in mid.reasons)
    manual = choose_params(300, min_topic_size=20)
    assert manual.min_topic_size == 20 and any("by hand" in r for r in manual.reasons)


def test_too_few_documents_gives_a_clear_message():
    with pytest.raises(TopicModelError) as error:
        choose_params(12)
    assert str(error.value).startswith(
        f"Only 12 documents match these filters; a topic model needs at least {MIN_DOCUMENTS}.")


def test_same_corpus_twice_gives_the_same_topics(labelled):
    texts, labels, vectors = labelled
    params = choose_params(len(texts))
    first = fit_topics(texts, vectors, params, figures=False)
    second = fit_topics(texts, vectors, params, figures=False)
    assert first.assignments == second.assignments
    assert [t.keywords for t in first.topics] == [t.keywords for t in second.topics]
    assert first.n_topics >= 3


def test_topics_recover_the_subjects_without_stop_words(labelled):
    from sklearn.metrics import normalized_mutual_info_score

    texts, labels, vectors = labelled
    result = fit_topics(texts, vectors, choose_params(len(texts)), figures=True)
    assert normalized_mutual_info_score(labels, result.assignments) > 0.6
    stop = set(stop_words())
    for topic in result.topics:
        for word, weight in topic.keywords:
            assert not set(word.split()) & stop, word
            assert weight > 0
        if topic.number != -1:
            assert topic.representatives and topic.centroid is not None
            reps = [texts[i] for i in topic.representatives]
            assert len(set(reps)) == len(reps)  # one quote per distinct text
    assert len(result.assignments) == len(result.probabilities) == len(texts)
    assert result.figures.get("barchart", "").startswith("{")
    assert sum(t.size for t in result.topics) == len(texts)


def test_thirty_documents_do_not_crash(labelled):
    texts, _, vectors = labelled
    result = fit_topics(texts[:30], vectors[:30], choose_params(30), figures=True)
    assert len(result.assignments) == 30
    assert result.n_topics >= 2  # HDBSCAN or, failing that, k-means says so in the notes


def test_identical_documents_fall_back_to_kmeans_and_say_so():
    texts = [f"Please reinstate work requirements {i % 2}" for i in range(40)]
    rng = np.random.default_rng(0)
    vectors = np.repeat(rng.normal(size=(2, 16)), 20, axis=0) + rng.normal(
        scale=1e-3, size=(40, 16))
    result = fit_topics(texts, vectors.astype(np.float32), choose_params(40), figures=False)
    assert len(result.assignments) == 40
    if result.clusterer == "kmeans":
        assert any("k-means" in note for note in result.notes)


def test_documents_left_out_of_the_fit_join_their_nearest_neighbour(labelled):
    texts, labels, vectors = labelled
    # The first 10 are "campaign copies" of documents 10-19: same text, not fitted.
    texts = texts[10:20] + texts[10:]
    vectors = np.vstack([vectors[10:20], vectors[10:]])
    mask = [False] * 10 + [True] * (len(texts) - 10)
    weights = [0.5] * 10 + [0.5] * 10 + [1.0] * (len(texts) - 20)
    result = fit_topics(texts, vectors, choose_params(len(texts)), fit_mask=mask,
                        weights=weights, figures=False)
    assert result.assignments[:10] == result.assignments[10:20]
    assert any("not fitted" in note for note in result.notes)
    total = sum(t.weighted_size for t in result.topics)
    assert total == pytest.approx(sum(weights))


def test_redaction_labels_are_not_topic_words():
    assert clean_text("Call me at [phone] or [email], [name]") == "Call me at or ,"


def test_ctfidf_keywords_for_merged_labels():
    texts = ["dental coverage teeth", "dentures teeth dentist", "bus ride clinic",
             "van ride late", "noise"]
    words = ctfidf_keywords(texts, ["a", "a", "b", "b", -1], top_n=3)
    assert set(words) == {"a", "b"}
    assert "teeth" in [w for w, _ in words["a"]]
    assert "ride" in [w for w, _ in words["b"]]


def test_match_topics_finds_persisting_topics():
    e = np.eye(4, dtype=np.float32)
    run_a = [TopicSummary(1, e[0], frozenset({"d1", "d2", "d3"})),
             TopicSummary(2, e[1], frozenset({"d4", "d5", "d7"}))]
    # Run B split topic 2's documents three ways and points elsewhere.
    run_b = [TopicSummary(10, e[0] * 0.9 + e[2] * 0.1, frozenset({"d1", "d2", "d8"})),
             TopicSummary(11, e[3], frozenset({"d4", "d6"})),
             TopicSummary(12, e[2], frozenset({"d5"})),
             TopicSummary(13, e[2], frozenset({"d7", "d3"}))]
    matches = {m.a: m for m in match_topics(run_a, run_b)}
    assert matches[1].b == 10 and matches[1].persists and matches[1].similarity > 0.99
    assert not matches[2].persists
    assert matches[2].overlap == pytest.approx(1 / 3)
