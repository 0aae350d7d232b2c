"""Reading the codebook: a study's codes as a tree, their codings and history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from models import Code, CodeEvent, Coding, Study, db


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
