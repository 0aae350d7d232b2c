"""REFI-QDA projects: schema-valid writing, reading back, and defensive reading of uploads."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest
from lxml import etree

from coding.refiqda_codebook import Code
from coding.refiqda_project import (
    NAMESPACE,
    SCHEMA_PATH,
    AudioSource,
    Case,
    Coding,
    Note,
    Project,
    ProjectFormatError,
    Selection,
    Set,
    SyncPoint,
    TextSource,
    User,
    Variable,
    read_qde,
    read_qdpx,
    validate_qde,
    write_qdpx,
)

G = [f"00000000-0000-4000-8000-{i:012d}" for i in range(40)]
TEXT = "Café owners said: the van 🚐 was late again.\nSecond line, naïve coding."


def _project() -> Project:
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    return Project(
        name="Demo & <study>", created=when,
        users=[User(G[0], "Riley Researcher")],
        codes=[Code("domains", "Interview domains", "Parent", "#4a6fa5", guid=G[1],
                    is_codable=False,
                    children=[Code("transport", "Transportation", "Rides", "#abc", guid=G[2])])],
        code_notes={G[2]: [G[20]]},
        variables=[Variable(G[3], "Stakeholder group"), Variable(G[4], "Age", "Integer"),
                   Variable(G[5], "Dual eligible", "Boolean"), Variable(G[6], "Joined", "Date")],
        cases=[Case(G[7], "P1", "Providers", {G[3]: "Providers", G[4]: 54, G[5]: True,
                                               G[6]: "2025-01-02"}, [G[8]])],
        sources=[TextSource(G[8], "Focus group", TEXT, "A transcript", created=when,
                            selections=[Selection(G[9], 18, 42, [Coding(
                                G[10], G[2], G[0], when, [G[21]])], creator=G[0])],
                            note_guids=[G[22]], values={G[3]: "Providers"})],
        audio=[AudioSource(G[11], "Recording", b"OggS fake audio", "ogg",
                           transcript_text=TEXT, transcript_guid=G[12],
                           sync_points=[SyncPoint(G[13], 0, 0), SyncPoint(G[14], 5000, 45)])],
        notes=[Note(G[20], "Code memo", "Use for rides."), Note(G[21], "Coding memo", "Late!"),
               Note(G[22], "Source memo", "Noisy room."), Note(G[23], "Study memo", "Hi")],
        sets=[Set(G[24], "Theme: getting there", "Status: draft", [G[2]], [G[8]], [G[20]])],
        description="Exported for a test", note_guids=[G[23]],
        extra_files={"engage.json": b'{"format": "x"}'})


def _schema():
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def test_written_project_validates_against_the_schema():
    data = write_qdpx(_project())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        qde = zf.read("project.qde")
        assert zf.read(f"sources/{G[8]}.txt").decode("utf-8") == TEXT
        assert zf.read(f"sources/{G[11]}.ogg") == b"OggS fake audio"
    assert {"project.qde", "engage.json", f"sources/{G[8]}.txt"} <= names
    tree = etree.fromstring(qde).getroottree()
    assert _schema().validate(tree), _schema().error_log
    root = tree.getroot()
    assert root.tag == f"{{{NAMESPACE}}}Project" and root.get("name") == "Demo & <study>"
    source = root.find(f".//{{{NAMESPACE}}}TextSource")
    assert source.get("plainTextPath") == f"internal://{G[8]}.txt"


def test_project_reads_back_the_same():
    project = read_qdpx(write_qdpx(_project()), read_audio=True)
    assert project.name == "Demo & <study>" and project.description == "Exported for a test"
    assert [u.name for u in project.users] == ["Riley Researcher"]
    codes = project.all_codes()
    assert [(c.guid, c.name, c.is_codable) for c in codes] == [
        (G[1], "Interview domains", False), (G[2], "Transportation", True)]
    assert project.code_notes == {G[2]: [G[20]]}
    (source,) = project.sources
    assert source.text == TEXT
    (selection,) = source.selections
    # Code points, not bytes or UTF-16 units: the emoji and accents count once.
    assert TEXT[selection.start:selection.end] == "the van 🚐 was late again"
    assert selection.codings[0].code_guid == G[2]
    assert selection.codings[0].note_guids == [G[21]]
    assert source.note_guids == [G[22]]
    (case,) = project.cases
    assert case.values == {G[3]: "Providers", G[4]: 54, G[5]: True, G[6]: "2025-01-02"}
    assert case.source_guids == [G[8]]
    (audio,) = project.audio
    assert audio.data == b"OggS fake audio" and audio.transcript_text == TEXT
    assert [(p.time_ms, p.position) for p in audio.sync_points] == [(0, 0), (5000, 45)]
    assert project.sets[0].member_codes == [G[2]] and project.note_guids == [G[23]]
    assert project.extra_files["engage.json"] == b'{"format": "x"}'


def test_selection_outside_the_text_is_refused_when_writing():
    project = _project()
    project.sources[0].selections[0].end = len(TEXT) + 1
    with pytest.raises(ProjectFormatError, match="outside"):
        write_qdpx(project)


def test_coding_with_unknown_code_is_refused_when_writing():
    project = _project()
    project.sources[0].selections[0].codings[0].code_guid = G[30]
    with pytest.raises(ProjectFormatError, match="not in the codebook"):
        write_qdpx(project)


def _zip(members: dict[str, bytes], compress=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _qde(inner: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><Project xmlns="{NAMESPACE}" name="x">'
            f"{inner}</Project>").encode()


def test_other_tools_projects_inline_text_and_whole_source_codings():
    inner = (f'<CodeBook><Codes><Code guid="{{{G[1].upper()}}}" name="A" isCodable="true"/>'
             f"</Codes></CodeBook><Sources>"
             f'<TextSource guid="{G[2]}" name="Doc"><PlainTextContent>Hello world'
             f"</PlainTextContent>"
             f'<PlainTextSelection guid="{G[3]}" startPosition="6" endPosition="11">'
             f'<Coding guid="{G[4]}"><CodeRef targetGUID="{G[1]}"/></Coding>'
             f"</PlainTextSelection>"
             f'<Coding guid="{G[5]}"><CodeRef targetGUID="{G[1]}"/></Coding></TextSource>'
             f'<PictureSource guid="{G[6]}" name="Photo"/></Sources>')
    project = read_qdpx(_zip({"project.qde": _qde(inner)}))
    (source,) = project.sources
    assert [(s.start, s.end) for s in source.selections] == [(6, 11), (0, 11)]
    assert project.codes[0].guid == G[1]  # braces and case normalised
    assert any("PictureSource" in w for w in project.warnings)


def test_missing_internal_file_is_a_warning_not_a_crash():
    inner = (f'<Sources><TextSource guid="{G[2]}" name="Doc" '
             f'plainTextPath="internal://missing.txt"/></Sources>')
    project = read_qdpx(_zip({"project.qde": _qde(inner)}))
    assert project.sources == [] and "not inside the project" in project.warnings[0]


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "sources/../../x.txt",
                                  "C:/Windows/x.txt"])
def test_path_traversal_is_refused(name):
    with pytest.raises(ProjectFormatError, match="unsafe file name"):
        read_qdpx(_zip({"project.qde": _qde(), name: b"x"}))


def test_zip_bomb_is_refused():
    bomb = _zip({"project.qde": _qde(), "sources/big.txt": b"0" * (20 * 1024 * 1024)})
    with pytest.raises(ProjectFormatError, match="compressed suspiciously|size limit"):
        read_qdpx(bomb)
    with pytest.raises(ProjectFormatError, match="size limit"):
        read_qdpx(_zip({"project.qde": _qde(), "sources/a.txt": b"a" * 5000},
                       compress=zipfile.ZIP_STORED), max_total=4000)


def test_not_a_zip_or_no_project_or_invalid_xml():
    with pytest.raises(ProjectFormatError, match="not a zip"):
        read_qdpx(b"plain text")
    with pytest.raises(ProjectFormatError, match="no project.qde"):
        read_qdpx(_zip({"other.txt": b"x"}))
    with pytest.raises(ProjectFormatError, match="does not match"):
        read_qde(_qde("<Nonsense/>"))
    entity = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
              + _qde()[len(b'<?xml version="1.0" encoding="UTF-8"?>'):])
    with pytest.raises(ProjectFormatError, match="DOCTYPE"):
        validate_qde(entity)
