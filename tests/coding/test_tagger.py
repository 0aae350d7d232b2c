"""Rule tagger over sentences written in the integration guide's vocabulary."""

from __future__ import annotations

import time

import pytest
import spacy

from coding.default_patterns import DEFAULT_PATTERNS, patterns_for
from coding.tagger import (
    CodePattern,
    PatternError,
    Suggestion,
    build_tagger,
    combine_confidence,
    term_specificity,
)
from coding.vocabulary import iter_codes

GUIDE_SENTENCES = [
    "If a state pursues a D-SNP strategy, the state will need to consider enrollment "
    "mechanisms to enhance enrollment in D-SNPs.",
    "Exclusively aligned enrollment occurs when the state limits enrollment in the D-SNP to "
    "Full-Benefit Dual Eligible beneficiaries.",
    "Build adequate networks of LTSS and behavioral health providers.",
    "Do PACE programs have the resources to operate in rural areas?",
    "How can your state leverage contracting mechanisms (E.g., State Medicaid Agency "
    "Contracts for D-SNPs) to support an integration strategy?",
    "I/DD and TBI waiver populations; nursing home residents; community well.",
    "Fully Integrated Dual Eligible Special Needs Plans (FIDE-SNPs) cover MLTSS.",
    "Señora López 💬 said the HIDE-SNP and the DSNP both cover behavioral health.",
]


@pytest.fixture(scope="module")
def tagger():
    # model=None: the same blank pipeline everywhere, whatever is installed.
    return build_tagger(DEFAULT_PATTERNS, model=None)


def by_code(suggestions: list[Suggestion]) -> dict[str, Suggestion]:
    return {s.code_key: s for s in suggestions}


def test_default_patterns_cover_every_leaf_code_and_nothing_else():
    keys = {spec.key: spec for _, spec in iter_codes()}
    pattern_keys = {p.code_key for p in DEFAULT_PATTERNS}
    assert pattern_keys <= set(keys), pattern_keys - set(keys)
    leaves = {k for k, spec in keys.items() if not spec.children}
    assert leaves == pattern_keys
    assert patterns_for("interview-domains") == []


@pytest.mark.parametrize(
    "variant",
    [
        "D-SNP",
        "D-SNPs",
        "DSNP",
        "DSNPs",
        "D SNP",
        "dsnp",
        "dual special needs plan",
        "Dual Eligible Special Needs Plans",
        "dual-eligible special needs plan",
    ],
)
def test_d_snp_variants_match_with_exact_evidence(tagger, variant):
    text = f"Our state contracts with one {variant} in the western region."
    found = by_code(tagger.tag(text))
    suggestion = found["integration-mechanisms"]
    assert [e.text for e in suggestion.evidence] == [variant]
    ev = suggestion.evidence[0]
    assert text[ev.start_char : ev.end_char] == variant
    assert "param-integration-mechanisms" in found
    assert suggestion.reason.startswith('matched "D-SNP" once')


@pytest.mark.parametrize(
    ("text", "code", "expected_evidence"),
    [
        ("Is PACE coverage adequate?", "integration-mechanisms", ["PACE"]),
        (
            "Program of All-Inclusive Care for the Elderly sites",
            "integration-mechanisms",
            ["Program of All-Inclusive Care for the Elderly"],
        ),
        ("We moved to aligned enrollment.", "param-enrollment-mechanisms", ["aligned enrollment"]),
        ("Auto-enrolled members stayed.", "param-enrollment-mechanisms", ["Auto-enrolled"]),
        (
            "Default enrollment requires CMS approval.",
            "param-enrollment-mechanisms",
            ["Default enrollment"],
        ),
        (
            "Long-term services and supports are key.",
            "param-populations-services",
            ["Long-term services and supports"],
        ),
        ("The SMAC sets requirements.", "contract-incentives", ["SMAC"]),
        ("Care coordinators visit weekly.", "delivery-system-supports", ["Care coordinators"]),
        ("Provider networks are thin upstate.", "delivery-system-supports", ["Provider networks"]),
        (
            "Our data infrastructure cannot attribute members.",
            "delivery-system-supports",
            ["data infrastructure"],
        ),
        ("People with I/DD and TBI need supports.", "patient-populations", ["I/DD", "TBI"]),
        (
            "Quality measures should be beneficiary centered.",
            "contract-incentives",
            ["Quality measures"],
        ),
        (
            "Rural counties lack providers and equity suffers.",
            "equity-strategies",
            ["Rural counties", "equity"],
        ),
        (
            "The lessons learned from other states matter.",
            "lessons-learned",
            ["lessons learned", "other states"],
        ),
        ("We phased in by region.", "param-phased-in-approach", ["phased in by region"]),
        ("It was phased in slowly.", "param-phased-in-approach", ["phased in"]),
        (
            "Plans must share the same service area.",
            "param-service-area-alignment",
            ["same service area"],
        ),
    ],
)
def test_guide_terms_suggest_their_code(tagger, text, code, expected_evidence):
    found = by_code(tagger.tag(text))
    assert code in found, [s.code_key for s in found.values()]
    assert [e.text for e in found[code].evidence] == expected_evidence


@pytest.mark.parametrize("text", GUIDE_SENTENCES)
def test_evidence_offsets_slice_the_original_text(tagger, text):
    suggestions = tagger.tag(text)
    assert suggestions
    for suggestion in suggestions:
        assert 0.0 <= suggestion.confidence <= 1.0
        assert suggestion.reason.startswith("matched ")
        for ev in suggestion.evidence:
            assert text[ev.start_char : ev.end_char] == ev.text


def test_offsets_count_code_points_after_non_ascii(tagger):
    text = GUIDE_SENTENCES[-1]
    found = by_code(tagger.tag(text))
    ev = {e.text: e for e in found["integration-mechanisms"].evidence}
    assert ev["HIDE-SNP"].start_char == text.index("HIDE-SNP")
    assert ev["DSNP"].start_char == text.index("DSNP")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "The weather was lovely and we had lunch downtown.",
        "We kept a steady pace through the afternoon.",  # PACE is case-sensitive
        "The ship left the harbor at noon.",  # so is SHIP
        "Snap peas and dessert were served.",
        "Our community well-being programs matter.",  # not the "community well" subgroup
    ],
)
def test_unrelated_text_yields_nothing(tagger, text):
    assert tagger.tag(text) == []


def test_acronyms_still_match_inside_compounds(tagger):
    found = by_code(tagger.tag("D-SNP-aligned plans and non-PACE sites"))
    assert [e.text for e in found["integration-mechanisms"].evidence] == ["D-SNP", "PACE"]


def test_longest_match_wins_within_a_code(tagger):
    text = "They chose exclusively aligned enrollment."
    suggestion = by_code(tagger.tag(text))["param-enrollment-mechanisms"]
    assert [e.text for e in suggestion.evidence] == ["exclusively aligned enrollment"]
    assert suggestion.reason == 'matched "exclusively aligned enrollment" once'


def test_confidence_grows_with_repeats_distinct_terms_and_specificity(tagger):
    def conf(text: str, code: str = "integration-mechanisms") -> float:
        return by_code(tagger.tag(text))[code].confidence

    once = conf("We contract with a D-SNP.")
    twice = conf("We contract with a D-SNP, and the D-SNP is large.")
    distinct = conf("We contract with a D-SNP and a FIDE-SNP.")
    assert once < twice < distinct
    generic = conf("The workforce is thin.", "delivery-system-supports")
    specific = conf("The direct care workforce is thin.", "delivery-system-supports")
    assert generic < specific
    assert generic < once


def test_reason_counts_matches_in_plain_words(tagger):
    s = by_code(tagger.tag("The D-SNP and another DSNP and a D-SNP."))["integration-mechanisms"]
    assert s.reason == 'matched "D-SNP" 3 times (as "DSNP")'
    s = by_code(tagger.tag("Our D-SNP and D-SNP."))["integration-mechanisms"]
    assert s.reason == 'matched "D-SNP" twice'
    s = by_code(tagger.tag("A D-SNP and PACE."))["integration-mechanisms"]
    assert s.reason == (
        'matched "D-SNP" once and "Program of All-Inclusive Care for the Elderly" once (as "PACE")'
    )


def test_suggestions_sorted_by_confidence(tagger):
    suggestions = tagger.tag(GUIDE_SENTENCES[1])
    confidences = [s.confidence for s in suggestions]
    assert confidences == sorted(confidences, reverse=True)


def test_confidence_formula():
    assert combine_confidence([(0.6, 1)]) == 0.6
    assert combine_confidence([(0.6, 2)]) == round(1 - 0.4**1.5, 3)
    assert combine_confidence([(0.6, 1), (0.45, 1)]) == round(1 - 0.4 * 0.55, 3)
    assert combine_confidence([(0.6, 50)]) == combine_confidence([(0.6, 5)])  # repeats capped
    assert combine_confidence([(0.6, 5)] * 10) == 0.99
    assert combine_confidence([]) == 0.0


def test_term_specificity():
    assert term_specificity("D-SNP") == term_specificity("LTSS") == 0.6
    assert term_specificity("I/DD") == 0.6
    assert term_specificity("PACE program") == 0.6
    assert term_specificity("care coordination") == 0.45
    assert term_specificity("lessons learned from peers") == 0.6
    assert term_specificity("MA") == 0.35
    assert term_specificity("workforce") == 0.25


def test_tag_many_matches_tag_and_keeps_order(tagger):
    texts = [*GUIDE_SENTENCES, "nothing here", GUIDE_SENTENCES[0]]
    assert tagger.tag_many(texts) == [tagger.tag(t) for t in texts]


def test_custom_patterns_and_weights():
    tagger = build_tagger(
        [
            CodePattern("transport", ["non-emergency medical transportation", "NEMT"]),
            CodePattern("transport", ["ride"], lemma=True, weight=0.1),
        ],
        model=None,
    )
    [s] = tagger.tag("NEMT rides were late; rides again.")
    assert s.code_key == "transport"
    assert [e.term for e in s.evidence] == ["NEMT", "ride", "ride"]
    assert s.confidence == combine_confidence([(0.6, 1), (0.1, 2)])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: CodePattern("x", []), "no terms"),
        (lambda: CodePattern("x", ["ok", " - "]), "without letters"),
        (lambda: CodePattern("", ["ok"]), "code key"),
        (lambda: CodePattern("x", ["ok"], lemma=True, case_sensitive=True), "both"),
        (lambda: CodePattern("x", ["ok"], weight=1.5), "weight"),
        (lambda: build_tagger([], model=None), "no match patterns"),
    ],
)
def test_invalid_patterns_are_refused_clearly(make, message):
    with pytest.raises(PatternError, match=message):
        make()


def test_trained_pipeline_is_optional():
    tagger = build_tagger(patterns_for("delivery-system-supports"))
    if not spacy.util.is_package("en_core_web_sm"):
        assert tagger.pipeline_name == "blank:en"
    found = by_code(tagger.tag("Care coordinators and provider networks."))
    assert found["delivery-system-supports"].confidence > 0.6


def test_building_and_tagging_are_fast(tagger):
    start = time.perf_counter()
    build_tagger(DEFAULT_PATTERNS, model=None)
    build_seconds = time.perf_counter() - start
    segments = [GUIDE_SENTENCES[i % len(GUIDE_SENTENCES)] for i in range(1000)]
    start = time.perf_counter()
    results = tagger.tag_many(segments)
    tag_seconds = time.perf_counter() - start
    assert all(results)
    # Generous bounds for a shared 2-core machine; measured ~0.2 s and ~0.2 s.
    assert build_seconds < 3.0
    assert tag_seconds < 5.0
