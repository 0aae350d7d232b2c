"""Topic models with BERTopic: parameters for small corpora, reproducible fits, comparisons.

A study may have 300 transcript segments and 200 comments, not the tens of
thousands BERTopic's defaults were made for. ``choose_params`` picks the
cluster size and UMAP neighbourhood from the corpus size and writes down why
(the reasons are shown with the run). ``fit_topics`` then runs BERTopic over
precomputed embeddings (``coding.embeddings``):

* UMAP with a fixed ``random_state``: the same corpus and parameters give the
  same topics (HDBSCAN and the vectorizer are deterministic already);
* English stop words and conversational fillers ("um", "yeah") are left out
  of topic words, and so are the labels redaction leaves in comment text;
* outliers are reduced by embedding similarity above a threshold, so
  documents close to a topic join it and the rest stay visibly unassigned;
* when HDBSCAN finds fewer than two clusters (tiny or very uniform corpora)
  the run falls back to k-means and says so, rather than failing;
* ``fit_mask`` leaves documents out of the fit and assigns them afterwards to
  the topic of their nearest fitted neighbour: a form-letter campaign counted
  as one voice is fitted through its representative only, so 500 copies of a
  letter cannot become five topics of their own, while every member still
  gets a topic; ``weights`` (1/N for such members) give weighted sizes.

Representative quotes are the documents closest to each topic's centroid,
one per distinct text. ``ctfidf_keywords`` recomputes topic words after a
researcher merges topics; ``match_topics`` says which topics of one run
persist in another.

No Flask here; ``engage.topics`` stores what this returns.
"""

from __future__ import annotations

import logging
import math
import re
import time
import warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from coding.embeddings import offline

MIN_DOCUMENTS = 30
DEFAULT_RANDOM_STATE = 42
OUTLIER_THRESHOLD = 0.3
REPRESENTATIVES = 5

# Conversation fillers: frequent in transcripts, meaningless as topic words.
_FILLERS = """
    um uh uhm hmm mm yeah yes okay ok oh like just know think going really kind sort mean
    got thing things lot actually right well gonna wanna want say said let maybe sure
    yep nope pretty stuff guess bit way don didn doesn isn wasn aren ve ll re
"""
FILLER_WORDS = frozenset(_FILLERS.split())
# Words of two letters or more (the tokenizer's pattern, not a secret).
TOKENS = r"(?u)\b[a-zA-Z][a-zA-Z\-']+\b"
# What coding.redaction leaves in published comment text.
_REDACTION_LABEL = re.compile(
    r"\[(?:email|phone|member ID|SSN|date of birth|address|name)\]", re.IGNORECASE)

log = logging.getLogger(__name__)


class TopicModelError(ValueError):
    """A topic model that cannot be fitted, with a message for the researcher."""


@dataclass
class TopicParams:
    min_topic_size: int
    n_neighbors: int
    n_components: int
    min_dist: float = 0.0
    random_state: int = DEFAULT_RANDOM_STATE
    top_n_words: int = 10
    ngram_max: int = 2
    min_df: int = 1
    outlier_threshold: float | None = OUTLIER_THRESHOLD
    nr_topics: int | None = None
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TopicParams:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def choose_params(n_docs: int, **overrides: Any) -> TopicParams:
    """Parameters for a corpus of ``n_docs`` documents, each with the reason for it."""
    if n_docs < MIN_DOCUMENTS:
        raise TopicModelError(too_few_message(n_docs))
    reasons = []
    # BERTopic's default minimum topic size (10) finds almost nothing in 100
    # documents; half the square root grows slowly: 3 at 30, 9 at 300, 10 from 400.
    min_topic_size = int(min(10, max(3, round(math.sqrt(n_docs) / 2))))
    reasons.append(
        f"Minimum topic size {min_topic_size}: about half the square root of the "
        f"{n_docs} documents (BERTopic's default of 10 suits corpora of 400 or more).")
    n_neighbors = int(min(15, max(5, n_docs // 20), n_docs - 1))
    reasons.append(
        f"UMAP neighbours {n_neighbors}: one in 20 documents, between 5 and 15, so small "
        "corpora keep local structure instead of merging into one blob.")
    n_components = int(min(5, n_docs - 2))
    min_df = 1 if n_docs < 500 else 2
    if min_df > 1:
        reasons.append("Topic words must appear in at least two documents (500 or more "
                       "documents).")
    params = TopicParams(min_topic_size=min_topic_size, n_neighbors=n_neighbors,
                         n_components=n_components, min_df=min_df, reasons=reasons)
    for key, value in overrides.items():
        if value is None or not hasattr(params, key):
            continue
        setattr(params, key, value)
        params.reasons.append(f"{key.replace('_', ' ').capitalize()} set to {value} by hand.")
    params.reasons.append(
        f"UMAP random state {params.random_state}: the same corpus gives the same topics.")
    return params


def too_few_message(n_docs: int) -> str:
    what = "document matches" if n_docs == 1 else "documents match"
    return (f"Only {n_docs} {what} these filters; a topic model needs at least "
            f"{MIN_DOCUMENTS}. Widen the filters or add transcripts or comments.")


def clean_text(text: str) -> str:
    """The text a topic model reads: redaction labels removed, spaces collapsed."""
    return " ".join(_REDACTION_LABEL.sub(" ", text).split())


def stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | FILLER_WORDS)


@dataclass
class TopicInfo:
    number: int  # BERTopic's id; -1 holds the outliers
    keywords: list[tuple[str, float]]
    size: int
    weighted_size: float
    representatives: list[int]  # document indices, closest to the centroid first
    centroid: np.ndarray | None

    @property
    def label(self) -> str:
        if self.number == -1:
            return "Unassigned (outliers)"
        words = [w for w, _ in self.keywords[:4]]
        return f"{self.number}: " + ", ".join(words) if words else f"Topic {self.number}"


@dataclass
class TopicModelResult:
    topics: list[TopicInfo]
    assignments: list[int]  # per document
    probabilities: list[float]  # per document
    params: TopicParams
    timings: dict[str, float]
    figures: dict[str, str]  # name -> Plotly figure JSON
    notes: list[str]
    clusterer: str

    @property
    def n_topics(self) -> int:
        return sum(1 for t in self.topics if t.number != -1)

    @property
    def outlier_share(self) -> float:
        if not self.assignments:
            return 0.0
        return sum(1 for a in self.assignments if a == -1) / len(self.assignments)


def _vectorizer(params: TopicParams, n_fit: int):
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(stop_words=stop_words(), ngram_range=(1, params.ngram_max),
                           min_df=params.min_df if n_fit >= 500 else 1,
                           token_pattern=TOKENS)  # noqa: S106


def _bertopic(params: TopicParams, n_fit: int, clusterer: str):
    offline()
    from bertopic import BERTopic
    from umap import UMAP

    umap_model = _Reducer(UMAP(n_neighbors=min(params.n_neighbors, n_fit - 1),
                               n_components=min(params.n_components, n_fit - 2),
                               min_dist=params.min_dist, metric="cosine",
                               random_state=params.random_state,
                               # spectral initialisation needs more points than tiny corpora
                               init="spectral" if n_fit >= 60 else "random", low_memory=True))
    if clusterer == "kmeans":
        from sklearn.cluster import KMeans

        k = max(2, min(8, n_fit // max(params.min_topic_size, 2)))
        cluster_model = KMeans(n_clusters=k, random_state=params.random_state, n_init=10)
    else:
        from hdbscan import HDBSCAN

        cluster_model = HDBSCAN(min_cluster_size=params.min_topic_size, metric="euclidean",
                                cluster_selection_method="eom", prediction_data=False)
    return BERTopic(umap_model=umap_model, hdbscan_model=cluster_model,
                    vectorizer_model=_vectorizer(params, n_fit),
                    top_n_words=params.top_n_words, min_topic_size=params.min_topic_size,
                    nr_topics=params.nr_topics, calculate_probabilities=False, verbose=False)


EXACT_KNN_MAX = 30_000


class _Reducer:
    """UMAP for BERTopic, fed exact cosine neighbours.

    For the corpora a study has (up to tens of thousands of documents) the exact
    nearest neighbours are one matrix product away; handing them to UMAP skips its
    approximate search (NN-descent), which costs more than the search itself in
    each new worker process (Numba compiles it first). BERTopic reduces the
    documents it fitted on, so ``transform`` returns the fitted layout.
    """

    def __init__(self, umap):
        self.umap = umap
        self._fitted = None
        self.embedding_ = None

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float32)
        if len(X) <= EXACT_KNN_MAX and len(X) > self.umap.n_neighbors:
            self.umap.precomputed_knn = exact_knn(X, self.umap.n_neighbors)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning)  # seed, no search index
            self.embedding_ = self.umap.fit_transform(X, y=y)
        self._fitted = X
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=np.float32)
        if self._fitted is not None and X.shape == self._fitted.shape and np.array_equal(
                X, self._fitted):
            return self.embedding_
        return self.umap.transform(X)


def exact_knn(X: np.ndarray, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray, None]:
    """(indices, cosine distances, no index) of each row's k nearest rows, itself first."""
    norm = _normalise(X)
    n = len(X)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        sims = norm[start:start + block] @ norm.T
        rows = np.arange(sims.shape[0])
        sims[rows, rows + start] = 2.0  # itself first, even among duplicates
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
        idx = np.take_along_axis(part, order, axis=1)
        indices[start:start + len(rows)] = idx
        dist = 1.0 - np.take_along_axis(sims, idx, axis=1)
        dist[:, 0] = 0.0
        distances[start:start + len(rows)] = np.clip(dist, 0.0, 2.0)
    return indices, distances, None


Progress = Callable[[float, str], None]


def fit_topics(texts: Sequence[str], embeddings: np.ndarray, params: TopicParams, *,
               fit_mask: Sequence[bool] | None = None, weights: Sequence[float] | None = None,
               figures: bool = True, progress: Progress | None = None) -> TopicModelResult:
    """Fit BERTopic over ``texts`` with their ``embeddings`` (one row each)."""
    n = len(texts)
    if n != len(embeddings):
        raise ValueError("texts and embeddings differ in length")
    report = progress or (lambda percent, message: None)
    mask = np.ones(n, dtype=bool) if fit_mask is None else np.asarray(fit_mask, dtype=bool)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    fit_idx = np.flatnonzero(mask)
    if len(fit_idx) < MIN_DOCUMENTS:
        if n >= MIN_DOCUMENTS:
            raise TopicModelError(
                f"Counting each campaign as one voice leaves {len(fit_idx)} distinct "
                f"documents; a topic model needs at least {MIN_DOCUMENTS}. Count campaign "
                "members one by one, or widen the filters.")
        raise TopicModelError(too_few_message(n))
    texts = [clean_text(t) for t in texts]
    fit_texts = [texts[i] for i in fit_idx]
    fit_emb = np.asarray(embeddings, dtype=np.float32)[fit_idx]
    notes: list[str] = []
    timings: dict[str, float] = {}

    started = time.perf_counter()
    report(10, f"Clustering {len(fit_idx)} documents")
    clusterer = "hdbscan"
    model = _bertopic(params, len(fit_idx), clusterer)
    try:
        topics, probs = _fit(model, fit_texts, fit_emb)
    except (ValueError, TypeError) as exc:
        log.info("HDBSCAN fit failed (%s); falling back to k-means", exc)
        topics = None
    if topics is None or len({t for t in topics if t != -1}) < 2:
        clusterer = "kmeans"
        notes.append("HDBSCAN found fewer than two topics in this corpus, so k-means "
                     "grouped the documents instead; read the topics as a first sort.")
        model = _bertopic(params, len(fit_idx), clusterer)
        try:
            topics, probs = _fit(model, fit_texts, fit_emb)
        except ValueError as exc:
            raise TopicModelError(
                "The documents are too similar or too short to separate into topics. "
                "Add documents or widen the filters.") from exc
    topics = list(int(t) for t in topics)
    probs = _membership(probs, len(topics))
    timings["cluster_s"] = time.perf_counter() - started

    reassigned: set[int] = set()
    if (params.outlier_threshold is not None and clusterer == "hdbscan"
            and any(t == -1 for t in topics)):
        report(45, "Assigning outliers close to a topic")
        started = time.perf_counter()
        new_topics = model.reduce_outliers(fit_texts, topics, strategy="embeddings",
                                           embeddings=fit_emb,
                                           threshold=params.outlier_threshold)
        new_topics = [int(t) for t in new_topics]
        reassigned = {i for i, (a, b) in enumerate(zip(topics, new_topics, strict=True))
                      if a != b}
        if reassigned:
            # BERTopic warns that topics set by hand may break later reduction: none follows.
            logging.getLogger("BERTopic").setLevel(logging.ERROR)
            model.update_topics(fit_texts, topics=new_topics,
                                vectorizer_model=_vectorizer(params, len(fit_idx)),
                                top_n_words=params.top_n_words)
            notes.append(f"{len(reassigned)} outlier documents joined the topic they are "
                         f"most similar to (cosine similarity at least "
                         f"{params.outlier_threshold}).")
        topics = new_topics
        timings["outliers_s"] = time.perf_counter() - started

    # Every document, fitted or not, gets a topic and a probability.
    assignments = np.full(n, -1, dtype=int)
    probabilities = np.zeros(n, dtype=float)
    assignments[fit_idx] = topics
    probabilities[fit_idx] = probs
    emb = np.asarray(embeddings, dtype=np.float32)
    norm = _normalise(emb)
    centroids = _centroids(norm, assignments, fit_idx)
    for local in reassigned:
        i = fit_idx[local]
        c = centroids.get(int(assignments[i]))
        probabilities[i] = max(0.0, float(norm[i] @ c)) if c is not None else 0.0
    rest = np.flatnonzero(~mask)
    if len(rest):
        # Nearest fitted neighbour decides: a campaign member joins its letter's topic.
        sims = norm[rest] @ norm[fit_idx].T
        nearest = sims.argmax(axis=1)
        assignments[rest] = assignments[fit_idx[nearest]]
        probabilities[rest] = np.clip(sims[np.arange(len(rest)), nearest], 0, 1) \
            * probabilities[fit_idx[nearest]].clip(min=0.0)
        notes.append(f"{len(rest)} documents not fitted (campaign members counted as one "
                     "voice) took the topic of their nearest fitted document.")
        centroids = _centroids(norm, assignments, fit_idx)

    report(60, "Describing topics")
    info = model.get_topics()
    result_topics = []
    for number in sorted(set(assignments.tolist())):
        members = np.flatnonzero(assignments == number)
        keywords = [(str(word), float(score)) for word, score in info.get(number, [])
                    if word] if number in info else []
        result_topics.append(TopicInfo(
            number=int(number), keywords=keywords, size=len(members),
            weighted_size=float(w[members].sum()),
            representatives=_representatives(norm, members, centroids.get(int(number)),
                                             texts),
            centroid=centroids.get(int(number))))
    figs: dict[str, str] = {}
    if figures:
        report(75, "Drawing charts")
        started = time.perf_counter()
        figs = make_figures(model)
        timings["figures_s"] = time.perf_counter() - started
    return TopicModelResult(result_topics, assignments.tolist(), probabilities.tolist(),
                            params, timings, figs, notes, clusterer)


def _fit(model, texts: list[str], embeddings: np.ndarray):
    with warnings.catch_warnings():
        # UMAP says a fixed random state means one thread: that is the point here.
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        return model.fit_transform(texts, embeddings)


def _membership(probs: Any, n: int) -> np.ndarray:
    if probs is None:
        return np.ones(n, dtype=float)
    arr = np.asarray(probs, dtype=float)
    if arr.ndim == 2:
        arr = arr.max(axis=1) if arr.shape[1] else np.zeros(n)
    return np.nan_to_num(arr, nan=0.0).clip(0, 1)


def _normalise(emb: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return emb / norms


def _centroids(norm: np.ndarray, assignments: np.ndarray,
               fit_idx: np.ndarray) -> dict[int, np.ndarray]:
    out = {}
    for number in set(assignments.tolist()):
        members = np.flatnonzero(assignments == number)
        mean = norm[members].mean(axis=0)
        length = np.linalg.norm(mean)
        out[int(number)] = (mean / length if length else mean).astype(np.float32)
    return out


def _representatives(norm: np.ndarray, members: np.ndarray, centroid: np.ndarray | None,
                     texts: Sequence[str], k: int = REPRESENTATIVES) -> list[int]:
    if centroid is None or not len(members):
        return []
    order = members[np.argsort(-(norm[members] @ centroid), kind="stable")]
    chosen, seen = [], set()
    for i in order:
        key = " ".join(texts[i].lower().split())
        if key in seen or not key:
            continue
        seen.add(key)
        chosen.append(int(i))
        if len(chosen) == k:
            break
    return chosen


def make_figures(model) -> dict[str, str]:
    """BERTopic's own charts as Plotly JSON: distance map, word bars, hierarchy."""
    figures = {}
    n_topics = len([t for t in model.get_topics() if t != -1])
    makers = {
        "barchart": lambda: model.visualize_barchart(top_n_topics=min(12, n_topics),
                                                     n_words=6),
        "intertopic": lambda: model.visualize_topics(),
        "hierarchy": lambda: model.visualize_hierarchy(),
    }
    for name, make in makers.items():
        if name != "barchart" and n_topics < 3:
            continue  # both need a few topics to lay out
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
                figures[name] = make().to_json()
        except Exception as exc:  # a chart is a nicety: the run stands without it
            log.info("BERTopic chart %s not drawn: %s", name, exc)
    return figures


def ctfidf_keywords(texts: Sequence[str], labels: Sequence[Hashable], *,
                    top_n: int = 10, ngram_max: int = 2) -> dict[Hashable, list[tuple[str, float]]]:
    """Topic words by class-based TF-IDF, as BERTopic computes them, for given labels.

    Used after a researcher merges topics: the merged topic's words come from
    all its documents. Label -1 (outliers) gets no words.
    """
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    groups: dict[Hashable, list[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        if label == -1:
            continue
        groups.setdefault(label, []).append(clean_text(text))
    if not groups:
        return {}
    keys = list(groups)
    joined = [" ".join(groups[k]) for k in keys]
    vectorizer = CountVectorizer(stop_words=stop_words(), ngram_range=(1, ngram_max),
                                 token_pattern=TOKENS)  # noqa: S106
    try:
        counts = vectorizer.fit_transform(joined)
    except ValueError:  # nothing but stop words
        return {k: [] for k in keys}
    ctfidf = ClassTfidfTransformer().fit_transform(counts)
    words = vectorizer.get_feature_names_out()
    out = {}
    for row, key in enumerate(keys):
        scores = ctfidf[row].toarray().ravel()
        top = np.argsort(-scores, kind="stable")[:top_n]
        out[key] = [(str(words[i]), float(scores[i])) for i in top if scores[i] > 0]
    return out


@dataclass(frozen=True)
class TopicSummary:
    """What ``match_topics`` needs of a topic: an id, its centroid, its documents."""

    id: Hashable
    centroid: np.ndarray | None
    documents: frozenset[Hashable]


@dataclass(frozen=True)
class TopicMatch:
    a: Hashable
    b: Hashable | None
    similarity: float  # cosine of the centroids
    overlap: float  # Jaccard of the shared documents
    persists: bool


def match_topics(run_a: Sequence[TopicSummary], run_b: Sequence[TopicSummary], *,
                 similarity_min: float = 0.85, overlap_min: float = 0.5) -> list[TopicMatch]:
    """For each topic of run A, its closest topic in run B and whether it persists.

    A topic persists when its centroid is close to one in B (cosine at least
    ``similarity_min``) or the documents both runs saw mostly land together
    (Jaccard at least ``overlap_min``).
    """
    shared = frozenset().union(*(t.documents for t in run_a)) & \
        frozenset().union(*(t.documents for t in run_b)) if run_a and run_b else frozenset()
    matches = []
    for a in run_a:
        best, best_key = None, (-1.0, -1.0)
        for b in run_b:
            sim = _cos(a.centroid, b.centroid)
            da, db = a.documents & shared, b.documents & shared
            union = da | db
            overlap = len(da & db) / len(union) if union else 0.0
            key = (max(sim, overlap), overlap)
            if key > best_key:
                best, best_key = (b, sim, overlap), key
        if best is None:
            matches.append(TopicMatch(a.id, None, 0.0, 0.0, False))
            continue
        b, sim, overlap = best
        matches.append(TopicMatch(a.id, b.id, sim, overlap,
                                  sim >= similarity_min or overlap >= overlap_min))
    return matches


def _cos(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None:
        return 0.0
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na and nb else 0.0
