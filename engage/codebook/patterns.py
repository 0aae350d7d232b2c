"""Patterns that suggest codes: editing them, handing them to the tagger, and the guide's
starting codebook with its patterns."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from coding.default_patterns import default_patterns
from coding.tagger import CodePattern, PatternError
from coding.vocabulary import DEFAULT_CODEBOOK, iter_codes
from engage.codebook.operations import CodebookError, record_event
from engage.codebook.tree import study_codes
from models import Code, CodePatternRule, Study, User, db


@dataclass(frozen=True)
class PatternInput:
    terms: list[str]
    lemma: bool = False
    case_sensitive: bool = False
    label: str | None = None
    weight: float | None = None

    @classmethod
    def from_text(cls, terms_text: str, **options) -> PatternInput:
        terms = [t.strip() for t in re.split(r"[\n;]", terms_text or "") if t.strip()]
        return cls(terms, **options)

    def check(self, code: Code) -> None:
        try:
            CodePattern(code.key, self.terms, lemma=self.lemma,
                        case_sensitive=self.case_sensitive, label=self.label or None,
                        weight=self.weight)
        except PatternError as error:
            raise CodebookError(f"That pattern cannot be used: {error}.") from error


def add_pattern(actor: User, code: Code, pattern: PatternInput) -> CodePatternRule:
    pattern.check(code)
    rule = CodePatternRule(code_id=code.id, terms=pattern.terms, lemma=pattern.lemma,
                           case_sensitive=pattern.case_sensitive, label=pattern.label or None,
                           weight=pattern.weight, position=len(code.patterns))
    db.session.add(rule)
    record_event(actor, code, "pattern-added", terms=pattern.terms)
    db.session.flush()
    return rule


def update_pattern(actor: User, rule: CodePatternRule, pattern: PatternInput) -> CodePatternRule:
    pattern.check(rule.code)
    before = list(rule.terms)
    rule.terms, rule.lemma, rule.case_sensitive = pattern.terms, pattern.lemma, \
        pattern.case_sensitive
    rule.label, rule.weight = pattern.label or None, pattern.weight
    if before != pattern.terms:
        # What coders decided was about the old terms.
        rule.accepted = rule.rejected = 0
        rule.learned_weight = None
    record_event(actor, rule.code, "pattern-edited", before=before, after=pattern.terms)
    db.session.flush()
    return rule


def remove_pattern(actor: User, rule: CodePatternRule) -> None:
    record_event(actor, rule.code, "pattern-removed", terms=list(rule.terms))
    db.session.delete(rule)
    db.session.flush()


def tagger_patterns(study: Study | int) -> tuple[list[CodePattern], dict[tuple[str, str], int]]:
    """The study's active patterns for ``coding.tagger`` and a (code key, term) -> rule id map.

    A weight lowered by learning replaces the computed one.
    """
    study_id = study if isinstance(study, int) else study.id
    rows = db.session.execute(
        select(CodePatternRule, Code.key).join(Code)
        .where(Code.study_id == study_id, Code.retired.is_(False))
        .order_by(Code.position, CodePatternRule.position, CodePatternRule.id)).all()
    patterns, rule_of = [], {}
    for rule, key in rows:
        weight = rule.learned_weight if rule.learned_weight is not None else rule.weight
        try:
            patterns.append(CodePattern(key, list(rule.terms), lemma=rule.lemma,
                                        case_sensitive=rule.case_sensitive, label=rule.label,
                                        weight=weight))
        except PatternError:
            continue  # stored before validation existed; the codebook page shows it
        for term in rule.terms:
            rule_of.setdefault((key, term), rule.id)
    return patterns, rule_of


# --- the guide's starting codebook -------------------------------------------------------

def seed_default_codebook(study: Study) -> dict[str, Code]:
    """The guide's codebook with its starting patterns, for a new study."""
    codes: dict[str, Code] = {}
    for position, (parent_key, spec) in enumerate(iter_codes(DEFAULT_CODEBOOK)):
        code = Code(study_id=study.id, key=spec.key, name=spec.name,
                    description=spec.description, color=spec.color, position=position,
                    parent=codes.get(parent_key))
        codes[spec.key] = code
        db.session.add(code)
    db.session.flush()
    _add_default_patterns(codes.values())
    db.session.flush()
    return codes


def _add_default_patterns(codes: Iterable[Code]) -> int:
    by_key: dict[str, list[CodePattern]] = {}
    for pattern in default_patterns():
        by_key.setdefault(pattern.code_key, []).append(pattern)
    added = 0
    for code in codes:
        for position, p in enumerate(by_key.get(code.key, ())):
            db.session.add(CodePatternRule(code_id=code.id, terms=list(p.terms), lemma=p.lemma,
                                           case_sensitive=p.case_sensitive, label=p.label,
                                           weight=p.weight, position=position))
            added += 1
    return added


def restore_default_patterns(actor: User, study: Study) -> int:
    """Give the guide's codes that have no patterns their starting patterns back."""
    has_patterns = set(db.session.scalars(
        select(CodePatternRule.code_id).join(Code).where(Code.study_id == study.id)))
    codes = [c for c in study_codes(study) if c.id not in has_patterns]
    added = _add_default_patterns(codes)
    if not added:
        raise CodebookError("Every code from the guide already has patterns; nothing to add.")
    db.session.flush()
    return added
