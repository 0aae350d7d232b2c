"""Benchmark campaign grouping (coding/campaigns.py) on synthetic form letters.

    python bench/campaigns_bench.py                 # 2,000 and 10,000 comments
    python bench/campaigns_bench.py --sizes 100000  # the issue's 100k target

Synthetic dockets: 60% of comments come from 25 form letters (a third sent
unchanged, the rest with up to 3% of words substituted, deleted or inserted,
plus case and punctuation noise); 40% are unique comments. Words are drawn
from the real USDA comments' word frequencies so that unique comments share
common words the way real ones do. Printed per size: wall time of
``group_campaigns``, peak RSS of this process, and pairwise precision/recall of
the grouping against the synthetic truth. On the 2,000 case a naive all-pairs
Jaccard baseline (same normalisation and shingles, every pair compared) runs
too, for time and for agreement.

This is a benchmark, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coding.campaigns import (  # noqa: E402
    Campaign,
    _UnionFind,
    group_campaigns,
    jaccard,
    normalize,
    shingles,
)

CSV_PATH = ROOT / "tests" / "fixtures" / "comments" / "usda-2017-0002-comments.csv"
N_TEMPLATES = 25
CAMPAIGN_SHARE = 0.6
MAX_EDIT_RATE = 0.03


def _vocabulary() -> tuple[list[str], list[int]]:
    counts: Counter[str] = Counter()
    if CSV_PATH.exists():
        with CSV_PATH.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                counts.update(normalize(row["Text Comment"]).split())
    if len(counts) < 500:  # fixture missing: fall back to Zipf-like pseudo-words
        rng = random.Random(7)
        for rank in range(1, 5001):
            word = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9)))
            counts[word] += max(1, 5000 // rank)
    words, weights = zip(*counts.most_common(), strict=True)
    return list(words), list(weights)


def synthetic_docket(n: int, seed: int = 42) -> tuple[list[tuple[int, str]], list[int]]:
    """(docs, truth): truth[i] is the form letter of doc i, or -1-i if unique."""
    rng = random.Random(seed)
    words, weights = _vocabulary()

    def sample(k: int) -> list[str]:
        return rng.choices(words, weights, k=k)

    templates = [sample(rng.randint(40, 250)) for _ in range(N_TEMPLATES)]
    # Uneven campaign sizes, as on real dockets: a few big ones, many small.
    popularity = [1.0 / (i + 1) for i in range(N_TEMPLATES)]
    docs: list[tuple[int, str]] = []
    truth: list[int] = []
    for i in range(n):
        if rng.random() < CAMPAIGN_SHARE:
            t = rng.choices(range(N_TEMPLATES), popularity)[0]
            letter = list(templates[t])
            if rng.random() >= 1 / 3:
                for _ in range(round(len(letter) * rng.uniform(0, MAX_EDIT_RATE))):
                    pos = rng.randrange(len(letter))
                    op = rng.random()
                    if op < 0.4:
                        letter[pos] = sample(1)[0]
                    elif op < 0.7:
                        del letter[pos]
                    else:
                        letter.insert(pos, sample(1)[0])
            truth.append(t)
        else:
            letter = sample(rng.randint(5, 300))
            truth.append(-1 - i)
        text = " ".join(letter)
        if rng.random() < 0.5:  # noise that normalisation must absorb
            text = text.capitalize().replace(" ", "  ", 1) + rng.choice([".", "!", " ..."])
        docs.append((i, text))
    return docs, truth


def naive_all_pairs(docs: Sequence[tuple[int, str]], threshold: float = 0.8) -> list[Campaign]:
    """Every pair compared with exact Jaccard: the O(n^2) reference."""
    sets = [frozenset(shingles(normalize(text))) for _, text in docs]
    uf = _UnionFind(len(docs))
    for a, b in itertools.combinations(range(len(docs)), 2):
        if sets[a] and sets[b] and jaccard(sets[a], sets[b]) >= threshold:
            uf.union(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(len(docs)):
        groups.setdefault(uf.find(i), []).append(i)
    return [
        Campaign(tuple(docs[i][0] for i in g), docs[g[0]][0], 0.0)
        for g in groups.values()
        if len(g) >= 2
    ]


def pair_scores(campaigns: Sequence[Campaign], truth: Sequence[int]) -> tuple[float, float]:
    """Pairwise precision and recall: a pair is positive when both comments
    come from the same form letter (truth) / the same campaign (prediction)."""
    label: dict[Hashable, int] = {}
    for n, c in enumerate(campaigns):
        for i in c.ids:
            label[i] = n
    predicted = Counter(label.values())
    true_pairs = sum(k * (k - 1) // 2 for k in Counter(t for t in truth if t >= 0).values())
    pred_pairs = sum(k * (k - 1) // 2 for k in predicted.values())
    both = Counter((label[i], truth[i]) for i in label if truth[i] >= 0)
    correct = sum(k * (k - 1) // 2 for k in both.values())
    precision = correct / pred_pairs if pred_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    return precision, recall


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    # Load datasketch/scipy (imported lazily, ~0.6 s) before timing anything.
    group_campaigns([(0, "warm up the imports"), (1, "warm up the imports now")])

    for n in args.sizes:
        docs, truth = synthetic_docket(n)
        t0 = time.perf_counter()
        campaigns = group_campaigns(docs, threshold=args.threshold)
        elapsed = time.perf_counter() - t0
        p, r = pair_scores(campaigns, truth)
        print(
            f"n={n:>7,}  minhash+lsh  {elapsed:7.2f} s  campaigns={len(campaigns):>4}  "
            f"precision={p:.4f}  recall={r:.4f}  peak_rss={_peak_rss_mib():.0f} MiB"
        )
        if n == 2000 and not args.no_baseline:
            t0 = time.perf_counter()
            baseline = naive_all_pairs(docs, args.threshold)
            base_elapsed = time.perf_counter() - t0
            bp, br = pair_scores(baseline, truth)
            same = {frozenset(c.ids) for c in baseline} == {frozenset(c.ids) for c in campaigns}
            print(
                f"n={n:>7,}  all-pairs    {base_elapsed:7.2f} s  campaigns={len(baseline):>4}  "
                f"precision={bp:.4f}  recall={br:.4f}  same groups as LSH: {same}"
            )


if __name__ == "__main__":
    main()
