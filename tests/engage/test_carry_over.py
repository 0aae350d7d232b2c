"""A re-transcription carries codings, speaker links, theme quotes and memos over to the
new transcript; what changed is flagged, the old transcript stays as history."""

from __future__ import annotations

import pytest

from engage.analysis.agreement import adjudicate, build_report, create_assignment
from engage.analysis.carry_over import carry_over
from engage.analysis.operations import add_memo, apply_codes
from engage.jobs.runner import run_job
from engage.recordings import tasks as recording_tasks
from engage.recordings.operations import FILES
from engage.themes.operations import add_evidence, create_theme
from engage.transcript_editor.operations import create_transcript
from engage.uploads import stored_path
from models import (
    AssignmentStatus,
    Code,
    Coding,
    CodingAssignment,
    CodingOrigin,
    Job,
    JobStatus,
    Memo,
    Recording,
    Role,
    SpeakerLink,
    StudyRole,
    Suggestion,
    SuggestionStatus,
    ThemeEvidence,
    Transcript,
    UnitRef,
)
from transcripts.segments import Segment, TranscriptResult

FIRST_RUN = [  # tiny.en
    Segment(0, 4_000, "Thanks for joining us, Dana.", speaker="Facilitator"),
    Segment(5_000, 9_000, "We need D-SNP plans and aligned enrollment in rural counties."),
    Segment(10_000, 14_000, "Care coordination matters most, honestly."),
]
SECOND_RUN = [  # a bigger model: other boundaries, times a little later, some other words
    Segment(300, 4_400, "Thanks for joining us Dana."),
    Segment(5_300, 7_000, "We need DSNP plans and aligned"),
    Segment(7_000, 9_200, "enrollment in rural counties."),
    Segment(10_200, 14_100, "Care coordination matters most."),
]


@pytest.fixture
def team(make, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder, other = (make.user(Role.CODER, name=name) for name in ("Casey", "Jordan"))
    for user in (coder, other):
        make.member(study, user, StudyRole.CODER)
    recording = Recording(study_id=study.id, title="County interview", stored_name="abc123",
                          sha256="0" * 64, size_bytes=10, duration_ms=15_000,
                          uploaded_by_id=owner.id)
    db.session.add(recording)
    db.session.commit()
    return study, owner, coder, other, recording


def transcribe(study, recording, segments, model="tiny.en"):
    return create_transcript(study.id, segments, title="County interview", source="whisper",
                             recording=recording, model=model)


def code_of(db, study, key):
    return db.session.scalar(db.select(Code).where(Code.study_id == study.id, Code.key == key))


def code(actor, study, segment, quote, code_, **fields):
    (coding,) = apply_codes(actor, study, UnitRef("segment", segment.id), [code_],
                            quote=quote, **fields)
    return coding


def on(db, transcript, **where):
    return db.session.scalars(db.select(Coding).where(
        Coding.segment_id.in_([s.id for s in transcript.segments]),
        *(getattr(Coding, k) == v for k, v in where.items())).order_by(Coding.id)).all()


def test_codings_links_quotes_and_memos_follow_the_new_transcript(db, make, team):
    study, owner, coder, _, recording = team
    mech = code_of(db, study, "integration-mechanisms")
    enrol = code_of(db, study, "param-enrollment-mechanisms")
    old = transcribe(study, recording, FIRST_RUN)
    s0, s1, s2 = old.segments
    codings = [
        code(coder, study, s1, "aligned enrollment", enrol, memo="Alignment, again"),
        code(coder, study, s1, "D-SNP plans", mech),
        code(owner, study, s2, "Care coordination", mech, origin=CodingOrigin.SUGGESTION),
        code(coder, study, s0, "joining us, Dana", mech),
        code(coder, study, s2, "honestly", enrol),
    ]
    before = [(c.segment_id, c.start_char, c.end_char, c.quote) for c in codings]
    dana = make.participant(study, "Dana")
    host = make.participant(study, "Harriet Host")
    db.session.add_all([SpeakerLink(transcript_id=old.id, speaker="", participant_id=dana.id),
                        SpeakerLink(transcript_id=old.id, speaker="Facilitator",
                                    participant_id=host.id)])
    theme = create_theme(owner, study, "Coordination")
    kept = add_evidence(owner, theme, f"segment:{s2.id}", quote="Care coordination",
                        coding=codings[2])
    reworded = add_evidence(owner, theme, f"segment:{s1.id}", quote="D-SNP plans")
    pending = Suggestion(study_id=study.id, code_id=mech.id, segment_id=s2.id,
                         confidence=0.7, evidence=[])
    decided = Suggestion(study_id=study.id, code_id=enrol.id, segment_id=s1.id,
                         confidence=0.7, evidence=[], status=SuggestionStatus.REJECTED)
    db.session.add_all([pending, decided])
    note = add_memo(owner, study, "Dana was nervous at first.", transcript=old)
    db.session.commit()
    pending_id, decided_id = pending.id, decided.id

    new = transcribe(study, recording, SECOND_RUN, model="large-v3")
    summary = carry_over(old, new, actor_id=owner.id)
    db.session.commit()
    db.session.expire_all()

    assert (summary.carried, summary.flagged, summary.not_carried) == (5, 3, 0)
    assert summary.message() == (
        "5 codings carried over to the new transcript, 3 need checking. "
        "1 theme quote stayed on the old transcript because the words changed: "
        "“D-SNP plans”. The new transcript has no speaker “Facilitator”: link its speakers "
        "to participants again.")
    # The old transcript keeps its codings as they were: it is the history.
    assert [(c.segment_id, c.start_char, c.end_char, c.quote) for c in on(db, old)] == before
    assert not any(c.needs_check for c in on(db, old))

    n0, n1, n2, n3 = new.segments
    got = {(c.segment_id, c.code_id, c.quote): c for c in on(db, new)}
    assert len(got) == 6  # the split passage became two codings
    # Found unchanged (case and commas aside): carried as is, not flagged.
    care = got[(n3.id, mech.id, "Care coordination")]
    assert n3.text[care.start_char:care.end_char] == "Care coordination"
    assert not care.needs_check and care.coder_id == owner.id
    assert care.origin is CodingOrigin.SUGGESTION
    dana_span = got[(n0.id, mech.id, "joining us Dana")]
    assert not dana_span.needs_check and dana_span.coder_id == coder.id
    # Split across two new segments: two parts, both flagged; the memo went to the first.
    first = got[(n1.id, enrol.id, "aligned")]
    second = got[(n2.id, enrol.id, "enrollment")]
    assert (second.start_char, second.end_char) == (0, 10)
    assert first.needs_check and second.needs_check
    assert "splits “aligned enrollment” across 2 segments" in first.check_reason
    assert [m.body for m in first.memos] == ["Alignment, again"]
    assert codings[0].memos == []
    # Re-worded: on the words that replaced them, flagged, the old quote kept.
    dsnp = got[(n1.id, mech.id, "D-SNP plans")]
    assert n1.text[dsnp.start_char:dsnp.end_char] == "DSNP plans"
    assert dsnp.check_reason == ("re-transcription changed the words “D-SNP plans” to "
                                 "“DSNP plans”; check the span")
    # Gone: on the passage heard at that time, flagged.
    gone = got[(n3.id, enrol.id, "honestly")]
    assert (gone.start_char, gone.end_char) == (0, len(n3.text)) and gone.needs_check
    assert "“honestly” are not in the new transcript" in gone.check_reason

    links = db.session.scalars(db.select(SpeakerLink).where(
        SpeakerLink.transcript_id == new.id)).all()
    assert [(link.speaker, link.participant_id) for link in links] == [("", dana.id)]
    assert db.session.scalar(db.select(db.func.count(SpeakerLink.id)).where(
        SpeakerLink.transcript_id == old.id)) == 2

    kept, reworded = db.session.get(ThemeEvidence, kept.id), db.session.get(
        ThemeEvidence, reworded.id)
    assert (kept.segment_id, kept.quote, kept.coding_id) == (n3.id, "Care coordination",
                                                             care.id)
    assert n3.text[kept.start_char:kept.end_char] == "Care coordination"
    assert (reworded.segment_id, reworded.quote) == (s1.id, "D-SNP plans")

    assert db.session.get(Suggestion, pending_id) is None  # the tagger proposes again
    assert db.session.get(Suggestion, decided_id) is not None
    assert db.session.get(Memo, note.id).transcript_id == new.id


def test_an_open_independent_pass_goes_on_on_the_new_transcript(db, team):
    study, owner, coder, other, recording = team
    mech = code_of(db, study, "integration-mechanisms")
    old = transcribe(study, recording, FIRST_RUN)
    closed = create_assignment(owner, study, old, [coder, other])
    code(coder, study, old.segments[2], "Care coordination", mech)
    closed.status = AssignmentStatus.CANCELLED
    assignment = create_assignment(owner, study, old, [coder, other], blind=False)
    mine = code(coder, study, old.segments[1], "rural counties", mech)
    assert mine.assignment_id == assignment.id
    ruling = adjudicate(owner, assignment, old.segments[1], mech, apply=True,
                        from_coder=coder, note="Coder 1 is right")
    db.session.commit()

    new = transcribe(study, recording, SECOND_RUN)
    summary = carry_over(old, new, actor_id=owner.id)
    db.session.commit()

    assert summary.assignments_moved == 1 and summary.carried == 1
    assert assignment.status is AssignmentStatus.CANCELLED and assignment.closed_by_id == owner.id
    twin = db.session.scalar(db.select(CodingAssignment).where(
        CodingAssignment.transcript_id == new.id))
    assert twin.status is AssignmentStatus.OPEN and not twin.blind
    assert {c.user_id for c in twin.coders} == {coder.id, other.id}
    (copy,) = on(db, new)
    assert (copy.assignment_id, copy.segment_id, copy.quote) == (
        twin.id, new.segments[2].id, "rural counties")
    # The ruling follows the codings it rules on (the new run put them in segment 2).
    (moved,) = twin.adjudications
    assert (moved.segment_id, moved.code_id, moved.apply_from_id, moved.note) == (
        new.segments[2].id, mech.id, coder.id, ruling.note)
    assert build_report(twin).codings == 1
    assert len(on(db, old)) == 2  # both layers stay where they were


def test_a_rerun_of_the_transcription_job_carries_the_codings_over(db, team, monkeypatch):
    study, owner, coder, _, recording = team
    stored_path(FILES, recording.stored_name).write_bytes(b"not really audio")
    runs = iter([("tiny.en", FIRST_RUN), ("base", SECOND_RUN)])

    def fake_whisper(path, **options):  # Whisper itself is tested in tests/transcripts
        model, segments = next(runs)
        return TranscriptResult("en", 0.99, 15_000, model, segments)

    monkeypatch.setattr(recording_tasks, "transcribe", fake_whisper)

    def run_transcription() -> Job:
        job = Job(kind="transcribe", study_id=study.id, target_type="recording",
                  target_id=recording.id, created_by_id=owner.id, params={})
        db.session.add(job)
        db.session.commit()
        done = run_job(job.id, recording_tasks.transcribe_recording)
        assert done.status is JobStatus.SUCCEEDED, done.error
        return done

    assert run_transcription().message == "Transcribed 3 segments in en."
    db.session.expire(recording)  # the job ran in its own session
    first = recording.current_transcript
    mech = code_of(db, study, "integration-mechanisms")
    code(coder, study, first.segments[2], "Care coordination", mech)
    code(coder, study, first.segments[1], "D-SNP plans", mech)
    db.session.commit()

    job = run_transcription()
    assert job.message == ("Transcribed 4 segments in en. 2 codings carried over to the new "
                           "transcript, 1 needs checking.")
    db.session.expire(recording)
    second = recording.current_transcript
    assert second.id != first.id and second.model == "base"
    assert not db.session.get(Transcript, first.id).is_current
    assert [(c.quote, c.needs_check) for c in on(db, second)] == [
        ("Care coordination", False), ("D-SNP plans", True)]
    assert len(on(db, first)) == 2
