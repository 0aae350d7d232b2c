"""Exports: theme summaries, CSVs, REFI-QDA .qdpx/.qdc (schema-valid, round trip), import."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from lxml import etree
from sqlalchemy import select

from engage.consultations.moderation import public_text
from engage.security import AUTH_AT
from engage.themes.operations import add_coding_evidence, add_evidence, create_theme, set_codes
from models import (
    AuditEvent,
    Code,
    Coding,
    Comment,
    Consultation,
    Memo,
    Participant,
    SpeakerLink,
    Theme,
    Transcript,
    TranscriptSegment,
)
from tests.analysis_world import NAMES, PII, build

SCHEMAS = Path(__file__).resolve().parents[2] / "coding" / "schemas"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refi"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "refi-qda"


@pytest.fixture
def world(make, db):
    data = build(make, db)
    owner = data["owner"]
    theme = create_theme(owner, data["study"], "Getting to care",
                         "Rides fail people, in interviews and comments alike.")
    set_codes(owner, theme, [data["codes"][0]])
    add_coding_evidence(owner, theme, data["codings"][0])
    add_coding_evidence(owner, theme, data["codings"][1])
    second = create_theme(owner, data["study"], "Coordination works")
    add_evidence(owner, second, str(data["codings"][2].unit_ref),
                 quote="care coordinators call every member")
    db.session.commit()
    data["themes"] = [theme, second]
    return data


def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def _no_personal_data(text: str) -> None:
    for secret in (*NAMES, *PII, "Whitfield", "Ortega"):
        assert secret not in text, secret


def _get(client, world, fmt, **args):
    response = client.get(f"/studies/{world['study'].id}/exports/{fmt}", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


def test_theme_summary_docx(client, login, world, db):
    login(world["owner"])
    response = _get(client, world, "docx")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Disposition"].endswith('duals-study-themes.docx')
    doc = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(
        c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "Getting to care" in text and "Coordination works" in text
    assert "Rides fail people, in interviews and comments alike." in text
    assert "“The van to dialysis is always late”" in text
    assert "“The dialysis van is always late”" in text
    assert "— Providers · Transcript\n" in text and "— Consumer groups · Public comment" in text
    assert "“care coordinators call every member”" in text
    assert "Casey Coder: 6 codings" in text  # method: coders
    assert "No independent double coding" in text
    _no_personal_data(text)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "study.export")).one()
    assert event.detail["format"] == "docx" and event.study_id == world["study"].id
    assert event.actor_id == world["owner"].id


def test_markdown_html_and_csv_never_name_anyone(client, login, world):
    login(world["owner"])
    md = _get(client, world, "md").get_data(as_text=True)
    assert "## Themes" in md and "### Getting to care" in md
    html = _get(client, world, "html").get_data(as_text=True)
    assert "<h3>Getting to care</h3>" in html
    data = _get(client, world, "csv").data.decode("utf-8-sig")
    for text in (md, html, data):
        _no_personal_data(text)
    rows = list(csv.DictReader(io.StringIO(data)))
    assert list(rows[0]) == [
        "coding_id", "code", "code_key", "text", "source", "document", "location", "unit",
        "speaker", "stakeholder_group", "session_kind", "participant", "region", "county",
        "coder", "origin", "coded_at", "start_char", "end_char"]
    assert len(rows) == len(world["codings"])
    dana = world["participants"][0]
    by_text = {r["text"]: r for r in rows}
    van = by_text["The van to dialysis is always late"]
    assert {van["speaker"], van["participant"], van["stakeholder_group"], van["region"]} >= {
        f"P{dana.id}", "Providers", "Central"}
    assert any(r["source"] == "comment" and r["stakeholder_group"] == "Consumer groups"
               for r in rows)
    assert {r["coder"] for r in rows} == {"Casey Coder"}


def test_exports_are_for_researchers_who_signed_in_recently(client, login, world):
    sid = world["study"].id
    login(world["coder"])
    assert client.get(f"/studies/{sid}/exports/docx").status_code == 403
    assert client.get(f"/studies/{sid}/exports").status_code == 403
    client.post("/logout")
    login(world["owner"])
    assert client.get(f"/studies/{sid}/exports").status_code == 200
    assert client.get(f"/studies/{sid}/exports/nonsense").status_code == 404
    with client.session_transaction() as session:
        session[AUTH_AT] -= 60 * 60
    response = client.get(f"/studies/{sid}/exports/qdpx")
    assert response.status_code == 302 and "/confirm" in response.headers["Location"]


def test_qdc_validates_against_the_codebook_schema(client, login, world):
    login(world["owner"])
    data = _get(client, world, "qdc").data
    assert _schema("Codebook.xsd").validate(etree.fromstring(data))


def test_schemas_are_the_shared_refi_qda_ones():
    if not SHARED.exists():
        pytest.skip("no ../shared checkout")
    for name in ("Project.xsd", "Codebook.xsd"):
        assert (SCHEMAS / name).read_bytes() == (SHARED / name).read_bytes()


def _snapshot(db, study):
    """Everything a round trip must keep, by content rather than ids."""
    codes = {c.id: c.name for c in db.session.scalars(select(Code).where(
        Code.study_id == study.id))}
    segments = {s.id: s for s in db.session.scalars(select(TranscriptSegment).join(Transcript)
                                                     .where(Transcript.study_id == study.id))}
    comments = {c.id: c for c in db.session.scalars(select(Comment).join(Consultation).where(
        Consultation.study_id == study.id))}
    codings = set()
    for c in db.session.scalars(select(Coding).where(Coding.study_id == study.id)):
        unit = segments[c.segment_id].text if c.segment_id else public_text(
            comments[c.comment_id])
        codings.add((codes[c.code_id], unit, c.start_char, c.end_char, c.quote))
    transcripts = sorted((s.transcript.title, s.position, s.text, s.start_ms, s.end_ms)
                         for s in segments.values())
    themes = sorted((t.name, t.summary, t.status.value, tuple(e.quote for e in t.evidence),
                     tuple(sorted(c.name for c in t.codes)))
                    for t in db.session.scalars(select(Theme).where(Theme.study_id == study.id)))
    memos = sorted(m.body for m in db.session.scalars(select(Memo).where(
        Memo.study_id == study.id)))
    return codings, transcripts, sorted(public_text(c) for c in comments.values()), themes, memos


def test_qdpx_validates_and_imports_back_with_identical_codings(client, login, world, make,
                                                               db):
    login(world["owner"])
    data = _get(client, world, "qdpx").data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        qde = zf.read("project.qde")
        everything = "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist())
    schema = _schema("Project.xsd")
    tree = etree.fromstring(qde)
    assert schema.validate(tree), schema.error_log
    ns = {"q": "urn:QDA-XML:project:1.0"}
    assert len(tree.findall(".//q:PlainTextSelection", ns)) == len(world["codings"])
    assert len(tree.findall(".//q:Case", ns)) == 2
    assert len(tree.findall(".//q:Set", ns)) == 2
    assert len(tree.findall("q:Notes/q:Note", ns)) == 4 + 2  # memos + a note per theme
    _no_personal_data(everything)  # names masked, speakers pseudonymous, comments redacted

    target = make.study(world["owner"], name="Re-imported")
    response = client.post(f"/studies/{target.id}/exports/import",
                           data={"file": (io.BytesIO(data), "duals.qdpx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    before = _snapshot(db, world["study"])
    after = _snapshot(db, target)
    codings_before, transcripts_before, comments_before, themes_before, memos_before = before
    codings_after, transcripts_after, comments_after, themes_after, memos_after = after
    assert codings_after == codings_before and len(codings_after) == 6
    assert comments_after == comments_before
    # Participant names in transcript text are masked on the way out.
    assert [t[2] for t in transcripts_after] == [
        t[2].replace("Dana.", "[name].") for t in transcripts_before]
    assert [t[3:] for t in transcripts_after] == [t[3:] for t in transcripts_before]
    assert themes_after == themes_before
    assert memos_after == memos_before
    # Cases came back as pseudonymous participants linked to their speakers.
    participants = db.session.scalars(select(Participant).where(
        Participant.study_id == target.id)).all()
    assert sorted(p.name for p in participants) == sorted(
        f"P{p.id}" for p in world["participants"])
    assert {p.stakeholder_group.name for p in participants} == {"Providers", "Health plans"}
    links = db.session.scalars(select(SpeakerLink).join(Transcript).where(
        Transcript.study_id == target.id)).all()
    assert len(links) == 2
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "study.import"))
    assert audit.one().study_id == target.id


def _foreign_qdpx() -> bytes:
    # A project as another tool writes it: braces in a GUID, text in sources/ with a BOM.
    qde = (FIXTURES / "other-tool-project.qde").read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("project.qde", qde)
        zf.writestr("sources/77777777-7777-4777-8777-777777777777.txt",
                    "\ufeffThe bus was late.\nWe missed the clinic twice.\n".encode())
    return out.getvalue()


def test_import_of_another_tools_project(client, login, world, make, db):
    target = make.study(world["owner"], name="From NVivo")
    login(world["owner"])
    response = client.post(f"/studies/{target.id}/exports/import",
                           data={"file": (io.BytesIO(_foreign_qdpx()), "nvivo.qdpx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.expire_all()
    transcript = db.session.scalars(select(Transcript).where(
        Transcript.study_id == target.id)).one()
    assert [s.text for s in transcript.segments] == ["The bus was late.",
                                                     "We missed the clinic twice."]
    codings = db.session.scalars(select(Coding).where(Coding.study_id == target.id)).all()
    # One selection across two lines becomes one coding per segment.
    assert sorted(c.quote for c in codings) == ["We missed th", "bus was late."]
    assert {c.code.name for c in codings} == {"Transport"}
    assert {c.coder_id for c in codings} == {world["owner"].id}  # Casey is not a member there
    assert db.session.scalars(select(Code).where(Code.study_id == target.id,
                                                 Code.name == "Transport")).one().parent.name \
        == "Barriers"
    participant = db.session.scalars(select(Participant).where(
        Participant.study_id == target.id)).one()
    assert participant.name == "Respondent 7"
    assert participant.stakeholder_group.name == "Providers" and "Years: 12" in participant.notes
    link = db.session.scalars(select(SpeakerLink).where(
        SpeakerLink.transcript_id == transcript.id)).one()
    assert link.speaker == "" and link.participant_id == participant.id
    assert db.session.scalars(select(Memo).where(Memo.study_id == target.id)).one().body \
        == "Rides again."


def test_bad_uploads_are_refused_with_a_reason(client, login, world, make):
    target = make.study(world["owner"])
    login(world["owner"])
    response = client.post(f"/studies/{target.id}/exports/import",
                           data={"file": (io.BytesIO(b"not a zip"), "x.qdpx")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not a .qdpx project" in response.get_data(as_text=True)
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("project.qde", "<x/>")
        zf.writestr("../../etc/cron.d/evil", "x")
    response = client.post(f"/studies/{target.id}/exports/import",
                           data={"file": (io.BytesIO(evil.getvalue()), "x.qdpx")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "unsafe file name" in response.get_data(as_text=True)


def test_cli_export_writes_a_file(app, world, tmp_path):
    out = tmp_path / "themes.md"
    result = app.test_cli_runner().invoke(args=[
        "engage", "export", "--study", str(world["study"].id), "--format", "md", "-o",
        str(out), "--as", world["owner"].email])
    assert result.exit_code == 0, result.output
    assert "Getting to care" in out.read_text()
    bad = app.test_cli_runner().invoke(args=["engage", "export", "--study", "nope",
                                             "--format", "md"])
    assert bad.exit_code != 0 and "No study" in bad.output


def test_qdpx_with_the_recording_syncs_the_transcript(app, world, db):
    import uuid

    from engage.exports.operations import export
    from engage.uploads import upload_folder
    from models import Recording

    stored = uuid.uuid4().hex
    (upload_folder("recordings") / stored).write_bytes(b"OggS not really audio")
    recording = Recording(study_id=world["study"].id, title="Focus group audio",
                          original_filename="group.ogg", stored_name=stored, sha256="0" * 64,
                          size_bytes=21, duration_ms=30_000)
    db.session.add(recording)
    db.session.flush()
    world["transcript"].recording_id = recording.id
    db.session.commit()
    out = export(world["owner"], world["study"], "qdpx", include_audio=True)
    with zipfile.ZipFile(io.BytesIO(out.data)) as zf:
        tree = etree.fromstring(zf.read("project.qde"))
        audio_files = [n for n in zf.namelist() if n.endswith(".ogg")]
        assert [zf.read(n) for n in audio_files] == [b"OggS not really audio"]
        ns = {"q": "urn:QDA-XML:project:1.0"}
        audio = tree.find(".//q:AudioSource", ns)
        transcript = audio.find("q:Transcript", ns)
        text = zf.read("sources/" + transcript.get("plainTextPath").split("://")[1]).decode()
    assert _schema("Project.xsd").validate(tree)
    assert audio.get("path") == f"internal://{audio_files[0].split('/')[1]}"
    points = transcript.findall("q:SyncPoint", ns)
    assert len(points) == len(world["transcript"].segments)
    second = world["transcript"].segments[1]
    assert points[1].get("timeStamp") == str(second.start_ms)
    dana = world["participants"][0]
    assert text[int(points[1].get("position")):].startswith(f"[00:00:05] P{dana.id}: ")
    assert db.session.scalars(select(AuditEvent)).all()[-1].detail["audio"] is True


def test_qdpx_keeps_comments_of_two_consultations_apart(app, make, db):
    """The same regulations.gov ids in two consultations re-import without a clash."""
    from engage.exports.qdpx import export_qdpx, import_qdpx
    from models import Comment, Consultation

    owner = make.user()
    study = make.study(owner)
    for title in ("First docket", "Second docket"):
        consultation = make.consultation(study, title=title)
        make.comment(consultation, "Same id, different docket.", external_id="DOC-1")
    data = export_qdpx(study)
    target = make.study(owner)
    summary = import_qdpx(owner, target, data)
    db.session.commit()
    assert summary.comments == 2
    titles = db.session.scalars(db.select(Consultation.title).where(
        Consultation.study_id == target.id)).all()
    assert len(titles) == 2 and any(t.startswith("First docket") for t in titles)
    assert db.session.scalar(db.select(db.func.count(Comment.id)).join(Consultation).where(
        Consultation.study_id == target.id)) == 2
