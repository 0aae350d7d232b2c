"""Suggestions for a batch of texts: the rule tagger, plus what was learned from coders.

* A code the rules suggest keeps its evidence; when a classifier has been
  trained for that code, the confidence becomes the mean of the rule
  confidence and the classifier's probability, so coders' decisions
  recalibrate it.
* A code the rules miss is suggested by the classifier alone when its
  probability reaches ``classifier_threshold``; such a suggestion has no
  matched terms, and its reason says what it learned from.
* Anything under ``min_confidence`` is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from coding.learning import LearnedModel
from coding.tagger import Evidence, Tagger

RULES, CLASSIFIER, BOTH = "rules", "classifier", "rules+classifier"


@dataclass(frozen=True)
class Proposal:
    code_key: str
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)
    reason: str = ""
    source: str = RULES
    rule_confidence: float | None = None
    model_probability: float | None = None


class Suggester:
    def __init__(self, tagger: Tagger | None, model: LearnedModel | None = None, *,
                 min_confidence: float = 0.15, classifier_threshold: float = 0.6,
                 allowed_codes: frozenset[str] | None = None):
        if tagger is None and (model is None or not model.classifiers):
            raise ValueError("nothing to suggest with: no match patterns and no trained model")
        self.tagger = tagger
        self.model = model if model is not None and model.classifiers else None
        self.min_confidence = min_confidence
        self.classifier_threshold = classifier_threshold
        self.allowed_codes = allowed_codes

    def propose(self, texts: Sequence[str], batch_size: int = 256) -> list[list[Proposal]]:
        texts = list(texts)
        rules = (self.tagger.tag_many(texts, batch_size=batch_size) if self.tagger
                 else [[] for _ in texts])
        probabilities = self.model.predict(texts) if self.model else {}
        out = []
        for i, suggestions in enumerate(rules):
            proposals: dict[str, Proposal] = {}
            for s in suggestions:
                p = probabilities.get(s.code_key)
                if p is None:
                    proposals[s.code_key] = Proposal(s.code_key, s.confidence, s.evidence,
                                                     s.reason, RULES, s.confidence)
                else:
                    prob = float(p[i])
                    proposals[s.code_key] = Proposal(
                        s.code_key, round((s.confidence + prob) / 2, 3), s.evidence,
                        f"{s.reason}; {self._model_reason(s.code_key, prob)}", BOTH,
                        s.confidence, round(prob, 3))
            for code_key, p in probabilities.items():
                prob = float(p[i])
                if code_key not in proposals and prob >= self.classifier_threshold:
                    proposals[code_key] = Proposal(
                        code_key, round(prob, 3), [], self._model_reason(code_key, prob),
                        CLASSIFIER, None, round(prob, 3))
            kept = [p for p in proposals.values() if p.confidence >= self.min_confidence
                    and (self.allowed_codes is None or p.code_key in self.allowed_codes)]
            kept.sort(key=lambda p: (-p.confidence, p.code_key))
            out.append(kept)
        return out

    def _model_reason(self, code_key: str, probability: float) -> str:
        stats = self.model.stats.get(code_key) if self.model else None
        learned = (f"learned from {stats.decisions} coder decisions" if stats
                   else "learned from coder decisions")
        precision = (f", {stats.precision:.0%} precise on held-back decisions"
                     if stats and stats.precision is not None else "")
        return f"the classifier {learned}{precision} gives {probability:.0%}"
