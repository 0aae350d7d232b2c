"""A tagging run tags each distinct text once: form-letter campaigns cost one pass."""

from __future__ import annotations

from collections import Counter

import pytest

from coding.learning import Example, LearnedModel, learn
from coding.tagger import Tagger
from engage.analysis import tagging
from engage.analysis.tagging import ProposalsByText, study_suggester, tag_scope
from engage.analysis.units import study_units
from models import Code, CommentSource, Role, Suggestion, TaggerModel

LETTER = ("We support aligned enrollment through D-SNP plans. PACE works for our members "
          "in rural counties, and care coordination must follow them.")
# The same letter with a doubled space: another text, whose evidence sits further on.
SPACED = LETTER.replace("PACE works", "PACE  works")
OTHERS = ["Our behavioral health providers are stretched thin.",
          "Thanks for the chance to comment.",
          "LTSS users need care coordination in rural counties."]
COPIES = 9


def _spy(monkeypatch, cls, name):
    """Record the texts each call of the real ``cls.name`` gets, and let it run."""
    calls: list[list[str]] = []
    real = getattr(cls, name)

    def spy(self, texts, *args, **kwargs):
        texts = list(texts)
        calls.append(texts)
        return real(self, texts, *args, **kwargs)

    monkeypatch.setattr(cls, name, spy)
    return calls


@pytest.fixture
def docket(make, db):
    """A study whose comments are a campaign of identical letters among other comments,
    with a learned classifier for one code, so the job runs rules + classifier."""
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    consultation = make.consultation(study)
    bodies = []
    for i in range(COPIES):
        bodies += [LETTER, OTHERS[i % len(OTHERS)]]
    bodies.insert(5, SPACED)
    for body in bodies:
        make.comment(consultation, body, source=CommentSource.IMPORT)
    positives = [f"Integrated plans through D-SNP contracts, case {i}." for i in range(5)]
    negatives = [f"The parking at the meeting was fine, case {i}." for i in range(5)]
    model = learn([Example(t, "integration-mechanisms", True) for t in positives]
                  + [Example(t, "integration-mechanisms", False) for t in negatives],
                  backend="tfidf", corpus=bodies)
    assert model.classifiers
    db.session.add(TaggerModel(study_id=study.id, backend="tfidf", data=model.dumps(),
                               stats={k: v.to_dict() for k, v in model.stats.items()}))
    db.session.commit()
    return study


def stored(db):
    """Per unit: what was suggested, as coders would see it."""
    out: dict = {}
    for s in db.session.scalars(db.select(Suggestion).order_by(Suggestion.id)):
        key = db.session.get(Code, s.code_id).key
        out.setdefault(s.unit_ref, []).append(
            (key, s.confidence, s.evidence, s.reason, s.source, s.rule_confidence,
             s.model_probability))
    return {ref: sorted(rows, key=lambda r: r[0]) for ref, rows in out.items()}


def test_a_campaign_is_tagged_once_and_suggested_on_every_comment(docket, db, monkeypatch):
    study = docket
    units = study_units(study)
    texts = [u.text for u in units]
    assert Counter(texts)[LETTER] == COPIES

    for unit in units:  # one by one: the reference
        tag_scope(study, [unit])
    db.session.commit()
    one_by_one = stored(db)
    db.session.execute(db.delete(Suggestion))
    db.session.commit()

    tagged = _spy(monkeypatch, Tagger, "tag_many")
    predicted = _spy(monkeypatch, LearnedModel, "predict")
    monkeypatch.setattr(tagging, "BATCH", 4)  # the campaign spans several batches
    counts = tag_scope(study, units)
    db.session.commit()
    together = stored(db)

    assert counts.units == len(units)
    assert together == one_by_one
    letters = [u for u in units if u.text == LETTER]
    assert all(together.get(u.ref) for u in letters)
    assert {row[4] for u in letters for row in together[u.ref]} >= {"rules+classifier"}
    # The real tagger and classifier saw each distinct text once in the whole run.
    for calls in (tagged, predicted):
        seen = Counter(t for call in calls for t in call)
        assert seen == Counter(set(texts)), seen
    assert len(tagged) > 1  # still in batches
    # Evidence points into each comment's own text, the spaced copy's included.
    by_ref = {u.ref: u.text for u in units}
    spaced = next(u for u in units if u.text == SPACED)
    assert together[spaced.ref] != together[letters[0].ref]
    for ref, rows in together.items():
        for row in rows:
            for e in row[2]:
                assert by_ref[ref][e["start"]:e["end"]] == e["text"]


def test_proposals_are_kept_only_while_later_units_need_them(docket, db):
    suggester = study_suggester(docket.id).suggester
    texts = [LETTER, OTHERS[0], LETTER, OTHERS[1], LETTER]
    by_text = ProposalsByText(suggester, texts)
    first = by_text(texts[:2])
    assert set(by_text.known) == {LETTER}  # OTHERS[0] will not come again
    rest = by_text(texts[2:])
    assert by_text.known == {} and not by_text.left
    assert first[0] == rest[0] == rest[2] == suggester.propose([LETTER])[0]
