"""Campaign (form-letter) grouping (issue 5, item 7)."""

from __future__ import annotations

import csv
import itertools
import random
from collections.abc import Hashable
from pathlib import Path

import pytest

from coding.campaigns import (
    Campaign,
    group_campaigns,
    jaccard,
    lsh_params,
    normalize,
    shingles,
)

CSV_PATH = (
    Path(__file__).resolve().parent.parent / "fixtures" / "comments" / "usda-2017-0002-comments.csv"
)

# regulations.gov appended this line to the 162 comments moved from the SNAP
# docket; it is the same in all of them and says nothing about the commenter.
SNAP_CLOSING = (
    "Re: Supplemental Nutrition Assistance Program: Requirements and Services for "
    "Able-Bodied Adults without Dependents (previously under Docket ID FNS-2018-0004-0001)"
)

# The exact repeats in the file (byte-identical "Text Comment"), worked out
# from the data: three groups, nine rows.
EXACT_REINSTATE_AND_SUPPORT = {
    "USDA-2017-0002-3983",
    "USDA-2017-0002-1801",
    "USDA-2017-0002-1577",
    "USDA-2017-0002-2946",
    "USDA-2017-0002-2631",
}
EXACT_REINSTATE = {"USDA-2017-0002-0887", "USDA-2017-0002-2418"}
EXACT_SEE_ATTACHED = {"USDA-2017-0002-0052", "USDA-2017-0002-0028"}
# "Please, reinstate ..." differs from the first group only by a comma.
PUNCTUATION_VARIANT = "USDA-2017-0002-2710"


def _real() -> list[tuple[str, str]]:
    with CSV_PATH.open(newline="", encoding="utf-8") as fh:
        return [(row["Document ID"], row["Text Comment"]) for row in csv.DictReader(fh)]


def _groups(campaigns: list[Campaign]) -> set[frozenset]:
    return {frozenset(c.ids) for c in campaigns}


@pytest.fixture(scope="module")
def real() -> list[tuple[str, str]]:
    docs = _real()
    assert len(docs) == 199
    return docs


# --------------------------------------------------------------------------
# Real comments
# --------------------------------------------------------------------------


def test_fixture_has_the_documented_exact_repeats(real: list[tuple[str, str]]) -> None:
    by_text: dict[str, set[str]] = {}
    for doc_id, text in real:
        by_text.setdefault(text, set()).add(doc_id)
    repeats = {frozenset(ids) for ids in by_text.values() if len(ids) > 1}
    assert repeats == {
        frozenset(EXACT_REINSTATE_AND_SUPPORT),
        frozenset(EXACT_REINSTATE),
        frozenset(EXACT_SEE_ATTACHED),
    }


@pytest.mark.parametrize("boilerplate", [(), (SNAP_CLOSING,)])
def test_real_exact_repeats_are_found(
    real: list[tuple[str, str]], boilerplate: tuple[str, ...]
) -> None:
    # threshold=1.0: only texts equal after normalisation group.
    campaigns = group_campaigns(real, threshold=1.0, boilerplate=boilerplate)
    assert _groups(campaigns) == {
        frozenset(EXACT_REINSTATE_AND_SUPPORT | {PUNCTUATION_VARIANT}),
        frozenset(EXACT_REINSTATE),
        frozenset(EXACT_SEE_ATTACHED),
    }
    assert all(c.similarity_min == 1.0 for c in campaigns)
    assert [c.size for c in campaigns] == [6, 2, 2]  # largest first, then first seen
    assert campaigns[0].representative_id in EXACT_REINSTATE_AND_SUPPORT


def test_real_near_duplicates_with_boilerplate_removed(real: list[tuple[str, str]]) -> None:
    campaigns = group_campaigns(real, boilerplate=(SNAP_CLOSING,))
    groups = _groups(campaigns)
    # The "reinstate work requirements ... and support conservative waiver
    # reform" letter, with its wording variants ("Reinstate ...", "Please,
    # ...", "Thank You." added) on top of the exact repeats.
    big = next(g for g in groups if g >= EXACT_REINSTATE_AND_SUPPORT)
    assert big == {
        *EXACT_REINSTATE_AND_SUPPORT,
        PUNCTUATION_VARIANT,
        "USDA-2017-0002-1097",
        "USDA-2017-0002-1055",
        "USDA-2017-0002-0804",
        "USDA-2017-0002-2499",
        "USDA-2017-0002-1022",
    }
    # "Please reinstate work requirements for food stamps." and its
    # "Reinstate ..." variant.
    assert frozenset(EXACT_REINSTATE | {"USDA-2017-0002-1628"}) in groups
    assert frozenset(EXACT_SEE_ATTACHED) in groups
    assert len(groups) == 3
    by_first = {c.ids[0]: c for c in campaigns}
    assert by_first["USDA-2017-0002-1097"].representative_id == "USDA-2017-0002-3983"
    for c in campaigns:
        assert 0.0 < c.similarity_min <= 1.0


def test_shared_closing_line_alone_does_not_merge_unrelated_comments(
    real: list[tuple[str, str]],
) -> None:
    text = dict(real)
    # Two unrelated one-liners that share only the appended docket line.
    a, b = "USDA-2017-0002-1544", "USDA-2017-0002-0973"
    assert text[a].lower().startswith("do your job") and text[b].lower().startswith("no more")
    pair = [(a, text[a]), (b, text[b])]

    assert _groups(group_campaigns(pair)) == {frozenset({a, b})}  # the closing dominates
    assert group_campaigns(pair, boilerplate=(SNAP_CLOSING,)) == []

    # Over the whole docket: without the boilerplate, the closing drags short
    # unrelated comments ("Work for food stamps.") into campaigns; with it,
    # none of them is grouped.
    def grouped(campaigns: list[Campaign]) -> set[str]:
        return {i for c in campaigns for i in c.ids}

    loose = grouped(group_campaigns(real))
    strict = grouped(group_campaigns(real, boilerplate=(SNAP_CLOSING,)))
    for doc_id in ("USDA-2017-0002-4009", a, b, "USDA-2017-0002-0642"):
        assert doc_id in loose
        assert doc_id not in strict


def test_boilerplate_removal_survives_rewrapping(real: list[tuple[str, str]]) -> None:
    rewrapped = SNAP_CLOSING.upper().replace(": ", ":\n").replace(" (", "\n(")
    assert normalize(SNAP_CLOSING, [rewrapped]) == ""
    text = dict(real)["USDA-2017-0002-4009"]
    assert normalize(text, [rewrapped]) == "work for food stamps"


# --------------------------------------------------------------------------
# Crafted form letters
# --------------------------------------------------------------------------

LETTER = (
    "Dear Medicaid Director,\n\n"
    "As a family caregiver for a parent who is eligible for both Medicare and "
    "Medicaid, I urge the state to adopt a fully integrated care model. Today my "
    "mother carries two cards, calls two plans and gets two sets of notices that "
    "contradict each other. An integrated plan with one care coordinator, one "
    "member handbook and one appeals process would end that confusion. Please "
    "make sure the new model keeps her current doctors in network during a "
    "transition period of at least twelve months, covers home and community "
    "based services, and offers materials in Spanish. Beneficiaries and their "
    "care partners should sit on the plan's advisory committee. Thank you for "
    "listening to the people this strategy is meant to serve.\n\n"
    "Sincerely,\n"
)
UNRELATED = [
    "The integration strategy should phase in enrollment by region, starting with "
    "counties that already have a dual eligible special needs plan, and the state "
    "should publish encounter data quarterly so that advocates can monitor quality.",
    "I am a home care aide. My agency pays late because claims go to two payers. "
    "Please fix billing before anything else; aides are leaving the field.",
    "Dear Medicaid Director, please do not force my father into managed care. He "
    "has had the same doctors for twenty years and the plan in his county does not "
    "include them. Thank you for listening.",
]


def _variants() -> dict[str, str]:
    return {
        "exact-1": LETTER + "Jane Doe",
        "exact-2": LETTER + "Jane Doe",  # same signature, identical text
        "signed-other": LETTER + "Carlos Ruiz",
        "noisy": LETTER.upper().replace(",", "").replace("\n\n", "\n") + "Ann Lee",
        "word-changed": LETTER.replace("twelve months", "six months") + "Bo Chen",
        "word-dropped": LETTER.replace(" at least", "") + "Tom Hall",
        "personal-line": LETTER.replace(
            "Thank you", "My mother lost her aide last winter because of this. Thank you"
        )
        + "Rita Gomez",
        **{f"unrelated-{i}": text for i, text in enumerate(UNRELATED)},
    }


def test_near_identical_letters_group_and_unrelated_do_not() -> None:
    docs = list(_variants().items())
    campaigns = group_campaigns(docs)
    assert len(campaigns) == 1
    (campaign,) = campaigns
    assert set(campaign.ids) == {
        "exact-1",
        "exact-2",
        "signed-other",
        "noisy",
        "word-changed",
        "word-dropped",
        "personal-line",
    }
    # The version sent most often is the template.
    assert campaign.representative_id == "exact-1"
    assert 0.8 <= campaign.similarity_min < 1.0
    assert campaign.ids == tuple(k for k, _ in docs if k in set(campaign.ids))  # input order


def test_threshold_controls_how_loose_a_campaign_is() -> None:
    docs = list(_variants().items())
    exact = group_campaigns(docs, threshold=1.0)
    assert _groups(exact) == {frozenset({"exact-1", "exact-2"})}
    # A rewritten letter sharing its opening and closing with the form letter
    # stays out even at a lower threshold.
    loose = group_campaigns(docs, threshold=0.5)
    assert all("unrelated-2" not in c.ids for c in loose)


def test_long_personal_addition_falls_below_the_threshold() -> None:
    # A personal paragraph as long as the letter halves the Jaccard
    # similarity: that comment is its own voice at the default threshold.
    story = " ".join(f"personal story sentence number {n} about my family" for n in range(20))
    docs = [("a", LETTER), ("b", LETTER + " x"), ("c", LETTER + story)]
    assert _groups(group_campaigns(docs)) == {frozenset({"a", "b"})}


def test_min_size_and_empty_texts() -> None:
    docs = [
        ("a", LETTER),
        ("b", LETTER),
        ("blank-1", "   "),
        ("blank-2", "!!!"),
        ("only-boilerplate-1", SNAP_CLOSING),
        ("only-boilerplate-2", SNAP_CLOSING),
        ("single", UNRELATED[0]),
    ]
    campaigns = group_campaigns(docs, boilerplate=[SNAP_CLOSING])
    assert _groups(campaigns) == {frozenset({"a", "b"})}
    assert group_campaigns(docs, min_size=3, boilerplate=[SNAP_CLOSING]) == []
    singles = group_campaigns(docs, min_size=1, boilerplate=[SNAP_CLOSING])
    assert _groups(singles) == {frozenset({"a", "b"}), frozenset({"single"})}
    assert group_campaigns([]) == []


def test_ids_can_be_any_hashable() -> None:
    docs = [(1, LETTER), ((2, "x"), LETTER)]
    (campaign,) = group_campaigns(docs)
    assert campaign.ids == (1, (2, "x"))
    assert campaign.representative_id == 1


def test_invalid_threshold() -> None:
    with pytest.raises(ValueError):
        group_campaigns([("a", "x")], threshold=0)
    with pytest.raises(ValueError):
        group_campaigns([("a", "x")], threshold=1.5)


# --------------------------------------------------------------------------
# Building blocks and agreement with brute force
# --------------------------------------------------------------------------


def test_normalize() -> None:
    assert normalize("  Hello,\n\tWORLD!!  ") == "hello world"
    assert normalize("They\u2019re here &amp; there") == "theyre here there"
    assert normalize("ﬁne") == "fine"  # NFKC ligature
    assert normalize("Keep this. Re: X (Docket 1)", ["re: x (docket 1)"]) == "keep this"
    # Boilerplate is removed only as whole words.
    assert normalize("rex docket", ["re"]) == "rex docket"
    assert normalize("") == ""


def test_shingles_and_jaccard() -> None:
    assert shingles("a b c d") == {"a b c", "b c d"}
    assert shingles("a b") == {"a b"}
    assert shingles("") == set()
    assert jaccard({1, 2, 3}, {2, 3, 4}) == 0.5
    assert jaccard(set(), set()) == 1.0


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9, 0.95])
def test_lsh_params_make_threshold_pairs_candidates(threshold: float) -> None:
    bands, rows = lsh_params(threshold)
    assert bands >= 2 and bands * rows <= 128
    assert 1 - (1 - threshold**rows) ** bands >= 0.99


def _brute_force(
    docs: list[tuple[Hashable, str]], threshold: float, boilerplate: tuple[str, ...] = ()
) -> set[frozenset]:
    sets = [frozenset(shingles(normalize(t, boilerplate))) for _, t in docs]
    parent = list(range(len(docs)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in itertools.combinations(range(len(docs)), 2):
        if sets[a] and sets[b] and jaccard(sets[a], sets[b]) >= threshold:
            parent[find(b)] = find(a)
    groups: dict[int, set[int]] = {}
    for i in range(len(docs)):
        groups.setdefault(find(i), set()).add(docs[i][0])
    return {frozenset(g) for g in groups.values() if len(g) >= 2}


def _synthetic(n: int, seed: int, *, long: bool) -> list[tuple[int, str]]:
    """Form letters with word substitutions plus unique comments.

    ``long=True``: 80-150-word letters with at most 2 substitutions, so every
    member is clearly (Jaccard >= ~0.86) similar to its letter. ``long=False``:
    30-120 words with up to 4 substitutions, a stress case full of pairs near
    the threshold and of chains.
    """
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(400)]
    low, high, edits = (80, 150, 2) if long else (30, 120, 4)
    templates = [rng.choices(vocab, k=rng.randint(low, high)) for _ in range(6)]
    docs = []
    for i in range(n):
        if rng.random() < 0.6:
            words = list(rng.choice(templates))
            for _ in range(rng.randint(0, edits)):
                words[rng.randrange(len(words))] = rng.choice(vocab)
        else:
            words = rng.choices(vocab, k=rng.randint(5, 80))
        docs.append((i, " ".join(words)))
    return docs


def _pairs(groups: set[frozenset]) -> set[frozenset]:
    return {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}


@pytest.mark.parametrize("boilerplate", [(), (SNAP_CLOSING,)])
def test_real_comments_agree_with_all_pairs_jaccard(
    real: list[tuple[str, str]], boilerplate: tuple[str, ...]
) -> None:
    expected = _brute_force(real, 0.8, boilerplate)
    assert _groups(group_campaigns(real, boilerplate=boilerplate)) == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agrees_with_all_pairs_jaccard(seed: int) -> None:
    docs = _synthetic(300, seed, long=True)
    assert _groups(group_campaigns(docs)) == _brute_force(docs, 0.8)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_near_threshold_stress_never_over_merges(seed: int) -> None:
    # Every union is a verified pair, so each campaign lies inside one
    # all-pairs group; LSH may miss a pair right at the threshold (about 1%
    # by construction), which can leave a member out.
    docs = _synthetic(250, seed, long=False)
    expected = _brute_force(docs, 0.8)
    found = _groups(group_campaigns(docs))
    assert all(any(g <= e for e in expected) for g in found)
    expected_pairs, found_pairs = _pairs(expected), _pairs(found)
    assert len(found_pairs & expected_pairs) / len(expected_pairs) >= 0.95


def test_result_does_not_depend_on_input_order() -> None:
    docs = _synthetic(300, 4, long=True)
    shuffled = list(docs)
    random.Random(0).shuffle(shuffled)
    assert _groups(group_campaigns(docs)) == _groups(group_campaigns(shuffled))
    assert group_campaigns(docs) == group_campaigns(docs)  # deterministic
