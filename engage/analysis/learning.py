"""Learning from coders: train the study's classifier and re-weight patterns, as a job.

Examples come from every decision coders made (accept, reject, change code)
and from every coding made by hand or by adjudication; the text is the
unit's text. After training, the study is tagged again so that new
suggestions appear and suggestions from down-weighted patterns fade.
"""

from __future__ import annotations

from collections import defaultdict

from flask import current_app
from sqlalchemy import delete, select

from coding.learning import Example, learn, learned_weight
from coding.tagger import term_specificity
from engage.analysis.tagging import TaggingError, tag_scope
from engage.analysis.units import load_units, study_units
from engage.jobs.operations import enqueue
from engage.jobs.runner import JobFailed
from models import (
    Code,
    CodePatternRule,
    Coding,
    CodingOrigin,
    Decision,
    Job,
    Study,
    Suggestion,
    SuggestionDecision,
    TaggerModel,
    User,
    db,
)

LEARN = "learn-codes"


class LearningError(ValueError):
    pass


def gather_examples(study: Study) -> list[Example]:
    keys = dict(db.session.execute(select(Code.id, Code.key)
                                   .where(Code.study_id == study.id)).all())
    labelled: list[tuple[object, int, bool]] = []
    for decision, suggestion in db.session.execute(
            select(SuggestionDecision, Suggestion).join(Suggestion)
            .where(Suggestion.study_id == study.id)).all():
        ref = suggestion.unit_ref
        if decision.decision is Decision.REJECT:
            labelled.append((ref, suggestion.code_id, False))
        elif decision.decision is Decision.ACCEPT:
            labelled.append((ref, suggestion.code_id, True))
        else:  # changed: wrong code suggested, right code applied
            labelled.append((ref, suggestion.code_id, False))
            if decision.code_id:
                labelled.append((ref, decision.code_id, True))
    for coding in db.session.scalars(select(Coding).where(
            Coding.study_id == study.id,
            Coding.origin.in_([CodingOrigin.MANUAL, CodingOrigin.ADJUDICATED,
                               CodingOrigin.IMPORT]))):
        labelled.append((coding.unit_ref, coding.code_id, True))
    units = load_units(study, {ref for ref, _, _ in labelled})
    return [Example(units[ref].text, keys[code_id], positive)
            for ref, code_id, positive in labelled if ref in units and code_id in keys]


def update_pattern_weights(study: Study) -> int:
    """Count each pattern's accepted and rejected suggestions; lower the weak ones."""
    tally: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for decision, evidence in db.session.execute(
            select(SuggestionDecision.decision, Suggestion.evidence).join(Suggestion)
            .where(Suggestion.study_id == study.id)).all():
        for pattern_id in {e.get("pattern_id") for e in evidence or [] if e.get("pattern_id")}:
            tally[pattern_id][0 if decision is Decision.ACCEPT else 1] += 1
    lowered = 0
    for rule in db.session.scalars(select(CodePatternRule).join(Code)
                                   .where(Code.study_id == study.id)):
        accepted, rejected = tally.get(rule.id, (0, 0))
        base = rule.weight if rule.weight is not None else max(
            (term_specificity(t) for t in rule.terms), default=0.25)
        rule.accepted, rule.rejected = accepted, rejected
        rule.learned_weight = learned_weight(base, accepted, rejected)
        lowered += rule.learned_weight is not None
    db.session.flush()
    return lowered


def train(study: Study, job_id: int | None = None) -> TaggerModel:
    examples = gather_examples(study)
    backend = current_app.config["CODING_LEARNING_BACKEND"]
    corpus = [u.text for u in study_units(study)][:20_000]
    model = learn(examples, backend=backend, corpus=corpus)
    row = TaggerModel(study_id=study.id, backend=model.backend, examples=len(examples),
                      stats={k: s.to_dict() for k, s in model.stats.items()},
                      data=model.dumps() if model.classifiers else None, job_id=job_id)
    db.session.execute(delete(TaggerModel).where(TaggerModel.study_id == study.id))
    db.session.add(row)
    db.session.flush()
    return row


def start_learning(actor: User, study: Study) -> Job:
    if not db.session.scalar(select(SuggestionDecision.id).join(Suggestion).where(
            Suggestion.study_id == study.id).limit(1)) and not db.session.scalar(
            select(Coding.id).where(Coding.study_id == study.id).limit(1)):
        raise LearningError("There is nothing to learn from yet: review some suggestions or "
                            "code some passages first.")
    return enqueue(LEARN, actor=actor, study_id=study.id, target=("study", study.id))


def run_learning(job: Job, progress) -> str:
    study = db.session.get(Study, job.study_id)
    if study is None:
        raise JobFailed("The study was deleted.")
    progress(2, "Counting what coders decided about each pattern")
    lowered = update_pattern_weights(study)
    progress(10, "Training a classifier per code")
    row = train(study, job.id)
    trained = sum(1 for s in row.stats.values() if s["trained"])
    progress(40, "Tagging the study again with what was learned")
    try:
        counts = tag_scope(study, study_units(study), job_id=job.id, progress=progress,
                           start=40, stop=99)
    except TaggingError as error:
        raise JobFailed(str(error)) from error
    return (f"Learned from {row.examples} decisions ({row.backend}): {trained} code"
            f"{'s' if trained != 1 else ''} with a classifier, {lowered} pattern"
            f"{'s' if lowered != 1 else ''} down-weighted. {counts.message()}")


def learning_stats(study: Study) -> tuple[TaggerModel | None, dict[str, dict]]:
    row = db.session.scalar(select(TaggerModel).where(TaggerModel.study_id == study.id)
                            .order_by(TaggerModel.id.desc()).limit(1))
    return row, (row.stats if row else {})
