"""Independent coding of a transcript, the agreement report, and adjudication.

A researcher assigns two or more coders to a transcript. While the
assignment is open each works in their own layer (``engage.analysis.layers``).
The report compares the layers per code and overall, at segment level (did
the coder apply the code anywhere in the segment?) and at character level
(which characters carry the code, weighted by length), with the statistics
of ``coding.agreement``. Each segment-level disagreement gets a ruling;
finalizing writes the adjudicated result as the study's codings for the
transcript:

* a code every coder applied to a segment: the union of their spans;
* a disagreement ruled "apply": the chosen coder's spans (all appliers' by default);
* a disagreement ruled "do not apply": nothing.

The result replaces the codings of record on the transcript only for the codes
the pass is about (those its coders applied, or that have a ruling); codings of
record with other codes are kept, unless the researcher chooses to replace all
of them (``FinalizeScope``).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select

from coding.agreement import (
    AgreementReport,
    Disagreement,
    agreement_report,
    character_units,
    disagreements,
)
from coding.anchoring import merge_intervals
from coding.queries import to_csv
from engage.access import study_role
from engage.analysis.operations import CodingError
from engage.audit import record
from models import (
    Adjudication,
    AssignmentCoder,
    AssignmentStatus,
    Code,
    Coding,
    CodingAssignment,
    CodingOrigin,
    Memo,
    Study,
    Transcript,
    TranscriptSegment,
    User,
    db,
    utcnow,
)


def create_assignment(actor: User, study: Study, transcript: Transcript,
                      coders: Sequence[User], *, blind: bool = True) -> CodingAssignment:
    if transcript.study_id != study.id:
        raise CodingError("That transcript belongs to another study.")
    coders = list({u.id: u for u in coders}.values())
    if len(coders) < 2:
        raise CodingError("Choose at least two coders to code the transcript independently.")
    outsiders = [u.name for u in coders if study_role(u, study) is None]
    if outsiders:
        raise CodingError(f"{', '.join(outsiders)} {'is' if len(outsiders) == 1 else 'are'} "
                          "not a member of this study.")
    if db.session.scalar(select(CodingAssignment.id).where(
            CodingAssignment.transcript_id == transcript.id,
            CodingAssignment.status == AssignmentStatus.OPEN)):
        raise CodingError("This transcript already has independent coding in progress; "
                          "adjudicate or cancel it first.")
    assignment = CodingAssignment(study_id=study.id, transcript_id=transcript.id, blind=blind,
                                  created_by_id=actor.id)
    assignment.coders = [AssignmentCoder(user_id=u.id) for u in coders]
    db.session.add(assignment)
    db.session.flush()
    return assignment


def _require_open(assignment: CodingAssignment) -> None:
    if assignment.status is not AssignmentStatus.OPEN:
        raise CodingError(f"This independent coding is {assignment.status.label}; "
                          "it cannot be changed.")


def mark_done(actor: User, assignment: CodingAssignment, done: bool = True) -> AssignmentCoder:
    _require_open(assignment)
    row = next((c for c in assignment.coders if c.user_id == actor.id), None)
    if row is None:
        raise CodingError("You are not one of the coders of this transcript.")
    row.done_at = utcnow() if done else None
    db.session.flush()
    return row


def cancel_assignment(actor: User, assignment: CodingAssignment) -> None:
    """Stop the independent pass; the coders' layers are kept for the record."""
    _require_open(assignment)
    assignment.status = AssignmentStatus.CANCELLED
    assignment.closed_by_id, assignment.closed_at = actor.id, utcnow()
    db.session.flush()


@dataclass
class DisagreementView:
    segment: TranscriptSegment
    code: Code
    applied_by: list[User]
    not_applied_by: list[User]
    spans: dict[int, list[tuple[int, int]]]  # coder id -> spans of this code in the segment
    ruling: Adjudication | None


@dataclass
class Report:
    assignment: CodingAssignment
    coders: list[User]
    codes: dict[str, Code]  # str(code id) -> Code
    segment_level: AgreementReport
    character_level: AgreementReport
    disagreements: list[DisagreementView]
    not_done: list[User]
    codings: int
    per_coder: dict[int, int] = field(default_factory=dict)

    @property
    def undecided(self) -> int:
        return sum(1 for d in self.disagreements if d.ruling is None)

    def code_name(self, key: str) -> str:
        code = self.codes.get(key)
        return code.name if code else key


def _layer_codings(assignment: CodingAssignment) -> list[Coding]:
    coder_ids = [c.user_id for c in assignment.coders]
    return list(db.session.scalars(select(Coding).where(
        Coding.assignment_id == assignment.id, Coding.coder_id.in_(coder_ids))))


def build_report(assignment: CodingAssignment) -> Report:
    coders = [c.user for c in assignment.coders]
    names = {u.id: str(u.id) for u in coders}
    segments = list(db.session.scalars(select(TranscriptSegment).where(
        TranscriptSegment.transcript_id == assignment.transcript_id)
        .order_by(TranscriptSegment.position)))
    codings = _layer_codings(assignment)
    by_segment: dict[int, list[Coding]] = defaultdict(list)
    for coding in codings:
        by_segment[coding.segment_id].append(coding)
    code_rows = {str(c.id): c for c in db.session.scalars(
        select(Code).where(Code.id.in_({c.code_id for c in codings} or {-1})))}
    order = sorted(code_rows, key=lambda k: (code_rows[k].position, code_rows[k].id))

    seg_units: dict[int, dict[str, set[str]]] = {}
    char_units: dict[tuple[int, int, int], dict[str, set[str]]] = {}
    char_weights: dict[tuple[int, int, int], int] = {}
    for segment in segments:
        mine = by_segment.get(segment.id, [])
        seg_units[segment.id] = {names[u.id]: {str(c.code_id) for c in mine
                                               if c.coder_id == u.id} for u in coders}
        spans = {names[u.id]: [(c.start_char, c.end_char, str(c.code_id)) for c in mine
                               if c.coder_id == u.id and c.start_char < c.end_char
                               and c.end_char <= len(segment.text)] for u in coders}
        if not segment.text:
            continue
        units, weights = character_units(len(segment.text), spans)
        for (start, end), by_coder in units.items():
            char_units[(segment.id, start, end)] = by_coder
            char_weights[(segment.id, start, end)] = weights[(start, end)]

    rulings = {(a.segment_id, a.code_id): a for a in assignment.adjudications}
    users = {u.id: u for u in coders}
    segment_by_id = {s.id: s for s in segments}
    views = []
    for d in disagreements(seg_units, order):
        d: Disagreement
        code = code_rows[d.code]
        segment = segment_by_id[d.unit]
        spans = {u.id: merge_intervals((c.start_char, c.end_char)
                                       for c in by_segment.get(segment.id, [])
                                       if c.coder_id == u.id and str(c.code_id) == d.code)
                 for u in coders}
        views.append(DisagreementView(
            segment, code, [users[int(c)] for c in d.applied_by],
            [users[int(c)] for c in d.not_applied_by], spans,
            rulings.get((segment.id, code.id))))
    views.sort(key=lambda v: (v.segment.position, v.code.position))
    per_coder = defaultdict(int)
    for coding in codings:
        per_coder[coding.coder_id] += 1
    return Report(
        assignment, coders, code_rows,
        agreement_report(seg_units, order),
        agreement_report(char_units, order, char_weights),
        views, [c.user for c in assignment.coders if c.done_at is None], len(codings),
        dict(per_coder))


def adjudicate(actor: User, assignment: CodingAssignment, segment: TranscriptSegment,
               code: Code, *, apply: bool, from_coder: User | None = None,
               note: str = "") -> Adjudication:
    _require_open(assignment)
    if segment.transcript_id != assignment.transcript_id or code.study_id != assignment.study_id:
        raise CodingError("That passage or code is not part of this independent coding.")
    if from_coder is not None and from_coder.id not in {c.user_id for c in assignment.coders}:
        raise CodingError("Choose the spans of one of the assigned coders.")
    ruling = db.session.scalar(select(Adjudication).where(
        Adjudication.assignment_id == assignment.id, Adjudication.segment_id == segment.id,
        Adjudication.code_id == code.id))
    if ruling is None:
        ruling = Adjudication(assignment_id=assignment.id, segment_id=segment.id,
                              code_id=code.id)
        db.session.add(ruling)
    ruling.apply = apply
    ruling.apply_from_id = from_coder.id if (apply and from_coder) else None
    ruling.note = (note or "").strip()
    ruling.decided_by_id, ruling.decided_at = actor.id, utcnow()
    db.session.flush()
    return ruling


class FinalizeScope(enum.StrEnum):
    """Which codings of record on the transcript the adjudicated result replaces."""

    USED_CODES = "codes"  # only those with the codes the pass is about
    ALL = "all"  # every one (any code)


@dataclass
class ScopePreview:
    """What finalizing would replace and keep, to choose the scope knowingly."""

    pass_codes: int  # codes the pass is about
    replaced: int  # codings of record now with those codes
    kept_codings: int  # codings of record with other codes (kept by default)
    kept_codes: int  # ... and how many other codes they have

    @property
    def total(self) -> int:
        return self.replaced + self.kept_codings


@dataclass
class Finalized:
    scope: FinalizeScope
    written: int  # adjudicated codings written
    removed: int  # codings of record replaced
    kept: int  # codings of record with other codes left as they were

    def message(self) -> str:
        written = f"{self.written} coding{' is' if self.written == 1 else 's are'}"
        if self.scope is FinalizeScope.ALL:
            return f"Adjudicated: {written} now the study's codings for this transcript."
        kept = (f"{self.kept} coding of record with other codes was" if self.kept == 1 else
                f"{self.kept} codings of record with other codes were")
        return (f"Adjudicated: {written} now the study's codings for the codes in this pass; "
                f"{kept} kept.")


def pass_code_ids(assignment: CodingAssignment) -> set[int]:
    """The codes the pass is about: applied by any of its coders, or ruled on."""
    coder_ids = [c.user_id for c in assignment.coders]
    used = db.session.scalars(select(Coding.code_id).distinct().where(
        Coding.assignment_id == assignment.id, Coding.coder_id.in_(coder_ids)))
    return set(used) | {a.code_id for a in assignment.adjudications}


def _of_record(assignment: CodingAssignment):
    return (Coding.assignment_id.is_(None), Coding.segment_id.in_(
        select(TranscriptSegment.id).where(
            TranscriptSegment.transcript_id == assignment.transcript_id)))


def scope_preview(assignment: CodingAssignment) -> ScopePreview:
    codes = pass_code_ids(assignment)
    counts = dict(db.session.execute(select(Coding.code_id, func.count(Coding.id))
                                     .where(*_of_record(assignment)).group_by(Coding.code_id))
                  .all())
    others = {code: n for code, n in counts.items() if code not in codes}
    return ScopePreview(len(codes), sum(counts.values()) - sum(others.values()),
                        sum(others.values()), len(others))


def finalize(actor: User, assignment: CodingAssignment,
             scope: FinalizeScope | str = FinalizeScope.USED_CODES) -> Finalized:
    """Write the adjudicated result as the study's codings for the transcript.

    It replaces the codings of record with the codes the pass is about, or with
    ``FinalizeScope.ALL`` every coding of record on the transcript.
    """
    scope = FinalizeScope(scope)
    _require_open(assignment)
    report = build_report(assignment)
    if report.undecided:
        raise CodingError(f"{report.undecided} disagreement"
                          f"{' is' if report.undecided == 1 else 's are'} not adjudicated yet.")
    codings = _layer_codings(assignment)
    coder_ids = [c.user_id for c in assignment.coders]
    grouped: dict[tuple[int, int], dict[int, list[Coding]]] = defaultdict(
        lambda: defaultdict(list))
    for coding in codings:
        grouped[(coding.segment_id, coding.code_id)][coding.coder_id].append(coding)
    rulings = {(a.segment_id, a.code_id): a for a in assignment.adjudications}
    segments = {s.id: s for s in db.session.scalars(select(TranscriptSegment).where(
        TranscriptSegment.transcript_id == assignment.transcript_id))}

    codes = sorted(pass_code_ids(assignment))
    of_record = _of_record(assignment)
    replaced = of_record if scope is FinalizeScope.ALL else (
        *of_record, Coding.code_id.in_(codes or [-1]))
    removed = db.session.execute(delete(Coding).where(*replaced)).rowcount
    kept = db.session.scalar(select(func.count(Coding.id)).where(*of_record))
    written = 0
    for (segment_id, code_id), by_coder in sorted(grouped.items()):
        if len(by_coder) == len(coder_ids):
            chosen = [c for cs in by_coder.values() for c in cs]
        else:
            ruling = rulings.get((segment_id, code_id))
            if ruling is None or not ruling.apply:
                continue
            chosen = (by_coder.get(ruling.apply_from_id, []) if ruling.apply_from_id
                      else [c for cs in by_coder.values() for c in cs])
        text = segments[segment_id].text
        for start, end in merge_intervals((c.start_char, c.end_char) for c in chosen):
            coding = Coding(study_id=assignment.study_id, code_id=code_id, segment_id=segment_id,
                            start_char=start, end_char=end, quote=text[start:end],
                            coder_id=actor.id, origin=CodingOrigin.ADJUDICATED)
            db.session.add(coding)
            db.session.flush()
            for source in chosen:
                if source.start_char < end and start < source.end_char:
                    for memo in source.memos:
                        db.session.add(Memo(study_id=memo.study_id, author_id=memo.author_id,
                                            body=memo.body, coding_id=coding.id))
            written += 1
    assignment.status = AssignmentStatus.ADJUDICATED
    assignment.closed_by_id, assignment.closed_at = actor.id, utcnow()
    record("coding_assignment.finalize", actor, study_id=assignment.study_id,
           target=("coding_assignment", assignment.id), transcript=assignment.transcript_id,
           scope=scope.value, codes=codes, written=written, replaced=removed,
           kept=kept)
    db.session.flush()
    return Finalized(scope, written, removed, kept)


def report_csv(report: Report) -> str:
    names = {str(u.id): u.name for u in report.coders}
    rows = []
    for level, result in (("segment", report.segment_level),
                          ("character", report.character_level)):
        for item in (*result.codes, result.overall):
            name = "(all codes)" if item is result.overall else report.code_name(item.code)
            pair_text = "; ".join(
                f"{names.get(p.coder_a, p.coder_a)} × {names.get(p.coder_b, p.coder_b)}: "
                + (f"{p.kappa.value:.3f}" if p.kappa.value is not None else "undefined")
                for p in item.pairs)
            rows.append((level, name, item.n_units, _num(item.percent_agreement),
                         _num(item.mean_kappa), _num(item.alpha.value), pair_text,
                         item.mean_kappa_note or item.alpha.note or ""))
    return to_csv(("level", "code", "units", "percent_agreement", "cohen_kappa",
                   "krippendorff_alpha", "kappa_by_pair", "note"), rows)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
