"""Codings, suggestions and theme quotes on a comment follow their words when a moderator
changes the comment's public (redacted) text, and never keep words that were masked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engage.analysis.anchoring import text_changed
from engage.analysis.operations import apply_codes
from engage.consultations.moderation import (
    ModerationAction,
    adjust_redactions,
    edit_public_text,
    moderate,
    public_text,
)
from engage.themes.operations import add_evidence, create_theme
from engage.transcript_editor.operations import edit_segment
from models import (
    Code,
    Coding,
    Suggestion,
    SuggestionStatus,
    ThemeEvidence,
    UnitRef,
)
from tests.engage.test_consultations import team  # noqa: F401  (the fixture: owner, coder, study)

BODY = "Maria Lopez helped us. PACE saved my mother. Thank you all."
NAME = ("Maria", "Lopez")


@pytest.fixture
def world(team, make):  # noqa: F811  (``team`` is the fixture imported above)
    """The moderation tests' owner, coder and study, with a consultation."""
    return {**team, "consultation": make.consultation(team["study"])}


def a_code(db, study, key="integration-mechanisms") -> Code:
    return db.session.scalar(select(Code).where(Code.study_id == study.id, Code.key == key))


def code(db, world, comment, quote, key="integration-mechanisms") -> Coding:
    [coding] = apply_codes(world["coder"], world["study"], UnitRef("comment", comment.id),
                           [a_code(db, world["study"], key)], quote=quote)
    db.session.commit()
    return coding


def on_its_words(coding: Coding, comment) -> bool:
    return public_text(comment)[coding.start_char:coding.end_char] == coding.quote


def no_name(*texts: str | None) -> bool:
    return not any(part in (text or "") for text in texts for part in NAME)


@pytest.mark.parametrize("approved", [False, True], ids=["pending", "approved"])
def test_redacting_a_name_moves_later_codings_and_flags_the_ones_on_it(db, make, world,
                                                                       approved):
    comment = make.comment(world["consultation"], BODY)
    if approved:
        moderate(world["owner"], [comment], ModerationAction.APPROVE)
        db.session.commit()
    assert public_text(comment) == BODY  # nothing detected: the name has no cue
    after = code(db, world, comment, "PACE saved my mother.")
    on_name = code(db, world, comment, "Maria Lopez")
    around = code(db, world, comment, "Maria Lopez helped us.", key="param-enrollment-mechanisms")
    partly = code(db, world, comment, "Lopez helped")

    adjust_redactions(world["owner"], comment, add_text="maria lopez", add_kind="name")
    db.session.commit()

    assert public_text(comment) == "[name] helped us. PACE saved my mother. Thank you all."
    # After the name: same words, five characters earlier, nothing to check.
    assert (after.start_char, after.end_char) == (18, 39)
    assert after.quote == "PACE saved my mother." and on_its_words(after, comment)
    assert not after.needs_check
    # On the name: flagged, in a coder's words, and the name is nowhere in what they read.
    assert on_name.needs_check and on_name.check_reason == "the coded words were redacted"
    assert on_name.quote == "[name]" and on_its_words(on_name, comment)
    assert around.needs_check and around.check_reason == "some of the coded words were redacted"
    assert around.quote == "[name] helped us." and on_its_words(around, comment)
    assert partly.needs_check and partly.quote == "[name] helped"
    for coding in (on_name, around, partly):
        assert no_name(coding.quote, coding.check_reason)


def test_removing_a_redaction_keeps_codings_on_their_words(db, make, world):
    comment = make.comment(world["consultation"],
                           "Call 919-555-0142 any day. PACE saved my mother.")
    moderate(world["owner"], [comment], ModerationAction.APPROVE)
    db.session.commit()
    assert public_text(comment) == "Call [phone] any day. PACE saved my mother."
    before = code(db, world, comment, "Call")
    after = code(db, world, comment, "PACE saved my mother.")
    on_label = code(db, world, comment, "[phone] any day")

    phone = next(i for i, r in enumerate(comment.redactions) if r["kind"] == "phone")
    adjust_redactions(world["owner"], comment, remove=[phone])
    db.session.commit()

    assert public_text(comment) == "Call 919-555-0142 any day. PACE saved my mother."
    assert not before.needs_check and (before.start_char, before.end_char) == (0, 4)
    assert not after.needs_check and on_its_words(after, comment)
    assert after.start_char == 27  # five characters later: the number is longer than its label
    assert on_label.needs_check
    assert on_label.check_reason == "a redaction in the coded words was removed"
    assert on_label.quote == "919-555-0142 any day" and on_its_words(on_label, comment)


def test_masking_again_after_unmasking_puts_the_label_back_in_the_quote(db, make, world):
    comment = make.comment(world["consultation"], BODY)
    adjust_redactions(world["owner"], comment, add_text="Maria Lopez")
    coding = code(db, world, comment, "[name] helped us.")
    adjust_redactions(world["owner"], comment, remove=[0])
    assert coding.quote == "Maria Lopez helped us."  # unmasked on purpose: public now
    adjust_redactions(world["owner"], comment, add_text="Maria Lopez")
    db.session.commit()
    assert coding.quote == "[name] helped us." and on_its_words(coding, comment)
    assert coding.check_reason == "some of the coded words were redacted"


def test_an_unchanged_public_text_touches_nothing(db, make, world):
    comment = make.comment(world["consultation"], BODY)
    adjust_redactions(world["owner"], comment, add_text="Maria Lopez")
    coding = code(db, world, comment, "[name] helped us.")
    adjust_redactions(world["owner"], comment, add_text="Maria Lopez")  # already masked
    adjust_redactions(world["owner"], comment)
    db.session.commit()
    assert not coding.needs_check and coding.quote == "[name] helped us."
    assert (coding.start_char, coding.end_char) == (0, 17)


def test_a_hand_edit_flags_edited_words_without_repeating_them(db, make, world):
    comment = make.comment(world["consultation"], BODY)
    moderate(world["owner"], [comment], ModerationAction.APPROVE)
    thanks = code(db, world, comment, "Thank you all.")
    mother = code(db, world, comment, "PACE saved my mother.")
    helped = code(db, world, comment, "Maria Lopez helped us.")

    edit_public_text(world["owner"], comment,
                     "Our neighbour helped us. PACE saved my mother. Thank you all.")
    db.session.commit()

    assert not mother.needs_check and on_its_words(mother, comment)
    assert not thanks.needs_check and on_its_words(thanks, comment)
    assert helped.needs_check
    assert helped.check_reason == "the coded words were edited in the public version"
    assert helped.quote == "Our neighbour helped us." and on_its_words(helped, comment)
    assert no_name(helped.quote, helped.check_reason)


def test_suggestion_evidence_is_remapped_or_dropped(db, make, world):
    comment = make.comment(world["consultation"], BODY)
    study = world["study"]
    both = Suggestion(study_id=study.id, code_id=a_code(db, study).id, confidence=0.8,
                      comment_id=comment.id, evidence=[
                          {"start": 0, "end": 11, "text": "Maria Lopez", "term": "maria"},
                          {"start": 23, "end": 27, "text": "PACE", "term": "pace"}])
    only_name = Suggestion(study_id=study.id, code_id=a_code(
        db, study, "param-enrollment-mechanisms").id, confidence=0.6, comment_id=comment.id,
        evidence=[{"start": 6, "end": 11, "text": "Lopez", "term": "lopez"}])
    decided = Suggestion(study_id=study.id, code_id=both.code_id, confidence=0.5,
                         comment_id=comment.id, status=SuggestionStatus.REJECTED,
                         evidence=[{"start": 0, "end": 5, "text": "Maria", "term": "maria"}])
    db.session.add_all([both, only_name, decided])
    db.session.commit()
    only_name_id = only_name.id

    adjust_redactions(world["owner"], comment, add_text="Maria Lopez")
    db.session.commit()

    assert both.evidence == [{"start": 18, "end": 22, "text": "PACE", "term": "pace"}]
    assert public_text(comment)[18:22] == "PACE"
    assert db.session.get(Suggestion, only_name_id) is None  # no evidence left: withdrawn
    assert decided.evidence == [{"start": 0, "end": 5, "text": "Maria", "term": "maria"}]


def test_theme_quotes_follow_their_words_and_lose_masked_ones(db, make, world):
    comment = make.comment(world["consultation"], BODY)
    theme = create_theme(world["owner"], world["study"], "Care that works")
    key = f"comment:{comment.id}"
    on_name = add_evidence(world["owner"], theme, key, quote="Maria Lopez helped us.")
    later = add_evidence(world["owner"], theme, key, quote="PACE saved my mother.")
    db.session.commit()

    adjust_redactions(world["owner"], comment, add_text="Maria Lopez")
    db.session.commit()

    text = public_text(comment)
    assert on_name.quote == "[name] helped us." and no_name(on_name.quote)
    assert text[on_name.start_char:on_name.end_char] == on_name.quote
    assert later.quote == "PACE saved my mother."
    assert text[later.start_char:later.end_char] == later.quote
    assert db.session.scalar(select(ThemeEvidence).where(
        ThemeEvidence.quote.contains("Lopez"))) is None


def test_masking_through_the_page_keeps_the_name_off_the_coders_pages(client, login, db,
                                                                     make, world):
    study, consultation = world["study"], world["consultation"]
    comment = make.comment(consultation, BODY)
    coding = code(db, world, comment, "Maria Lopez helped us.")
    login(world["owner"])
    client.post(f"/studies/{study.id}/consultations/{consultation.id}/comments/{comment.id}"
                "/redactions", data={"add_text": "Lopez", "add_kind": "name"})
    db.session.refresh(coding)
    assert coding.needs_check and "Lopez" not in coding.quote
    login(world["coder"])
    for page in (f"/studies/{study.id}/coding/flagged",
                 f"/studies/{study.id}/coding/codings/{coding.id}"):
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        assert "Lopez" not in html and "some of the coded words were redacted" in html


def test_the_segment_path_is_unchanged_and_takes_a_unit_ref(db, make, world):
    study, coder = world["study"], world["coder"]
    transcript = make.transcript(study, ["We need aligned enrollment in rural counties."])
    segment = transcript.segments[0]
    [moved] = apply_codes(coder, study, UnitRef("segment", segment.id), [a_code(db, study)],
                          quote="rural counties")
    [edited] = apply_codes(coder, study, UnitRef("segment", segment.id), [a_code(db, study)],
                           quote="aligned enrollment")
    edit_segment(coder, segment, text="We really need aligned enrolment in rural counties.",
                 speaker=segment.speaker)
    db.session.commit()
    assert not moved.needs_check and segment.text[moved.start_char:moved.end_char] == \
        "rural counties"
    assert edited.needs_check and edited.quote == "aligned enrollment"  # a segment keeps it
    assert edited.check_reason.startswith("the coded words “aligned enrollment” were edited")

    old = segment.text
    segment.text = "Honestly, " + old
    assert text_changed(UnitRef("segment", segment.id), old, segment.text) == 0
    assert segment.text[moved.start_char:moved.end_char] == "rural counties"
