"""Queries: code frequency by group and session kind, co-occurrence, coded quotes; CSV each."""

from flask import abort, render_template, request

from engage.access import get_in_study_or_404, study_view
from engage.analysis import bp
from engage.analysis.queries import (
    ATTRIBUTES,
    cooccurrence_csv,
    cooccurrence_for,
    frequency_by,
    frequency_csv,
    quotes,
    quotes_csv,
)
from engage.codebook.tree import code_choices
from models import Code


def _code(study):
    code_id = request.args.get("code", 0, type=int)
    return get_in_study_or_404(Code, code_id, study) if code_id else None


@bp.get("/queries")
@study_view()
def queries(study):
    by = request.args.get("by", "group")
    if by not in ATTRIBUTES:
        by = "group"
    table, paths = frequency_by(study, by)
    matrix, matrix_paths = cooccurrence_for(study)
    code = _code(study)
    subcodes = request.args.get("subcodes", "1") == "1"
    found = quotes(study, code, include_subcodes=subcodes) if code else []
    return render_template(
        "analysis/queries.html", study=study, by=by, attributes=ATTRIBUTES, table=table,
        paths=paths, matrix=matrix, matrix_paths=matrix_paths, code=code,
        subcodes=subcodes, quotes=found, codes=code_choices(study))


def _csv(data: str, name: str):
    return data, 200, {"Content-Type": "text/csv; charset=utf-8",
                       "Content-Disposition": f'attachment; filename="{name}"'}


@bp.get("/queries/frequency.csv")
@study_view()
def frequency_export(study):
    by = request.args.get("by", "group")
    if by not in ATTRIBUTES:
        abort(404)
    return _csv(frequency_csv(study, by), f"code-frequency-by-{by}-{study.id}.csv")


@bp.get("/queries/cooccurrence.csv")
@study_view()
def cooccurrence_export(study):
    return _csv(cooccurrence_csv(study), f"code-cooccurrence-{study.id}.csv")


@bp.get("/queries/quotes.csv")
@study_view()
def quotes_export(study):
    code = _code(study)
    subcodes = request.args.get("subcodes", "1") == "1"
    name = f"coded-quotes-{code.key if code else 'all'}-{study.id}.csv"
    return _csv(quotes_csv(study, code, include_subcodes=subcodes), name)
