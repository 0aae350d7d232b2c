"""Topic-model benchmark: Engage's pipeline against plain BERTopic on the same corpus.

    .venv/bin/python bench/topics.py [--docs 2200] [--quantized]

The corpus is the demo data, sampled up: the 199 real regulations.gov comments
(whole, and sentence by sentence), the demo interview's transcript segments and
the integration guide's sentences, drawn with replacement to ``--docs``
documents, so repeats occur as form letters make them occur. Each contender runs
in its own process (model loading and Numba compilation are paid by each):

* plain:   ``BERTopic(embedding_model=SentenceTransformer(...)).fit_transform(docs)``
* engage:  ``coding.embeddings.embed_texts`` into an empty store, then
           ``coding.topics.fit_topics``; then the second run, whose embeddings are
           all stored (the worker process is warm, as it is in production);
* quantized (``--quantized``): Engage with dynamic int8 linear layers.

Printed for each: embedding time, fit time, second-run time, number of topics,
outlier share, peak memory (max RSS of its process); and topic quality as NMI
against labels on a labelled corpus (guide sentences labelled by the guide
section they come from).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "engage" / "demo_data"
GUIDE_CANDIDATES = [ROOT.parent / "shared" / "seed" / "integration-strategy-guide.txt",
                    ROOT / "seed" / "integration-strategy-guide.txt"]


def _sentences(text: str, min_words: int = 5) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= min_words]


def _guide() -> list[str]:
    for path in GUIDE_CANDIDATES:
        if path.exists():
            return path.read_text(encoding="utf-8").splitlines()
    return []


def labelled_corpus() -> tuple[list[str], list[str]]:
    """Guide sentences labelled by the heading they sit under (sections of 8+ sentences)."""
    docs, labels, heading = [], [], "Introduction"
    for line in _guide():
        line = line.strip()
        if not line:
            continue
        if len(line) < 80 and not line.endswith((".", ":", "?")) and len(line.split()) <= 9:
            heading = line
            continue
        for sentence in _sentences(line):
            docs.append(sentence)
            labels.append(heading)
    counts = {label: labels.count(label) for label in set(labels)}
    keep = [i for i, label in enumerate(labels) if counts[label] >= 8]
    return [docs[i] for i in keep], [labels[i] for i in keep]


def corpus(n_docs: int, seed: int = 13) -> list[str]:
    with (DATA / "usda-2017-0002-comments.csv").open(encoding="utf-8") as f:
        comments = [row.get("Text Comment") or "" for row in csv.DictReader(f)]
    segments = []
    vtt = DATA / "demo-interview.vtt"
    if vtt.exists():
        segments = [re.sub(r"^<v [^>]*>", "", line).strip()
                    for line in vtt.read_text(encoding="utf-8").splitlines()
                    if line.strip() and "-->" not in line and line.strip() != "WEBVTT"]
    pool = [c for c in comments if c.strip()]
    pool += [s for c in comments for s in _sentences(c)]
    pool += segments + labelled_corpus()[0]
    rng = random.Random(seed)
    return [rng.choice(pool) for _ in range(n_docs)]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_plain(docs: list[str], labelled: tuple[list[str], list[str]]) -> dict:
    from coding.embeddings import DEFAULT_MODEL, model_path, offline

    offline()
    import numpy as np
    from bertopic import BERTopic
    from sentence_transformers import SentenceTransformer
    from sklearn.metrics import normalized_mutual_info_score

    model = SentenceTransformer(str(model_path(DEFAULT_MODEL)), device="cpu")
    spent = {"embed": 0.0}
    encode = model.encode

    def timed_encode(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return encode(*args, **kwargs)
        finally:
            spent["embed"] += time.perf_counter() - t0

    model.encode = timed_encode  # BERTopic embeds through this
    t0 = time.perf_counter()
    topics, _ = BERTopic(embedding_model=model).fit_transform(docs)
    total = time.perf_counter() - t0
    texts, labels = labelled
    lab_topics, _ = BERTopic(embedding_model=model).fit_transform(texts)
    return {"embed_s": spent["embed"], "fit_s": total - spent["embed"], "first_s": total,
            "second_s": None, "topics": len(set(topics) - {-1}),
            "outliers": float(np.mean(np.asarray(topics) == -1)),
            "nmi": normalized_mutual_info_score(labels, lab_topics), "peak_mb": peak_mb()}


def run_engage(docs: list[str], labelled: tuple[list[str], list[str]], quantize: bool) -> dict:
    from sklearn.metrics import normalized_mutual_info_score

    from coding.embeddings import DEFAULT_MODEL, MemoryStore, embed_texts, model_encoder
    from coding.topics import choose_params, fit_topics

    store = MemoryStore()
    encoder = model_encoder(DEFAULT_MODEL, quantize=quantize)
    t0 = time.perf_counter()
    embedded = embed_texts(docs, model=DEFAULT_MODEL, store=store, encoder=encoder)
    embed_s = time.perf_counter() - t0
    params = choose_params(len(docs))
    t1 = time.perf_counter()
    result = fit_topics(docs, embedded.vectors, params)
    fit_s = time.perf_counter() - t1
    first = time.perf_counter() - t0

    def refuse(texts):
        raise AssertionError("the second run embedded again")

    t2 = time.perf_counter()
    again = embed_texts(docs, model=DEFAULT_MODEL, store=store, encoder=refuse)
    second_result = fit_topics(docs, again.vectors, params)
    second = time.perf_counter() - t2
    assert second_result.assignments == result.assignments, "not reproducible"

    texts, labels = labelled
    lab = embed_texts(texts, model=DEFAULT_MODEL, store=MemoryStore(), encoder=encoder)
    lab_result = fit_topics(texts, lab.vectors, choose_params(len(texts)), figures=False)
    return {"embed_s": embed_s, "fit_s": fit_s, "first_s": first, "second_s": second,
            "topics": result.n_topics, "outliers": result.outlier_share,
            "distinct": embedded.distinct, "clusterer": result.clusterer,
            "nmi": normalized_mutual_info_score(labels, lab_result.assignments),
            "nmi_topics": lab_result.n_topics,
            "reproducible": True, "peak_mb": peak_mb(), "quantized": quantize}


def child(part: str, n_docs: int) -> None:
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    docs = corpus(n_docs)
    labelled = labelled_corpus()
    if part == "plain":
        out = run_plain(docs, labelled)
    else:
        out = run_engage(docs, labelled, quantize=part == "quantized")
    print("RESULT " + json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2200)
    parser.add_argument("--quantized", action="store_true", help="also run int8 embeddings")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        child(args.part, args.docs)
        return
    docs = corpus(args.docs)
    texts, labels = labelled_corpus()
    print(f"Corpus: {len(docs)} documents ({len(set(docs))} distinct); labelled corpus: "
          f"{len(texts)} guide sentences in {len(set(labels))} sections.")
    results = {}
    parts = ["plain", "engage"] + (["quantized"] if args.quantized else [])
    for part in parts:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--part", part, "--docs",
                               str(args.docs)], capture_output=True, text=True, cwd=ROOT,
                              check=False)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            print(f"{part} failed:\n{proc.stderr[-3000:]}")
            continue
        results[part] = json.loads(line[len("RESULT "):])
        results[part]["process_s"] = time.perf_counter() - t0

    def fmt(value, spec):
        return "–" if value is None else format(value, spec)

    print(f"\n{'':24}" + "".join(f"{p:>14}" for p in results))
    rows = [("embedding (s)", "embed_s", ".1f"), ("fit (s)", "fit_s", ".1f"),
            ("first run (s)", "first_s", ".1f"), ("second run (s)", "second_s", ".1f"),
            ("topics", "topics", "d"), ("outlier share", "outliers", ".1%"),
            ("NMI vs labels", "nmi", ".3f"), ("peak memory (MB)", "peak_mb", ".0f"),
            ("process incl. load (s)", "process_s", ".1f")]
    for title, key, spec in rows:
        print(f"{title:24}" + "".join(f"{fmt(r.get(key), spec):>14}" for r in results.values()))
    if "plain" in results and "engage" in results:
        plain, ours = results["plain"], results["engage"]
        print(f"\nSecond run vs plain BERTopic: {plain['first_s'] / ours['second_s']:.1f}x "
              f"faster (target >= 3x). First run: {plain['first_s'] / ours['first_s']:.2f}x "
              "(target >= 1x).")


if __name__ == "__main__":
    main()
