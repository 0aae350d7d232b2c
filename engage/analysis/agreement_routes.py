"""Independent coding: coders mark their pass done; researchers read agreement and adjudicate."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engage.access import get_in_study_or_404, study_view
from engage.analysis import bp
from engage.analysis.agreement import (
    adjudicate,
    build_report,
    cancel_assignment,
    finalize,
    mark_done,
    report_csv,
    scope_preview,
)
from engage.analysis.display import evidence_marks
from engage.analysis.forms import AdjudicationForm, FinalizeForm
from engage.analysis.operations import CodingError
from engage.forms import ConfirmForm, perform, select_choices
from models import (
    AssignmentStatus,
    Code,
    CodingAssignment,
    StudyRole,
    TranscriptSegment,
    User,
    db,
)


def _assignment(study, assignment_id) -> CodingAssignment:
    return get_in_study_or_404(CodingAssignment, assignment_id, study)


def _to_transcript(study, assignment):
    return redirect(url_for("analysis.transcript", study_id=study.id,
                            transcript_id=assignment.transcript_id) + "#independent")


@bp.post("/coding/assignments/<int:assignment_id>/done")
@study_view()
def assignment_done(study, assignment_id):
    assignment = _assignment(study, assignment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    done = request.form.get("done", "1") == "1"
    perform(lambda: mark_done(current_user, assignment, done),
            "Marked as done; the researcher can compare the passes." if done
            else "Marked as not done yet.", errors=CodingError)
    return _to_transcript(study, assignment)


@bp.post("/coding/assignments/<int:assignment_id>/cancel")
@study_view(StudyRole.RESEARCHER)
def assignment_cancel(study, assignment_id):
    assignment = _assignment(study, assignment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    perform(lambda: cancel_assignment(current_user, assignment),
            "Independent coding cancelled; the coders' passes are kept for the record.",
            errors=CodingError)
    return _to_transcript(study, assignment)


@bp.get("/coding/assignments/<int:assignment_id>")
@study_view(StudyRole.RESEARCHER)
def agreement(study, assignment_id):
    assignment = _assignment(study, assignment_id)
    report = build_report(assignment)
    open_ = assignment.status is AssignmentStatus.OPEN
    forms = {}
    for d in report.disagreements:
        form = AdjudicationForm(formdata=None, segment=d.segment.id, code=d.code.id)
        form.ruling.choices = select_choices(
            [(f"coder:{u.id}", f"Apply: {u.name}'s span") for u in d.applied_by]
            + ([("apply", "Apply: all their spans together")] if len(d.applied_by) > 1 else [])
            + [("reject", "Do not apply")])
        if d.ruling is not None:
            form.ruling.data = ("reject" if not d.ruling.apply else
                                f"coder:{d.ruling.apply_from_id}" if d.ruling.apply_from_id
                                else "apply")
            form.note.data = d.ruling.note
        forms[(d.segment.id, d.code.id)] = form
    return render_template("analysis/agreement.html", study=study, assignment=assignment,
                           report=report, forms=forms, highlight=_highlight,
                           names={str(u.id): u.name for u in report.coders},
                           finalize_form=FinalizeForm(formdata=None).describe(
                               scope_preview(assignment)) if open_ else None)


def _highlight(text: str, spans):
    return evidence_marks(text, [{"start": s, "end": e} for s, e in spans])


@bp.get("/coding/assignments/<int:assignment_id>/agreement.csv")
@study_view(StudyRole.RESEARCHER)
def agreement_csv(study, assignment_id):
    assignment = _assignment(study, assignment_id)
    data = report_csv(build_report(assignment))
    return data, 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="agreement-{assignment.id}.csv"'}


@bp.post("/coding/assignments/<int:assignment_id>/adjudicate")
@study_view(StudyRole.RESEARCHER)
def adjudicate_disagreement(study, assignment_id):
    assignment = _assignment(study, assignment_id)
    form = AdjudicationForm()
    back = url_for("analysis.agreement", study_id=study.id, assignment_id=assignment.id)
    if not form.validate_on_submit() or not form.segment.data.isdigit() \
            or not form.code.data.isdigit():
        flash("Choose a ruling.", "error")
        return redirect(back + "#disagreements")
    segment = db.session.get(TranscriptSegment, int(form.segment.data))
    if segment is None or segment.transcript_id != assignment.transcript_id:
        abort(404)
    code = get_in_study_or_404(Code, int(form.code.data), study)
    ruling = form.ruling.data or ""
    from_coder = None
    if ruling.startswith("coder:") and ruling[6:].isdigit():
        from_coder = db.session.get(User, int(ruling[6:]))
    elif ruling not in ("apply", "reject"):
        flash("Choose a ruling.", "error")
        return redirect(back + "#disagreements")
    perform(lambda: adjudicate(current_user, assignment, segment, code,
                               apply=ruling != "reject", from_coder=from_coder,
                               note=form.note.data or ""),
            "Ruling saved.", errors=CodingError)
    return redirect(back + f"#d-{segment.id}-{code.id}")


@bp.post("/coding/assignments/<int:assignment_id>/finalize")
@study_view(StudyRole.RESEARCHER)
def finalize_assignment(study, assignment_id):
    assignment = _assignment(study, assignment_id)
    form = FinalizeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        done = finalize(current_user, assignment, scope=form.scope.data)
    except CodingError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("analysis.agreement", study_id=study.id,
                                assignment_id=assignment.id))
    db.session.commit()
    flash(done.message(), "success")
    return _to_transcript(study, assignment)
