"""Inter-coder agreement: percent agreement, Cohen's kappa, Krippendorff's alpha.

Input is a mapping ``unit -> coder -> codes applied``. A unit is whatever was
coded independently: a transcript segment, or a stretch of characters (see
:func:`character_units`). A coder missing from a unit did not code it
(missing data); a coder present with an empty set coded it and applied
nothing, which is an opinion ("none of these codes apply").

Each code is analysed as binary presence per unit. Statistics that are
mathematically undefined (a code nobody ever applied has kappa 0/0) come back
as ``None`` with a ``note`` in plain words, never as NaN or an exception,
because a report has to show something sensible for every code.

Unit weights (default 1) let character-level units count by their length.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

Units = Mapping[Hashable, Mapping[str, Collection[str]]]

# Floating tolerance for "chance agreement is 1" / "no expected disagreement".
_EPS = 1e-12


@dataclass(frozen=True)
class KappaResult:
    value: float | None
    observed: float | None  # p_o, share of units the two coders agree on
    expected: float | None  # p_e, agreement expected by chance from the marginals
    n_units: float
    note: str | None = None


@dataclass(frozen=True)
class AlphaResult:
    value: float | None
    observed_disagreement: float | None
    expected_disagreement: float | None
    n_values: float  # pairable values: those in units with two or more values
    note: str | None = None


@dataclass(frozen=True)
class PairAgreement:
    coder_a: str
    coder_b: str
    n_units: float
    percent_agreement: float | None
    kappa: KappaResult


@dataclass(frozen=True)
class CodeAgreement:
    code: str
    n_units: float  # units coded by two or more coders
    percent_agreement: float | None
    pairs: tuple[PairAgreement, ...]
    mean_kappa: float | None
    mean_kappa_note: str | None
    alpha: AlphaResult


@dataclass(frozen=True)
class AgreementReport:
    coders: tuple[str, ...]
    codes: tuple[CodeAgreement, ...]
    # Pooled over every (unit, code) presence decision, so one number summarises
    # the codebook even when some codes alone are undefined.
    overall: CodeAgreement


@dataclass(frozen=True)
class Disagreement:
    unit: Hashable
    code: str
    applied_by: tuple[str, ...]
    not_applied_by: tuple[str, ...]


def cohen_kappa(
    a: Sequence[Hashable], b: Sequence[Hashable], weights: Sequence[float] | None = None
) -> KappaResult:
    """Cohen's kappa for two coders' nominal labels over the same units.

    ``kappa = (p_o - p_e) / (1 - p_e)``; undefined when ``p_e == 1``, i.e. both
    coders gave every unit one and the same label.
    """
    if len(a) != len(b):
        raise ValueError(f"the two coders rated different numbers of units ({len(a)} vs {len(b)})")
    w = _weights(weights, len(a))
    labels = {label: i for i, label in enumerate(dict.fromkeys([*a, *b]))}
    table = np.zeros((len(labels), len(labels)))
    for x, y, weight in zip(a, b, w, strict=True):
        table[labels[x], labels[y]] += weight
    n = float(table.sum())
    if n <= 0:
        return KappaResult(None, None, None, 0.0, "no units were coded by both coders")
    observed = float(np.trace(table)) / n
    expected = float(table.sum(axis=1) @ table.sum(axis=0)) / (n * n)
    if 1.0 - expected < _EPS:
        only = next(iter(labels))
        return KappaResult(
            None,
            observed,
            expected,
            n,
            f"both coders gave every unit the same value ({_describe(only)}), so agreement "
            "expected by chance is 100% and kappa is undefined; percent agreement is 100%",
        )
    return KappaResult((observed - expected) / (1.0 - expected), observed, expected, n)


def krippendorff_alpha(
    data: Sequence[Sequence[Hashable | None]], weights: Sequence[float] | None = None
) -> AlphaResult:
    """Krippendorff's alpha for nominal data, any number of coders, missing allowed.

    ``data[c][u]`` is coder ``c``'s value for unit ``u`` or ``None`` when
    missing. Built from the coincidence matrix ``o``:
    ``alpha = 1 - (n - 1) * sum_{c!=k} o_ck / sum_{c!=k} n_c n_k``
    (Krippendorff, "Computing Krippendorff's Alpha-Reliability", 2011).
    """
    n_units = len(data[0]) if data else 0
    if any(len(row) != n_units for row in data):
        raise ValueError("every coder's row must have one entry per unit")
    w = _weights(weights, n_units)
    labels: dict[Hashable, int] = {}
    columns: list[tuple[list[int], float]] = []
    for u in range(n_units):
        values = [row[u] for row in data if not _missing(row[u])]
        if len(values) >= 2:  # a lone value has nothing to be compared with
            columns.append(([labels.setdefault(v, len(labels)) for v in values], w[u]))
    if not columns:
        return AlphaResult(None, None, None, 0.0, "no unit was coded by two or more coders")
    coincidence = np.zeros((len(labels), len(labels)))
    for indices, weight in columns:
        counts = np.bincount(indices, minlength=len(labels)).astype(float)
        pairs = np.outer(counts, counts) - np.diag(counts)  # ordered pairs, no self-pairs
        coincidence += weight * pairs / (len(indices) - 1)
    n_c = coincidence.sum(axis=1)
    n = float(n_c.sum())
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    observed = float(coincidence[off_diagonal].sum()) / n
    expected = float(np.outer(n_c, n_c)[off_diagonal].sum()) / (n * (n - 1)) if n > 1 else 0.0
    if expected < _EPS:
        only = next(iter(labels))
        return AlphaResult(
            None,
            observed,
            expected,
            n,
            f"every value given is the same ({_describe(only)}), so there is no variation "
            "to agree on and alpha is undefined",
        )
    return AlphaResult(1.0 - observed / expected, observed, expected, n)


def agreement_report(
    units: Units,
    codes: Iterable[str] | None = None,
    weights: Mapping[Hashable, float] | None = None,
) -> AgreementReport:
    """Per-code and pooled agreement over ``units``.

    ``codes`` defaults to every code anyone applied; pass the codebook's codes
    to report on codes nobody used too. ``weights`` maps unit -> weight.
    """
    unit_ids = list(units)
    coders = tuple(sorted({c for u in unit_ids for c in units[u]}))
    code_list = _codes(units, codes)
    unit_w = [float(weights.get(u, 1.0)) if weights else 1.0 for u in unit_ids]

    per_code = []
    pooled_rows: list[list[bool | None]] = [[] for _ in coders]
    for code in code_list:
        rows = _presence(units, unit_ids, coders, code)
        per_code.append(_code_agreement(code, coders, rows, unit_w))
        for pooled, row in zip(pooled_rows, rows, strict=True):
            pooled.extend(row)
    overall = _code_agreement("(all codes)", coders, pooled_rows, unit_w * len(code_list))
    return AgreementReport(coders, tuple(per_code), overall)


def disagreements(units: Units, codes: Iterable[str] | None = None) -> list[Disagreement]:
    """Units where coders who coded the unit differ on a code, for adjudication."""
    found = []
    for code in _codes(units, codes):
        for unit, by_coder in units.items():
            if len(by_coder) < 2:
                continue
            applied = tuple(sorted(c for c, codes_ in by_coder.items() if code in codes_))
            if applied and len(applied) < len(by_coder):
                not_applied = tuple(sorted(c for c in by_coder if c not in applied))
                found.append(Disagreement(unit, code, applied, not_applied))
    return found


def character_units(
    text_length: int,
    spans_by_coder: Mapping[str, Iterable[tuple[int, int, str]]],
) -> tuple[dict[tuple[int, int], dict[str, set[str]]], dict[tuple[int, int], int]]:
    """Cut a text at every coding boundary into units for character-level agreement.

    ``spans_by_coder`` maps every coder who coded the text (even one who made
    no codings) to ``(start, end, code)`` spans in code points. Returns
    ``(units, weights)`` keyed by ``(start, end)``; each weight is the stretch's
    length, so statistics count characters without one unit per character.
    """
    bounds = {0, text_length}
    spans = {coder: list(items) for coder, items in spans_by_coder.items()}
    for coder, items in spans.items():
        for start, end, code in items:
            if not 0 <= start < end <= text_length:
                raise ValueError(
                    f"span {start}-{end} for code {code!r} by {coder!r} is outside the "
                    f"text (length {text_length}) or empty"
                )
            bounds.update((start, end))
    edges = sorted(bounds)
    index = {b: i for i, b in enumerate(edges)}
    pieces = list(zip(edges, edges[1:], strict=False))
    units: dict[tuple[int, int], dict[str, set[str]]] = {
        p: {c: set() for c in spans} for p in pieces
    }
    for coder, items in spans.items():
        for start, end, code in items:
            for piece in pieces[index[start] : index[end]]:
                units[piece][coder].add(code)
    return units, {p: p[1] - p[0] for p in pieces}


def _code_agreement(
    code: str, coders: tuple[str, ...], rows: list[list[bool | None]], unit_w: list[float]
) -> CodeAgreement:
    pairs = []
    for i, j in combinations(range(len(coders)), 2):
        both = [u for u in range(len(unit_w)) if rows[i][u] is not None and rows[j][u] is not None]
        a = [rows[i][u] for u in both]
        b = [rows[j][u] for u in both]
        w = [unit_w[u] for u in both]
        kappa = cohen_kappa(a, b, w)
        pairs.append(PairAgreement(coders[i], coders[j], kappa.n_units, kappa.observed, kappa))

    defined = [p.kappa.value for p in pairs if p.kappa.value is not None]
    if not pairs:
        mean_kappa, note = None, "kappa needs two coders"
    elif not defined:
        mean_kappa, note = None, pairs[0].kappa.note
    else:
        mean_kappa = float(np.mean(defined))
        note = None
        if len(defined) < len(pairs):
            note = f"mean over {len(defined)} of {len(pairs)} coder pairs; undefined for the rest"

    percent, n_units = _percent_agreement(rows, unit_w)
    alpha = krippendorff_alpha(rows, unit_w)
    return CodeAgreement(code, n_units, percent, tuple(pairs), mean_kappa, note, alpha)


def _percent_agreement(
    rows: list[list[bool | None]], unit_w: list[float]
) -> tuple[float | None, float]:
    """Mean over units of the share of coder pairs that agree (Fleiss' P-bar).

    With two coders this is the plain share of units they agree on.
    """
    total = weight_sum = 0.0
    for u, weight in enumerate(unit_w):
        values = [row[u] for row in rows if row[u] is not None]
        m = len(values)
        if m < 2:
            continue
        yes = sum(values)
        agreeing = yes * (yes - 1) / 2 + (m - yes) * (m - yes - 1) / 2
        total += weight * agreeing / (m * (m - 1) / 2)
        weight_sum += weight
    return (total / weight_sum if weight_sum else None), weight_sum


def _presence(
    units: Units, unit_ids: list[Hashable], coders: tuple[str, ...], code: str
) -> list[list[bool | None]]:
    return [[(code in units[u][c]) if c in units[u] else None for u in unit_ids] for c in coders]


def _codes(units: Units, codes: Iterable[str] | None) -> list[str]:
    if codes is not None:
        return list(dict.fromkeys(codes))
    return sorted({code for by_coder in units.values() for s in by_coder.values() for code in s})


def _weights(weights: Sequence[float] | None, n: int) -> list[float]:
    if weights is None:
        return [1.0] * n
    if len(weights) != n:
        raise ValueError(f"got {len(weights)} weights for {n} units")
    if any(w < 0 for w in weights):
        raise ValueError("unit weights cannot be negative")
    return [float(w) for w in weights]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # NaN


def _describe(value: Hashable) -> str:
    if value is True:
        return "code applied"
    if value is False:
        return "code not applied"
    return repr(value)
