"""What a form-letter campaign says, what each sender added, and how much it counts.

``coding.campaigns.group_campaigns`` decides *which* comments are the same
letter. This module describes a campaign once it is found:

* ``campaign_template(texts, representative)``: the letter's text, taken from
  the representative comment but keeping only the words that most other
  members share, so that the representative's own signature or personal
  paragraph does not become part of the template.
* ``personal_addition(text, template)``: the runs of words a member wrote
  beyond the template (a personal paragraph, a sentence about their mother),
  in the member's own spelling. Single changed words are edits of the letter,
  not additions, so runs shorter than ``min_words`` are ignored.
* ``comment_weights(memberships, mode)``: analysis can count a campaign as one
  voice (each of N members weighs 1/N) or as N voices (each weighs 1).
* ``suggest_boilerplate(texts)``: lines shared by many otherwise different
  comments (regulations.gov's "Re: ... (previously under Docket ID ...)"), to
  propose as boilerplate before grouping; a person confirms them.

Words are compared the way ``coding.campaigns.normalize`` compares them (NFKC,
case-folded, apostrophes dropped), with their offsets in the original text
kept so that what is shown is what the person wrote.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "campaign_template",
    "comment_weights",
    "personal_addition",
    "suggest_boilerplate",
]

_TOKEN = re.compile(r"[\w'\u2018\u2019\u02bc]+")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc]")
# Punctuation that closes a run of words and belongs with it ("months.").
_TRAILING = re.compile(r"[.,;:!?)\]\"\u201d]+")
# Enough members to find the shared words; more only costs time.
_TEMPLATE_SAMPLE = 200


@dataclass(frozen=True)
class _Tokens:
    text: str
    words: list[str]
    spans: list[tuple[int, int]]


def _tokens(text: str) -> _Tokens:
    words, spans = [], []
    for m in _TOKEN.finditer(text):
        word = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", m.group()).casefold())
        if word:
            words.append(word)
            spans.append(m.span())
    return _Tokens(text, words, spans)


def _runs(indices: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive indices as half-open (start, end) runs."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


def _slice(tokens: _Tokens, start: int, end: int) -> str:
    """The original text of words start..end-1, with the punctuation that closes it."""
    a, b = tokens.spans[start][0], tokens.spans[end - 1][1]
    trailing = _TRAILING.match(tokens.text, b)
    return tokens.text[a:trailing.end() if trailing else b]


def _join(tokens: _Tokens, runs: list[tuple[int, int]]) -> str:
    parts: list[str] = []
    for n, (start, end) in enumerate(runs):
        if n:
            # Keep paragraph breaks where the text had them; otherwise one space.
            gap = tokens.text[tokens.spans[runs[n - 1][1] - 1][1]:tokens.spans[start][0]]
            parts.append("\n\n" if "\n" in gap else " ")
        parts.append(_slice(tokens, start, end))
    return "".join(parts).strip()


def _matcher(a: list[str], b: list[str]) -> difflib.SequenceMatcher:
    # autojunk would treat frequent words ("the") as junk in long letters and
    # miss matches; these lists are a few hundred words, so it is not needed.
    return difflib.SequenceMatcher(None, a, b, autojunk=False)


def campaign_template(texts: Sequence[str], representative: int = 0,
                      share: float = 0.5) -> str:
    """The form letter: the representative's words that at least ``share`` of
    the other members also have (all of them when there is no other member)."""
    rep = _tokens(texts[representative])
    if not rep.words:
        return texts[representative].strip()
    others = [t for i, t in enumerate(texts) if i != representative]
    if not others:
        return texts[representative].strip()
    if len(others) > _TEMPLATE_SAMPLE:  # evenly spaced, so results are reproducible
        step = len(others) / _TEMPLATE_SAMPLE
        others = [others[int(i * step)] for i in range(_TEMPLATE_SAMPLE)]
    counts = [0] * len(rep.words)
    cache: dict[tuple[str, ...], list[int]] = {}
    for text in others:
        words = tuple(_tokens(text).words)
        if words not in cache:  # exact copies are the common case in a campaign
            matched: list[int] = []
            for block in _matcher(rep.words, list(words)).get_matching_blocks():
                matched.extend(range(block.a, block.a + block.size))
            cache[words] = matched
        for i in cache[words]:
            counts[i] += 1
    needed = share * len(others)
    kept = [i for i, c in enumerate(counts) if c >= needed]
    if not kept:
        return texts[representative].strip()
    return _join(rep, _runs(kept))


def personal_addition(text: str, template: str, min_words: int = 4) -> str | None:
    """What ``text`` adds to ``template``: runs of at least ``min_words`` words
    that are not in the template, joined; ``None`` when there are none."""
    member, base = _tokens(text), _tokens(template)
    if not member.words:
        return None
    added: list[int] = []
    for op, _a1, _a2, b1, b2 in _matcher(base.words, member.words).get_opcodes():
        if op in ("insert", "replace"):
            added.extend(range(b1, b2))
    runs = [r for r in _bridge(_runs(added)) if r[1] - r[0] >= min_words]
    return _join(member, runs) if runs else None


def _bridge(runs: list[tuple[int, int]], gap: int = 2) -> list[tuple[int, int]]:
    """Merge runs separated by at most ``gap`` words: a personal paragraph
    shares small words ("and", "the") with the letter, which should not cut it up."""
    merged: list[tuple[int, int]] = []
    for start, end in runs:
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def comment_weights(memberships: Iterable[tuple[Hashable, Hashable | None]],
                    mode: Literal["one", "n"] = "n") -> dict[Hashable, float]:
    """Weights for ``(comment id, campaign id or None)`` pairs.

    ``"n"`` counts every comment once. ``"one"`` counts each campaign as one
    voice: its N members weigh 1/N each, so a campaign sums to 1 while every
    member's text (and personal addition) still reaches the analysis.
    """
    if mode not in ("one", "n"):
        raise ValueError('mode must be "one" or "n"')
    pairs = list(memberships)
    if mode == "n":
        return {comment_id: 1.0 for comment_id, _ in pairs}
    sizes = Counter(campaign for _, campaign in pairs if campaign is not None)
    return {comment_id: 1.0 if campaign is None else 1.0 / sizes[campaign]
            for comment_id, campaign in pairs}


def suggest_boilerplate(texts: Sequence[str], min_share: float = 0.2, min_count: int = 5,
                        min_words: int = 8) -> list[tuple[str, int]]:
    """Lines to propose as boilerplate, with how many comments contain them.

    A line qualifies when it has at least ``min_words`` words, appears in at
    least ``min_share`` of the comments (and ``min_count``), and at least half
    of the comments carrying it say something else of their own: a remainder
    of three words or more that is not a near-duplicate of another carrier's
    remainder. That tells an appended docket line (regulations.gov's "Re: ...")
    from a line of a form letter, whose senders share the rest of the text too
    or add only a name.
    """
    from coding.campaigns import group_campaigns

    line_counts: Counter[str] = Counter()
    lines_of: list[list[str]] = []
    for text in texts:
        lines = [" ".join(line.split()) for line in text.splitlines()]
        lines_of.append(lines)
        line_counts.update({line for line in lines if len(_tokens(line).words) >= min_words})
    needed = max(min_count, min_share * len(texts))
    suggestions: list[tuple[str, int]] = []
    for line, count in line_counts.most_common():
        if count < needed:
            break
        remainders = [" ".join(other for other in lines if other != line)
                      for lines in lines_of if line in lines]
        own = [(i, r) for i, r in enumerate(remainders) if len(_tokens(r).words) >= 3]
        repeated = {i for c in group_campaigns(own, threshold=0.5) for i in c.ids}
        if len(own) - len(repeated) >= count / 2:
            suggestions.append((line, count))
    return suggestions
