"""Agreement statistics against textbook values, sklearn and the krippendorff package."""

from __future__ import annotations

import math
import random
import warnings

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from coding.agreement import (
    Disagreement,
    agreement_report,
    character_units,
    cohen_kappa,
    disagreements,
    krippendorff_alpha,
)

N = None

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
# four observers, twelve units, nominal values with missing data; alpha = 0.743.
KRIPPENDORFF_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
# Same paper, section A: two observers, binary data, ten units; alpha = 0.095.
KRIPPENDORFF_A = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
]


def as_nan_array(rows):
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def package_alpha(rows) -> float:
    return krippendorff.alpha(reliability_data=as_nan_array(rows), level_of_measurement="nominal")


def test_kappa_textbook_example():
    # Wikipedia "Cohen's kappa", worked example: 50 proposals; both yes 20, both no 15,
    # A yes / B no 5, A no / B yes 10  ->  p_o 0.7, p_e 0.5, kappa 0.4.
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    result = cohen_kappa(a, b)
    assert result.observed == pytest.approx(0.7)
    assert result.expected == pytest.approx(0.5)
    assert result.value == pytest.approx(0.4)
    assert result.note is None
    assert result.value == pytest.approx(cohen_kappa_score(a, b))


def test_kappa_hand_computed_binary():
    # KRIPPENDORFF_A as kappa: p_o = 6/10, p_e = .2*.4 + .8*.6 = .56, kappa = .04/.44.
    result = cohen_kappa(*KRIPPENDORFF_A)
    assert result.value == pytest.approx(0.04 / 0.44)
    assert result.value == pytest.approx(cohen_kappa_score(*KRIPPENDORFF_A))


def test_alpha_textbook_examples():
    assert krippendorff_alpha(KRIPPENDORFF_C).value == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(KRIPPENDORFF_A).value == pytest.approx(0.095, abs=5e-4)
    assert krippendorff_alpha(KRIPPENDORFF_C).value == pytest.approx(package_alpha(KRIPPENDORFF_C))
    assert krippendorff_alpha(KRIPPENDORFF_A).value == pytest.approx(package_alpha(KRIPPENDORFF_A))
    # NaN counts as missing as well as None.
    assert krippendorff_alpha(as_nan_array(KRIPPENDORFF_C).tolist()).value == pytest.approx(
        0.743, abs=5e-4
    )


@pytest.mark.parametrize("seed", range(8))
def test_random_data_matches_reference_implementations(seed):
    rng = random.Random(seed)
    n_units = rng.randint(5, 60)
    n_coders = rng.randint(2, 5)
    categories = rng.sample(["a", "b", "c", "d"], rng.randint(2, 4))
    truth = [rng.choice(categories) for _ in range(n_units)]
    rows = [
        [
            None if rng.random() < 0.15 else (t if rng.random() < 0.7 else rng.choice(categories))
            for t in truth
        ]
        for _ in range(n_coders)
    ]
    codes = {c: i for i, c in enumerate(categories)}
    numeric = [[None if v is None else codes[v] for v in row] for row in rows]
    ours = krippendorff_alpha(rows).value
    if ours is not None:
        assert ours == pytest.approx(package_alpha(numeric))

    both = [u for u in range(n_units) if rows[0][u] is not None and rows[1][u] is not None]
    a = [rows[0][u] for u in both]
    b = [rows[1][u] for u in both]
    kappa = cohen_kappa(a, b).value
    if kappa is not None:
        assert kappa == pytest.approx(cohen_kappa_score(a, b))


def test_degenerate_kappa_is_none_with_an_explanation_not_nan():
    a = b = [False] * 6
    result = cohen_kappa(a, b)
    assert result.value is None
    assert result.observed == 1.0
    assert "undefined" in result.note and "code not applied" in result.note
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(cohen_kappa_score(a, b))  # what we refuse to pass on


def test_degenerate_alpha_is_none_where_the_package_raises():
    rows = [[1, 1, 1], [1, 1, N]]
    result = krippendorff_alpha(rows)
    assert result.value is None and "undefined" in result.note
    with pytest.raises(ValueError):
        package_alpha(rows)
    lonely = krippendorff_alpha([[1, N], [N, 2]])
    assert lonely.value is None and "two or more coders" in lonely.note


def test_kappa_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="different numbers"):
        cohen_kappa([1, 2], [1])


# Segments coded by two coders, with the codebook's keys.
TWO_CODERS = {
    "s1": {"ana": {"integration-mechanisms"}, "ben": {"integration-mechanisms"}},
    "s2": {"ana": {"integration-mechanisms", "equity-strategies"}, "ben": {"equity-strategies"}},
    "s3": {"ana": set(), "ben": set()},
    "s4": {"ana": {"equity-strategies"}, "ben": {"equity-strategies", "lessons-learned"}},
    "s5": {"ana": {"integration-mechanisms"}, "ben": {"integration-mechanisms"}},
    "s6": {"ana": set(), "ben": {"integration-mechanisms"}},
}


def test_report_per_code_two_coders():
    report = agreement_report(
        TWO_CODERS,
        codes=[
            "integration-mechanisms",
            "equity-strategies",
            "lessons-learned",
            "workforce",
        ],
    )
    assert report.coders == ("ana", "ben")
    by_code = {c.code: c for c in report.codes}

    mech = by_code["integration-mechanisms"]
    ana = [True, True, False, False, True, False]
    ben = [True, False, False, False, True, True]
    assert mech.n_units == 6
    assert mech.percent_agreement == pytest.approx(4 / 6)
    [pair] = mech.pairs
    assert (pair.coder_a, pair.coder_b) == ("ana", "ben")
    # Hand: p_o = 4/6, p_e = (3/6)(3/6) + (3/6)(3/6) = 1/2, kappa = (2/3 - 1/2)/(1/2) = 1/3.
    assert pair.kappa.value == pytest.approx(1 / 3)
    assert pair.kappa.value == pytest.approx(cohen_kappa_score(ana, ben))
    assert mech.mean_kappa == pytest.approx(1 / 3)
    assert mech.alpha.value == pytest.approx(package_alpha([ana, ben]))

    equity = by_code["equity-strategies"]
    assert equity.percent_agreement == 1.0
    assert equity.mean_kappa == pytest.approx(1.0)
    assert equity.alpha.value == pytest.approx(1.0)

    # Only ben ever applied it: kappa is 0 (defined), alpha is defined too.
    lessons = by_code["lessons-learned"]
    assert lessons.percent_agreement == pytest.approx(5 / 6)
    assert lessons.mean_kappa == pytest.approx(0.0)

    # Nobody applied it: agreement is perfect but kappa and alpha are undefined.
    unused = by_code["workforce"]
    assert unused.percent_agreement == 1.0
    assert unused.mean_kappa is None and "undefined" in unused.mean_kappa_note
    assert unused.alpha.value is None and unused.alpha.note


def test_report_overall_pools_every_decision():
    codes = ["integration-mechanisms", "equity-strategies", "lessons-learned"]
    report = agreement_report(TWO_CODERS, codes=codes)
    ana = [code in TWO_CODERS[u]["ana"] for code in codes for u in TWO_CODERS]
    ben = [code in TWO_CODERS[u]["ben"] for code in codes for u in TWO_CODERS]
    assert report.overall.n_units == 18
    assert report.overall.percent_agreement == pytest.approx(
        sum(x == y for x, y in zip(ana, ben, strict=True)) / 18
    )
    assert report.overall.mean_kappa == pytest.approx(cohen_kappa_score(ana, ben))
    assert report.overall.alpha.value == pytest.approx(package_alpha([ana, ben]))


def test_default_codes_are_those_applied():
    report = agreement_report(TWO_CODERS)
    assert [c.code for c in report.codes] == [
        "equity-strategies",
        "integration-mechanisms",
        "lessons-learned",
    ]


THREE_CODERS = {
    "s1": {"a": {"x"}, "b": {"x"}, "c": set()},
    "s2": {"a": {"x"}, "b": {"x"}, "c": {"x"}},
    "s3": {"a": set(), "b": set()},  # c did not code s3
    "s4": {"a": set(), "c": {"x"}},  # b did not code s4
    "s5": {"b": {"x"}},  # only one coder: not comparable
    "s6": {"a": set(), "b": {"x"}, "c": set()},
}


def test_three_coders_with_missing_data():
    [x] = agreement_report(THREE_CODERS).codes
    # Per unit share of agreeing pairs: s1 1/3, s2 1, s3 1, s4 0, s6 1/3; s5 skipped.
    assert x.n_units == 5
    assert x.percent_agreement == pytest.approx((1 / 3 + 1 + 1 + 0 + 1 / 3) / 5)
    assert [(p.coder_a, p.coder_b, p.n_units) for p in x.pairs] == [
        ("a", "b", 4),
        ("a", "c", 4),
        ("b", "c", 3),
    ]
    rows = [
        [("x" in THREE_CODERS[u][c]) if c in THREE_CODERS[u] else None for u in THREE_CODERS]
        for c in ("a", "b", "c")
    ]
    assert x.alpha.value == pytest.approx(package_alpha(rows))
    for pair in x.pairs:
        i, j = "abc".index(pair.coder_a), "abc".index(pair.coder_b)
        both = [u for u in range(6) if rows[i][u] is not None and rows[j][u] is not None]
        a = [rows[i][u] for u in both]
        b = [rows[j][u] for u in both]
        if pair.kappa.value is None:
            assert len(set(a) | set(b)) == 1
        else:
            assert pair.kappa.value == pytest.approx(cohen_kappa_score(a, b))
    defined = [p.kappa.value for p in x.pairs if p.kappa.value is not None]
    assert x.mean_kappa == pytest.approx(sum(defined) / len(defined))


def test_disagreements_for_adjudication():
    # Codes in sorted order, units in input order; only coders who coded the unit.
    assert disagreements(TWO_CODERS) == [
        Disagreement("s2", "integration-mechanisms", ("ana",), ("ben",)),
        Disagreement("s6", "integration-mechanisms", ("ben",), ("ana",)),
        Disagreement("s4", "lessons-learned", ("ben",), ("ana",)),
    ]
    assert disagreements(THREE_CODERS) == [
        Disagreement("s1", "x", ("a", "b"), ("c",)),
        Disagreement("s4", "x", ("c",), ("a",)),
        Disagreement("s6", "x", ("b",), ("a", "c")),
    ]
    assert disagreements(TWO_CODERS, codes=["equity-strategies"]) == []


def test_character_units_weight_by_length_like_one_unit_per_character():
    text_length = 40
    spans = {
        "ana": [(0, 10, "x"), (20, 30, "y")],
        "ben": [(5, 10, "x"), (22, 35, "y"), (0, 3, "y")],
    }
    units, weights = character_units(text_length, spans)
    assert sum(weights.values()) == text_length
    assert list(units)[0] == (0, 3) and units[(0, 3)] == {"ana": {"x"}, "ben": {"y"}}

    per_char = {
        i: {c: {code for s, e, code in spans[c] if s <= i < e} for c in spans}
        for i in range(text_length)
    }
    compressed = agreement_report(units, weights=weights)
    expanded = agreement_report(per_char)
    for ours, ref in zip(compressed.codes, expanded.codes, strict=True):
        assert ours.code == ref.code
        assert ours.n_units == ref.n_units == text_length
        assert ours.percent_agreement == pytest.approx(ref.percent_agreement)
        assert ours.mean_kappa == pytest.approx(ref.mean_kappa)
        assert ours.alpha.value == pytest.approx(ref.alpha.value)


def test_character_units_refuse_spans_outside_the_text():
    with pytest.raises(ValueError, match="outside the text"):
        character_units(10, {"ana": [(5, 11, "x")]})
    with pytest.raises(ValueError, match="outside the text"):
        character_units(10, {"ana": [(4, 4, "x")]})


def test_empty_input_does_not_crash():
    report = agreement_report({})
    assert report.codes == ()
    assert report.overall.percent_agreement is None
    assert report.overall.alpha.value is None
    solo = agreement_report({"s1": {"ana": {"x"}}})
    [x] = solo.codes
    assert x.pairs == () and x.mean_kappa is None and x.percent_agreement is None
