"""Coded spans follow their words through edits, splits and merges, or say they cannot."""

from __future__ import annotations

import random

import pytest

from coding.anchoring import (
    Alignment,
    SplitText,
    merge_intervals,
    merge_shift,
    pieces,
    reanchor,
    remap_span,
    sentence_span,
    split_span,
    trim_span,
    validate_span,
)

OLD = "We need D-SNP aligned enrollment in rural counties."


def moved(new: str, quote: str, old: str = OLD):
    start = old.index(quote)
    result = remap_span(old, new, start, start + len(quote))
    return result, new[result.start:result.end]


@pytest.mark.parametrize(("new", "quote", "status", "now"), [
    (OLD, "D-SNP aligned", "unchanged", "D-SNP aligned"),
    ("Yes, we need D-SNP aligned enrollment in rural counties.", "D-SNP aligned", "moved",
     "D-SNP aligned"),
    ("We need D-SNP aligned enrollment in all rural counties.", "rural counties", "moved",
     "rural counties"),
    # An edit next to the span, not in it, leaves it alone.
    ("We need D-SNP-aligned enrollment in rural counties.", "aligned enrollment", "unchanged",
     "aligned enrollment"),
    ("We need DSNP aligned enrollment in rural counties.", "D-SNP aligned", "changed",
     "DSNP aligned"),
    ("We need D-SNP and aligned enrollment in rural counties.", "D-SNP aligned", "changed",
     "D-SNP and aligned"),
    ("We need D-SNP aligned enrollment in rural areas.", "rural counties", "changed",
     "rural areas"),
    ("We need aligned enrollment in rural counties.", "D-SNP ", "deleted", ""),
    ("Nothing in common at all!", "D-SNP aligned", "changed", None),
])
def test_remap_reports_what_happened_to_the_coded_words(new, quote, status, now):
    result, text = moved(new, quote)
    assert result.status == status
    if now is not None:
        assert text == now
    assert result.needs_check == (status in ("changed", "deleted"))


def test_unchanged_or_moved_spans_always_point_at_the_same_words():
    rng = random.Random(7)
    words = ["care", "coordination", "for", "LTSS", "users", "in", "rural", "and", "frontier",
             "counties", "matters"]
    for _ in range(300):
        old = " ".join(rng.sample(words, k=8))
        new_words = old.split()
        i = rng.randrange(len(new_words))
        op = rng.choice(["insert", "delete", "replace"])
        if op == "insert":
            new_words.insert(i, rng.choice(["very", "the", "D-SNP"]))
        elif op == "delete":
            del new_words[i]
        else:
            new_words[i] = new_words[i].upper()
        new = " ".join(new_words)
        start = rng.randrange(len(old))
        end = rng.randrange(start + 1, len(old) + 1)
        result = Alignment(old, new).remap(start, end)
        assert 0 <= result.start <= result.end <= len(new)
        if result.status in ("unchanged", "moved"):
            assert new[result.start:result.end] == old[start:end]


def test_alignment_refuses_a_span_outside_the_old_text():
    with pytest.raises(ValueError, match="outside"):
        remap_span("short", "shorter", 2, 10)


def test_split_shares_spans_between_the_halves():
    text = "First part here.  Second part there."
    split = SplitText.at(text, 17)
    assert (split.first, split.second) == ("First part here.", "Second part there.")
    assert split_span(split, 0, 5) == ((0, 5), None)
    second = text.index("Second")
    assert split_span(split, second, second + 6) == (None, (0, 6))
    across = split_span(split, 6, second + 6)
    assert across == ((6, 16), (0, 6))
    assert split.first[6:16] == "part here." and split.second[0:6] == "Second"
    assert split_span(split, 16, 18) == (None, None)  # only the spaces at the cut


def test_merge_shift_matches_how_segments_are_joined():
    first, second = "We need plans.", "And networks."
    merged = f"{first} {second}"
    assert merged[merge_shift(first):] == second


def test_reanchor_finds_the_occurrence_nearest_the_old_position():
    text = "PACE here, PACE there, PACE everywhere"
    assert reanchor("PACE", text, near=12) == (11, 15)
    assert reanchor("PACE", text) == (0, 4)
    assert reanchor("D-SNP", text) is None
    assert reanchor("", text) is None


def test_validate_and_trim_spans():
    validate_span("hello world", 0, 5)
    for start, end, message in [(-1, 3, "outside"), (3, 99, "outside"), (4, 4, "empty"),
                                (5, 6, "spaces")]:
        with pytest.raises(ValueError, match=message):
            validate_span("hello world", start, end)
    assert trim_span("  hello  ", 0, 9) == (2, 7)


def test_sentence_span_widens_evidence_to_its_sentence():
    text = "Hello there. We need D-SNP plans in every county! Yes."
    start = text.index("D-SNP")
    s, e = sentence_span(text, start, start + 5)
    assert text[s:e] == "We need D-SNP plans in every county!"
    assert sentence_span("no sentence end here", 3, 5) == (0, 20)


def test_code_points_not_utf16_units():
    # An emoji is one code point in Python (two UTF-16 units in JavaScript).
    old = "Cost 💸 matters for D-SNP enrollees"
    new = "Cost 💸💸 matters for D-SNP enrollees"
    start = old.index("D-SNP")
    result = remap_span(old, new, start, start + 5)
    assert result.status == "moved" and new[result.start:result.end] == "D-SNP"
    assert result.start == start + 1


def test_pieces_list_overlapping_spans():
    cut = pieces("abcdef", [(1, 3), (2, 5)])
    assert [(p.text, p.covered_by) for p in cut] == [
        ("a", ()), ("b", (0,)), ("c", (0, 1)), ("de", (1,)), ("f", ())]
    assert "".join(p.text for p in cut) == "abcdef"


def test_merge_intervals():
    assert merge_intervals([(5, 8), (0, 2), (1, 3), (8, 9)]) == [(0, 3), (5, 9)]
