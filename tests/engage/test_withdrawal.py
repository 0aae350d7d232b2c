"""A participant withdraws: their recordings and transcripts are deleted or kept
de-identified, the choice is in the audit log, and later exports do not contain them."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import select

from engage.analysis.operations import apply_codes
from engage.exports.operations import export
from engage.recordings.operations import FILES
from engage.scheduling.bookings import book
from engage.scheduling.sessions import link_recording
from engage.scheduling.withdrawal import Retention, find_material, withdraw_participant
from engage.themes.operations import add_evidence, create_theme
from engage.transcript_editor.operations import create_transcript
from engage.uploads import stored_path
from models import (
    AuditEvent,
    Code,
    Coding,
    Participant,
    Recording,
    Role,
    SessionKind,
    SpeakerLink,
    StudyRole,
    Transcript,
    TranscriptSegment,
    UnitRef,
)
from transcripts.segments import Segment

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"
IDENTIFIERS = ("Maria", "Lopez", "maria@riverside.example", "Riverside Clinic")

INTERVIEW = [
    Segment(0, 3_000, "Thanks for joining us, Maria.", speaker="Facilitator"),
    Segment(3_500, 7_000, "I run intake at Riverside Clinic; write to maria@riverside.example.",
            speaker="Maria"),
    Segment(7_500, 11_000, "Care coordination is what our members need most.",
            speaker="Maria"),
]
FOCUS_GROUP = [
    Segment(0, 3_000, "Welcome, everyone.", speaker="Facilitator"),
    Segment(3_000, 6_000, "Enrollment letters confuse our members at Riverside Clinic.",
            speaker="Maria"),
    Segment(6_000, 9_000, "I agree with Maria Lopez about the letters.", speaker="Sam"),
    Segment(9_000, 11_000, "Plans should share one form.", speaker="Sam"),
]


@pytest.fixture
def world(app, db, make):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    maria = make.participant(study, "Maria Lopez", email="maria@riverside.example",
                             organization="Riverside Clinic", region="North")
    sam = make.participant(study, "Sam Okafor")
    interview = make.offer(study, [maria], actor=owner).sessions[0]
    group = make.offer(study, [maria, sam], actor=owner, capacity=2,
                       kind=SessionKind.FOCUS_GROUP).sessions[0]
    for invitation in [*interview.offer.invitations, *group.offer.invitations]:
        session = interview if invitation.offer_id == interview.offer_id else group
        book(invitation, session.id, consent_name="x", consent_given=True,
             consent_text_id=session.offer.consent_text_id)
    recordings = {}
    for name, fixture, segments, session in (
            ("Interview with Maria Lopez", "three_sentences.ogg", INTERVIEW, interview),
            ("North focus group", "three_sentences.mp3", FOCUS_GROUP, group)):
        recording = _recording(db, study, owner, name, AUDIO / fixture)
        link_recording(owner, session, recording)
        transcript = create_transcript(study.id, segments, title=name, source="whisper",
                                       recording=recording)
        db.session.add(SpeakerLink(transcript_id=transcript.id, speaker="Maria",
                                   participant_id=maria.id))
        if session is group:
            db.session.add(SpeakerLink(transcript_id=transcript.id, speaker="Sam",
                                       participant_id=sam.id))
        recordings[name] = recording
    db.session.commit()
    code = db.session.scalar(select(Code).where(Code.study_id == study.id))
    interview_t, group_t = (r.current_transcript for r in recordings.values())
    for segment, quote in ((interview_t.segments[1], "Riverside Clinic"),
                           (interview_t.segments[2], "Care coordination"),
                           (group_t.segments[1], "Enrollment letters"),
                           (group_t.segments[2], "agree with Maria Lopez"),
                           (group_t.segments[3], "share one form")):
        apply_codes(coder, study, UnitRef("segment", segment.id), [code], quote=quote)
    theme = create_theme(owner, study, "Letters")
    add_evidence(owner, theme, f"segment:{group_t.segments[1].id}",
                 quote="Enrollment letters confuse our members")
    add_evidence(owner, theme, f"segment:{group_t.segments[2].id}",
                 quote="I agree with Maria Lopez about the letters.")
    db.session.commit()
    return owner, study, maria, sam, recordings["Interview with Maria Lopez"], \
        recordings["North focus group"]


def _recording(db, study, owner, title: str, source: Path) -> Recording:
    import hashlib
    import uuid

    name = uuid.uuid4().hex
    path = stored_path(FILES, name)
    shutil.copyfile(source, path)
    recording = Recording(study_id=study.id, title=title, stored_name=name,
                          sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                          size_bytes=path.stat().st_size, duration_ms=11_000,
                          container="ogg", uploaded_by_id=owner.id)
    db.session.add(recording)
    db.session.flush()
    return recording


def _loudness(path: Path, start_ms: int, end_ms: int) -> float:
    with av.open(str(path)) as media:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
        samples = np.concatenate([c.to_ndarray().reshape(-1)
                                  for f in media.decode(media.streams.audio[0])
                                  for c in resampler.resample(f)])
    part = samples[start_ms * 16:end_ms * 16]
    return float(np.sqrt(np.mean(part ** 2)))


def _exports(owner, study) -> dict[str, str]:
    """Every export a researcher can make, as text (the .qdpx unzipped, audio included)."""
    out = {}
    for fmt in ("md", "html", "csv"):
        out[fmt] = export(owner, study, fmt).data.decode("utf-8")
    with zipfile.ZipFile(io.BytesIO(export(owner, study, "qdpx", include_audio=True).data)) as z:
        for name in z.namelist():
            out[f"qdpx:{name}"] = z.read(name).decode("utf-8", errors="replace")
    return out


def _sources(exports: dict[str, str]) -> str:
    return "\n".join(text for name, text in exports.items() if name.startswith("qdpx:sources/"))


def _assert_not_in_exports(owner, study, words) -> dict[str, str]:
    exports = _exports(owner, study)
    for name, text in exports.items():
        for word in words:
            assert word.lower() not in text.lower(), f"{word!r} is still in the {name} export"
    return exports


def test_the_plan_finds_their_interview_and_their_turns_in_the_group(world):
    _, _, maria, sam, interview, group = world
    material = find_material(maria)
    assert material.recordings == [interview]
    assert [(s.transcript.recording_id, len(s.segment_ids)) for s in material.shared] == [
        (group.id, 1)]
    assert find_material(sam).recordings == []  # the group recording is not Sam's alone


def test_delete_removes_their_recordings_turns_and_voice(world, db):
    owner, study, maria, sam, interview, group = world
    before = _exports(owner, study)
    assert "Riverside Clinic" in _sources(before)  # exports mask names, not organisations
    assert f'name="P{maria.id}"' in before["qdpx:project.qde"]
    interview_file = stored_path(FILES, interview.stored_name)
    group_file = stored_path(FILES, group.stored_name)
    assert _loudness(group_file, 3_200, 5_800) > 0.01

    withdraw_participant(owner, maria, Retention.DELETE)
    db.session.commit()

    assert db.session.get(Recording, interview.id) is None
    assert not interview_file.exists() and not group_file.exists()
    group = db.session.get(Recording, group.id)
    silenced = stored_path(FILES, group.stored_name)
    assert _loudness(silenced, 3_200, 5_800) < 0.001  # Maria's turn
    assert _loudness(silenced, 6_200, 8_800) > 0.01  # Sam's turn is still heard
    texts = [s.text for s in group.current_transcript.segments]
    assert texts == ["Welcome, everyone.", "I agree with [name] about the letters.",
                     "Plans should share one form."]
    assert [s.position for s in group.current_transcript.segments] == [0, 1, 2]
    quotes = sorted(db.session.scalars(select(Coding.quote).where(Coding.study_id == study.id)))
    assert quotes == ["agree with [name]", "share one form"]
    assert db.session.scalar(select(SpeakerLink).where(
        SpeakerLink.participant_id == maria.id)) is None
    maria = db.session.get(Participant, maria.id)
    assert maria.erased_at and maria.email == "" and maria.organization == ""
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "participant.withdraw"))
    assert event.actor_id == owner.id and event.detail["retention"] == "delete"
    assert event.detail["recordings_deleted"] == [interview.id]
    assert event.detail["segments_deleted"] == 1 and event.detail["audio_silenced"] == [group.id]

    exports = _assert_not_in_exports(owner, study, IDENTIFIERS)
    project = exports["qdpx:project.qde"]
    assert f'name="P{sam.id}"' in project and f'name="P{maria.id}"' not in project
    assert "Plans should share one form" in _sources(exports)
    assert f"P{maria.id}" not in exports["csv"]


def test_deidentify_keeps_their_transcripts_without_them(world, db):
    owner, study, maria, sam, interview, group = world
    interview_file = stored_path(FILES, interview.stored_name)
    interview_transcript_id = interview.current_transcript.id

    withdraw_participant(owner, maria, Retention.DEIDENTIFY)
    db.session.commit()

    # A voice identifies a person: the interview's audio is gone, its transcript stays.
    assert db.session.get(Recording, interview.id) is None and not interview_file.exists()
    kept = db.session.get(Transcript, interview_transcript_id)
    assert kept.recording_id is None and kept.title == "Interview with [name]"
    assert [(s.speaker, s.text) for s in kept.segments] == [
        ("Facilitator", "Thanks for joining us, [name]."),
        (f"P{maria.id}", "I run intake at [organization]; write to [email]."),
        (f"P{maria.id}", "Care coordination is what our members need most.")]
    group = db.session.get(Recording, group.id)
    assert _loudness(stored_path(FILES, group.stored_name), 3_200, 5_800) < 0.001
    segments = group.current_transcript.segments
    assert [(s.speaker, s.text) for s in segments][1:3] == [
        (f"P{maria.id}", "Enrollment letters confuse our members at [organization]."),
        ("Sam", "I agree with [name] about the letters.")]
    # Codings stay on the de-identified words, and masking is not a change to check.
    codings = db.session.scalars(select(Coding).where(Coding.study_id == study.id)
                                 .order_by(Coding.id)).all()
    assert [c.quote for c in codings] == ["[organization]", "Care coordination",
                                          "Enrollment letters", "agree with [name]",
                                          "share one form"]
    assert not any(c.needs_check for c in codings)
    for coding in codings:
        segment = db.session.get(TranscriptSegment, coding.segment_id)
        assert segment.text[coding.start_char:coding.end_char] == coding.quote
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "participant.withdraw"))
    assert event.detail["retention"] == "deidentify"

    exports = _assert_not_in_exports(owner, study, IDENTIFIERS)
    assert "Care coordination is what our members need most" in _sources(exports)
    assert f'name="P{maria.id}"' in exports["qdpx:project.qde"]
    assert f"P{maria.id}" in exports["csv"]  # attributed by pseudonym only


def test_withdraw_page_asks_for_a_choice_and_the_name(world, client, login, db):
    owner, study, maria, _, interview, _ = world
    url = f"/studies/{study.id}/participants/{maria.id}/withdraw"
    login(owner)
    page = client.get(url).get_data(as_text=True)
    assert "Interview with Maria Lopez" in page and "1 of 4 segments" in page
    response = client.post(url, data={"confirm_name": "Maria Lopez"})
    assert response.status_code == 400
    assert "Choose whether their recordings" in response.get_data(as_text=True)
    response = client.post(url, data={"retention": "delete", "confirm_name": "Maria"})
    assert response.status_code == 400
    assert "does not match" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Recording, interview.id) is not None
    assert not db.session.get(Participant, maria.id).erased_at

    response = client.post(url, data={"retention": "deidentify",
                                      "confirm_name": " maria  lopez "})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Participant, maria.id).erased_at
    assert db.session.get(Recording, interview.id) is None
    assert client.post(url, data={"retention": "delete", "confirm_name": "x"}
                       ).status_code == 302  # already withdrawn: told so, nothing done


def test_coders_and_other_studies_cannot_withdraw(world, client, login, make):
    owner, study, maria, _, _, _ = world
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    login(coder)
    url = f"/studies/{study.id}/participants/{maria.id}/withdraw"
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, data={"retention": "delete",
                                  "confirm_name": "Maria Lopez"}).status_code in (403, 404)
    client.post("/logout")
    other = make.study(owner)
    login(owner)
    assert client.get(f"/studies/{other.id}/participants/{maria.id}/withdraw"
                      ).status_code == 404


def test_unreadable_group_audio_refuses_and_changes_nothing(world, client, login, db):
    owner, study, maria, _, interview, group = world
    stored_path(FILES, group.stored_name).write_bytes(b"not audio any more")
    login(owner)
    response = client.post(f"/studies/{study.id}/participants/{maria.id}/withdraw",
                           data={"retention": "delete", "confirm_name": "Maria Lopez"})
    assert response.status_code == 400
    assert "could not be edited" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Recording, interview.id) is not None
    assert stored_path(FILES, interview.stored_name).exists()
    assert not db.session.get(Participant, maria.id).erased_at
    assert sorted(p.name for p in stored_path(FILES, "x").parent.iterdir()) == sorted(
        [interview.stored_name, group.stored_name])  # no half-written copy left behind
