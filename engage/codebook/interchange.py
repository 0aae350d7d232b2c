"""Codebook files in and out: REFI-QDA ``.qdc`` and Engage's CSV.

An import changes nothing unless the whole file is valid; it adds and
updates codes but never blanks a field or deletes a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import delete

from coding.codebook_csv import (
    CodebookCsvError,
    CodeRow,
    PatternSpec,
    read_codebook_csv,
    slugify,
    write_codebook_csv,
)
from coding.refiqda_codebook import Code as QdcCode
from coding.refiqda_codebook import CodebookFormatError, from_qdc, to_qdc
from coding.vocabulary import DEFAULT_CODEBOOK, iter_codes
from engage.codebook.operations import CodebookError, record_event, unique_key
from engage.codebook.tree import code_tree, coding_counts, descendant_ids, study_codes
from models import Code, CodePatternRule, Study, User, db, utcnow

IMPORT_KINDS = ("qdc", "csv")


def export_qdc(study: Study) -> str:
    tree = code_tree(study, include_retired=False)
    counts = coding_counts(study)
    nodes: dict[int, QdcCode] = {}
    roots: list[QdcCode] = []
    for entry in tree:
        code = entry.code
        has_children = any(e.code.parent_id == code.id for e in tree)
        node = QdcCode(key=code.key, name=code.name,
                       description=_qdc_description(code), color=code.color,
                       guid=code.guid, is_codable=not has_children or bool(counts.get(code.id)))
        nodes[code.id] = node
        (nodes[code.parent_id].children if code.parent_id in nodes else roots).append(node)
    if not roots:
        raise CodebookError("The codebook has no active codes to export.")
    return to_qdc(roots, origin="Engage")


def _qdc_description(code: Code) -> str:
    parts = [code.description]
    if code.inclusion:
        parts.append(f"Include: {code.inclusion}")
    if code.exclusion:
        parts.append(f"Exclude: {code.exclusion}")
    return "\n\n".join(p for p in parts if p)


def export_csv(study: Study) -> str:
    rows = []
    for entry in code_tree(study):
        code = entry.code
        rows.append(CodeRow(
            key=code.key, name=code.name,
            parent_key=code.parent.key if code.parent_id else None,
            description=code.description, inclusion=code.inclusion, exclusion=code.exclusion,
            color=code.color, retired=code.retired,
            patterns=[PatternSpec(tuple(p.terms), p.lemma, p.case_sensitive, p.label, p.weight)
                      for p in code.patterns]))
    return write_codebook_csv(rows)


@dataclass
class ImportSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def message(self) -> str:
        parts = [f"{len(self.added)} code{'s' if len(self.added) != 1 else ''} added",
                 f"{len(self.updated)} updated"]
        if self.unchanged:
            parts.append(f"{self.unchanged} unchanged")
        return "Codebook imported: " + ", ".join(parts) + "."


def import_codebook_file(actor: User, study: Study, file, *, max_bytes: int) -> ImportSummary:
    """Import an uploaded ``.qdc`` or ``.csv``; nothing changes unless all of it is valid."""
    from engage.uploads import UploadError, receive_upload

    try:
        stored = receive_upload(file, "codebook-imports", max_bytes=max_bytes)
    except UploadError as error:
        raise CodebookError(str(error)) from error
    try:
        data = stored.path.read_bytes()
    finally:
        stored.discard()
    name = stored.original_filename.lower()
    if name.endswith((".qdc", ".xml")) or data.lstrip()[:1] == b"<":
        return import_qdc(actor, study, data)
    if name.endswith((".csv", ".txt")):
        return import_csv(actor, study, data)
    raise CodebookError("Choose a REFI-QDA codebook (.qdc) or a CSV file (.csv).")


def import_qdc(actor: User, study: Study, data: bytes) -> ImportSummary:
    existing = study_codes(study)
    try:
        # Engage exports GUIDs made from keys: the guide's keys map back even in a study
        # that renamed or lacks them.
        known = {c.key for c in existing} | {spec.key for _, spec in iter_codes(DEFAULT_CODEBOOK)}
        book = from_qdc(data, known_keys=known)
    except CodebookFormatError as error:
        raise CodebookError(f"The .qdc file was not imported: {error}.") from error
    rows: list[CodeRow] = []
    by_guid = {c.guid: c for c in existing if c.guid}
    keys = {c.key for c in existing}

    def walk(codes: list[QdcCode], parent_key: str | None) -> None:
        for code in codes:
            match = by_guid.get(code.guid)
            key = match.key if match else code.key
            if key == code.guid and key not in keys:  # a code from another tool
                key = unique_key(study.id, slugify(code.name), keys)
                keys.add(key)
            description, inclusion, exclusion = _split_qdc_description(code.description)
            rows.append(CodeRow(key=key, name=code.name, parent_key=parent_key,
                                description=description, inclusion=inclusion,
                                exclusion=exclusion, color=_color6(code.color)))
            guids[key] = code.guid
            walk(code.children, key)

    guids: dict[str, str] = {}
    walk(book.codes, None)
    return _apply_rows(actor, study, rows, guids=guids, replace_patterns=False, source="qdc")


def _split_qdc_description(text: str) -> tuple[str, str, str]:
    """Undo ``_qdc_description``: REFI has one description, Engage three notes."""
    keep, inclusion, exclusion = [], "", ""
    for part in (text or "").split("\n\n"):
        if part.startswith("Include: "):
            inclusion = part[len("Include: "):]
        elif part.startswith("Exclude: "):
            exclusion = part[len("Exclude: "):]
        else:
            keep.append(part)
    return "\n\n".join(keep).strip(), inclusion.strip(), exclusion.strip()


def _color6(color: str | None) -> str | None:
    if color and re.match(r"^#[0-9A-Fa-f]{3}$", color):
        return "#" + "".join(c * 2 for c in color[1:])
    return color


def import_csv(actor: User, study: Study, data: bytes) -> ImportSummary:
    existing = study_codes(study)
    try:
        rows = read_codebook_csv(data, known_keys=[c.key for c in existing])
    except CodebookCsvError as error:
        raise CodebookError(str(error)) from error
    return _apply_rows(actor, study, rows, guids={}, replace_patterns=True, source="csv")


def _apply_rows(actor: User, study: Study, rows: list[CodeRow], *, guids: dict[str, str],
                replace_patterns: bool, source: str) -> ImportSummary:
    by_key = {c.key: c for c in study_codes(study)}
    summary = ImportSummary()
    for row in rows:
        code = by_key.get(row.key)
        if code is None:
            code = Code(study_id=study.id, key=row.key, name=row.name,
                        description=row.description, inclusion=row.inclusion,
                        exclusion=row.exclusion, color=row.color or "#4a6fa5",
                        position=0, retired=row.retired, retired_at=utcnow() if row.retired
                        else None, guid=guids.get(row.key))
            db.session.add(code)
            by_key[row.key] = code
            summary.added.append(row.key)
            db.session.flush()
            record_event(actor, code, "imported", source=source)
        else:
            changes = {}
            for name in ("name", "description", "inclusion", "exclusion", "color"):
                value = getattr(row, name)
                # An import adds and updates; it never blanks a field.
                if value and value != getattr(code, name):
                    changes[name] = [getattr(code, name), value]
                    setattr(code, name, value)
            if row.retired and not code.retired:
                code.retired, code.retired_at = True, utcnow()
                changes["retired"] = [False, True]
            if guids.get(row.key) and code.guid != guids[row.key]:
                code.guid = guids[row.key]
            if changes:
                record_event(actor, code, "edited", source=source, **changes)
                summary.updated.append(row.key)
            else:
                summary.unchanged += 1
    db.session.flush()
    for position, row in enumerate(rows):
        code = by_key[row.key]
        parent = by_key.get(row.parent_key) if row.parent_key else None
        if code.key in summary.added:
            code.position = position
        if (parent.id if parent else None) != code.parent_id:
            if parent is not None and (parent.id == code.id or parent.id in descendant_ids(code)):
                raise CodebookError(f"The file puts “{code.name}” under its own subcode "
                                    f"“{parent.name}”; nothing was imported.")
            if code.key not in summary.added:
                record_event(actor, code, "moved", source=source,
                       **{"to": parent.key if parent else None})
                if code.key not in summary.updated:
                    summary.updated.append(code.key)
                    summary.unchanged -= 1
            code.parent_id = parent.id if parent else None
            db.session.flush()
        if replace_patterns and (row.patterns or code.key in summary.added):
            new = [(list(p.terms), p.lemma, p.case_sensitive, p.label, p.weight)
                   for p in row.patterns]
            old = [(list(p.terms), p.lemma, p.case_sensitive, p.label, p.weight)
                   for p in code.patterns]
            if new != old:
                db.session.execute(delete(CodePatternRule).where(
                    CodePatternRule.code_id == code.id))
                for i, p in enumerate(row.patterns):
                    db.session.add(CodePatternRule(
                        code_id=code.id, terms=list(p.terms), lemma=p.lemma,
                        case_sensitive=p.case_sensitive, label=p.label, weight=p.weight,
                        position=i))
                db.session.expire(code, ["patterns"])
                if code.key not in summary.added and code.key not in summary.updated:
                    summary.updated.append(code.key)
                    summary.unchanged -= 1
    db.session.flush()
    return summary
