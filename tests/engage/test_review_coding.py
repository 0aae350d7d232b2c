"""Coding by hand: spans in code points, several codes, overlaps, change/remove, memos,
and codings that survive later edits to the transcript."""

from __future__ import annotations

import pytest

from engage.transcript_editor.operations import (
    edit_segment,
    merge_with_next,
    revert,
    split_segment,
)
from models import (
    Code,
    Coding,
    Memo,
    Role,
    StudyRole,
    Suggestion,
    SuggestionStatus,
)

TEXTS = ["Thanks for joining us, Dana. 😊 Let's begin.",
         "We need D-SNP plans and aligned enrollment in rural counties.",
         "Care coordination matters most."]


@pytest.fixture
def team(make):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER, name="Casey Coder")
    make.member(study, coder, StudyRole.CODER)
    other_coder = make.user(Role.CODER, name="Jordan Coder")
    make.member(study, other_coder, StudyRole.CODER)
    transcript = make.transcript(study, TEXTS, speakers=["Facilitator", "Dana", "Dana"])
    return study, owner, coder, other_coder, transcript


def code_of(db, study, key):
    return db.session.scalar(db.select(Code).where(Code.study_id == study.id, Code.key == key))


def flashes(client) -> str:
    with client.session_transaction() as session:
        return " ".join(m for _, m in session.get("_flashes", []))


def post_coding(client, study, unit, codes, **fields):
    return client.post(f"/studies/{study.id}/coding/codings",
                       data={"unit": unit, "codes": [c.id for c in codes], **fields})


def test_select_a_span_and_apply_two_codes_with_a_memo(client, login, team, db):
    study, _, coder, _, transcript = team
    seg = transcript.segments[1]
    mech, enrol = code_of(db, study, "integration-mechanisms"), code_of(
        db, study, "param-enrollment-mechanisms")
    login(coder)
    start = seg.text.index("D-SNP")
    response = post_coding(client, study, f"segment:{seg.id}", [mech, enrol], start=start,
                           end=start + len("D-SNP plans"), memo="Both plan and enrollment")
    assert response.headers["Location"] == (f"/studies/{study.id}/coding/transcripts/"
                                            f"{transcript.id}#segment-{seg.id}")
    codings = db.session.scalars(db.select(Coding).order_by(Coding.code_id)).all()
    assert {c.code_id for c in codings} == {mech.id, enrol.id}
    for c in codings:
        assert (c.start_char, c.end_char, c.quote) == (start, start + 11, "D-SNP plans")
        assert c.coder_id == coder.id and c.assignment_id is None
        assert [m.body for m in c.memos] == ["Both plan and enrollment"]
    # Overlapping codings are fine; the same one twice is not duplicated.
    post_coding(client, study, f"segment:{seg.id}", [mech], quote="plans and aligned enrollment")
    post_coding(client, study, f"segment:{seg.id}", [mech], start=start, end=start + 11)
    assert db.session.scalar(db.select(db.func.count(Coding.id))) == 3
    page = client.get(f"/studies/{study.id}/coding/transcripts/{transcript.id}").get_data(True)
    assert 'class="coded multi"' in page and 'data-unit="segment:' in page
    assert "js/coding.js" in page and "Code this passage" in page


def test_offsets_are_code_points_even_after_an_emoji(client, login, team, db):
    study, _, coder, _, transcript = team
    seg = transcript.segments[0]
    login(coder)
    start = seg.text.index("Let's")
    post_coding(client, study, f"segment:{seg.id}", [code_of(db, study, "lessons-learned")],
                start=start, end=start + 5)
    coding = db.session.scalar(db.select(Coding))
    # Python counts the emoji as one; a JavaScript UTF-16 index would be one more.
    assert coding.start_char == start == len("Thanks for joining us, Dana. 😊 ")
    assert coding.quote == "Let's"


@pytest.mark.parametrize(("fields", "message"), [
    ({"start": 5, "end": 500}, "outside the text"),
    ({"start": 9, "end": 9}, "the span is empty"),
    ({"start": 3}, "Give both the start and the end"),
    ({"quote": "words that are not there"}, "are not in this passage"),
])
def test_bad_spans_change_nothing_and_say_why(client, login, team, db, fields, message):
    study, _, coder, _, transcript = team
    login(coder)
    post_coding(client, study, f"segment:{transcript.segments[1].id}",
                [code_of(db, study, "lessons-learned")], **fields)
    assert message in flashes(client)
    assert db.session.scalar(db.select(db.func.count(Coding.id))) == 0


def test_other_refusals(client, login, team, db, make):
    study, owner, coder, _, transcript = team
    seg = transcript.segments[1]
    login(coder)
    post_coding(client, study, f"segment:{seg.id}", [])
    assert "choose at least one code" in flashes(client).lower()
    retired = code_of(db, study, "lessons-learned")
    retired.retired = True
    db.session.commit()
    post_coding(client, study, f"segment:{seg.id}", [retired])
    assert "is retired" in flashes(client)
    other = make.transcript(make.study(owner), ["Elsewhere."])
    response = post_coding(client, study, f"segment:{other.segments[0].id}",
                           [code_of(db, study, "equity-strategies")])
    assert "not part of this study" in flashes(client) or response.status_code == 302
    assert post_coding(client, study, "paragraph:1",
                       [code_of(db, study, "equity-strategies")]).status_code == 404
    assert db.session.scalar(db.select(db.func.count(Coding.id))) == 0


def test_whole_passage_by_default_and_the_no_javascript_form(client, login, team, db):
    study, _, coder, _, transcript = team
    seg = transcript.segments[2]
    login(coder)
    page = client.get(f"/studies/{study.id}/coding/units/segment:{seg.id}/code?start=0&end=4")
    assert page.status_code == 200 and 'value="Care"' in page.get_data(True)
    supports = code_of(db, study, "delivery-system-supports")
    post_coding(client, study, f"segment:{seg.id}", [supports])
    assert db.session.scalar(db.select(Coding)).quote == seg.text


def test_manual_coding_settles_the_matching_suggestion(client, login, team, db):
    study, _, coder, _, transcript = team
    seg = transcript.segments[1]
    mech = code_of(db, study, "integration-mechanisms")
    suggestion = Suggestion(study_id=study.id, code_id=mech.id, segment_id=seg.id,
                            confidence=0.6)
    db.session.add(suggestion)
    db.session.commit()
    login(coder)
    post_coding(client, study, f"segment:{seg.id}", [mech], quote="D-SNP plans")
    db.session.refresh(suggestion)
    assert suggestion.status is SuggestionStatus.ACCEPTED


def test_change_remove_and_who_may(client, login, team, db):
    study, owner, coder, other_coder, transcript = team
    seg = transcript.segments[1]
    login(coder)
    post_coding(client, study, f"segment:{seg.id}", [code_of(db, study, "integration-mechanisms")],
                quote="D-SNP plans")
    coding = db.session.scalar(db.select(Coding))
    lessons = code_of(db, study, "lessons-learned")
    client.post(f"/studies/{study.id}/coding/codings/{coding.id}/change",
                data={"code": lessons.id, "quote": "aligned enrollment"})
    db.session.refresh(coding)
    assert coding.code_id == lessons.id and coding.quote == "aligned enrollment"
    assert seg.text[coding.start_char:coding.end_char] == "aligned enrollment"
    client.post("/logout")
    login(other_coder)
    client.post(f"/studies/{study.id}/coding/codings/{coding.id}/remove")
    assert "Only the coder who made this coding, or a researcher" in flashes(client)
    assert db.session.get(Coding, coding.id) is not None
    client.post("/logout")
    login(owner)
    client.post(f"/studies/{study.id}/coding/codings/{coding.id}/remove")
    assert db.session.get(Coding, coding.id) is None


def test_memos_on_coding_code_transcript_comment_and_study(client, login, team, db, make):
    study, owner, coder, other_coder, transcript = team
    comment = make.comment(make.consultation(study), "PACE is great.")
    login(coder)
    post_coding(client, study, f"segment:{transcript.segments[1].id}",
                [code_of(db, study, "integration-mechanisms")], quote="D-SNP")
    coding = db.session.scalar(db.select(Coding))
    mech = code_of(db, study, "integration-mechanisms")
    url = f"/studies/{study.id}/coding/memos"
    for target in (f"coding:{coding.id}", f"code:{mech.id}", f"transcript:{transcript.id}",
                   f"comment:{comment.id}", "study"):
        client.post(url, data={"target": target, "body": f"Note on {target}"})
    memos = {m.target_type: m for m in db.session.scalars(db.select(Memo))}
    assert set(memos) == {"coding", "code", "transcript", "comment", "study"}
    assert memos["coding"].coding_id == coding.id and memos["code"].code_id == mech.id
    client.post(url, data={"target": "study", "body": "   "})
    assert "needs some text" in flashes(client)
    page = client.get(url).get_data(as_text=True)
    assert "Note on study" in page and "Note on transcript" in page
    assert "Note on code" in client.get(f"/studies/{study.id}/codebook/{mech.id}").get_data(True)
    # Only the author (or a researcher) edits a memo.
    client.post("/logout")
    login(other_coder)
    client.post(f"{url}/{memos['study'].id}/edit", data={"body": "Hijacked"})
    assert "Only the memo's author or a researcher" in flashes(client)
    client.post("/logout")
    login(owner)
    client.post(f"{url}/{memos['study'].id}/edit", data={"body": "Tidied"})
    db.session.refresh(memos["study"])
    assert memos["study"].body == "Tidied"
    client.post(f"{url}/{memos['study'].id}/delete", data={"back": "https://evil.example/"})
    assert db.session.get(Memo, memos["study"].id) is None
    assert client.post(url, data={"target": "code:999999", "body": "x"}).status_code == 404


def coded(db, study, seg, quote, key="integration-mechanisms", coder=None):
    start = seg.text.index(quote)
    coding = Coding(study_id=study.id, code_id=code_of(db, study, key).id, segment_id=seg.id,
                    start_char=start, end_char=start + len(quote), quote=quote,
                    coder_id=coder.id if coder else None)
    db.session.add(coding)
    db.session.commit()
    return coding


def test_edits_elsewhere_move_codings_edits_inside_flag_them(team, db):
    study, owner, coder, _, transcript = team
    seg = transcript.segments[1]
    plans = coded(db, study, seg, "D-SNP plans", coder=coder)
    rural = coded(db, study, seg, "rural counties", "equity-strategies", coder=coder)
    edit_segment(owner, seg, text="Yes, we need D-SNP plans and aligned enrollment in rural "
                                  "areas.", speaker="Dana")
    db.session.commit()
    db.session.refresh(plans)
    db.session.refresh(rural)
    assert seg.text[plans.start_char:plans.end_char] == "D-SNP plans" and not plans.needs_check
    assert rural.needs_check and "rural counties" in rural.check_reason
    assert rural.quote == "rural counties"  # what was coded is kept
    assert seg.text[rural.start_char:rural.end_char] == "rural areas"
    # Reverting puts the words back; the flagged coding's span follows.
    revision = next(r for r in seg.revisions if r.field == "text")
    revert(owner, revision)
    db.session.commit()
    db.session.refresh(plans)
    assert seg.text[plans.start_char:plans.end_char] == "D-SNP plans"


def test_deleted_words_are_flagged_and_shown_to_check(client, login, team, db):
    study, owner, coder, _, transcript = team
    seg = transcript.segments[1]
    coding = coded(db, study, seg, "D-SNP plans", coder=coder)
    edit_segment(owner, seg, text="We need aligned enrollment in rural counties.", speaker=None)
    db.session.commit()
    db.session.refresh(coding)
    assert coding.needs_check and coding.start_char == coding.end_char
    assert "were deleted" in coding.check_reason
    login(coder)
    page = client.get(f"/studies/{study.id}/coding/flagged").get_data(as_text=True)
    assert "D-SNP plans" in page and "were deleted" in page
    client.post(f"/studies/{study.id}/coding/codings/{coding.id}/confirm")
    assert "were removed from the text" in flashes(client)
    client.post(f"/studies/{study.id}/coding/codings/{coding.id}/change",
                data={"code": coding.code_id, "quote": "aligned enrollment"})
    db.session.refresh(coding)
    assert not coding.needs_check and coding.quote == "aligned enrollment"


def test_split_and_merge_carry_codings_and_suggestions(team, db):
    study, owner, coder, _, transcript = team
    seg = transcript.segments[1]
    plans = coded(db, study, seg, "D-SNP plans", coder=coder)
    across = coded(db, study, seg, "plans and aligned", "param-enrollment-mechanisms", coder)
    rural = coded(db, study, seg, "rural counties", "equity-strategies", coder=coder)
    start = seg.text.index("rural")
    suggestion = Suggestion(study_id=study.id, code_id=rural.code_id, segment_id=seg.id,
                            confidence=0.3, evidence=[{"start": start, "end": start + 5,
                                                       "text": "rural", "term": "rural"}])
    db.session.add(suggestion)
    db.session.commit()
    at = seg.text.index("and aligned")
    new = split_segment(owner, seg, at)
    db.session.commit()
    for c in (plans, across, rural, suggestion):
        db.session.refresh(c)
    assert plans.segment_id == seg.id and seg.text[plans.start_char:plans.end_char] == \
        "D-SNP plans"
    assert rural.segment_id == new.id and new.text[rural.start_char:rural.end_char] == \
        "rural counties"
    assert suggestion.segment_id == new.id
    assert new.text[suggestion.evidence[0]["start"]:suggestion.evidence[0]["end"]] == "rural"
    halves = db.session.scalars(db.select(Coding).where(
        Coding.code_id == across.code_id).order_by(Coding.segment_id)).all()
    assert [(c.segment_id, c.quote, c.needs_check) for c in halves] == [
        (seg.id, "plans", True), (new.id, "and aligned", True)]
    # Merging back: the second half's codings move, shifted past the first text.
    merge_with_next(owner, seg)
    db.session.commit()
    for c in (plans, rural, suggestion):
        db.session.refresh(c)
    assert rural.segment_id == seg.id
    assert seg.text[rural.start_char:rural.end_char] == "rural counties"
    assert seg.text[suggestion.evidence[0]["start"]:suggestion.evidence[0]["end"]] == "rural"
    assert db.session.scalar(db.select(db.func.count(Coding.id))) == 4


def test_pending_suggestion_evidence_follows_edits_or_is_withdrawn(team, db):
    study, owner, _, _, transcript = team
    seg = transcript.segments[1]
    mech = code_of(db, study, "integration-mechanisms")
    start = seg.text.index("D-SNP")
    suggestion = Suggestion(study_id=study.id, code_id=mech.id, segment_id=seg.id,
                            confidence=0.6, evidence=[{"start": start, "end": start + 5,
                                                       "text": "D-SNP", "term": "D-SNP"}])
    db.session.add(suggestion)
    db.session.commit()
    edit_segment(owner, seg, text="So we need D-SNP plans and aligned enrollment.", speaker=None)
    db.session.commit()
    db.session.refresh(suggestion)
    e = suggestion.evidence[0]
    assert seg.text[e["start"]:e["end"]] == "D-SNP"
    edit_segment(owner, seg, text="So we need plans and aligned enrollment.", speaker=None)
    db.session.commit()
    assert db.session.get(Suggestion, suggestion.id) is None


def test_comment_coding_page_and_codings(client, login, team, db, make):
    study, _, coder, _, _ = team
    comment = make.comment(make.consultation(study),
                           "PACE saved my mother. Call me at 555-201-3344 any time.")
    login(coder)
    page = client.get(f"/studies/{study.id}/coding/comments/{comment.id}").get_data(True)
    assert "555-201-3344" not in page and 'data-unit="comment:' in page
    post_coding(client, study, f"comment:{comment.id}",
                [code_of(db, study, "integration-mechanisms")], quote="PACE saved my mother.")
    coding = db.session.scalar(db.select(Coding))
    assert coding.comment_id == comment.id and coding.segment_id is None
    assert coding.quote == "PACE saved my mother."
    listing = client.get(f"/studies/{study.id}/coding/consultations/{comment.consultation_id}")
    assert listing.status_code == 200
