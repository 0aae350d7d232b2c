"""Auto-tagging into suggestions, and the coder's review queue (filters, keyboard, decisions)."""

from __future__ import annotations

import pytest

from engage.analysis.tagging import study_suggester, tag_scope
from engage.analysis.units import study_units
from models import (
    Code,
    CodePatternRule,
    Coding,
    CodingOrigin,
    Comment,
    CommentSource,
    CommentStatus,
    Decision,
    Job,
    Participant,
    Role,
    SpeakerLink,
    StakeholderGroup,
    StudyRole,
    Suggestion,
    SuggestionDecision,
    SuggestionStatus,
)

TEXTS = [
    "Thanks for joining us today.",
    "We contract with D-SNP plans through the SMAC. Aligned enrollment is the next step.",
    "Care coordination for LTSS users is hard in rural counties.",
    "Our behavioral health providers are stretched thin.",
]


@pytest.fixture
def study_with_data(make, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER, name="Casey Coder")
    make.member(study, coder, StudyRole.CODER)
    transcript = make.transcript(study, TEXTS, speakers=["Facilitator", "Dana", "Dana", "Dana"])
    consultation = make.consultation(study)
    make.comment(consultation, "PACE works for our members. Reach me at jo@example.org",
                 source=CommentSource.IMPORT, answers={"stakeholder_group": "Providers"})
    make.comment(consultation, "Spam about D-SNP plans", status=CommentStatus.REJECTED)
    return study, owner, coder, transcript, consultation


def tag(study, db):
    counts = tag_scope(study, study_units(study))
    db.session.commit()
    return counts


def suggestions(db, **where):
    query = db.select(Suggestion)
    for key, value in where.items():
        query = query.where(getattr(Suggestion, key) == value)
    return db.session.scalars(query.order_by(Suggestion.id)).all()


def key_of(db, suggestion):
    return db.session.get(Code, suggestion.code_id).key


def test_tagging_gives_suggestions_with_evidence_confidence_and_reason(study_with_data, db):
    study, _, _, transcript, _ = study_with_data
    counts = tag(study, db)
    assert counts.units == len(TEXTS) + 1  # the rejected comment is not tagged
    found = suggestions(db)
    assert counts.added == len(found) > 0
    seg = transcript.segments[1]
    on_seg = {key_of(db, s): s for s in found if s.segment_id == seg.id}
    assert {"integration-mechanisms", "param-enrollment-mechanisms"} <= set(on_seg)
    mech = on_seg["integration-mechanisms"]
    assert 0 < mech.confidence < 1 and mech.reason.startswith("matched")
    for e in mech.evidence:
        assert seg.text[e["start"]:e["end"]] == e["text"]
        assert e["pattern_id"] is not None
    assert not [s for s in found if s.segment_id == transcript.segments[0].id]
    # The comment is tagged on its masked text: coders never see the email address.
    comment_keys = {key_of(db, s) for s in found if s.comment_id}
    assert "integration-mechanisms" in comment_keys  # PACE
    # Tagging again refreshes, never duplicates.
    again = tag(study, db)
    assert (again.added, again.refreshed) == (0, len(found))
    assert len(suggestions(db)) == len(found)


def test_decided_and_already_coded_pairs_are_not_suggested_again(study_with_data, db):
    study, _, coder, transcript, _ = study_with_data
    tag(study, db)
    first = suggestions(db)[0]
    first.status = SuggestionStatus.REJECTED
    seg = transcript.segments[2]
    equity = db.session.scalar(db.select(Code).where(Code.study_id == study.id,
                                                     Code.key == "equity-strategies"))
    for s in suggestions(db, segment_id=seg.id, code_id=equity.id):
        db.session.delete(s)
    db.session.add(Coding(study_id=study.id, code_id=equity.id, segment_id=seg.id,
                          start_char=0, end_char=5, quote=seg.text[:5], coder_id=coder.id))
    db.session.commit()
    tag(study, db)
    assert db.session.get(Suggestion, first.id).status is SuggestionStatus.REJECTED
    assert not suggestions(db, segment_id=seg.id, code_id=equity.id)


def test_empty_codebook_refuses_tagging_with_a_clear_message(client, login, study_with_data,
                                                             db):
    study, owner, coder, _, _ = study_with_data
    for rule in db.session.scalars(db.select(CodePatternRule)).all():
        db.session.delete(rule)
    db.session.commit()
    login(coder)
    assert client.post(f"/studies/{study.id}/coding/tag").status_code == 403
    client.post("/logout")
    login(owner)
    response = client.post(f"/studies/{study.id}/coding/tag", follow_redirects=True)
    assert "no match patterns yet" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Job.id))) == 0


def test_researcher_starts_tagging_as_a_job(client, login, study_with_data, db):
    study, owner, _, transcript, _ = study_with_data
    login(owner)
    response = client.post(f"/studies/{study.id}/coding/transcripts/{transcript.id}/tag")
    job = db.session.scalar(db.select(Job))
    assert response.headers["Location"] == f"/jobs/{job.id}"
    assert (job.kind, job.target_type, job.target_id) == ("tag-transcript", "transcript",
                                                          transcript.id)
    client.post(f"/studies/{study.id}/coding/tag")
    assert db.session.scalars(db.select(Job.kind).order_by(Job.id)).all()[-1] == "tag-study"


def review_page(client, study, **args):
    return client.get(f"/studies/{study.id}/review", query_string=args).get_data(as_text=True)


def test_queue_filters_by_code_transcript_source_group_and_confidence(client, login,
                                                                      study_with_data, db, make):
    study, _, coder, transcript, _ = study_with_data
    other = make.transcript(study, ["PACE is the other program we use."], title="Other")
    tag(study, db)
    group = db.session.scalar(db.select(StakeholderGroup).where(
        StakeholderGroup.study_id == study.id, StakeholderGroup.name == "State officials"))
    dana = Participant(study_id=study.id, name="Dana W", stakeholder_group_id=group.id)
    db.session.add(dana)
    db.session.flush()
    db.session.add(SpeakerLink(transcript_id=transcript.id, speaker="Dana",
                               participant_id=dana.id))
    db.session.commit()
    login(coder)
    total = len(suggestions(db))
    assert f"Suggestion 1 of {total}" in review_page(client, study)
    mech = db.session.scalar(db.select(Code).where(Code.study_id == study.id,
                                                   Code.key == "integration-mechanisms"))
    n_mech = len(suggestions(db, code_id=mech.id))
    assert f"of {n_mech}<" in review_page(client, study, code=mech.id)
    on_other = len([s for s in suggestions(db) if s.segment_id == other.segments[0].id])
    assert f"of {on_other}<" in review_page(client, study, transcript=other.id)
    n_comments = len([s for s in suggestions(db) if s.comment_id])
    assert f"of {n_comments}<" in review_page(client, study, source="comment")
    # Stakeholder group: Dana's segments (speaker link), and the comment that said Providers.
    dana_ids = {s.id for s in transcript.segments if s.speaker == "Dana"}
    n_state = len([s for s in suggestions(db) if s.segment_id in dana_ids])
    assert f"of {n_state}<" in review_page(client, study, group="State officials")
    assert f"of {n_comments}<" in review_page(client, study, group="Providers")
    strong = len([s for s in suggestions(db) if s.confidence >= 0.5])
    assert f"of {strong}<" in review_page(client, study, min_confidence="0.5")
    assert "Nothing left to review with these filters" in review_page(
        client, study, min_confidence="0.999")
    # A bad confidence is ignored, not a crash.
    assert "Suggestion 1 of" in review_page(client, study, min_confidence="lots")


def test_review_page_offers_keys_and_plain_buttons(client, login, study_with_data, db):
    study, _, coder, _, _ = study_with_data
    tag(study, db)
    login(coder)
    page = review_page(client, study)
    for marker in ('name="action" value="accept"', 'data-key="a"', 'data-key="r"',
                   'data-key-focus="c"', 'data-key="n"', "js/review.js", '<mark class="evidence">'):
        assert marker in page
    assert "<script>" not in page  # no inline script (CSP)
    second = review_page(client, study, i=1)
    assert "Suggestion 2 of" in second and 'data-key="p"' in second


def decide(client, study, suggestion, action, **extra):
    return client.post(f"/studies/{study.id}/review/{suggestion.id}",
                       data={"action": action, "q_order": "confidence", "q_i": "0", **extra})


def test_accept_codes_the_sentence_and_credits_the_coder(client, login, study_with_data, db):
    study, _, coder, transcript, _ = study_with_data
    tag(study, db)
    seg = transcript.segments[1]
    mech = next(s for s in suggestions(db, segment_id=seg.id)
                if key_of(db, s) == "integration-mechanisms")
    login(coder)
    response = decide(client, study, mech, "accept")
    assert response.headers["Location"] == (f"/studies/{study.id}/review?order=confidence&i=0"
                                            "#suggestion")
    coding = db.session.scalar(db.select(Coding))
    assert coding.coder_id == coder.id and coding.origin is CodingOrigin.SUGGESTION
    assert coding.quote == "We contract with D-SNP plans through the SMAC."
    assert seg.text[coding.start_char:coding.end_char] == coding.quote
    assert coding.suggestion_id == mech.id and coding.assignment_id is None
    db.session.refresh(mech)
    assert mech.status is SuggestionStatus.ACCEPTED
    record = db.session.scalar(db.select(SuggestionDecision))
    assert (record.decision, record.user_id, record.coding_id) == (Decision.ACCEPT, coder.id,
                                                                   coding.id)
    # Deciding twice is refused in plain words, and nothing more is coded.
    decide(client, study, mech, "reject")
    page = review_page(client, study)
    assert "already been decided" in page
    assert db.session.scalar(db.select(db.func.count(Coding.id))) == 1


def test_reject_and_change_code(client, login, study_with_data, db):
    study, _, coder, transcript, _ = study_with_data
    tag(study, db)
    first, second = suggestions(db)[:2]
    login(coder)
    decide(client, study, first, "reject")
    db.session.refresh(first)
    assert first.status is SuggestionStatus.REJECTED
    assert db.session.scalar(db.select(db.func.count(Coding.id))) == 0
    lessons = db.session.scalar(db.select(Code).where(Code.study_id == study.id,
                                                      Code.key == "lessons-learned"))
    decide(client, study, second, "change")  # no code chosen
    assert "Choose the code to apply instead" in review_page(client, study)
    decide(client, study, second, "change", code=lessons.id)
    db.session.refresh(second)
    assert second.status is SuggestionStatus.CHANGED
    coding = db.session.scalar(db.select(Coding))
    assert coding.code_id == lessons.id and coding.coder_id == coder.id
    record = db.session.scalars(db.select(SuggestionDecision).order_by(
        SuggestionDecision.id)).all()[-1]
    assert (record.decision, record.code_id) == (Decision.CHANGE, lessons.id)


def test_accept_from_the_passage_page_returns_there(client, login, study_with_data, db):
    study, _, coder, transcript, _ = study_with_data
    tag(study, db)
    suggestion = suggestions(db, segment_id=transcript.segments[1].id)[0]
    login(coder)
    page = client.get(f"/studies/{study.id}/coding/transcripts/{transcript.id}").get_data(True)
    assert "Suggested:" in page
    response = client.post(f"/studies/{study.id}/review/{suggestion.id}",
                           data={"action": "accept", "back": "unit"})
    assert response.headers["Location"] == (f"/studies/{study.id}/coding/transcripts/"
                                            f"{transcript.id}#segment-{suggestion.segment_id}")


def test_outsiders_cannot_review_or_decide(client, login, study_with_data, db, make):
    study, _, _, _, _ = study_with_data
    tag(study, db)
    outsider = make.user(Role.CODER)
    make.member(make.study(), outsider, StudyRole.CODER)
    login(outsider)
    suggestion = suggestions(db)[0]
    assert client.get(f"/studies/{study.id}/review").status_code == 404
    assert decide(client, study, suggestion, "accept").status_code == 404
    assert db.session.get(Suggestion, suggestion.id).status is SuggestionStatus.PENDING


def test_cached_tagger_follows_pattern_changes(study_with_data, db):
    study, _, _, _, _ = study_with_data
    first = study_suggester(study.id).suggester
    assert study_suggester(study.id).suggester is first
    mech = db.session.scalar(db.select(Code).where(Code.study_id == study.id,
                                                   Code.key == "equity-strategies"))
    db.session.add(CodePatternRule(code_id=mech.id, terms=["thin"], position=99))
    db.session.commit()
    assert study_suggester(study.id).suggester is not first


def test_comment_units_use_the_masked_text(study_with_data, db):
    study, _, _, _, _ = study_with_data
    units = [u for u in study_units(study) if u.source == "comment"]
    assert len(units) == 1
    assert "jo@example.org" not in units[0].text and units[0].stakeholder_group == "Providers"
    assert db.session.scalar(db.select(Comment).where(Comment.id == units[0].ref.id))
