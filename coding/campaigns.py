"""Group identical and near-identical form-letter comments into campaigns.

Most comments on a real docket are form letters, sent unchanged or with a word
or a sentence edited (PRODUCT.md flow 5). Analysis needs to count such a
campaign as one voice or as N, so the comments are grouped here:

1. **Normalise**: Unicode NFKC, HTML entities, case, punctuation and
   whitespace are ignored, and boilerplate the caller names (for example the
   docket's "Re: ... (previously under Docket ID ...)" line that regulations.gov
   appends to every comment) is cut out, so that it cannot make two unrelated
   one-line comments look alike.
2. **Exact duplicates** share a hash of the normalised text and are collapsed
   first; only distinct texts go on.
3. **Near duplicates**: each distinct text becomes a set of word shingles
   (3 words by default), sketched with ``datasketch.MinHash``. LSH banding over
   the signatures proposes candidate pairs; each candidate is confirmed by the
   *exact* Jaccard similarity of the shingle sets, so the sketch only decides
   what to compare, never what to group. Confirmed pairs are joined with
   union-find.

Why banding is done here and not through ``datasketch.MinHashLSH.query``: a
campaign of N distinct letters puts all N in the same buckets, and querying
each one returns the other N - 1, which is quadratic. Walking each bucket once
and comparing a member only with the few groups already present in that bucket
keeps the work linear in the campaign size. The band count and width are
chosen so that a pair exactly at the threshold becomes a candidate with
probability >= 0.99 (see ``lsh_params``).

Why 3-word shingles: on the 199 USDA comments (boilerplate removed), 2- and
3-word shingles give the same groups and agree with a reading of the data;
with 4 or 5 words, short real variants ("Reinstate work requirements for food
stamps." next to "Please reinstate ...") fall out of their campaign, because a
one-line letter has only a handful of shingles.

Jaccard measures the share of *all* shingles two letters have in common, so a
form letter with a short personal sentence added stays in its campaign, but
one with a personal paragraph as long as the letter itself does not (its
similarity is about 0.5); such a comment is better read as its own voice.

Union-find is transitive: A~B and B~C put A and C in one campaign even when A
and C are less similar; ``similarity_min`` reports the lowest similarity of any
member to the campaign's representative so that such chains are visible.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "Campaign",
    "group_campaigns",
    "jaccard",
    "lsh_params",
    "normalize",
    "shingles",
]

DEFAULT_SHINGLE_SIZE = 3
DEFAULT_NUM_PERM = 128
# Probability that a pair exactly at the threshold is compared at all.
_CANDIDATE_RECALL = 0.99
# Within one LSH bucket, each member is compared with up to this many earlier
# members per group already formed there (not with all of them, which would be
# quadratic in the campaign size), and with at most _MAX_TARGETS in all.
_TARGETS_PER_GROUP = 4
_MAX_TARGETS = 32


@dataclass(frozen=True)
class Campaign:
    """A group of comments that are the same letter.

    ``ids`` are in input order. ``representative_id`` is a member whose text is
    the most common exact version (ties: the version sharing most shingles
    with the others, then the earliest), i.e. the best guess at the template.
    ``similarity_min`` is the lowest Jaccard similarity between the
    representative's text and any member's text (1.0 for exact repeats).
    """

    ids: tuple[Hashable, ...]
    representative_id: Hashable
    similarity_min: float

    @property
    def size(self) -> int:
        return len(self.ids)


_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc]")
_WORD = re.compile(r"\w+")


def normalize(text: str, boilerplate: Iterable[str] = ()) -> str:
    """Lower-case words separated by single spaces, boilerplate removed.

    Apostrophes are dropped rather than split on, so "they're" and "theyre"
    agree. Boilerplate is normalised the same way and removed wherever it
    occurs as a whole run of words, so line wrapping or punctuation changes in
    the shared line do not defeat it.
    """
    words = _words(text)
    if not words:
        return ""
    normalized = " ".join(words)
    for bp in sorted({" ".join(_words(b)) for b in boilerplate} - {""}, key=len, reverse=True):
        padded = f" {normalized} "
        needle = f" {bp} "
        while needle in padded:
            padded = padded.replace(needle, " ")
        normalized = padded.strip()
    return normalized


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", html.unescape(text)).casefold()
    return _WORD.findall(_APOSTROPHES.sub("", text))


def shingles(normalized: str, size: int = DEFAULT_SHINGLE_SIZE) -> set[str]:
    """Word ``size``-grams of a normalised text; a shorter text is one shingle."""
    words = normalized.split()
    if not words:
        return set()
    if len(words) <= size:
        return {" ".join(words)}
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


# Word ids are packed 21 bits apiece into one integer per shingle: exact (no
# collisions) for shingles of up to 3 words over up to 2 million distinct
# words; beyond that the packing wraps modulo 2**64 and acts as a hash.
_WORD_BITS = np.uint64(21)


def _shingle_codes(normalized: str, size: int, word_ids: dict[str, int]) -> np.ndarray:
    """``shingles`` as a sorted array of unique uint64 codes.

    Word ids come from ``word_ids`` (grown as needed) and start at 1, so a
    short text's single code never equals a full shingle's. Ids are handed out
    in text order, so results do not depend on Python's string hash seed.
    Arrays of codes rather than sets of strings keep 100,000 comments in a
    few hundred MiB.
    """
    words = normalized.split()
    add = word_ids.setdefault
    ids = np.fromiter((add(w, len(word_ids) + 1) for w in words), np.uint64, len(words))
    width = min(size, len(ids))
    count = len(ids) - width + 1
    codes = ids[:count].copy()
    for offset in range(1, width):
        codes = (codes << _WORD_BITS) | ids[offset : offset + count]
    return np.unique(codes)


def _jaccard_codes(a: np.ndarray, b: np.ndarray) -> float:
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def jaccard(a: set | frozenset, b: set | frozenset) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int = DEFAULT_NUM_PERM) -> tuple[int, int]:
    """(bands, rows): the widest bands that still make a pair at ``threshold``
    a candidate with probability >= 0.99. Wider bands mean fewer false
    candidates to verify; the probability is 1 - (1 - s**rows)**bands."""
    for rows in range(num_perm // 2, 0, -1):
        bands = num_perm // rows
        if 1.0 - (1.0 - threshold**rows) ** bands >= _CANDIDATE_RECALL:
            return bands, rows
    return num_perm, 1


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # Keep the smaller index as root so results do not depend on order.
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def _identity(x: int) -> int:
    # Shingle codes are already integers; MinHash's affine64 scheme mixes its
    # input before permuting, so they need no further hashing.
    return x


def _signatures(sets: Sequence[np.ndarray], num_perm: int, seed: int) -> np.ndarray:
    # Imported here: datasketch loads scipy (about 0.6 s), which web workers
    # that import this module but never group comments should not pay for.
    from datasketch import MinHash

    sigs = np.empty((len(sets), num_perm), dtype=np.uint64)
    minhashes = MinHash.generator(
        (s.tolist() for s in sets),
        num_perm=num_perm,
        seed=seed,
        hashfunc=_identity,
        scheme="affine64",
    )
    for i, m in enumerate(minhashes):
        sigs[i] = m.hashvalues
    return sigs


def _band_buckets(sigs: np.ndarray, bands: int, rows: int) -> Iterable[tuple[int, np.ndarray]]:
    """Yield (band, row indices) for each group of >= 2 rows with equal band values."""
    n = sigs.shape[0]
    # Fold each band's values into one 64-bit key (FNV-style multiply/xor in
    # wrapping uint64). A key collision only adds a candidate, which the exact
    # Jaccard check then rejects.
    prime = np.uint64(1099511628211)
    for band in range(bands):
        block = sigs[:, band * rows : (band + 1) * rows]
        keys = np.full(n, np.uint64(14695981039346656037), dtype=np.uint64)
        for col in range(rows):
            keys = (keys ^ block[:, col]) * prime
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        boundaries = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
        starts = np.concatenate(([0], boundaries))
        ends = np.concatenate((boundaries, [n]))
        for s, e in zip(starts[ends - starts >= 2], ends[ends - starts >= 2], strict=True):
            yield band, order[s:e]


def _link_bucket(
    bucket: list[int], sets: Sequence[np.ndarray], uf: _UnionFind, threshold: float
) -> None:
    """Union the bucket's members whose exact Jaccard reaches the threshold.

    Each member is checked against the kept targets of every *other* group in
    the bucket; a member already in a target's group needs no check. A group
    keeps a few targets, not one, so that a letter just under the threshold
    against one member can still join through another.
    """
    targets: list[int] = []
    for idx in bucket:
        for j in targets:
            if uf.find(j) != uf.find(idx) and _jaccard_codes(sets[idx], sets[j]) >= threshold:
                uf.union(idx, j)
        if len(targets) < _MAX_TARGETS:
            root = uf.find(idx)
            if sum(1 for j in targets if uf.find(j) == root) < _TARGETS_PER_GROUP:
                targets.append(idx)


def group_campaigns(
    docs: Sequence[tuple[Hashable, str]],
    threshold: float = 0.8,
    min_size: int = 2,
    boilerplate: Iterable[str] = (),
    *,
    shingle_size: int = DEFAULT_SHINGLE_SIZE,
    num_perm: int = DEFAULT_NUM_PERM,
    seed: int = 1,
) -> list[Campaign]:
    """Group ``(id, text)`` pairs into campaigns of at least ``min_size`` comments.

    Two comments join when the Jaccard similarity of their normalised word
    shingles is at least ``threshold`` (or when they are equal after
    normalisation); groups are closed under that relation. Comments that are
    empty after normalisation (blank, or nothing but boilerplate) carry no
    text to compare and are never grouped. Campaigns come largest first, then
    by first appearance.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    boilerplate = tuple(boilerplate)

    # 1. Exact duplicates: collapse by hash of the normalised text.
    members: dict[bytes, list[int]] = defaultdict(list)
    texts: dict[bytes, str] = {}
    for pos, (_, text) in enumerate(docs):
        norm = normalize(text, boilerplate)
        if not norm:
            continue
        key = hashlib.blake2b(norm.encode("utf-8"), digest_size=16).digest()
        if key not in texts:
            texts[key] = norm
        members[key].append(pos)
    keys = list(texts)  # distinct texts in order of first appearance
    if not keys:
        return []

    # 2. Shingle sets, as sorted arrays of integer codes.
    word_ids: dict[str, int] = {}
    sets = [_shingle_codes(texts[k], shingle_size, word_ids) for k in keys]
    del word_ids

    # 3. Near duplicates: LSH candidates, confirmed by exact Jaccard.
    uf = _UnionFind(len(keys))
    if len(keys) > 1 and threshold < 1.0:
        bands, rows = lsh_params(threshold, num_perm)
        sigs = _signatures(sets, num_perm, seed)
        for band, bucket in _band_buckets(sigs, bands, rows):
            # Start each band's bucket at a different member so that the
            # comparison targets differ from band to band.
            order = bucket.tolist()
            offset = (band * 7919) % len(order)
            _link_bucket(order[offset:] + order[:offset], sets, uf, threshold)

    # 4. Collect components and describe them.
    components: dict[int, list[int]] = defaultdict(list)
    for i in range(len(keys)):
        components[uf.find(i)].append(i)

    campaigns: list[tuple[int, Campaign]] = []
    for distinct in components.values():
        positions = sorted(p for i in distinct for p in members[keys[i]])
        if len(positions) < max(min_size, 1):
            continue
        rep = _representative(distinct, keys, members, sets)
        sim_min = min(
            (_jaccard_codes(sets[rep], sets[i]) for i in distinct if i != rep), default=1.0
        )
        campaigns.append(
            (
                positions[0],
                Campaign(
                    ids=tuple(docs[p][0] for p in positions),
                    representative_id=docs[members[keys[rep]][0]][0],
                    similarity_min=sim_min,
                ),
            )
        )
    campaigns.sort(key=lambda c: (-c[1].size, c[0]))
    return [c for _, c in campaigns]


def _representative(
    distinct: list[int],
    keys: list[bytes],
    members: dict[bytes, list[int]],
    sets: list[np.ndarray],
) -> int:
    """The most repeated version; among equals, the one whose shingles the
    other members share most (a linear-time stand-in for the medoid)."""
    if len(distinct) == 1:
        return distinct[0]
    copies = [len(members[keys[i]]) for i in distinct]
    codes = np.concatenate([sets[i] for i in distinct])
    weights = np.repeat(copies, [sets[i].size for i in distinct])
    uniq, inverse = np.unique(codes, return_inverse=True)
    freq = np.bincount(inverse, weights=weights)
    shared = [float(freq[np.searchsorted(uniq, sets[i])].mean()) for i in distinct]
    best = max(range(len(distinct)), key=lambda n: (copies[n], shared[n], -distinct[n]))
    return distinct[best]
