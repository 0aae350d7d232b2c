"""Learning from coders: the classifier per code, held-back precision, pattern weights."""

from __future__ import annotations

import random

import pytest

from coding.learning import (
    MIN_NEGATIVE,
    MIN_POSITIVE,
    Example,
    LearnedModel,
    embeddings_available,
    half_of,
    learn,
    learned_weight,
    make_encoder,
)
from coding.suggest import BOTH, CLASSIFIER, RULES, Suggester
from coding.tagger import CodePattern, build_tagger

WORKFORCE = ["We cannot hire enough home care aides in the county.",
             "Staff turnover among personal care workers is very high.",
             "Direct care workers leave for retail jobs that pay more.",
             "Training nurses for home visits takes months and money.",
             "Our agency lost half its caregivers during the pandemic.",
             "Wages for aides are too low to keep people in the job.",
             "Recruiting bilingual staff is the hardest part for us.",
             "The shortage of home health aides delays every discharge."]
OTHER = ["Members get one card and one phone number to call.",
         "The enrollment letter confused many beneficiaries.",
         "Transportation to appointments is unreliable in winter.",
         "We moved our offices to the new building last spring.",
         "The plan's formulary changed twice this year.",
         "Appeals take too long when Medicare and Medicaid disagree.",
         "Families want to know who to call at night.",
         "The state posted the draft strategy on its website."]


def examples(code="workforce"):
    return ([Example(t, code, True) for t in WORKFORCE]
            + [Example(t, code, False) for t in OTHER])


def test_tfidf_is_the_fallback_and_minilm_needs_its_packages(monkeypatch):
    assert make_encoder("tfidf").name == "tfidf"
    monkeypatch.setattr("coding.learning.embeddings_available", lambda: False)
    assert make_encoder("auto").name == "tfidf"
    with pytest.raises(ValueError, match="needs torch"):
        make_encoder("minilm")
    with pytest.raises(ValueError, match="unknown"):
        make_encoder("word2vec")


def test_learns_a_code_and_reports_held_back_precision():
    model = learn(examples(), backend="tfidf")
    stats = model.stats["workforce"]
    assert stats.trained and stats.positives == 8 and stats.negatives == 8
    assert stats.held_out == 4  # a quarter of 16 decisions, stratified
    assert stats.precision is not None and 0 <= stats.precision <= 1
    probabilities = model.predict(["Home care aides quit because the wages are low.",
                                   "The draft strategy was posted on the website."])
    assert probabilities["workforce"][0] > probabilities["workforce"][1]


def test_codes_without_enough_decisions_say_what_they_need():
    few = [Example(t, "equity", True) for t in WORKFORCE[:2]] + [
        Example(OTHER[0], "equity", False)]
    model = learn(few + examples(), backend="tfidf")
    stats = model.stats["equity"]
    assert not stats.trained and "equity" not in model.classifiers
    assert stats.note == (f"needs {MIN_POSITIVE - 2} more accepted and "
                          f"{MIN_NEGATIVE - 1} more rejected")


def test_conflicting_decisions_on_one_text_take_the_majority():
    text = WORKFORCE[0]
    votes = [Example(text, "c", True), Example(text, "c", False), Example(text, "c", False)]
    model = learn(votes, backend="tfidf")
    assert (model.stats["c"].positives, model.stats["c"].negatives) == (0, 1)


def test_model_survives_a_pickle_round_trip():
    model = learn(examples(), backend="tfidf")
    again = LearnedModel.loads(model.dumps())
    text = ["Aides leave for better pay."]
    assert again.predict(text)["workforce"][0] == pytest.approx(
        model.predict(text)["workforce"][0])
    assert again.backend == "tfidf" and again.trained_codes == ["workforce"]


def test_empty_input_gives_an_empty_model():
    model = learn([], backend="tfidf")
    assert model.classifiers == {} and model.predict(["anything"]) == {}


def test_pattern_weight_falls_only_when_coders_mostly_reject():
    assert learned_weight(0.6, accepted=1, rejected=2) is None  # too few decisions
    assert learned_weight(0.6, accepted=5, rejected=5) is None  # 50% is fine
    lowered = learned_weight(0.6, accepted=0, rejected=10)
    assert lowered == pytest.approx(0.6 * (1 / 12) / 0.5, abs=1e-3)
    assert learned_weight(0.6, accepted=0, rejected=1000) == 0.02  # a floor, never zero
    assert learned_weight(0.25, accepted=2, rejected=8) < 0.25


def test_suggester_adds_classifier_suggestions_the_patterns_miss():
    tagger = build_tagger([CodePattern("workforce", ["workforce shortage"])], model=None)
    model = learn(examples(), backend="tfidf")
    suggester = Suggester(tagger, model, min_confidence=0.15, classifier_threshold=0.5)
    texts = ["The workforce shortage hurts rural plans.",
             "Home care aides quit because wages for aides are too low.",
             "The draft strategy was posted on the website."]
    first, second, third = suggester.propose(texts)
    (rule,) = first
    assert rule.source == BOTH and rule.rule_confidence == 0.45
    assert rule.evidence and "learned from 16 coder decisions" in rule.reason
    (learned,) = second
    assert learned.source == CLASSIFIER and learned.evidence == []
    assert learned.confidence >= 0.5 and "classifier" in learned.reason
    assert third == []


def test_suggester_without_a_model_is_the_rule_tagger():
    tagger = build_tagger([CodePattern("mech", ["D-SNP"])], model=None)
    (only,) = Suggester(tagger).propose(["We like D-SNP plans."])[0]
    assert (only.source, only.confidence, only.model_probability) == (RULES, 0.6, None)
    with pytest.raises(ValueError, match="nothing to suggest"):
        Suggester(None, None)


def test_min_confidence_drops_weak_rule_suggestions():
    tagger = build_tagger([CodePattern("rural", ["rural"], weight=0.1)], model=None)
    assert Suggester(tagger, min_confidence=0.15).propose(["rural places"]) == [[]]


@pytest.mark.skipif(not embeddings_available(), reason="torch/sentence-transformers not installed")
def test_minilm_backend_learns_too():  # pragma: no cover - runs where embeddings are installed
    model = learn(examples(), backend="minilm")
    assert model.backend == "minilm" and model.stats["workforce"].trained


def test_learning_is_reproducible():
    shuffled = examples()
    random.Random(3).shuffle(shuffled)
    a, b = learn(examples(), backend="tfidf"), learn(shuffled, backend="tfidf")
    assert a.stats == b.stats


def test_background_passages_teach_what_a_code_is_not_without_silencing_themselves():
    unseen = "Home care aides earn less than fast food workers here."
    filler = [f"The committee met on day {i} to discuss the website and the budget."
              for i in range(40)]
    model = learn(examples(), backend="tfidf", corpus=[*filler, unseen, *OTHER])
    p = model.predict([unseen, *filler[:5]])["workforce"]
    # The unseen passage was background for one of the two classifiers, but it is scored
    # by the other one, which never learned it as a negative.
    assert p[0] >= 0.6
    assert max(p[1:]) < 0.5
    assert {half_of(t) for t in filler} == {0, 1}
