"""Queries over the study's codings of record, each exportable as CSV.

* code frequency by stakeholder group and by session kind (units and codings);
* the code co-occurrence matrix (units carrying both codes);
* every coded quote for a code (and its subcodes), with source, speaker and group.

Independent coders' passes are not counted until they are adjudicated.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from coding.queries import CodedUnit, Cooccurrence, FrequencyTable, cooccurrence, frequency, to_csv
from engage.analysis.units import NO_GROUP, PUBLIC_COMMENT, Unit, load_units
from engage.codebook.tree import code_tree, descendant_ids
from models import Code, Coding, Memo, Study, db

ATTRIBUTES = {"group": "Stakeholder group", "session": "Session kind"}


@dataclass(frozen=True)
class CodedQuote:
    coding: Coding
    unit: Unit
    code_path: str


def record_codings(study: Study, code_ids: set[int] | None = None) -> list[tuple[Coding, Unit]]:
    query = select(Coding).where(Coding.study_id == study.id, Coding.assignment_id.is_(None))
    if code_ids is not None:
        query = query.where(Coding.code_id.in_(code_ids or {-1}))
    codings = list(db.session.scalars(query.order_by(Coding.id)))
    units = load_units(study, {c.unit_ref for c in codings})
    return [(c, units[c.unit_ref]) for c in codings if c.unit_ref in units]


def _attribute(unit: Unit, by: str) -> str:
    return unit.group_label if by == "group" else unit.session_kind


def frequency_by(study: Study, by: str) -> tuple[FrequencyTable, dict[str, str]]:
    """Table keyed by code id (as text) with the code paths to show."""
    if by not in ATTRIBUTES:
        raise ValueError(f"unknown attribute {by!r}")
    tree = code_tree(study)
    rows = [CodedUnit(str(c.code_id), str(u.ref), _attribute(u, by))
            for c, u in record_codings(study)]
    if by == "group":
        columns = [g.name for g in study.stakeholder_groups] + [NO_GROUP]
    else:
        columns = sorted({r.attribute for r in rows} - {PUBLIC_COMMENT}) + [PUBLIC_COMMENT]
    used = {r.code_key for r in rows}
    codes = [str(e.code.id) for e in tree if str(e.code.id) in used]
    table = frequency(rows, codes, columns)
    return table, {str(e.code.id): e.path for e in tree}


def frequency_csv(study: Study, by: str) -> str:
    table, paths = frequency_by(study, by)
    header = ["code", *[f"{c} (passages)" for c in table.columns], "total passages",
              *[f"{c} (codings)" for c in table.columns]]
    rows = [[paths[code], *[table.units.get((code, c), 0) for c in table.columns],
             table.row_total(code), *[table.codings.get((code, c), 0) for c in table.columns]]
            for code in table.codes]
    return to_csv(header, rows)


def cooccurrence_for(study: Study) -> tuple[Cooccurrence, dict[str, str]]:
    tree = code_tree(study)
    applied: dict[str, set[str]] = {}
    for coding, unit in record_codings(study):
        applied.setdefault(str(unit.ref), set()).add(str(coding.code_id))
    used = set().union(*applied.values()) if applied else set()
    codes = [str(e.code.id) for e in tree if str(e.code.id) in used]
    return cooccurrence(applied, codes), {str(e.code.id): e.path for e in tree}


def cooccurrence_csv(study: Study) -> str:
    matrix, paths = cooccurrence_for(study)
    header = ["code", *[paths[c] for c in matrix.codes]]
    return to_csv(header, ([paths[a], *[matrix.count(a, b) for b in matrix.codes]]
                           for a in matrix.codes))


def quotes(study: Study, code: Code | None = None, *,
           include_subcodes: bool = True) -> list[CodedQuote]:
    code_ids = None
    if code is not None:
        code_ids = {code.id} | (descendant_ids(code) if include_subcodes else set())
    paths = {e.code.id: e.path for e in code_tree(study)}
    found = [CodedQuote(c, u, paths.get(c.code_id, "")) for c, u in
             record_codings(study, code_ids)]
    found.sort(key=lambda q: (q.code_path, q.unit.source != "transcript", q.unit.document,
                              q.unit.position, q.coding.start_char))
    return found


def quotes_csv(study: Study, code: Code | None = None, *, include_subcodes: bool = True) -> str:
    found = quotes(study, code, include_subcodes=include_subcodes)
    memos: dict[int, list[str]] = {}
    if found:
        for memo in db.session.scalars(select(Memo).where(
                Memo.coding_id.in_([q.coding.id for q in found]))):
            memos.setdefault(memo.coding_id, []).append(memo.body)
    header = ("code", "code_key", "quote", "source", "document", "location", "speaker",
              "stakeholder_group", "session_kind", "start_char", "end_char", "coder",
              "origin", "coded_at", "memos", "needs_check")
    rows = []
    for q in found:
        unit = q.unit
        location = unit.label.split(" · ", 1)[1] if unit.source == "transcript" else \
            f"comment {unit.ref.id}" + (f" ({unit.external_id})" if unit.external_id else "")
        rows.append((q.code_path, q.coding.code.key, q.coding.quote, unit.source, unit.document,
                     location, unit.speaker or "", unit.group_label, unit.session_kind,
                     q.coding.start_char, q.coding.end_char,
                     q.coding.coder.name if q.coding.coder else "", q.coding.origin.value,
                     q.coding.created_at.isoformat(timespec="seconds"),
                     "\n\n".join(memos.get(q.coding.id, [])),
                     "yes" if q.coding.needs_check else ""))
    return to_csv(header, rows)
