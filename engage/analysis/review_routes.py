"""The review queue: one suggestion at a time, keyboard friendly, filters kept across actions."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from engage.access import get_in_study_or_404, study_view
from engage.analysis import bp
from engage.analysis.display import evidence_marks
from engage.analysis.forms import DecisionForm, QueueFilterForm
from engage.analysis.operations import CodingError
from engage.analysis.review import ORDERS, QueueFilter, decide, queue_filters_choices, queue_item
from engage.analysis.units import load_unit
from engage.codebook.tree import code_choices
from engage.forms import perform, select_choices
from models import Code, Decision, Suggestion, TranscriptSegment, db

ACTIONS = {"accept": Decision.ACCEPT, "reject": Decision.REJECT, "change": Decision.CHANGE}


def _filter_form(study) -> QueueFilterForm:
    form = QueueFilterForm(request.args)
    options = queue_filters_choices(study)
    form.code.choices = select_choices([(0, "All codes")] + code_choices(study))
    form.transcript.choices = select_choices([(0, "All transcripts")] + options["transcripts"])
    form.group.choices = select_choices([("", "All groups")] + options["groups"])
    form.order.choices = select_choices(ORDERS)
    return form


def _queue_filter(form: QueueFilterForm) -> QueueFilter:
    valid = form.validate()
    return QueueFilter(
        code=form.code.data or None, transcript=form.transcript.data or None,
        source=form.source.data if form.source.data in ("transcript", "comment") else "",
        group=form.group.data or "",
        min_confidence=form.min_confidence.data if valid else None,
        max_confidence=form.max_confidence.data if valid else None,
        order=form.order.data if form.order.data in dict(ORDERS) else "confidence")


@bp.get("/review")
@study_view()
def review(study):
    form = _filter_form(study)
    queue = _queue_filter(form)
    item = queue_item(current_user, study, queue, request.args.get("i", 0, type=int))
    context = {}
    if item.suggestion is not None:
        suggestion = item.suggestion
        unit = load_unit(study, suggestion.unit_ref)
        context = {"unit": unit, "marks": evidence_marks(unit.text, suggestion.evidence),
                   "neighbours": _neighbours(suggestion)}
    decision = DecisionForm(formdata=None)
    decision.code.choices = select_choices([(0, "Choose another code…")] + code_choices(study))
    return render_template("analysis/review.html", study=study, form=form, queue=queue,
                           item=item, decision=decision, **context)


def _neighbours(suggestion: Suggestion):
    """The segments before and after, for context (none for a comment)."""
    if suggestion.segment_id is None:
        return None, None
    segment = db.session.get(TranscriptSegment, suggestion.segment_id)

    def at(position):
        return db.session.scalar(db.select(TranscriptSegment).where(
            TranscriptSegment.transcript_id == segment.transcript_id,
            TranscriptSegment.position == position))

    return at(segment.position - 1), at(segment.position + 1)


@bp.post("/review/<int:suggestion_id>")
@study_view()
def decide_suggestion(study, suggestion_id):
    suggestion = get_in_study_or_404(Suggestion, suggestion_id, study)
    form = DecisionForm()
    form.code.choices = select_choices(code_choices(study))
    action = ACTIONS.get(request.form.get("action", ""))
    queue_args = {k: v for k, v in request.form.items() if k.startswith("q_") and v}
    back = request.form.get("back", "")
    if action is None or not form.validate_on_submit():
        flash("Choose accept, reject or change code.", "error")
    elif action is Decision.CHANGE and not form.code.data:
        flash("Choose the code to apply instead; nothing was decided.", "error")
    else:
        code = get_in_study_or_404(Code, form.code.data, study) if action is Decision.CHANGE \
            else None
        perform(lambda: decide(current_user, study, suggestion, action, code),
                lambda record: _decided(record, suggestion), errors=CodingError)
    if back == "unit":
        from engage.analysis.routes import _unit_url

        return redirect(_unit_url(study, suggestion.unit_ref))
    args = {k[2:]: v for k, v in queue_args.items()}
    return redirect(url_for("analysis.review", study_id=study.id, **args) + "#suggestion")


def _decided(record, suggestion) -> str:
    verb = {Decision.ACCEPT: "Accepted", Decision.REJECT: "Rejected",
            Decision.CHANGE: "Coded instead with"}[record.decision]
    name = db.session.get(Code, record.code_id).name if record.code_id else \
        suggestion.code.name
    return f"{verb} “{name}”."
