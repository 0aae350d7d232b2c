"""REFI-QDA projects (``.qdpx``): write a whole study, read one from any QDA tool.

A ``.qdpx`` is a zip holding ``project.qde`` (XML in namespace
``urn:QDA-XML:project:1.0``, schema ``coding/schemas/Project.xsd``) and a
``sources/`` folder with the documents, referred to as ``internal://NAME``.
NVivo, ATLAS.ti, MAXQDA and QualCoder exchange projects this way.

This module knows the format only: ``Project`` and its parts are plain
dataclasses; ``write_qdpx`` turns one into validated bytes and ``read_qdpx``
turns an upload back into one. What a study maps to (transcripts, comments,
participants as cases, memos as notes, themes as sets) is decided in
``engage.exports.qdpx``.

Positions are Unicode code points, as REFI counts them and as Python indexes
``str``; plain texts are stored as UTF-8 files without a byte-order mark.

Reading is defensive, because a ``.qdpx`` is an upload: members with absolute
paths or ``..`` are refused, the number of members, every member's size and
the total are capped while *reading* (a zip's own size fields can lie), the
compression ratio is checked against zip bombs, and the XML is parsed without
DTDs, entities or network access. Extra files may travel alongside (Engage
puts ``engage.json`` there to round-trip what REFI has no place for); other
tools ignore them.
"""

from __future__ import annotations

import io
import posixpath
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from coding.refiqda_codebook import Code, normalize_guid

NAMESPACE = "urn:QDA-XML:project:1.0"
SCHEMA_PATH = Path(__file__).with_name("schemas") / "Project.xsd"
Q = f"{{{NAMESPACE}}}"
_GUID = re.compile(
    r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")

MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 1024**3  # an audio file may be large
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_TEXT_BYTES = 200 * 1024**2  # project.qde and each text source
MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MiB
_MAX_REPORTED_ERRORS = 5
VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")


class ProjectFormatError(ValueError):
    """A project that cannot be written or read; the message says what is wrong."""


def new_guid(namespace: uuid.UUID | None = None, name: str | None = None) -> str:
    return str(uuid.uuid5(namespace, name)) if namespace and name else str(uuid.uuid4())


@dataclass
class User:
    guid: str
    name: str


@dataclass
class Variable:
    guid: str
    name: str
    type: str = "Text"  # one of VARIABLE_TYPES
    description: str = ""


@dataclass
class Case:
    guid: str
    name: str
    description: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # variable guid -> value
    source_guids: list[str] = field(default_factory=list)


@dataclass
class Coding:
    guid: str
    code_guid: str
    creator: str | None = None  # user guid
    created: datetime | None = None
    note_guids: list[str] = field(default_factory=list)


@dataclass
class Selection:
    guid: str
    start: int
    end: int
    codings: list[Coding] = field(default_factory=list)
    name: str | None = None
    creator: str | None = None
    created: datetime | None = None
    note_guids: list[str] = field(default_factory=list)


@dataclass
class TextSource:
    guid: str
    name: str
    text: str
    description: str = ""
    selections: list[Selection] = field(default_factory=list)
    note_guids: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # variable guid -> value
    creator: str | None = None
    created: datetime | None = None
    file_name: str | None = None  # in sources/; default "<guid>.txt"


@dataclass
class SyncPoint:
    guid: str
    time_ms: int
    position: int


@dataclass
class AudioSource:
    guid: str
    name: str
    data: bytes | None  # None: not included (the path is then external)
    extension: str = "audio"
    description: str = ""
    transcript_text: str | None = None
    transcript_guid: str | None = None
    sync_points: list[SyncPoint] = field(default_factory=list)
    created: datetime | None = None


@dataclass
class Note:
    guid: str
    name: str
    text: str
    creator: str | None = None
    created: datetime | None = None


@dataclass
class Set:
    guid: str
    name: str
    description: str = ""
    member_codes: list[str] = field(default_factory=list)
    member_sources: list[str] = field(default_factory=list)
    member_notes: list[str] = field(default_factory=list)


@dataclass
class Project:
    name: str
    origin: str = "Engage"
    created: datetime | None = None
    users: list[User] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    code_notes: dict[str, list[str]] = field(default_factory=dict)  # code guid -> note guids
    variables: list[Variable] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    sources: list[TextSource] = field(default_factory=list)
    audio: list[AudioSource] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    sets: list[Set] = field(default_factory=list)
    description: str = ""
    note_guids: list[str] = field(default_factory=list)  # notes on the whole project
    extra_files: dict[str, bytes] = field(default_factory=dict)  # other zip members kept
    warnings: list[str] = field(default_factory=list)  # what reading had to skip

    def all_codes(self) -> list[Code]:
        out: list[Code] = []

        def walk(codes):
            for code in codes:
                out.append(code)
                walk(code.children)

        walk(self.codes)
        return out


# --- writing -------------------------------------------------------------------------------


def _ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _set(el: etree._Element, name: str, value: Any) -> None:
    if value is None:
        return
    try:
        el.set(name, str(value))
    except ValueError as exc:  # control characters are not allowed in XML 1.0
        raise ProjectFormatError(f"{name} {str(value)[:40]!r} cannot be written as XML: "
                                 f"{exc}") from None


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    el = etree.SubElement(parent, Q + tag)
    try:
        el.text = _xml_safe(value)
    except ValueError as exc:
        raise ProjectFormatError(f"text cannot be written as XML: {exc}") from None
    return el


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(value: str) -> str:
    return _CONTROL.sub("\ufffd", value)


def _check_guid(guid: str, what: str) -> str:
    if not _GUID.match(guid or ""):
        raise ProjectFormatError(f"{what} has an invalid GUID {guid!r}")
    return normalize_guid(guid)


def _value(parent: etree._Element, variable: Variable, value: Any) -> None:
    el = etree.SubElement(parent, Q + "VariableValue")
    etree.SubElement(el, Q + "VariableRef").set("targetGUID", variable.guid)
    kind = variable.type
    if kind == "Boolean":
        _text(el, "BooleanValue", "true" if value else "false")
    elif kind == "Integer":
        _text(el, "IntegerValue", str(int(value)))
    elif kind == "Float":
        _text(el, "FloatValue", repr(float(value)) if not isinstance(value, str) else value)
    elif kind == "Date":
        _text(el, "DateValue", value.isoformat() if isinstance(value, date) else str(value))
    elif kind == "DateTime":
        _text(el, "DateTimeValue", _ts(value) if isinstance(value, datetime) else str(value))
    else:
        _text(el, "TextValue", str(value))


def to_qde(project: Project, *, text_paths: dict[str, str] | None = None) -> bytes:
    """``project.qde``: validated XML. ``text_paths`` maps a source guid to its
    ``internal://`` file; sources not in it carry their text inline."""
    text_paths = text_paths or {}
    root = etree.Element(Q + "Project", nsmap={None: NAMESPACE})
    _set(root, "name", project.name or "Engage project")
    _set(root, "origin", project.origin)
    _set(root, "creationDateTime", _ts(project.created))
    guids = {c.export_guid for c in project.all_codes()}
    variables = {v.guid: v for v in project.variables}
    users = {u.guid for u in project.users}

    def user(guid):
        return guid if guid in users else None

    if project.users:
        users_el = etree.SubElement(root, Q + "Users")
        for u in project.users:
            el = etree.SubElement(users_el, Q + "User")
            _set(el, "guid", _check_guid(u.guid, f"user {u.name!r}"))
            _set(el, "name", u.name)
    if project.codes:
        book = etree.SubElement(root, Q + "CodeBook")
        codes_el = etree.SubElement(book, Q + "Codes")
        seen: set[str] = set()
        for code in project.codes:
            _write_code(codes_el, code, seen, project.code_notes)
    if project.variables:
        vars_el = etree.SubElement(root, Q + "Variables")
        for v in project.variables:
            if v.type not in VARIABLE_TYPES:
                raise ProjectFormatError(f"variable {v.name!r} has unknown type {v.type!r}")
            el = etree.SubElement(vars_el, Q + "Variable")
            _set(el, "guid", _check_guid(v.guid, f"variable {v.name!r}"))
            _set(el, "name", v.name)
            _set(el, "typeOfVariable", v.type)
            if v.description:
                _text(el, "Description", v.description)
    if project.cases:
        cases_el = etree.SubElement(root, Q + "Cases")
        for case in project.cases:
            el = etree.SubElement(cases_el, Q + "Case")
            _set(el, "guid", _check_guid(case.guid, f"case {case.name!r}"))
            _set(el, "name", case.name)
            if case.description:
                _text(el, "Description", case.description)
            for guid, value in case.values.items():
                if guid in variables and value not in (None, ""):
                    _value(el, variables[guid], value)
            for guid in case.source_guids:
                etree.SubElement(el, Q + "SourceRef").set("targetGUID", guid)
    if project.sources or project.audio:
        sources_el = etree.SubElement(root, Q + "Sources")
        for source in project.sources:
            _write_text_source(sources_el, "TextSource", source, text_paths, guids, variables,
                               user)
        for audio in project.audio:
            el = etree.SubElement(sources_el, Q + "AudioSource")
            _set(el, "guid", _check_guid(audio.guid, f"audio {audio.name!r}"))
            _set(el, "name", audio.name)
            if audio.data is not None:
                _set(el, "path", f"internal://{audio.guid}.{audio.extension}")
            _set(el, "creationDateTime", _ts(audio.created))
            if audio.description:
                _text(el, "Description", audio.description)
            if audio.transcript_text is not None:
                tr = etree.SubElement(el, Q + "Transcript")
                _set(tr, "guid", audio.transcript_guid or new_guid())
                _set(tr, "name", audio.name)
                path = text_paths.get(audio.transcript_guid or "")
                if path:
                    _set(tr, "plainTextPath", path)
                else:
                    _text(tr, "PlainTextContent", audio.transcript_text)
                for point in audio.sync_points:
                    sp = etree.SubElement(tr, Q + "SyncPoint")
                    _set(sp, "guid", point.guid)
                    _set(sp, "timeStamp", int(point.time_ms))
                    _set(sp, "position", int(point.position))
    if project.notes:
        notes_el = etree.SubElement(root, Q + "Notes")
        for note in project.notes:
            _write_text_source(notes_el, "Note", TextSource(
                note.guid, note.name, note.text, creator=note.creator, created=note.created),
                {}, guids, variables, user)
    if project.sets:
        sets_el = etree.SubElement(root, Q + "Sets")
        for s in project.sets:
            el = etree.SubElement(sets_el, Q + "Set")
            _set(el, "guid", _check_guid(s.guid, f"set {s.name!r}"))
            _set(el, "name", s.name)
            if s.description:
                _text(el, "Description", s.description)
            for tag, members in (("MemberCode", s.member_codes),
                                 ("MemberSource", s.member_sources),
                                 ("MemberNote", s.member_notes)):
                for guid in members:
                    etree.SubElement(el, Q + tag).set("targetGUID", guid)
    if project.description:
        _text(root, "Description", project.description)
    for guid in project.note_guids:
        etree.SubElement(root, Q + "NoteRef").set("targetGUID", guid)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate_qde(xml)
    return xml


def _write_code(parent, code: Code, seen: set[str], notes: dict[str, list[str]]) -> None:
    guid = code.export_guid
    if guid in seen:
        raise ProjectFormatError(f"two codes have the GUID {guid}")
    seen.add(guid)
    el = etree.SubElement(parent, Q + "Code")
    _set(el, "guid", guid)
    _set(el, "name", code.name or code.key)
    _set(el, "isCodable", "true" if code.is_codable else "false")
    if code.color and re.fullmatch(r"#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", code.color):
        _set(el, "color", code.color)
    if code.description:
        _text(el, "Description", code.description)
    for note in notes.get(guid, []):
        etree.SubElement(el, Q + "NoteRef").set("targetGUID", note)
    for child in code.children:
        _write_code(el, child, seen, notes)


def _write_text_source(parent, tag: str, source: TextSource, text_paths, code_guids, variables,
                       user) -> None:
    el = etree.SubElement(parent, Q + tag)
    _set(el, "guid", _check_guid(source.guid, f"source {source.name!r}"))
    _set(el, "name", source.name)
    path = text_paths.get(source.guid)
    if path:
        _set(el, "plainTextPath", path)
    _set(el, "creatingUser", user(source.creator))
    _set(el, "creationDateTime", _ts(source.created))
    if source.description:
        _text(el, "Description", source.description)
    if not path:
        _text(el, "PlainTextContent", source.text)
    length = len(source.text)
    for sel in source.selections:
        if not 0 <= sel.start <= sel.end <= length:
            raise ProjectFormatError(
                f"selection {sel.start}-{sel.end} is outside source {source.name!r} "
                f"({length} characters)")
        s = etree.SubElement(el, Q + "PlainTextSelection")
        _set(s, "guid", _check_guid(sel.guid, "selection"))
        _set(s, "name", sel.name)
        _set(s, "startPosition", sel.start)
        _set(s, "endPosition", sel.end)
        _set(s, "creatingUser", user(sel.creator))
        _set(s, "creationDateTime", _ts(sel.created))
        for coding in sel.codings:
            if coding.code_guid not in code_guids:
                raise ProjectFormatError(f"a coding refers to code {coding.code_guid} that is "
                                         "not in the codebook")
            c = etree.SubElement(s, Q + "Coding")
            _set(c, "guid", _check_guid(coding.guid, "coding"))
            _set(c, "creatingUser", user(coding.creator))
            _set(c, "creationDateTime", _ts(coding.created))
            etree.SubElement(c, Q + "CodeRef").set("targetGUID", coding.code_guid)
            for note in coding.note_guids:
                etree.SubElement(c, Q + "NoteRef").set("targetGUID", note)
        for note in sel.note_guids:
            etree.SubElement(s, Q + "NoteRef").set("targetGUID", note)
    for note in source.note_guids:
        etree.SubElement(el, Q + "NoteRef").set("targetGUID", note)
    for guid, value in source.values.items():
        if guid in variables and value not in (None, ""):
            _value(el, variables[guid], value)


def write_qdpx(project: Project) -> bytes:
    """The project as ``.qdpx`` bytes: ``project.qde``, ``sources/``, extra files."""
    text_paths: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for source in project.sources:
        name = source.file_name or f"{source.guid}.txt"
        text_paths[source.guid] = f"internal://{name}"
        files[f"sources/{name}"] = _xml_safe(source.text).encode("utf-8")
    for audio in project.audio:
        if audio.data is not None:
            files[f"sources/{audio.guid}.{audio.extension}"] = audio.data
        if audio.transcript_text is not None and audio.transcript_guid:
            name = f"{audio.transcript_guid}.txt"
            text_paths[audio.transcript_guid] = f"internal://{name}"
            files[f"sources/{name}"] = _xml_safe(audio.transcript_text).encode("utf-8")
    qde = to_qde(project, text_paths=text_paths)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde)
        for name, data in files.items():
            # Media is compressed already; text is not.
            kind = zipfile.ZIP_DEFLATED if name.endswith(".txt") else zipfile.ZIP_STORED
            zf.writestr(name, data, compress_type=kind)
        for name, data in project.extra_files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


# --- validation ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=True)


def validate_qde(data: bytes) -> etree._ElementTree:
    """Parse and validate ``project.qde``; raise ``ProjectFormatError`` if not valid."""
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise ProjectFormatError(f"project.qde is not well-formed XML: {exc}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ProjectFormatError("project.qde must not contain a DOCTYPE or entity declarations")
    root = tree.getroot()
    if root.tag != Q + "Project":
        raise ProjectFormatError(
            f"the root element of project.qde is {root.tag!r}; a REFI-QDA project needs "
            f"Project in namespace {NAMESPACE!r}")
    schema = _schema()
    try:
        valid = schema.validate(tree)
    except etree.XMLSchemaValidateError as exc:
        raise ProjectFormatError(f"project.qde could not be checked: {exc}") from None
    if not valid:
        errors = [f"line {e.line}: {e.message}" for e in schema.error_log]
        raise ProjectFormatError("project.qde does not match the REFI-QDA Project schema: "
                                 + "; ".join(errors[:_MAX_REPORTED_ERRORS]))
    return tree


# --- reading -------------------------------------------------------------------------------


class _SafeZip:
    """A zip upload read within limits; member names checked against traversal."""

    def __init__(self, source: bytes | Path | io.BufferedIOBase, *, max_total: int,
                 max_member: int):
        try:
            self.zf = zipfile.ZipFile(source if not isinstance(source, bytes)
                                      else io.BytesIO(source))
        except (zipfile.BadZipFile, OSError) as exc:
            raise ProjectFormatError("The file is not a .qdpx project (not a zip archive).") \
                from exc
        infos = self.zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise ProjectFormatError(f"The project has more than {MAX_MEMBERS} files.")
        self.members: dict[str, zipfile.ZipInfo] = {}
        declared = 0
        for info in infos:
            name = info.filename
            if info.is_dir():
                continue
            normal = posixpath.normpath(name.replace("\\", "/"))
            if (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name)
                    or normal.startswith("..") or "/../" in f"/{normal}/"):
                raise ProjectFormatError(f"The project contains an unsafe file name {name!r}.")
            if info.flag_bits & 0x1:
                raise ProjectFormatError("The project is encrypted; export it without a "
                                         "password.")
            declared += info.file_size
            if info.file_size > 1024**2 and info.compress_size and \
                    info.file_size / info.compress_size > MAX_RATIO:
                raise ProjectFormatError(f"{name!r} is compressed suspiciously well "
                                         "(a zip bomb?); refusing it.")
            self.members[normal] = info
        if declared > max_total:
            raise ProjectFormatError("The project unpacks to more than the size limit.")
        self.max_total, self.max_member, self.read_total = max_total, max_member, 0

    def find(self, name: str) -> str | None:
        lower = {k.lower(): k for k in self.members}
        return lower.get(name.lower())

    def read(self, name: str, limit: int | None = None) -> bytes:
        info = self.members[name]
        limit = min(limit or self.max_member, self.max_member)
        out = bytearray()
        with self.zf.open(info) as f:
            while chunk := f.read(1024 * 1024):
                out += chunk
                self.read_total += len(chunk)
                if len(out) > limit or self.read_total > self.max_total:
                    raise ProjectFormatError(f"{name!r} is larger than the size limit.")
        return bytes(out)


def read_qdpx(source: bytes | Path, *, max_total: int = MAX_TOTAL_BYTES,
              max_member: int = MAX_MEMBER_BYTES, keep: tuple[str, ...] = ("engage.json",),
              read_audio: bool = False) -> Project:
    """Read a ``.qdpx`` (from any REFI tool) into a ``Project``."""
    archive = _SafeZip(source, max_total=max_total, max_member=max_member)
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


def _read_project(root, archive: _SafeZip | None, read_audio: bool) -> Project:
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


def _internal(path: str | None, archive: _SafeZip | None) -> str | None:
    """The zip member an ``internal://`` path names, if it is there."""
    if not path or archive is None or not path.startswith("internal://"):
        return None
    name = posixpath.basename(path[len("internal://"):].replace("\\", "/"))
    return archive.find(f"sources/{name}") or archive.find(name)


def _source_text(el, archive: _SafeZip | None, project: Project) -> str | None:
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
