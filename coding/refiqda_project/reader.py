"""Reading a ``.qdpx`` or bare ``project.qde`` from any REFI tool into a ``Project``.

What does not fit (PDFs without text, video, selections outside their text)
is left out with a line in ``Project.warnings``.
"""

from __future__ import annotations

import posixpath
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from coding.refiqda_codebook import Code, normalize_guid
from coding.refiqda_project.archive import (
    MAX_MEMBER_BYTES,
    MAX_TEXT_BYTES,
    MAX_TOTAL_BYTES,
    SafeZip,
)
from coding.refiqda_project.model import (
    AudioSource,
    Case,
    Coding,
    Note,
    Project,
    ProjectFormatError,
    Q,
    Selection,
    Set,
    SyncPoint,
    TextSource,
    User,
    Variable,
    new_guid,
)
from coding.refiqda_project.validation import validate_qde


def read_qdpx(source: bytes | Path, *, max_total: int = MAX_TOTAL_BYTES,
              max_member: int = MAX_MEMBER_BYTES, keep: tuple[str, ...] = ("engage.json",),
              read_audio: bool = False) -> Project:
    """Read a ``.qdpx`` (from any REFI tool) into a ``Project``."""
    archive = SafeZip(source, max_total=max_total, max_member=max_member)
    qde_name = archive.find("project.qde") or next(
        (n for n in archive.members if n.lower().endswith(".qde") and "/" not in n), None)
    if qde_name is None:
        raise ProjectFormatError("The .qdpx has no project.qde inside.")
    tree = validate_qde(archive.read(qde_name, MAX_TEXT_BYTES))
    project = _read_project(tree.getroot(), archive, read_audio)
    for name in keep:
        found = archive.find(name)
        if found:
            project.extra_files[name] = archive.read(found, MAX_TEXT_BYTES)
    return project


def read_qde(data: bytes) -> Project:
    """A bare ``project.qde`` (texts inline only)."""
    return _read_project(validate_qde(data).getroot(), None, False)


def _dt(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _desc(el) -> str:
    d = el.find(Q + "Description")
    return (d.text or "") if d is not None else ""


def _refs(el, tag: str) -> list[str]:
    return [normalize_guid(r.get("targetGUID")) for r in el.findall(Q + tag)]


def _g(el) -> str:
    return normalize_guid(el.get("guid"))


def _read_project(root, archive: SafeZip | None, read_audio: bool) -> Project:
    project = Project(name=root.get("name") or "Imported project", origin=root.get("origin")
                      or "", created=_dt(root.get("creationDateTime")))
    users = root.find(Q + "Users")
    if users is not None:
        project.users = [User(_g(u), u.get("name") or u.get("id") or "")
                         for u in users.findall(Q + "User")]
    book = root.find(Q + "CodeBook")
    if book is not None:
        project.codes = [_read_code(c, project) for c in book.find(Q + "Codes")
                         .findall(Q + "Code")]
    variables = root.find(Q + "Variables")
    types: dict[str, str] = {}
    if variables is not None:
        for v in variables.findall(Q + "Variable"):
            var = Variable(_g(v), v.get("name"), v.get("typeOfVariable"), _desc(v))
            project.variables.append(var)
            types[var.guid] = var.type
    cases = root.find(Q + "Cases")
    if cases is not None:
        for c in cases.findall(Q + "Case"):
            project.cases.append(Case(_g(c), c.get("name") or "", _desc(c), _values(c),
                                      _refs(c, "SourceRef")))
    sources = root.find(Q + "Sources")
    if sources is not None:
        for el in sources:
            tag = etree.QName(el).localname
            if tag == "TextSource":
                source = _read_text_source(el, archive, project)
                if source is not None:
                    project.sources.append(source)
            elif tag == "PDFSource":
                rep = el.find(Q + "Representation")
                if rep is not None:
                    source = _read_text_source(rep, archive, project)
                    if source is not None:
                        source.name = el.get("name") or source.name
                        source.guid = _g(el)
                        project.sources.append(source)
                else:
                    project.warnings.append(f"PDF {el.get('name')!r} has no text "
                                            "representation; left out.")
            elif tag in ("AudioSource", "VideoSource"):
                project.audio.append(_read_audio(el, archive, project, read_audio))
            else:
                project.warnings.append(f"{tag} {el.get('name')!r} is not supported; left out.")
    notes = root.find(Q + "Notes")
    if notes is not None:
        for n in notes.findall(Q + "Note"):
            text = _source_text(n, archive, project) or ""
            project.notes.append(Note(_g(n), n.get("name") or "", text,
                                      _opt_guid(n.get("creatingUser")),
                                      _dt(n.get("creationDateTime"))))
    sets = root.find(Q + "Sets")
    if sets is not None:
        for s in sets.findall(Q + "Set"):
            project.sets.append(Set(_g(s), s.get("name") or "", _desc(s),
                                    _refs(s, "MemberCode"), _refs(s, "MemberSource"),
                                    _refs(s, "MemberNote")))
    project.description = _desc(root)
    project.note_guids = _refs(root, "NoteRef")
    return project


def _opt_guid(value: str | None) -> str | None:
    return normalize_guid(value) if value else None


def _read_code(el, project: Project) -> Code:
    guid = _g(el)
    notes = _refs(el, "NoteRef")
    if notes:
        project.code_notes[guid] = notes
    return Code(key=guid, name=el.get("name") or "", description=_desc(el),
                color=el.get("color"), guid=guid,
                is_codable=el.get("isCodable") in ("true", "1"),
                children=[_read_code(c, project) for c in el.findall(Q + "Code")])


def _values(el) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for vv in el.findall(Q + "VariableValue"):
        ref = vv.find(Q + "VariableRef")
        if ref is None:
            continue
        for child in vv:
            kind = etree.QName(child).localname
            if kind == "VariableRef":
                continue
            raw = child.text or ""
            value: Any = raw
            if kind == "BooleanValue":
                value = raw.strip() in ("true", "1")
            elif kind == "IntegerValue":
                value = int(raw)
            elif kind == "FloatValue":
                value = float(raw)
            elif kind == "DateValue":
                value = raw.strip()
            out[normalize_guid(ref.get("targetGUID"))] = value
    return out


def _internal(path: str | None, archive: SafeZip | None) -> str | None:
    """The zip member an ``internal://`` path names, if it is there."""
    if not path or archive is None or not path.startswith("internal://"):
        return None
    name = posixpath.basename(path[len("internal://"):].replace("\\", "/"))
    return archive.find(f"sources/{name}") or archive.find(name)


def _source_text(el, archive: SafeZip | None, project: Project) -> str | None:
    content = el.find(Q + "PlainTextContent")
    if content is not None:
        return content.text or ""
    path = el.get("plainTextPath")
    member = _internal(path, archive)
    if member is None:
        if path:
            project.warnings.append(f"{el.get('name')!r}: its text {path!r} is not inside the "
                                    "project; left out.")
        return None
    data = archive.read(member, MAX_TEXT_BYTES)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "utf-16"):
        try:
            return data.decode(encoding).replace("\r\n", "\n") if encoding != "utf-8" \
                else data.decode(encoding)
        except UnicodeDecodeError:
            continue
    project.warnings.append(f"{el.get('name')!r}: its text is not UTF-8; left out.")
    return None


def _read_text_source(el, archive, project: Project) -> TextSource | None:
    text = _source_text(el, archive, project)
    if text is None:
        return None
    source = TextSource(_g(el), el.get("name") or "", text, _desc(el),
                        creator=_opt_guid(el.get("creatingUser")),
                        created=_dt(el.get("creationDateTime")),
                        note_guids=_refs(el, "NoteRef"), values=_values(el))
    for s in el.findall(Q + "PlainTextSelection"):
        start, end = int(s.get("startPosition")), int(s.get("endPosition"))
        start, end = min(start, end), max(start, end)
        if start < 0 or end > len(text):
            project.warnings.append(f"A selection {start}-{end} lies outside "
                                    f"{source.name!r}; left out.")
            continue
        codings = [Coding(_g(c), normalize_guid(c.find(Q + "CodeRef").get("targetGUID")),
                          _opt_guid(c.get("creatingUser")), _dt(c.get("creationDateTime")),
                          _refs(c, "NoteRef"))
                   for c in s.findall(Q + "Coding")]
        source.selections.append(Selection(
            _g(s), start, end, codings, s.get("name"), _opt_guid(s.get("creatingUser")),
            _dt(s.get("creationDateTime")), _refs(s, "NoteRef")))
    # Codings of the whole source.
    for c in el.findall(Q + "Coding"):
        source.selections.append(Selection(
            new_guid(), 0, len(text),
            [Coding(_g(c), normalize_guid(c.find(Q + "CodeRef").get("targetGUID")),
                    _opt_guid(c.get("creatingUser")), _dt(c.get("creationDateTime")))]))
    return source


def _read_audio(el, archive, project: Project, read_audio: bool) -> AudioSource:
    path = el.get("path") or ""
    member = _internal(path, archive)
    data = archive.read(member) if (member and read_audio) else None
    audio = AudioSource(_g(el), el.get("name") or "", data,
                        extension=posixpath.splitext(path)[1].lstrip(".") or "audio",
                        description=_desc(el), created=_dt(el.get("creationDateTime")))
    transcript = el.find(Q + "Transcript")
    if transcript is not None:
        audio.transcript_guid = _g(transcript)
        audio.transcript_text = _source_text(transcript, archive, project)
        audio.sync_points = [SyncPoint(_g(p), int(p.get("timeStamp") or 0),
                                       int(p.get("position") or 0))
                             for p in transcript.findall(Q + "SyncPoint")]
    return audio
