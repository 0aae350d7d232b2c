"""Reading and correcting transcripts: revisions, revert, speakers, split, merge, import, export."""

from __future__ import annotations

import io

import pytest

from engage.transcript_editor.operations import create_transcript
from models import Role, SegmentRevision, StudyRole, Transcript, TranscriptSegment
from transcripts.formats import from_vtt
from transcripts.segments import Segment, Word


@pytest.fixture
def setup(make, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER, name="Casey Coder")
    make.member(study, coder, StudyRole.CODER)
    transcript = create_transcript(study.id, [
        Segment(0, 2000, "Thank you for joining.", speaker="SPEAKER_1",
                words=[Word(0, 900, "Thank", 0.9), Word(900, 2000, "you", 0.9)]),
        Segment(2000, 5000, "We talk about D-SNP enrollment today.", speaker="SPEAKER_2",
                avg_logprob=-1.4),
        Segment(5000, 8000, "Members find doctors in the county.", speaker="SPEAKER_1"),
    ], title="Interview A", source="whisper")
    db.session.commit()
    return study, owner, coder, transcript


def url(study, transcript, rest=""):
    return f"/studies/{study.id}/transcripts/{transcript.id}{rest}"


def test_page_shows_segments_and_flags_low_confidence(client, login, setup):
    study, _, coder, transcript = setup
    login(coder)
    page = client.get(url(study, transcript)).get_data(as_text=True)
    assert "We talk about D-SNP enrollment today." in page
    assert page.count('class="segment needs-review"') == 1
    assert 'data-start="2000"' in page


def test_coder_edits_text_and_speaker_with_revisions_and_reverts(client, login, setup, db):
    study, _, coder, transcript = setup
    login(coder)
    segment = transcript.segments[0]
    response = client.post(url(study, transcript, f"/segments/{segment.id}"),
                           data={"text": "Thank you  for joining us.", "speaker": "Facilitator"})
    assert response.headers["Location"].endswith(f"#segment-{segment.id}")
    db.session.expire_all()
    segment = db.session.get(TranscriptSegment, segment.id)
    assert (segment.text, segment.speaker, segment.edited) == (
        "Thank you for joining us.", "Facilitator", True)
    assert segment.words == []  # old word timings no longer describe the text
    revisions = {r.field: r for r in segment.revisions}
    assert revisions["text"].before == "Thank you for joining."
    assert revisions["speaker"].after == "Facilitator"
    assert revisions["text"].user_id == coder.id
    history = client.get(url(study, transcript, f"/segments/{segment.id}/history"))
    assert "Casey Coder" in history.get_data(as_text=True)
    client.post(url(study, transcript, f"/revisions/{revisions['text'].id}/revert"))
    db.session.expire_all()
    segment = db.session.get(TranscriptSegment, segment.id)
    assert segment.text == "Thank you for joining."
    assert len(segment.revisions) == 3  # the revert is kept as a revision too


def test_empty_text_is_refused(client, login, setup, db):
    study, _, coder, transcript = setup
    login(coder)
    segment = transcript.segments[1]
    page = client.post(url(study, transcript, f"/segments/{segment.id}"),
                       data={"text": "   ", "speaker": "x"}, follow_redirects=True)
    assert "needs some text" in page.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(SegmentRevision.id))) == 0


def test_rename_speaker_everywhere(client, login, setup, db):
    study, _, coder, transcript = setup
    login(coder)
    client.post(url(study, transcript, "/speakers"),
                data={"old": "SPEAKER_1", "new": "Facilitator"})
    db.session.expire_all()
    speakers = [s.speaker for s in db.session.get(Transcript, transcript.id).segments]
    assert speakers == ["Facilitator", "SPEAKER_2", "Facilitator"]
    assert db.session.scalar(db.select(db.func.count(SegmentRevision.id))) == 2


def test_split_and_merge(client, login, setup, db):
    study, _, coder, transcript = setup
    login(coder)
    segment = transcript.segments[1]
    at = len("We talk about D-SNP")
    client.post(url(study, transcript, f"/segments/{segment.id}/split"), data={"at": at})
    db.session.expire_all()
    texts = [(s.position, s.text, s.start_ms, s.end_ms)
             for s in db.session.get(Transcript, transcript.id).segments]
    assert [t[1] for t in texts] == ["Thank you for joining.", "We talk about D-SNP",
                                     "enrollment today.", "Members find doctors in the county."]
    assert [t[0] for t in texts] == [0, 1, 2, 3]
    assert texts[1][2] == 2000 and texts[1][3] == texts[2][2] and texts[2][3] == 5000
    client.post(url(study, transcript, f"/segments/{segment.id}/merge"))
    db.session.expire_all()
    merged = db.session.get(TranscriptSegment, segment.id)
    assert merged.text == "We talk about D-SNP enrollment today."
    assert (merged.start_ms, merged.end_ms) == (2000, 5000)
    assert len(db.session.get(Transcript, transcript.id).segments) == 3
    last = db.session.get(Transcript, transcript.id).segments[-1]
    page = client.post(url(study, transcript, f"/segments/{last.id}/merge"),
                       follow_redirects=True).get_data(as_text=True)
    assert "nothing to merge it with" in page


def test_export_formats_round_trip(client, login, setup):
    study, _, coder, transcript = setup
    login(coder)
    vtt = client.get(url(study, transcript, "/export.vtt"))
    assert vtt.mimetype == "text/vtt"
    segments = from_vtt(vtt.get_data(as_text=True))
    assert [(s.start_ms, s.end_ms, s.speaker, s.text) for s in segments] == [
        (0, 2000, "SPEAKER_1", "Thank you for joining."),
        (2000, 5000, "SPEAKER_2", "We talk about D-SNP enrollment today."),
        (5000, 8000, "SPEAKER_1", "Members find doctors in the county."),
    ]
    for fmt in ("txt", "srt", "docx"):
        response = client.get(url(study, transcript, f"/export.{fmt}"))
        assert response.status_code == 200 and len(response.data) > 50
        assert f"transcript-{transcript.id}.{fmt}" in response.headers["Content-Disposition"]
    docx = client.get(url(study, transcript, "/export.docx")).data
    assert docx[:2] == b"PK"
    assert client.get(url(study, transcript, "/export.exe")).status_code == 404


def test_import_vtt_and_bad_file(client, login, setup, db):
    study, owner, _, _ = setup
    login(owner)
    vtt = ("WEBVTT\n\n00:00:01.000 --> 00:00:04.500\n<v Dana>We need aligned enrollment.\n\n"
           "00:00:04.500 --> 00:00:07.000\n<v Luis>And PACE in rural counties.\n")
    response = client.post(f"/studies/{study.id}/transcripts/import", data={
        "title": "Focus group", "recording": "0",
        "file": (io.BytesIO(vtt.encode()), "focus.vtt")}, content_type="multipart/form-data")
    assert response.status_code == 302
    imported = db.session.scalar(db.select(Transcript).where(Transcript.title == "Focus group"))
    assert imported.source == "vtt" and imported.recording_id is None
    assert [(s.speaker, s.start_ms) for s in imported.segments] == [("Dana", 1000),
                                                                    ("Luis", 4500)]
    broken = "WEBVTT\n\n00:00:01.000 --> banana\nText\n"
    response = client.post(f"/studies/{study.id}/transcripts/import", data={
        "title": "Broken", "recording": "0",
        "file": (io.BytesIO(broken.encode()), "broken.vtt")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Line 3: not a timestamp" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(Transcript).where(Transcript.title == "Broken")) is None


def test_other_studies_cannot_reach_segments(client, login, setup, make, db):
    study, _, _, transcript = setup
    other_owner = make.user(Role.RESEARCHER)
    other = make.study(other_owner)
    login(other_owner)
    segment = transcript.segments[0]
    assert client.get(url(study, transcript)).status_code == 404
    # The other study's own URL with this study's transcript id is also 404.
    assert client.post(f"/studies/{other.id}/transcripts/{transcript.id}/segments/{segment.id}",
                       data={"text": "hijack"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(TranscriptSegment, segment.id).text == "Thank you for joining."
