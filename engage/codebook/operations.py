"""Codebook operations: codes, their patterns and history, import and export.

Operations flush; the request commits once. Codes are never deleted: a code
that is no longer wanted is retired (hidden from coding, codings kept) or
merged into another (its codings, suggestions, patterns, memos and children
follow; it stays, retired, pointing at where they went).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update

from coding.codebook_csv import (
    CodebookCsvError,
    CodeRow,
    PatternSpec,
    read_codebook_csv,
    slugify,
    write_codebook_csv,
)
from coding.default_patterns import default_patterns
from coding.refiqda_codebook import Code as QdcCode
from coding.refiqda_codebook import CodebookFormatError, from_qdc, to_qdc
from coding.tagger import CodePattern, PatternError
from coding.vocabulary import DEFAULT_CODEBOOK, iter_codes
from models import (
    Adjudication,
    Code,
    CodeEvent,
    CodePatternRule,
    Coding,
    Memo,
    Study,
    Suggestion,
    SuggestionDecision,
    SuggestionStatus,
    User,
    db,
    utcnow,
)

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
IMPORT_KINDS = ("qdc", "csv")


class CodebookError(ValueError):
    """A refused codebook change, phrased for the researcher."""


# --- reading -------------------------------------------------------------------------------

def study_codes(study: Study | int, *, include_retired: bool = True) -> list[Code]:
    study_id = study if isinstance(study, int) else study.id
    query = select(Code).where(Code.study_id == study_id)
    if not include_retired:
        query = query.where(Code.retired.is_(False))
    return list(db.session.scalars(query.order_by(Code.position, Code.id)))


@dataclass(frozen=True)
class TreeEntry:
    code: Code
    depth: int
    path: str  # "Parent › Child"


def code_tree(study: Study | int, *, include_retired: bool = True) -> list[TreeEntry]:
    """Codes depth first, parents before children, siblings by position."""
    codes = study_codes(study, include_retired=include_retired)
    children: dict[int | None, list[Code]] = {}
    ids = {c.id for c in codes}
    for code in codes:
        parent = code.parent_id if code.parent_id in ids else None
        children.setdefault(parent, []).append(code)
    out: list[TreeEntry] = []

    def walk(parent: int | None, depth: int, prefix: str) -> None:
        for code in children.get(parent, []):
            path = f"{prefix} › {code.name}" if prefix else code.name
            out.append(TreeEntry(code, depth, path))
            walk(code.id, depth + 1, path)

    walk(None, 0, "")
    return out


def code_choices(study: Study | int) -> list[tuple[int, str]]:
    """(id, indented name) for every code that can be applied now."""
    return [(e.code.id, "\u2003" * e.depth + e.code.name)
            for e in code_tree(study, include_retired=False)]


def code_paths(study: Study | int) -> dict[int, str]:
    return {e.code.id: e.path for e in code_tree(study)}


def descendant_ids(code: Code) -> set[int]:
    tree = code_tree(code.study_id)
    out: set[int] = set()
    frontier = {code.id}
    while frontier:
        frontier = {e.code.id for e in tree if e.code.parent_id in frontier} - out
        out |= frontier
    return out


def coding_counts(study: Study) -> dict[int, int]:
    """Codings of record per code id."""
    rows = db.session.execute(
        select(Coding.code_id, func.count(Coding.id))
        .where(Coding.study_id == study.id, Coding.assignment_id.is_(None))
        .group_by(Coding.code_id))
    return dict(rows.all())


def history(code: Code) -> list[CodeEvent]:
    return list(db.session.scalars(select(CodeEvent).where(CodeEvent.code_id == code.id)
                                   .order_by(CodeEvent.at.desc(), CodeEvent.id.desc())))


# --- seeding ---------------------------------------------------------------------------------

def seed_default_codebook(study: Study) -> dict[str, Code]:
    """The guide's codebook with its starting patterns, for a new study."""
    codes: dict[str, Code] = {}
    for position, (parent_key, spec) in enumerate(iter_codes(DEFAULT_CODEBOOK)):
        code = Code(study_id=study.id, key=spec.key, name=spec.name,
                    description=spec.description, color=spec.color, position=position,
                    parent=codes.get(parent_key))
        codes[spec.key] = code
        db.session.add(code)
    db.session.flush()
    _add_default_patterns(codes.values())
    db.session.flush()
    return codes


def _add_default_patterns(codes: Iterable[Code]) -> int:
    by_key: dict[str, list[CodePattern]] = {}
    for pattern in default_patterns():
        by_key.setdefault(pattern.code_key, []).append(pattern)
    added = 0
    for code in codes:
        for position, p in enumerate(by_key.get(code.key, ())):
            db.session.add(CodePatternRule(code_id=code.id, terms=list(p.terms), lemma=p.lemma,
                                           case_sensitive=p.case_sensitive, label=p.label,
                                           weight=p.weight, position=position))
            added += 1
    return added


def restore_default_patterns(actor: User, study: Study) -> int:
    """Give the guide's codes that have no patterns their starting patterns back."""
    has_patterns = set(db.session.scalars(
        select(CodePatternRule.code_id).join(Code).where(Code.study_id == study.id)))
    codes = [c for c in study_codes(study) if c.id not in has_patterns]
    added = _add_default_patterns(codes)
    if not added:
        raise CodebookError("Every code from the guide already has patterns; nothing to add.")
    db.session.flush()
    return added


# --- codes -------------------------------------------------------------------------------

def _event(actor: User | None, code: Code, action: str, **detail) -> None:
    db.session.add(CodeEvent(code_id=code.id, user_id=actor.id if actor else None,
                             action=action, detail=detail))


def _unique_key(study_id: int, wanted: str, taken: set[str] | None = None) -> str:
    taken = taken if taken is not None else set(db.session.scalars(
        select(Code.key).where(Code.study_id == study_id)))
    key, n = wanted, 2
    while key in taken:
        suffix = f"-{n}"
        key = wanted[:80 - len(suffix)] + suffix
        n += 1
    return key


def _check_fields(name: str, color: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise CodebookError("A code needs a name.")
    if len(name) > 200:
        raise CodebookError("A code's name can be at most 200 characters.")
    if color and not _COLOR.match(color):
        raise CodebookError(f"The color {color!r} is not of the form #RRGGBB.")
    return name


def _check_parent(study: Study | int, parent: Code | None, code: Code | None = None) -> None:
    study_id = study if isinstance(study, int) else study.id
    if parent is None:
        return
    if parent.study_id != study_id:
        raise CodebookError("The parent code belongs to another study.")
    if parent.retired:
        raise CodebookError(f"“{parent.name}” is retired; choose an active parent.")
    if code is not None and (parent.id == code.id or parent.id in descendant_ids(code)):
        raise CodebookError(f"“{code.name}” cannot go under itself or one of its own subcodes.")


def _next_position(study_id: int, parent_id: int | None) -> int:
    current = db.session.scalar(select(func.max(Code.position)).where(
        Code.study_id == study_id, Code.parent_id.is_(parent_id) if parent_id is None
        else Code.parent_id == parent_id))
    return (current or 0) + 1


def create_code(actor: User, study: Study, *, name: str, parent: Code | None = None,
                description: str = "", inclusion: str = "", exclusion: str = "",
                color: str | None = None, key: str | None = None) -> Code:
    name = _check_fields(name, color)
    _check_parent(study, parent)
    code = Code(study_id=study.id, key=_unique_key(study.id, key or slugify(name)), name=name,
                parent_id=parent.id if parent else None, description=description.strip(),
                inclusion=inclusion.strip(), exclusion=exclusion.strip(),
                color=color or (parent.color if parent else "#4a6fa5"),
                position=_next_position(study.id, parent.id if parent else None))
    db.session.add(code)
    db.session.flush()
    _event(actor, code, "created", name=name, parent=parent.key if parent else None)
    db.session.flush()
    return code


EDITABLE = ("name", "description", "inclusion", "exclusion", "color")


def update_code(actor: User, code: Code, **fields: str) -> dict[str, list]:
    """Change name, description, inclusion/exclusion notes or color; returns what changed."""
    fields["name"] = _check_fields(fields.get("name", code.name), fields.get("color"))
    changes: dict[str, list] = {}
    for name in EDITABLE:
        if name not in fields or fields[name] is None:
            continue
        value = fields[name].strip() if isinstance(fields[name], str) else fields[name]
        if value != getattr(code, name):
            changes[name] = [getattr(code, name), value]
            setattr(code, name, value)
    if changes:
        _event(actor, code, "edited", **changes)
    db.session.flush()
    return changes


def move_code(actor: User, code: Code, parent: Code | None) -> Code:
    """Put ``code`` (with its subcodes) under ``parent``, or at the top level for None."""
    _check_parent(code.study_id, parent, code)
    old = code.parent
    if (old.id if old else None) == (parent.id if parent else None):
        raise CodebookError(f"“{code.name}” is already there.")
    code.parent_id = parent.id if parent else None
    code.position = _next_position(code.study_id, code.parent_id)
    _event(actor, code, "moved", **{"from": old.key if old else None,
                                    "to": parent.key if parent else None})
    db.session.flush()
    db.session.expire(code, ["parent", "children"])
    return code


def reorder_code(actor: User, code: Code, direction: str) -> Code:
    """Swap ``code`` with its sibling above ("up") or below ("down")."""
    siblings = [e.code for e in code_tree(code.study_id)
                if e.code.parent_id == code.parent_id]
    index = siblings.index(code)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(siblings):
        raise CodebookError(f"“{code.name}” is already {'first' if direction == 'up' else 'last'}.")
    # Renumber the siblings so positions are distinct, then swap.
    siblings[index], siblings[other] = siblings[other], siblings[index]
    base = min(c.position for c in siblings)
    for offset, sibling in enumerate(siblings):
        sibling.position = base + offset
    db.session.flush()
    return code


def retire_code(actor: User, code: Code) -> Code:
    if code.retired:
        raise CodebookError(f"“{code.name}” is already retired.")
    active_children = [c.name for c in code.children if not c.retired]
    if active_children:
        names = ", ".join(active_children)
        raise CodebookError(f"“{code.name}” still has active subcodes ({names}). "
                            "Retire or move them first.")
    # Its pending suggestions stay, hidden from review while it is retired.
    code.retired, code.retired_at = True, utcnow()
    _event(actor, code, "retired")
    db.session.flush()
    return code


def restore_code(actor: User, code: Code) -> Code:
    if not code.retired:
        raise CodebookError(f"“{code.name}” is not retired.")
    if code.parent is not None and code.parent.retired:
        raise CodebookError(f"Its parent “{code.parent.name}” is retired; restore that first.")
    code.retired, code.retired_at, code.merged_into_id = False, None, None
    _event(actor, code, "restored")
    db.session.flush()
    return code


def merge_codes(actor: User, source: Code, target: Code) -> dict[str, int]:
    """Fold ``source`` into ``target``: everything that pointed at source now points at target.

    Codings that would become exact duplicates (same unit, span, coder and
    pass) are folded into the existing one, keeping their memos.
    """
    if source.study_id != target.study_id:
        raise CodebookError("Codes can only be merged within one study.")
    if source.id == target.id:
        raise CodebookError("Choose a different code to merge into.")
    if target.retired:
        raise CodebookError(f"“{target.name}” is retired; choose an active code.")
    if target.id in descendant_ids(source):
        raise CodebookError(f"“{target.name}” is a subcode of “{source.name}”; move it out "
                            "first, or merge the other way round.")
    counts = {"codings": 0, "duplicates": 0, "suggestions": 0, "patterns": 0, "memos": 0,
              "subcodes": 0}

    existing = {(c.segment_id, c.comment_id, c.start_char, c.end_char, c.coder_id,
                 c.assignment_id): c
                for c in db.session.scalars(select(Coding).where(Coding.code_id == target.id))}
    for coding in db.session.scalars(select(Coding).where(Coding.code_id == source.id)).all():
        same = existing.get((coding.segment_id, coding.comment_id, coding.start_char,
                             coding.end_char, coding.coder_id, coding.assignment_id))
        if same is not None:
            for memo in list(coding.memos):
                memo.coding_id = same.id
            db.session.flush()
            db.session.execute(update(SuggestionDecision).where(
                SuggestionDecision.coding_id == coding.id).values(coding_id=same.id))
            db.session.delete(coding)
            counts["duplicates"] += 1
        else:
            coding.code_id = target.id
            counts["codings"] += 1

    target_pending = {(s.segment_id, s.comment_id) for s in db.session.scalars(
        select(Suggestion).where(Suggestion.code_id == target.id,
                                 Suggestion.status == SuggestionStatus.PENDING))}
    for suggestion in db.session.scalars(select(Suggestion).where(
            Suggestion.code_id == source.id)).all():
        if (suggestion.status is SuggestionStatus.PENDING
                and (suggestion.segment_id, suggestion.comment_id) in target_pending):
            db.session.delete(suggestion)
        else:
            suggestion.code_id = target.id
            counts["suggestions"] += 1
    db.session.execute(update(SuggestionDecision).where(
        SuggestionDecision.code_id == source.id).values(code_id=target.id))

    taken = {(a.assignment_id, a.segment_id) for a in db.session.scalars(
        select(Adjudication).where(Adjudication.code_id == target.id))}
    for ruling in db.session.scalars(select(Adjudication).where(
            Adjudication.code_id == source.id)).all():
        if (ruling.assignment_id, ruling.segment_id) in taken:
            db.session.delete(ruling)
        else:
            ruling.code_id = target.id

    next_position = len(target.patterns)
    for pattern in list(source.patterns):
        pattern.code_id = target.id
        pattern.position = next_position
        next_position += 1
        counts["patterns"] += 1
    counts["memos"] = db.session.execute(update(Memo).where(Memo.code_id == source.id)
                                         .values(code_id=target.id)).rowcount
    for child in list(source.children):
        child.parent_id = target.id
        child.position = _next_position(target.study_id, target.id) + counts["subcodes"]
        counts["subcodes"] += 1

    source.retired, source.retired_at, source.merged_into_id = True, utcnow(), target.id
    _event(actor, source, "merged", into=target.key, **counts)
    _event(actor, target, "merged-from", source=source.key, **counts)
    db.session.flush()
    db.session.expire(source)
    db.session.expire(target)
    return counts


# --- patterns ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PatternInput:
    terms: list[str]
    lemma: bool = False
    case_sensitive: bool = False
    label: str | None = None
    weight: float | None = None

    @classmethod
    def from_text(cls, terms_text: str, **options) -> PatternInput:
        terms = [t.strip() for t in re.split(r"[\n;]", terms_text or "") if t.strip()]
        return cls(terms, **options)

    def check(self, code: Code) -> None:
        try:
            CodePattern(code.key, self.terms, lemma=self.lemma,
                        case_sensitive=self.case_sensitive, label=self.label or None,
                        weight=self.weight)
        except PatternError as error:
            raise CodebookError(f"That pattern cannot be used: {error}.") from error


def add_pattern(actor: User, code: Code, pattern: PatternInput) -> CodePatternRule:
    pattern.check(code)
    rule = CodePatternRule(code_id=code.id, terms=pattern.terms, lemma=pattern.lemma,
                           case_sensitive=pattern.case_sensitive, label=pattern.label or None,
                           weight=pattern.weight, position=len(code.patterns))
    db.session.add(rule)
    _event(actor, code, "pattern-added", terms=pattern.terms)
    db.session.flush()
    return rule


def update_pattern(actor: User, rule: CodePatternRule, pattern: PatternInput) -> CodePatternRule:
    pattern.check(rule.code)
    before = list(rule.terms)
    rule.terms, rule.lemma, rule.case_sensitive = pattern.terms, pattern.lemma, \
        pattern.case_sensitive
    rule.label, rule.weight = pattern.label or None, pattern.weight
    if before != pattern.terms:
        # What coders decided was about the old terms.
        rule.accepted = rule.rejected = 0
        rule.learned_weight = None
    _event(actor, rule.code, "pattern-edited", before=before, after=pattern.terms)
    db.session.flush()
    return rule


def remove_pattern(actor: User, rule: CodePatternRule) -> None:
    _event(actor, rule.code, "pattern-removed", terms=list(rule.terms))
    db.session.delete(rule)
    db.session.flush()


def tagger_patterns(study: Study | int) -> tuple[list[CodePattern], dict[tuple[str, str], int]]:
    """The study's active patterns for ``coding.tagger`` and a (code key, term) -> rule id map.

    A weight lowered by learning replaces the computed one.
    """
    study_id = study if isinstance(study, int) else study.id
    rows = db.session.execute(
        select(CodePatternRule, Code.key).join(Code)
        .where(Code.study_id == study_id, Code.retired.is_(False))
        .order_by(Code.position, CodePatternRule.position, CodePatternRule.id)).all()
    patterns, rule_of = [], {}
    for rule, key in rows:
        weight = rule.learned_weight if rule.learned_weight is not None else rule.weight
        try:
            patterns.append(CodePattern(key, list(rule.terms), lemma=rule.lemma,
                                        case_sensitive=rule.case_sensitive, label=rule.label,
                                        weight=weight))
        except PatternError:
            continue  # stored before validation existed; the codebook page shows it
        for term in rule.terms:
            rule_of.setdefault((key, term), rule.id)
    return patterns, rule_of


# --- import and export -------------------------------------------------------------------

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
                key = _unique_key(study.id, slugify(code.name), keys)
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
            _event(actor, code, "imported", source=source)
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
                _event(actor, code, "edited", source=source, **changes)
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
                _event(actor, code, "moved", source=source,
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
