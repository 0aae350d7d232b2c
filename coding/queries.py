"""Queries over codings: frequencies, co-occurrence, and CSV that spreadsheets open safely.

Input is plain rows (code key, unit, attributes); the app gathers them from
the database. Counts are of *units* (segments or comments) and of
*codings*: a segment coded twice with one code counts once as a unit.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

# A cell starting with one of these is a formula to Excel and LibreOffice.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CodedUnit:
    code_key: str
    unit: Hashable
    attribute: str  # e.g. the stakeholder group or session kind


@dataclass(frozen=True)
class FrequencyTable:
    codes: tuple[str, ...]
    columns: tuple[str, ...]
    units: dict[tuple[str, str], int]  # (code, column) -> distinct units
    codings: dict[tuple[str, str], int]  # (code, column) -> codings
    column_units: dict[str, int]  # column -> distinct coded units (any code)

    def row_total(self, code: str) -> int:
        return sum(self.units.get((code, c), 0) for c in self.columns)


def frequency(rows: Iterable[CodedUnit], codes: Sequence[str] | None = None,
              columns: Sequence[str] | None = None) -> FrequencyTable:
    """Units and codings per code and attribute value (e.g. stakeholder group)."""
    units: dict[tuple[str, str], set] = defaultdict(set)
    codings: dict[tuple[str, str], int] = defaultdict(int)
    by_column: dict[str, set] = defaultdict(set)
    seen_codes, seen_columns = [], []
    for r in rows:
        units[(r.code_key, r.attribute)].add(r.unit)
        codings[(r.code_key, r.attribute)] += 1
        by_column[r.attribute].add(r.unit)
        seen_codes.append(r.code_key)
        seen_columns.append(r.attribute)
    code_list = tuple(codes) if codes is not None else tuple(sorted(set(seen_codes)))
    column_list = tuple(columns) if columns is not None else tuple(sorted(set(seen_columns)))
    extra = tuple(sorted(set(seen_columns) - set(column_list)))
    return FrequencyTable(code_list, column_list + extra,
                          {k: len(v) for k, v in units.items()}, dict(codings),
                          {k: len(v) for k, v in by_column.items()})


@dataclass(frozen=True)
class Cooccurrence:
    codes: tuple[str, ...]
    counts: dict[tuple[str, str], int]  # symmetric; (a, a) is the units coded with a

    def count(self, a: str, b: str) -> int:
        return self.counts.get((a, b), 0)

    def jaccard(self, a: str, b: str) -> float | None:
        union = self.count(a, a) + self.count(b, b) - self.count(a, b)
        return self.count(a, b) / union if union else None


def cooccurrence(unit_codes: Mapping[Hashable, Iterable[str]],
                 codes: Sequence[str] | None = None) -> Cooccurrence:
    """How many units carry both codes, for every pair (the diagonal: units per code)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    seen: set[str] = set()
    for applied in unit_codes.values():
        applied = sorted(set(applied))
        seen.update(applied)
        for a in applied:
            counts[(a, a)] += 1
        for a, b in combinations(applied, 2):
            counts[(a, b)] += 1
            counts[(b, a)] += 1
    code_list = tuple(codes) if codes is not None else tuple(sorted(seen))
    return Cooccurrence(code_list, dict(counts))


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with a BOM-less UTF-8 header row; every cell made formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([c if isinstance(c, int | float) and not isinstance(c, bool)
                         else safe_cell(c) for c in row])
    return out.getvalue()
