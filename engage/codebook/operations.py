"""Codebook operations: creating, editing, moving, reordering, retiring and restoring codes.

Reading the tree is in ``tree``, merging in ``merge``, patterns and the
guide's starting codebook in ``patterns``, ``.qdc`` and CSV files in
``interchange``.

Operations flush; the request commits once. Codes are never deleted: a code
that is no longer wanted is retired (hidden from coding, codings kept) or
merged into another (its codings, suggestions, patterns, memos and children
follow; it stays, retired, pointing at where they went).
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from coding.codebook_csv import slugify
from engage.codebook.tree import code_tree, descendant_ids
from models import Code, CodeEvent, Study, User, db, utcnow

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class CodebookError(ValueError):
    """A refused codebook change, phrased for the researcher."""


def record_event(actor: User | None, code: Code, action: str, **detail) -> None:
    """A line in the code's history, as ``tree.history`` lists it."""
    db.session.add(CodeEvent(code_id=code.id, user_id=actor.id if actor else None,
                             action=action, detail=detail))


def unique_key(study_id: int, wanted: str, taken: set[str] | None = None) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… where the study (or ``taken``) has it."""
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


def next_position_under(study_id: int, parent_id: int | None) -> int:
    """The position after the last code under ``parent_id`` (None: the top level)."""
    current = db.session.scalar(select(func.max(Code.position)).where(
        Code.study_id == study_id, Code.parent_id.is_(parent_id) if parent_id is None
        else Code.parent_id == parent_id))
    return (current or 0) + 1


def create_code(actor: User, study: Study, *, name: str, parent: Code | None = None,
                description: str = "", inclusion: str = "", exclusion: str = "",
                color: str | None = None, key: str | None = None) -> Code:
    name = _check_fields(name, color)
    _check_parent(study, parent)
    code = Code(study_id=study.id, key=unique_key(study.id, key or slugify(name)), name=name,
                parent_id=parent.id if parent else None, description=description.strip(),
                inclusion=inclusion.strip(), exclusion=exclusion.strip(),
                color=color or (parent.color if parent else "#4a6fa5"),
                position=next_position_under(study.id, parent.id if parent else None))
    db.session.add(code)
    db.session.flush()
    record_event(actor, code, "created", name=name, parent=parent.key if parent else None)
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
        record_event(actor, code, "edited", **changes)
    db.session.flush()
    return changes


def move_code(actor: User, code: Code, parent: Code | None) -> Code:
    """Put ``code`` (with its subcodes) under ``parent``, or at the top level for None."""
    _check_parent(code.study_id, parent, code)
    old = code.parent
    if (old.id if old else None) == (parent.id if parent else None):
        raise CodebookError(f"“{code.name}” is already there.")
    code.parent_id = parent.id if parent else None
    code.position = next_position_under(code.study_id, code.parent_id)
    record_event(actor, code, "moved", **{"from": old.key if old else None,
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
    record_event(actor, code, "retired")
    db.session.flush()
    return code


def restore_code(actor: User, code: Code) -> Code:
    if not code.retired:
        raise CodebookError(f"“{code.name}” is not retired.")
    if code.parent is not None and code.parent.retired:
        raise CodebookError(f"Its parent “{code.parent.name}” is retired; restore that first.")
    code.retired, code.retired_at, code.merged_into_id = False, None, None
    record_event(actor, code, "restored")
    db.session.flush()
    return code

