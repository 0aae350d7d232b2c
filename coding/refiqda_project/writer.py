"""Writing a ``Project``: ``project.qde`` validated against the schema, then the ``.qdpx`` zip."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree

from coding.refiqda_codebook import Code, normalize_guid
from coding.refiqda_project.model import (
    NAMESPACE,
    VARIABLE_TYPES,
    Project,
    ProjectFormatError,
    Q,
    TextSource,
    Variable,
    new_guid,
)
from coding.refiqda_project.validation import validate_qde

_GUID = re.compile(
    r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")


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
