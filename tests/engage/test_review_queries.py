"""Queries: frequency by stakeholder group and session kind, co-occurrence, coded quotes; CSV."""

from __future__ import annotations

import csv
import io

import pytest

from models import Code, Coding, Memo, Participant, Role, SpeakerLink, StakeholderGroup, StudyRole


@pytest.fixture
def coded_study(make, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER, name="Casey Coder")
    make.member(study, coder, StudyRole.CODER)
    transcript = make.transcript(study, [
        "We need D-SNP plans in rural counties.",
        "Care coordination is the hard part.",
        "=cmd|' /C calc'!A0 is what a spreadsheet must never run."],
        speakers=["Dana", "Dana", "Luis"], title="County interview")
    comment = make.comment(make.consultation(study, title="Draft strategy"),
                           "PACE helps rural families.", answers={"stakeholder_group": "Providers"})
    codes = {c.key: c for c in db.session.scalars(db.select(Code).where(
        Code.study_id == study.id))}
    groups = {g.name: g for g in study.stakeholder_groups}
    dana = Participant(study_id=study.id, name="Dana Whitfield",
                       stakeholder_group_id=groups["State officials"].id)
    db.session.add(dana)
    db.session.flush()
    db.session.add(SpeakerLink(transcript_id=transcript.id, speaker="Dana",
                               participant_id=dana.id))
    s1, s2, s3 = transcript.segments

    def add(key, unit, quote, **where):
        start = unit.text.index(quote) if hasattr(unit, "text") else unit.body.index(quote)
        coding = Coding(study_id=study.id, code_id=codes[key].id, start_char=start,
                        end_char=start + len(quote), quote=quote, coder_id=coder.id, **where)
        db.session.add(coding)
        return coding

    add("integration-mechanisms", s1, "D-SNP plans", segment_id=s1.id)
    add("equity-strategies", s1, "rural counties", segment_id=s1.id)
    add("equity-strategies", s1, "rural", segment_id=s1.id)  # same unit: counts once
    first = add("delivery-system-supports", s2, "Care coordination", segment_id=s2.id)
    add("lessons-learned", s3, "=cmd|' /C calc'!A0", segment_id=s3.id)
    add("integration-mechanisms", comment, "PACE", comment_id=comment.id)
    add("equity-strategies", comment, "rural families", comment_id=comment.id)
    db.session.flush()
    db.session.add(Memo(study_id=study.id, body="Key quote", coding_id=first.id))
    db.session.commit()
    return study, owner, coder, codes


def read_csv(client, url):
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_frequency_by_stakeholder_group(client, login, coded_study):
    study, _, coder, _ = coded_study
    login(coder)
    rows = read_csv(client, f"/studies/{study.id}/queries/frequency.csv?by=group")
    header = rows[0]
    by_code = {r[0].split(" › ")[-1]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    equity = by_code["Strategies to address equity"]
    assert equity["State officials (passages)"] == "1"
    assert equity["State officials (codings)"] == "2"
    assert equity["Providers (passages)"] == "1"  # the comment's own answer
    assert equity["total passages"] == "2"
    assert by_code["Lessons learned and best practices"]["Not recorded (passages)"] == "1"
    page = client.get(f"/studies/{study.id}/queries").get_data(as_text=True)
    assert "Code frequency by stakeholder group" in page and "State officials" in page


def test_frequency_by_session_kind(client, login, coded_study):
    study, _, coder, _ = coded_study
    login(coder)
    rows = read_csv(client, f"/studies/{study.id}/queries/frequency.csv?by=session")
    assert rows[0][1:3] == ["Transcript (no session linked) (passages)",
                            "Public comment (passages)"]
    mech = next(r for r in rows if r[0].endswith("Integration mechanisms"))
    assert mech[1:4] == ["1", "1", "2"]
    assert client.get(f"/studies/{study.id}/queries/frequency.csv?by=shoe").status_code == 404


def test_cooccurrence_matrix(client, login, coded_study):
    study, _, coder, _ = coded_study
    login(coder)
    rows = read_csv(client, f"/studies/{study.id}/queries/cooccurrence.csv")
    names = [h.split(" › ")[-1] for h in rows[0][1:]]
    matrix = {r[0].split(" › ")[-1]: dict(zip(names, r[1:], strict=True)) for r in rows[1:]}
    mech, equity = "Integration mechanisms", "Strategies to address equity"
    assert matrix[mech][equity] == matrix[equity][mech] == "2"  # segment 1 and the comment
    assert matrix[mech][mech] == "2" and matrix[equity][equity] == "2"
    assert matrix["Delivery system supports"][mech] == "0"


def test_coded_quotes_with_source_speaker_and_group(client, login, coded_study):
    study, _, coder, codes = coded_study
    login(coder)
    rows = read_csv(client, f"/studies/{study.id}/queries/quotes.csv")
    header = rows[0]
    assert header[:9] == ["code", "code_key", "quote", "source", "document", "location",
                          "speaker", "stakeholder_group", "session_kind"]
    records = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert len(records) == 7
    care = next(r for r in records if r["quote"] == "Care coordination")
    assert (care["source"], care["document"], care["speaker"], care["stakeholder_group"],
            care["coder"], care["memos"]) == ("transcript", "County interview", "Dana",
                                              "State officials", "Casey Coder", "Key quote")
    assert care["location"] == "00:05 · Dana"
    pace = next(r for r in records if r["quote"] == "PACE")
    assert (pace["source"], pace["stakeholder_group"], pace["speaker"]) == (
        "comment", "Providers", "")
    formula = next(r for r in records if r["code_key"] == "lessons-learned")
    assert formula["quote"].startswith("'=")  # never a live formula in Excel
    # One code with its subcodes, or without.
    domains = codes["interview-domains"]
    sub = read_csv(client, f"/studies/{study.id}/queries/quotes.csv?code={domains.id}")
    assert len(sub) == 1 + 7  # every code used is an interview domain
    alone = read_csv(client,
                     f"/studies/{study.id}/queries/quotes.csv?code={domains.id}&subcodes=0")
    assert len(alone) == 1
    page = client.get(f"/studies/{study.id}/queries?code={codes['equity-strategies'].id}")
    assert "3 quotes for Strategies to address equity" in page.get_data(as_text=True)


def test_queries_on_an_empty_study(client, login, make, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    login(owner)
    page = client.get(f"/studies/{study.id}/queries").get_data(as_text=True)
    assert "Nothing is coded yet" in page
    assert read_csv(client, f"/studies/{study.id}/queries/cooccurrence.csv") == [["code"]]
    groups = db.session.scalars(db.select(StakeholderGroup.name).where(
        StakeholderGroup.study_id == study.id).order_by(StakeholderGroup.position)).all()
    header = read_csv(client, f"/studies/{study.id}/queries/frequency.csv")[0]
    assert header[1:len(groups) + 1] == [f"{g} (passages)" for g in groups]


def test_session_kind_comes_from_the_linked_session(app, make, db):
    """A transcript's units report the kind of the session its recording was made in."""
    from engage.analysis.units import NO_SESSION, transcript_units
    from engage.transcript_editor.operations import create_transcript
    from models import Recording, SessionKind
    from transcripts.segments import Segment

    owner = make.user()
    study = make.study(owner)
    recording = Recording(study_id=study.id, title="r", stored_name="abc", sha256="0" * 64,
                          size_bytes=1, duration_ms=1000)
    db.session.add(recording)
    db.session.flush()
    transcript = create_transcript(study.id, [Segment(0, 1000, "We use D-SNPs.")], title="t",
                                   source="vtt", recording=recording)
    db.session.commit()
    assert transcript_units(transcript)[0].session_kind == NO_SESSION
    offer = make.offer(study, kind=SessionKind.FOCUS_GROUP)
    session = offer.sessions[0]
    session.recordings.append(recording)
    db.session.commit()
    db.session.expire_all()
    kind = transcript_units(db.session.get(type(transcript), transcript.id))[0].session_kind
    assert kind == str(getattr(SessionKind.FOCUS_GROUP, "label", SessionKind.FOCUS_GROUP))
