"""What coders decide makes the tagger better: weaker patterns, classifier suggestions, stats."""

from __future__ import annotations

import pytest

from engage.analysis.learning import gather_examples
from engage.analysis.tagging import tag_scope
from engage.analysis.tasks import learn_codes
from engage.analysis.units import study_units
from engage.jobs.runner import run_job
from models import (
    Code,
    CodePatternRule,
    Coding,
    Decision,
    Job,
    JobStatus,
    Role,
    StudyRole,
    Suggestion,
    SuggestionDecision,
    SuggestionStatus,
    TaggerModel,
)

WORKFORCE = ["We cannot hire enough home care aides in the county.",
             "Staff turnover among personal care aides is very high.",
             "Direct care aides leave for retail jobs that pay more.",
             "Training aides for home visits takes months and money.",
             "Our agency lost half its aides during the pandemic.",
             "Wages for aides are too low to keep people in the job.",
             "Recruiting bilingual aides is the hardest part for us.",
             "The shortage of home health aides delays every discharge.",
             "Aides quit because the hours are unpredictable."]
OTHER = ["Members get one card and one phone number to call.",
         "The enrollment letter confused many beneficiaries.",
         "The plan's formulary changed twice this year.",
         "Appeals take too long when the programs disagree.",
         "Families want to know who to call at night.",
         "The state posted the draft strategy on its website.",
         "Our office moved to the new building last spring."]
# Not decided by anyone: the classifier should find the first one.
UNSEEN = ["Home care aides earn less than fast food workers here.",
          "The website was down for a week."]


@pytest.fixture
def decided(make, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    transcript = make.transcript(study, WORKFORCE + OTHER + UNSEEN)
    codes = {c.key: c for c in db.session.scalars(db.select(Code).where(
        Code.study_id == study.id))}
    supports = codes["delivery-system-supports"]
    segments = transcript.segments
    for seg in segments[:len(WORKFORCE)]:  # coded by hand: positives
        db.session.add(Coding(study_id=study.id, code_id=supports.id, segment_id=seg.id,
                              start_char=0, end_char=len(seg.text), quote=seg.text,
                              coder_id=coder.id))
    # A pattern coders keep rejecting: "the" would tag everything as equity.
    equity = codes["equity-strategies"]
    noisy = CodePatternRule(code_id=equity.id, terms=["office"], position=99)
    db.session.add(noisy)
    db.session.flush()
    for seg in segments[len(WORKFORCE):len(WORKFORCE) + len(OTHER)]:
        # Rejected suggestions: negatives for delivery-system-supports...
        rejected = Suggestion(study_id=study.id, code_id=supports.id, segment_id=seg.id,
                              confidence=0.3, status=SuggestionStatus.REJECTED)
        # ...and rejections of the noisy pattern's suggestions.
        noise = Suggestion(study_id=study.id, code_id=equity.id, segment_id=seg.id,
                           confidence=0.25, status=SuggestionStatus.REJECTED,
                           evidence=[{"start": 0, "end": 3, "text": seg.text[:3],
                                      "term": "office", "pattern_id": noisy.id}])
        db.session.add_all([rejected, noise])
        db.session.flush()
        for s in (rejected, noise):
            db.session.add(SuggestionDecision(suggestion_id=s.id, user_id=coder.id,
                                              decision=Decision.REJECT))
    db.session.commit()
    return study, owner, coder, transcript, codes, noisy


def test_examples_come_from_codings_and_decisions(decided, db):
    study, *_ = decided
    examples = gather_examples(study)
    supports = [e for e in examples if e.code_key == "delivery-system-supports"]
    assert sum(e.positive for e in supports) == len(WORKFORCE)
    assert sum(not e.positive for e in supports) == len(OTHER)


# TF-IDF here: the same everywhere and fast; MiniLM is covered in tests/coding/test_learning.py.
@pytest.mark.parametrize("app_config", [{"CODING_LEARNING_BACKEND": "tfidf"}], indirect=True)
def test_learning_job_trains_reweights_and_suggests_what_patterns_miss(client, login, decided,
                                                                       db):
    study, owner, coder, transcript, codes, noisy = decided
    login(coder)
    assert client.post(f"/studies/{study.id}/coding/learn").status_code == 403
    client.post("/logout")
    login(owner)
    response = client.post(f"/studies/{study.id}/coding/learn")
    job = db.session.scalar(db.select(Job).where(Job.kind == "learn-codes"))
    assert response.headers["Location"] == f"/jobs/{job.id}"
    job = run_job(job.id, learn_codes)  # in this process; the worker test runs a real one
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert "1 code with a classifier, 1 pattern down-weighted" in job.message
    model = db.session.scalar(db.select(TaggerModel))
    assert model.backend == "tfidf" and model.data
    stats = model.stats["delivery-system-supports"]
    assert stats["trained"] and stats["positives"] == len(WORKFORCE)
    assert stats["held_out"] == 4 and stats["precision"] is not None
    db.session.refresh(noisy)
    assert (noisy.accepted, noisy.rejected) == (0, len(OTHER))
    assert noisy.learned_weight is not None and noisy.learned_weight < 0.25
    # The classifier now suggests the unseen workforce passage; patterns had nothing for it.
    unseen = transcript.segments[-2]
    learned = db.session.scalar(db.select(Suggestion).where(
        Suggestion.segment_id == unseen.id,
        Suggestion.code_id == codes["delivery-system-supports"].id))
    assert learned is not None and learned.source == "classifier" and learned.evidence == []
    assert "learned from 16 coder decisions" in learned.reason
    assert db.session.scalar(db.select(Suggestion).where(
        Suggestion.segment_id == transcript.segments[-1].id,
        Suggestion.code_id == codes["delivery-system-supports"].id)) is None
    # The down-weighted pattern no longer produces suggestions worth showing.
    counts = tag_scope(study, study_units(study))
    db.session.commit()
    assert not db.session.scalar(db.select(Suggestion).where(
        Suggestion.code_id == codes["equity-strategies"].id,
        Suggestion.status == SuggestionStatus.PENDING,
        Suggestion.segment_id == transcript.segments[len(WORKFORCE) + 6].id))
    assert counts.units == len(transcript.segments)
    # Per code, the codebook shows what it learned from and its held-back precision.
    page = client.get(f"/studies/{study.id}/codebook").get_data(as_text=True)
    assert "16 decisions; precision" in page and "on 4 held back" in page
    code_page = client.get(
        f"/studies/{study.id}/codebook/{codes['equity-strategies'].id}").get_data(True)
    assert "down-weighted to" in code_page


def test_nothing_to_learn_from_is_refused(client, login, make, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    login(owner)
    response = client.post(f"/studies/{study.id}/coding/learn", follow_redirects=True)
    assert "nothing to learn from yet" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Job.id))) == 0
