"""Topic runs: starting one, fitting it in the worker, and the researcher's edits.

Views and the CLI call these; each takes the acting user where someone acts,
flushes, and leaves the commit to its caller (the job runner commits as it
reports progress).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from flask import current_app
from sqlalchemy import delete, func, select, update

from coding.embeddings import (
    DEFAULT_MODEL,
    EmbeddingError,
    embed_texts,
    from_bytes,
    model_encoder,
    to_bytes,
)
from coding.topics import (
    TopicModelError,
    TopicSummary,
    choose_params,
    ctfidf_keywords,
    fit_topics,
    match_topics,
)
from engage.audit import record
from engage.jobs.operations import enqueue
from engage.topics.corpus import CorpusDocument, CorpusFilters, build_corpus
from models import (
    Comment,
    Embedding,
    Job,
    Study,
    Theme,
    ThemeEvidence,
    Topic,
    TopicAssignment,
    TopicRun,
    TopicRunStatus,
    Transcript,
    TranscriptSegment,
    User,
    db,
    utcnow,
)
from models.theme import theme_topic

# Parameters a researcher may set by hand; the rest follow from the corpus size.
OVERRIDABLE = ("min_topic_size", "n_neighbors", "nr_topics", "random_state")


class TopicError(ValueError):
    """Something a researcher asked for that cannot be done; the message says why."""


def embedding_model_name() -> str:
    return current_app.config.get("TOPIC_EMBEDDING_MODEL") or DEFAULT_MODEL


def make_encoder(on_batch=None):
    """The embedding function; tests replace it to count or fake calls."""
    return model_encoder(embedding_model_name(),
                         batch_size=int(current_app.config.get("TOPIC_EMBEDDING_BATCH", 64)),
                         quantize=bool(current_app.config.get("TOPIC_EMBEDDING_QUANTIZE")),
                         on_batch=on_batch)


class DatabaseStore:
    """Embeddings kept in the ``embedding`` table, shared by every run and study."""

    CHUNK = 500

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found = {}
        hashes = list(hashes)
        for i in range(0, len(hashes), self.CHUNK):
            for text_hash, vector in db.session.execute(
                    select(Embedding.text_hash, Embedding.vector).where(
                        Embedding.model == model,
                        Embedding.text_hash.in_(hashes[i:i + self.CHUNK]))):
                found[text_hash] = from_bytes(vector)
        return found

    def put_many(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        rows = [{"model": model, "text_hash": h, "dimensions": int(v.shape[0]),
                 "vector": to_bytes(v), "created_at": utcnow()} for h, v in vectors.items()]
        if not rows:
            return
        dialect = db.engine.dialect.name
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:  # pragma: no cover - the two supported databases
            insert = None
        if insert is None:
            db.session.add_all(Embedding(**row) for row in rows)
        else:
            # Another run may have stored the same text meanwhile: keep theirs.
            for i in range(0, len(rows), self.CHUNK):
                db.session.execute(insert(Embedding).values(rows[i:i + self.CHUNK])
                                   .on_conflict_do_nothing(
                                       index_elements=["model", "text_hash"]))


def start_run(actor: User, study: Study, filters: CorpusFilters, *, name: str = "",
              overrides: Mapping[str, int | None] | None = None) -> TopicRun:
    """Record a run and queue its job; refuses at once when too few documents match."""
    docs = build_corpus(study, filters)
    try:
        choose_params(len(docs))
    except TopicModelError as error:
        raise TopicError(str(error)) from error
    overrides = {k: v for k, v in (overrides or {}).items() if k in OVERRIDABLE and v}
    run = TopicRun(study_id=study.id, name=name.strip() or default_name(filters),
                   created_by_id=actor.id if actor else None,
                   filters={**filters.to_dict(), "overrides": overrides},
                   embedding_model=embedding_model_name(), n_documents=len(docs))
    db.session.add(run)
    db.session.flush()
    job = enqueue("topic-run", actor=actor, study_id=study.id, target=("topic_run", run.id),
                  params={"run_id": run.id})
    run.job_id = job.id
    return run


def default_name(filters: CorpusFilters) -> str:
    what = {"all": "Transcripts and comments", "transcripts": "Transcripts",
            "comments": "Comments"}.get(filters.source, "Documents")
    return f"{what}, {utcnow():%Y-%m-%d %H:%M} UTC"


Report = Callable[[float, str | None], None]


def execute_run(run: TopicRun, progress: Report) -> str:
    """Fit the run's topic model and store it (the body of the ``topic-run`` job)."""
    started = time.perf_counter()
    study = db.session.get(Study, run.study_id)
    filters = CorpusFilters.from_dict(run.filters)
    progress(2, "Collecting documents")
    docs = build_corpus(study, filters)
    try:
        params = choose_params(len(docs), **(run.filters.get("overrides") or {}))
    except TopicModelError as error:
        raise TopicError(str(error)) from error

    model = run.embedding_model or embedding_model_name()
    store = DatabaseStore()

    def on_batch(done: int, total: int) -> None:
        progress(5 + 40 * done / max(total, 1), f"Embedded {done} of {total} new texts")

    progress(5, f"Embedding {len(docs)} documents (stored embeddings are reused)")
    t0 = time.perf_counter()
    try:
        embedded = embed_texts([d.text for d in docs], model=model, store=store,
                               encoder=make_encoder(on_batch))
    except EmbeddingError as error:
        raise TopicError(str(error)) from error
    embed_s = time.perf_counter() - t0
    progress(45, f"Embeddings ready ({embedded.reused} reused, {embedded.computed} new); "
                 "fitting the topic model")

    t0 = time.perf_counter()
    try:
        result = fit_topics([d.text for d in docs], embedded.vectors, params,
                            fit_mask=[d.representative for d in docs],
                            weights=[d.weight for d in docs],
                            progress=lambda p, m: progress(45 + p * 0.45, m))
    except TopicModelError as error:
        raise TopicError(str(error)) from error
    fit_s = time.perf_counter() - t0
    progress(92, f"Saving {result.n_topics} topics")
    _store_result(run, docs, embedded.vectors, result)
    run.params = params.to_dict()
    run.clusterer = result.clusterer
    run.n_documents = len(docs)
    run.n_topics = result.n_topics
    run.outlier_share = result.outlier_share
    run.notes = result.notes
    run.figures = result.figures
    run.embedding_model = model
    run.timings = {"embed_s": round(embed_s, 2), "fit_s": round(fit_s, 2),
                   "total_s": round(time.perf_counter() - started, 2),
                   "embedded": embedded.computed, "reused": embedded.reused,
                   "distinct": embedded.distinct,
                   **{k: round(v, 2) for k, v in result.timings.items()}}
    run.status = TopicRunStatus.DONE
    run.finished_at = utcnow()
    db.session.flush()
    return (f"Found {result.n_topics} topics in {len(docs)} documents "
            f"({result.outlier_share:.0%} unassigned).")


def _store_result(run: TopicRun, docs: list[CorpusDocument], vectors: np.ndarray,
                  result) -> None:
    db.session.execute(delete(TopicAssignment).where(TopicAssignment.run_id == run.id))
    db.session.execute(delete(Topic).where(Topic.run_id == run.id))
    topics: dict[int, Topic] = {}
    ordered = sorted(result.topics, key=lambda t: (t.number == -1, t.number))
    for position, info in enumerate(ordered):
        topic = Topic(run_id=run.id, number=info.number, position=position,
                      keywords=[[w, round(s, 5)] for w, s in info.keywords], size=info.size,
                      weighted_size=round(info.weighted_size, 4),
                      representatives=[docs[i].key for i in info.representatives],
                      centroid=to_bytes(info.centroid) if info.centroid is not None else None)
        db.session.add(topic)
        topics[info.number] = topic
    db.session.flush()
    from coding.embeddings import text_hash

    rows = []
    for doc, number, probability in zip(docs, result.assignments, result.probabilities,
                                        strict=True):
        rows.append({"run_id": run.id, "segment_id": doc.segment_id,
                     "comment_id": doc.comment_id, "topic_id": topics[number].id,
                     "original_number": number, "probability": round(float(probability), 5),
                     "weight": doc.weight, "fitted": doc.representative,
                     "text_hash": text_hash(doc.text), "source": doc.source,
                     "stakeholder_group": doc.stakeholder_group,
                     "session_kind": doc.session_kind, "dated_at": doc.dated_at})
    for i in range(0, len(rows), 1000):
        db.session.execute(TopicAssignment.__table__.insert(), rows[i:i + 1000])


def fail_run(run_id: int, message: str) -> None:
    """Mark a run failed (committed at once, as the job's rollback follows)."""
    db.session.rollback()
    run = db.session.get(TopicRun, run_id)
    if run is not None:
        run.status = TopicRunStatus.FAILED
        run.notes = [message]
        run.finished_at = utcnow()
        db.session.commit()


def run_job(run: TopicRun) -> Job | None:
    return db.session.get(Job, run.job_id) if run.job_id else None


# --- the researcher's edits -------------------------------------------------------------


def rename_topic(actor: User, topic: Topic, name: str) -> Topic:
    name = " ".join((name or "").split())
    if len(name) > 200:
        raise TopicError("A topic name can have at most 200 characters.")
    topic.name = name or None
    db.session.flush()
    return topic


def set_noise(actor: User, topic: Topic, noise: bool) -> Topic:
    if topic.merged_into_id is not None:
        raise TopicError("This topic was merged into another; change that topic instead.")
    topic.is_noise = noise
    db.session.flush()
    return topic


def merge_topics(actor: User, run: TopicRun, sources: Sequence[Topic], target: Topic) -> Topic:
    """Move the documents of ``sources`` into ``target`` and recompute its words."""
    sources = [t for t in sources if t.id != target.id]
    if not sources:
        raise TopicError("Choose at least two topics to merge.")
    for topic in [*sources, target]:
        if topic.run_id != run.id:
            raise TopicError("Topics can only be merged within one run.")
        if topic.merged_into_id is not None:
            raise TopicError(f"“{topic.label}” was already merged into another topic.")
        if topic.is_outliers:
            raise TopicError("The unassigned documents cannot be merged; mark topics as "
                             "noise instead.")
    ids = [t.id for t in sources]
    db.session.execute(update(TopicAssignment).where(
        TopicAssignment.run_id == run.id, TopicAssignment.topic_id.in_(ids))
        .values(topic_id=target.id))
    # Topics merged earlier into a source follow it.
    db.session.execute(update(Topic).where(Topic.merged_into_id.in_(ids))
                       .values(merged_into_id=target.id))
    for topic in sources:
        topic.merged_into_id = target.id
    db.session.flush()
    _refresh_topics(run, [target])
    return target


def unmerge_topic(actor: User, topic: Topic) -> Topic:
    """Give a merged topic its own documents back."""
    target = topic.merged_into
    if target is None:
        raise TopicError("This topic is not merged into another.")
    run = topic.run
    db.session.execute(update(TopicAssignment).where(
        TopicAssignment.run_id == run.id,
        TopicAssignment.original_number == topic.number).values(topic_id=topic.id))
    topic.merged_into_id = None
    db.session.flush()
    _refresh_topics(run, [topic, target])
    return topic


def _refresh_topics(run: TopicRun, topics: Sequence[Topic]) -> None:
    """Sizes, words, centroid and representatives from the documents each now holds."""
    assignments = list(db.session.scalars(select(TopicAssignment).where(
        TopicAssignment.run_id == run.id)))
    texts = document_texts({a.unit_key for a in assignments})
    labels = [a.topic_id for a in assignments]
    keep = [i for i, a in enumerate(assignments) if a.unit_key in texts]
    outliers = {t.id for t in run.topics if t.is_outliers}
    words = ctfidf_keywords([texts[assignments[i].unit_key] for i in keep],
                            [-1 if labels[i] in outliers else labels[i] for i in keep],
                            top_n=int(run.params.get("top_n_words", 10)),
                            ngram_max=int(run.params.get("ngram_max", 2)))
    vectors = _vectors(run, assignments)
    for topic in topics:
        mine = [a for a in assignments if a.topic_id == topic.id]
        topic.size = len(mine)
        topic.weighted_size = round(sum(a.weight for a in mine), 4)
        if topic.id in words:
            topic.keywords = [[w, round(s, 5)] for w, s in words[topic.id]]
        rows = [vectors[a.text_hash] for a in mine if a.text_hash in vectors]
        if rows:
            mean = np.mean(np.vstack(rows), axis=0)
            mean = mean / (np.linalg.norm(mean) or 1)
            topic.centroid = to_bytes(mean)
            scored = sorted(((float(vectors[a.text_hash] @ mean), a) for a in mine
                             if a.text_hash in vectors), key=lambda p: -p[0])
            reps, seen = [], set()
            for _, a in scored:
                if a.text_hash in seen:
                    continue
                seen.add(a.text_hash)
                reps.append(a.unit_key)
                if len(reps) == 5:
                    break
            topic.representatives = reps
    db.session.flush()


def _vectors(run: TopicRun, assignments: Sequence[TopicAssignment]) -> dict[str, np.ndarray]:
    return DatabaseStore().get_many(run.embedding_model, list({a.text_hash
                                                              for a in assignments}))


def split_keys(keys) -> tuple[list[int], list[int]]:
    """("segment:1", "comment:2", ...) -> (segment ids, comment ids)."""
    segments, comments = [], []
    for key in keys:
        kind, _, number = key.partition(":")
        (segments if kind == "segment" else comments).append(int(number))
    return segments, comments


def document_texts(keys) -> dict[str, str]:
    """unit key -> the text a coder reads, for the documents that still exist."""
    from engage.consultations.moderation import public_text

    segment_ids, comment_ids = split_keys(keys)
    out = {}
    for i in range(0, len(segment_ids), 900):
        for sid, text in db.session.execute(select(TranscriptSegment.id, TranscriptSegment.text)
                                            .where(TranscriptSegment.id.in_(
                                                segment_ids[i:i + 900]))):
            out[f"segment:{sid}"] = text
    for i in range(0, len(comment_ids), 900):
        for comment in db.session.scalars(select(Comment).where(
                Comment.id.in_(comment_ids[i:i + 900]))):
            out[f"comment:{comment.id}"] = public_text(comment)
    return out


# --- deleting a run, and the embeddings nothing uses any more ---------------------------


@dataclass
class RunDeletion:
    """What deleting a run takes with it: said on the confirmation page and in the audit."""

    topics: int
    assignments: int
    figures: list[str]  # BERTopic's stored charts; the others are drawn from assignments
    # Themes that lose their links to the run's topics, with those topics.
    themes: list[tuple[Theme, list[Topic]]]
    quotes: int  # theme quotes picked from its topics: they stay, without that origin
    embeddings_pruned: int = 0


def run_is_running(run: TopicRun) -> bool:
    """Still being fitted: its job is queued or running (a run whose job ended, or was
    deleted, without the run noticing is not)."""
    if run.status is not TopicRunStatus.RUNNING:
        return False
    job = run_job(run)
    return job is not None and not job.status.finished


def deletion_impact(run: TopicRun) -> RunDeletion:
    topic_ids = select(Topic.id).where(Topic.run_id == run.id)
    themes: dict[int, tuple[Theme, list[Topic]]] = {}
    for theme, topic in db.session.execute(
            select(Theme, Topic).join(theme_topic, theme_topic.c.theme_id == Theme.id)
            .join(Topic, Topic.id == theme_topic.c.topic_id).where(Topic.run_id == run.id)
            .order_by(Theme.position, Theme.name, Theme.id, Topic.position)):
        themes.setdefault(theme.id, (theme, []))[1].append(topic)
    return RunDeletion(
        topics=db.session.scalar(select(func.count()).where(Topic.run_id == run.id)),
        assignments=db.session.scalar(select(func.count()).where(
            TopicAssignment.run_id == run.id)),
        figures=sorted(run.figures or {}), themes=list(themes.values()),
        quotes=db.session.scalar(select(func.count()).where(
            ThemeEvidence.topic_id.in_(topic_ids))))


def delete_run(actor: User, run: TopicRun) -> RunDeletion:
    """Delete a finished or failed run with its topics, assignments and charts; themes
    keep existing but lose their links to its topics. Then prune unused embeddings."""
    if run_is_running(run):
        raise TopicError("This run is still running. Wait for it to finish, or cancel its "
                         "job, then delete it.")
    impact = deletion_impact(run)
    detail = {"name": run.name, "topics": impact.topics, "assignments": impact.assignments,
              "charts": impact.figures, "quotes_unlinked": impact.quotes,
              "themes_unlinked": [{"id": theme.id, "name": theme.name,
                                   "topics": [t.label for t in topics]}
                                  for theme, topics in impact.themes]}
    run_id, study_id = run.id, run.study_id
    topic_ids = select(Topic.id).where(Topic.run_id == run_id)
    db.session.execute(delete(theme_topic).where(theme_topic.c.topic_id.in_(topic_ids)))
    db.session.execute(update(ThemeEvidence).where(ThemeEvidence.topic_id.in_(topic_ids))
                       .values(topic_id=None))
    db.session.execute(delete(TopicAssignment).where(TopicAssignment.run_id == run_id))
    db.session.execute(update(Topic).where(Topic.run_id == run_id).values(merged_into_id=None))
    db.session.execute(delete(Topic).where(Topic.run_id == run_id))
    for theme, _ in impact.themes:
        db.session.expire(theme, ["topics"])
    db.session.expire(run, ["topics"])
    db.session.delete(run)
    db.session.flush()
    impact.embeddings_pruned = prune_embeddings()
    record("topic_run.delete", actor, study_id=study_id, target=("topic_run", run_id),
           **detail, embeddings_pruned=impact.embeddings_pruned)
    db.session.flush()
    return impact


def used_text_hashes() -> set[str]:
    """The hashes (``coding.embeddings.text_hash``, as a run keys its documents) of every
    current transcript segment, every comment's public text, and every run's documents."""
    from coding.embeddings import text_hash
    from engage.consultations.moderation import public_text

    used = set(db.session.scalars(select(TopicAssignment.text_hash).distinct()))
    segments = (select(TranscriptSegment.text).join(Transcript)
                .where(Transcript.is_current.is_(True)))
    used.update(text_hash(text) for text in
                db.session.scalars(segments.execution_options(yield_per=2000)))
    used.update(text_hash(public_text(comment)) for comment in
                db.session.scalars(select(Comment).execution_options(yield_per=500)))
    return used


def prune_embeddings() -> int:
    """Delete the stored embeddings nothing uses any more; returns how many.

    An embedding is kept while its text is a current transcript segment's or a comment's
    public text (the next run would embed it again), or a run's document. Flushes.
    """
    used = used_text_hashes()
    unused = [embedding_id for embedding_id, key in db.session.execute(
        select(Embedding.id, Embedding.text_hash)) if key not in used]
    for i in range(0, len(unused), DatabaseStore.CHUNK):
        db.session.execute(delete(Embedding).where(
            Embedding.id.in_(unused[i:i + DatabaseStore.CHUNK])))
    db.session.flush()
    return len(unused)


# --- reading a run ------------------------------------------------------------------------


def active_topics(run: TopicRun, *, include_noise: bool = True) -> list[Topic]:
    return [t for t in run.topics if t.merged_into_id is None
            and (include_noise or not t.is_noise)]


@dataclass
class Breakdown:
    """Documents per topic and per value of an attribute (group, source)."""

    columns: list[str]
    rows: dict[int, Counter]  # topic id -> value -> count
    weighted: dict[int, defaultdict]


def breakdown(run: TopicRun, attribute: str) -> Breakdown:
    column = {"group": TopicAssignment.stakeholder_group, "source": TopicAssignment.source,
              "session": TopicAssignment.session_kind}[attribute]
    rows: dict[int, Counter] = defaultdict(Counter)
    weighted: dict[int, defaultdict] = defaultdict(lambda: defaultdict(float))
    for topic_id, value, weight in db.session.execute(
            select(TopicAssignment.topic_id, column, TopicAssignment.weight)
            .where(TopicAssignment.run_id == run.id)):
        label = value or "Not recorded"
        if attribute == "source":
            label = {"transcript": "Transcripts", "comment": "Comments"}.get(value, label)
        rows[topic_id][label] += 1
        weighted[topic_id][label] += weight
    columns = sorted({v for counts in rows.values() for v in counts})
    return Breakdown(columns, rows, weighted)


def over_time(run: TopicRun, *, source: str = "comment") -> dict[int, Counter]:
    """topic id -> ISO week start (YYYY-MM-DD) -> documents of ``source``."""
    out: dict[int, Counter] = defaultdict(Counter)
    for topic_id, dated in db.session.execute(
            select(TopicAssignment.topic_id, TopicAssignment.dated_at).where(
                TopicAssignment.run_id == run.id, TopicAssignment.source == source,
                TopicAssignment.dated_at.is_not(None))):
        day = dated.date()
        week = day.fromordinal(day.toordinal() - day.weekday())
        out[topic_id][week.isoformat()] += 1
    return out


def compare_runs(run_a: TopicRun, run_b: TopicRun) -> list[tuple[Topic, Topic | None, object]]:
    """Each active topic of A, its closest topic of B, and the match (persists or not)."""

    def summaries(run: TopicRun) -> list[TopicSummary]:
        docs: dict[int, set[str]] = defaultdict(set)
        for a in db.session.scalars(select(TopicAssignment).where(
                TopicAssignment.run_id == run.id)):
            docs[a.topic_id].add(a.unit_key)
        return [TopicSummary(t.id, from_bytes(t.centroid) if t.centroid else None,
                             frozenset(docs.get(t.id, ()))) for t in active_topics(run)
                if not t.is_outliers]

    a_topics = {t.id: t for t in run_a.topics}
    b_topics = {t.id: t for t in run_b.topics}
    matches = match_topics(summaries(run_a), summaries(run_b))
    return [(a_topics[m.a], b_topics.get(m.b) if m.b is not None else None, m)
            for m in matches]
