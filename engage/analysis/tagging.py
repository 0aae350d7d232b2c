"""Auto-tagging as background jobs: suggestions for a transcript or a whole study.

A tagging run proposes codes for every unit in scope (``coding.suggest``:
the study's patterns, plus the classifier learned from coders once there is
one) and reconciles them with what is stored:

* a pending suggestion is refreshed, or removed when it is no longer proposed;
* a (unit, code) that coders already decided, or that is already coded in
  the study's codings, is never suggested again;
* everything else becomes a new pending suggestion.

Each distinct text is tagged once per run (:class:`ProposalsByText`): a
form-letter campaign of 800 identical comments costs one pass through the
matchers and the classifier, and its proposals are stored on each comment.
Texts are keyed exactly as they are, so evidence offsets are valid in every
unit that reuses them; copies that differ by a space are tagged apart.

A run re-tags every unit in scope, even ones whose text, patterns and model are
unchanged since the last run: nothing records which texts a unit had, or which
tagger it met, when it last got no suggestion, so there is nothing to skip on.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select

from coding.learning import LearnedModel
from coding.suggest import Proposal, Suggester
from coding.tagger import PatternError, build_tagger
from engage.analysis.units import Unit, study_units
from engage.codebook.patterns import tagger_patterns
from engage.jobs.operations import enqueue
from engage.jobs.runner import JobFailed
from models import (
    Code,
    Coding,
    Job,
    Study,
    Suggestion,
    SuggestionDecision,
    SuggestionStatus,
    TaggerModel,
    Transcript,
    User,
    db,
)

TAG_TRANSCRIPT = "tag-transcript"
TAG_STUDY = "tag-study"
BATCH = 500
MIN_CONFIDENCE = 0.15
CLASSIFIER_THRESHOLD = 0.6

_cache: dict[tuple[int, str], tuple[Suggester, dict]] = {}


class TaggingError(ValueError):
    """Tagging cannot start; says why in plain words."""


def current_model(study_id: int) -> TaggerModel | None:
    return db.session.scalar(select(TaggerModel).where(TaggerModel.study_id == study_id)
                             .order_by(TaggerModel.id.desc()).limit(1))


@dataclass
class StudySuggester:
    suggester: Suggester
    rule_of: dict[tuple[str, str], int]
    code_ids: dict[str, int]


def study_suggester(study_id: int) -> StudySuggester:
    """The study's tagger (cached per process while its patterns and model stay the same)."""
    patterns, rule_of = tagger_patterns(study_id)
    model_row = current_model(study_id)
    code_ids = dict(db.session.execute(select(Code.key, Code.id).where(
        Code.study_id == study_id, Code.retired.is_(False))).all())
    fingerprint = hashlib.sha256(json.dumps(
        [[p.code_key, list(p.terms), p.lemma, p.case_sensitive, p.label, p.weight]
         for p in patterns] + [model_row.id if model_row else None], sort_keys=True
    ).encode()).hexdigest()
    cached = _cache.get((study_id, fingerprint))
    if cached is None:
        try:
            tagger = build_tagger(patterns) if patterns else None
        except PatternError as error:
            raise TaggingError(f"The codebook's patterns cannot be used: {error}.") from error
        model = LearnedModel.loads(model_row.data) if model_row and model_row.data else None
        try:
            suggester = Suggester(tagger, model, min_confidence=MIN_CONFIDENCE,
                                  classifier_threshold=CLASSIFIER_THRESHOLD)
        except ValueError:
            raise TaggingError("The codebook has no match patterns and nothing has been "
                               "learned yet: add terms to some codes first.") from None
        for key in [k for k in _cache if k[0] == study_id]:
            del _cache[key]
        cached = (suggester, rule_of)
        _cache[(study_id, fingerprint)] = cached
    suggester, rule_of = cached
    suggester.allowed_codes = frozenset(code_ids)
    return StudySuggester(suggester, rule_of, code_ids)


@dataclass
class TagCounts:
    units: int = 0
    added: int = 0
    refreshed: int = 0
    removed: int = 0

    def message(self) -> str:
        return (f"Tagged {self.units} passages: {self.added} new suggestions, "
                f"{self.refreshed} refreshed, {self.removed} withdrawn.")


class ProposalsByText:
    """The suggester's proposals for each distinct text, computed once per run.

    ``expected`` holds every text the run will ask for, so a text's proposals are
    dropped once its last unit has had them: memory follows the repeats still to
    come, not the whole scope.
    """

    def __init__(self, suggester: Suggester, expected: Iterable[str]):
        self.suggester = suggester
        self.left = Counter(expected)
        self.known: dict[str, list[Proposal]] = {}

    def __call__(self, texts: Sequence[str]) -> list[list[Proposal]]:
        new = [t for t in dict.fromkeys(texts) if t not in self.known]
        if new:  # one batch through nlp.pipe and the classifier, as before
            self.known.update(zip(new, self.suggester.propose(new), strict=True))
        out = []
        for text in texts:
            out.append(self.known[text])
            self.left[text] -= 1
            if self.left[text] <= 0:
                del self.left[text], self.known[text]
        return out


def tag_units(study_id: int, units: Sequence[Unit], tagger: StudySuggester, *,
              job_id: int | None = None, counts: TagCounts | None = None,
              proposals_by_text: ProposalsByText | None = None) -> TagCounts:
    counts = counts or TagCounts()
    if not units:
        return counts
    texts = [u.text for u in units]
    proposals = (proposals_by_text or ProposalsByText(tagger.suggester, texts))(texts)
    segment_ids = [u.ref.id for u in units if u.ref.kind == "segment"]
    comment_ids = [u.ref.id for u in units if u.ref.kind == "comment"]

    def of_units(model):
        conditions = []
        if segment_ids:
            conditions.append(model.segment_id.in_(segment_ids))
        if comment_ids:
            conditions.append(model.comment_id.in_(comment_ids))
        return conditions[0] if len(conditions) == 1 else conditions[0] | conditions[1]

    stored = {(s.unit_ref, s.code_id): s for s in db.session.scalars(
        select(Suggestion).where(Suggestion.study_id == study_id, of_units(Suggestion)))}
    coded = {(c.unit_ref, c.code_id) for c in db.session.scalars(
        select(Coding).where(Coding.study_id == study_id, Coding.assignment_id.is_(None),
                             of_units(Coding)))}
    proposed_keys = set()
    for unit, unit_proposals in zip(units, proposals, strict=True):
        counts.units += 1
        for p in unit_proposals:
            code_id = tagger.code_ids.get(p.code_key)
            if code_id is None:
                continue
            key = (unit.ref, code_id)
            proposed_keys.add(key)
            existing = stored.get(key)
            evidence = [{"start": e.start_char, "end": e.end_char, "text": e.text,
                         "term": e.term, "pattern_id": tagger.rule_of.get((p.code_key, e.term))}
                        for e in p.evidence]
            if existing is not None:
                if existing.status is SuggestionStatus.PENDING:
                    existing.confidence, existing.evidence = p.confidence, evidence
                    existing.reason, existing.source = p.reason, p.source
                    existing.rule_confidence = p.rule_confidence
                    existing.model_probability = p.model_probability
                    counts.refreshed += 1
                continue
            if key in coded:
                continue
            suggestion = Suggestion(
                study_id=study_id, code_id=code_id, confidence=p.confidence, evidence=evidence,
                reason=p.reason, source=p.source, rule_confidence=p.rule_confidence,
                model_probability=p.model_probability, job_id=job_id)
            suggestion.set_unit(unit.ref)
            db.session.add(suggestion)
            counts.added += 1
    active = set(tagger.code_ids.values())  # a retired code's suggestions wait for it
    withdrawn = [s.id for key, s in stored.items()
                 if key not in proposed_keys and s.status is SuggestionStatus.PENDING
                 and s.code_id in active]
    if withdrawn:  # a blind coder's decision keeps a suggestion alive
        decided = set(db.session.scalars(select(SuggestionDecision.suggestion_id).where(
            SuggestionDecision.suggestion_id.in_(withdrawn))))
        withdrawn = [i for i in withdrawn if i not in decided]
    if withdrawn:
        db.session.execute(delete(Suggestion).where(Suggestion.id.in_(withdrawn)))
        counts.removed += len(withdrawn)
    db.session.flush()
    return counts


def tag_scope(study: Study, units: Sequence[Unit], *, job_id: int | None = None,
              progress: Callable[[float, str], None] | None = None,
              start: float = 0, stop: float = 100) -> TagCounts:
    """Tag ``units`` in batches, each distinct text once, reporting progress between batches."""
    tagger = study_suggester(study.id)
    counts = TagCounts()
    by_text = ProposalsByText(tagger.suggester, (u.text for u in units))
    for i in range(0, len(units), BATCH):
        tag_units(study.id, units[i:i + BATCH], tagger, job_id=job_id, counts=counts,
                  proposals_by_text=by_text)
        if progress is not None:
            done = min(len(units), i + BATCH)
            progress(start + (stop - start) * done / max(1, len(units)),
                     f"Tagged {done} of {len(units)} passages")
    return counts


def has_something_to_tag_with(study_id: int) -> bool:
    patterns, _ = tagger_patterns(study_id)
    model = current_model(study_id)
    return bool(patterns) or bool(model and model.stats and any(
        s.get("trained") for s in model.stats.values()))


def start_tagging(actor: User | None, study: Study, transcript: Transcript | None = None) -> Job:
    """Queue tagging of one transcript, or of the whole study (transcripts and comments)."""
    if not has_something_to_tag_with(study.id):
        raise TaggingError("The codebook has no match patterns yet, so there is nothing to tag "
                           "with. Add terms to some codes (or restore the guide's patterns) "
                           "and try again.")
    if transcript is not None:
        return enqueue(TAG_TRANSCRIPT, actor=actor, study_id=study.id,
                       target=("transcript", transcript.id))
    return enqueue(TAG_STUDY, actor=actor, study_id=study.id, target=("study", study.id))


def tag_after_transcription(transcript: Transcript, actor_id: int | None) -> Job | None:
    """Called when a transcription finishes: queue its tagging if the codebook can tag."""
    if not has_something_to_tag_with(transcript.study_id):
        return None
    actor = db.session.get(User, actor_id) if actor_id else None
    return enqueue(TAG_TRANSCRIPT, actor=actor, study_id=transcript.study_id,
                   target=("transcript", transcript.id), params={"automatic": True})


def run_tag_transcript(job: Job, progress) -> str:
    transcript = db.session.get(Transcript, job.target_id)
    if transcript is None:
        raise JobFailed("The transcript was deleted before it could be tagged.")
    study = db.session.get(Study, transcript.study_id)
    progress(1, "Loading the tagger")
    units = study_units(study, transcript_id=transcript.id)
    try:
        counts = tag_scope(study, units, job_id=job.id, progress=progress, start=5, stop=99)
    except TaggingError as error:
        raise JobFailed(str(error)) from error
    return counts.message()


def run_tag_study(job: Job, progress) -> str:
    study = db.session.get(Study, job.study_id)
    if study is None:
        raise JobFailed("The study was deleted before it could be tagged.")
    progress(1, "Loading the tagger")
    units = study_units(study)
    if not units:
        return "There is nothing to tag yet: the study has no transcripts or comments."
    try:
        counts = tag_scope(study, units, job_id=job.id, progress=progress, start=5, stop=99)
    except TaggingError as error:
        raise JobFailed(str(error)) from error
    return counts.message()
