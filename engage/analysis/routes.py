"""Coding pages: the study's coding overview, a transcript or comment to code, codings, memos."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from engage.access import get_in_study_or_404, study_role, study_view
from engage.analysis import bp
from engage.analysis.display import by_unit, marks, stale
from engage.analysis.forms import (
    AssignmentForm,
    ChangeCodingForm,
    CodeSpanForm,
    MemoForm,
    SpeakerLinkForm,
)
from engage.analysis.layers import can_change, my_assignment, pending_for, visible_codings
from engage.analysis.learning import LearningError, learning_stats, start_learning
from engage.analysis.operations import (
    CodingError,
    add_memo,
    apply_codes,
    change_coding,
    confirm_coding,
    delete_memo,
    link_speaker,
    remove_coding,
    update_memo,
)
from engage.analysis.tagging import TaggingError, start_tagging
from engage.analysis.units import load_unit, transcript_units
from engage.codebook.tree import code_choices, study_codes
from engage.forms import ConfirmForm, perform, select_choices
from engage.pagination import paginate
from models import (
    AssignmentStatus,
    Code,
    Coding,
    CodingAssignment,
    Comment,
    Consultation,
    Memo,
    Participant,
    SpeakerLink,
    StudyMember,
    StudyRole,
    Suggestion,
    Transcript,
    TranscriptSegment,
    UnitRef,
    User,
    db,
)

# --- overview and jobs -------------------------------------------------------------------

@bp.get("/coding")
@study_view()
def overview(study):
    transcripts = db.session.scalars(select(Transcript).where(
        Transcript.study_id == study.id, Transcript.is_current.is_(True))
        .order_by(Transcript.created_at.desc())).all()
    ids = [t.id for t in transcripts] or [-1]
    codings = dict(db.session.execute(
        select(TranscriptSegment.transcript_id, func.count(Coding.id))
        .join(Coding, Coding.segment_id == TranscriptSegment.id)
        .where(TranscriptSegment.transcript_id.in_(ids), Coding.assignment_id.is_(None))
        .group_by(TranscriptSegment.transcript_id)).all())
    pending = dict(db.session.execute(
        select(TranscriptSegment.transcript_id, func.count(Suggestion.id))
        .join(Suggestion, Suggestion.segment_id == TranscriptSegment.id)
        .where(TranscriptSegment.transcript_id.in_(ids), pending_for(current_user, study.id))
        .group_by(TranscriptSegment.transcript_id)).all())
    assignments = {a.transcript_id: a for a in db.session.scalars(
        select(CodingAssignment).where(CodingAssignment.study_id == study.id,
                                       CodingAssignment.status == AssignmentStatus.OPEN))}
    finished = db.session.scalars(select(CodingAssignment).where(
        CodingAssignment.study_id == study.id,
        CodingAssignment.status != AssignmentStatus.OPEN)
        .order_by(CodingAssignment.closed_at.desc()).limit(10)).all()
    consultations = db.session.execute(
        select(Consultation, func.count(Comment.id)).outerjoin(Comment)
        .where(Consultation.study_id == study.id).group_by(Consultation.id)
        .order_by(Consultation.title)).all()
    comment_pending = db.session.scalar(select(func.count(Suggestion.id)).where(
        Suggestion.study_id == study.id, Suggestion.comment_id.isnot(None),
        pending_for(current_user, study.id)))
    flagged = db.session.scalar(select(func.count()).select_from(
        visible_codings(current_user).where(Coding.study_id == study.id,
                                            Coding.needs_check.is_(True)).subquery()))
    model, stats = learning_stats(study)
    return render_template(
        "analysis/overview.html", study=study, transcripts=transcripts, codings=codings,
        pending=pending, assignments=assignments, finished=finished,
        consultations=consultations, comment_pending=comment_pending, flagged=flagged,
        model=model, trained=sum(1 for s in stats.values() if s.get("trained")),
        confirm=ConfirmForm())


@bp.post("/coding/tag")
@study_view(StudyRole.RESEARCHER)
def tag_study(study):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _start_job(lambda: start_tagging(current_user, study), study)


@bp.post("/coding/transcripts/<int:transcript_id>/tag")
@study_view(StudyRole.RESEARCHER)
def tag_transcript(study, transcript_id):
    transcript = get_in_study_or_404(Transcript, transcript_id, study)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _start_job(lambda: start_tagging(current_user, study, transcript), study)


@bp.post("/coding/learn")
@study_view(StudyRole.RESEARCHER)
def learn(study):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _start_job(lambda: start_learning(current_user, study), study)


def _start_job(start, study):
    try:
        job = start()
    except (TaggingError, LearningError) as error:
        flash(str(error), "error")
        return redirect(url_for("analysis.overview", study_id=study.id))
    db.session.commit()
    flash("Started in the background; follow its progress here.", "success")
    return redirect(url_for("jobs.show", job_id=job.id))


# --- a transcript or a comment to code ---------------------------------------------------

def _codebook(study):
    return select_choices(code_choices(study))


@bp.get("/coding/transcripts/<int:transcript_id>")
@study_view()
def transcript(study, transcript_id):
    transcript = get_in_study_or_404(Transcript, transcript_id, study)
    units = transcript_units(transcript)
    codings = db.session.scalars(
        visible_codings(current_user, transcript.id)
        .join(TranscriptSegment, Coding.segment_id == TranscriptSegment.id)
        .where(TranscriptSegment.transcript_id == transcript.id)
        .order_by(Coding.start_char, Coding.id)).all()
    suggestions = db.session.scalars(
        select(Suggestion).join(TranscriptSegment, Suggestion.segment_id == TranscriptSegment.id)
        .join(Code, Suggestion.code_id == Code.id)
        .where(TranscriptSegment.transcript_id == transcript.id, Code.retired.is_(False),
               pending_for(current_user, study.id))
        .order_by(Suggestion.confidence.desc())).all()
    role = study_role(current_user, study)
    assignment = my_assignment(current_user, transcript.id)
    open_assignment = db.session.scalar(select(CodingAssignment).where(
        CodingAssignment.transcript_id == transcript.id,
        CodingAssignment.status == AssignmentStatus.OPEN))
    return render_template(
        "analysis/transcript.html", study=study, transcript=transcript, units=units,
        codings=by_unit(codings), suggestions=by_unit(suggestions), marks=marks, stale=stale,
        memos=_memos(transcript_id=transcript.id), span_form=_span_form(study),
        memo_form=MemoForm(formdata=None), confirm=ConfirmForm(),
        assignment=assignment, open_assignment=open_assignment,
        is_researcher=role is StudyRole.RESEARCHER,
        assignment_form=_assignment_form(study) if role is StudyRole.RESEARCHER else None,
        speaker_form=_speaker_form(study, transcript) if role is StudyRole.RESEARCHER else None,
        links=_links(transcript))


def _memos(**target):
    column, value = next(iter(target.items()))
    return db.session.scalars(select(Memo).where(getattr(Memo, column) == value)
                              .order_by(Memo.created_at.desc())).all()


def _span_form(study, **data) -> CodeSpanForm:
    form = CodeSpanForm(formdata=None, **data)
    form.codes.choices = _codebook(study)
    return form


def _assignment_form(study) -> AssignmentForm:
    form = AssignmentForm(formdata=None)
    form.coders.choices = _member_choices(study)
    return form


def _member_choices(study):
    rows = db.session.execute(select(User.id, User.name, StudyMember.role).join(StudyMember)
                              .where(StudyMember.study_id == study.id).order_by(User.name))
    return select_choices((uid, f"{name} ({role.label.lower()})") for uid, name, role in rows)


def _speaker_form(study, transcript) -> SpeakerLinkForm:
    form = SpeakerLinkForm(formdata=None)
    _speaker_choices(study, transcript, form)
    return form


def _speaker_choices(study, transcript, form) -> None:
    speakers = sorted({s.speaker for s in transcript.segments if s.speaker})
    form.speaker.choices = select_choices(
        [("", "Everyone not linked by name")] + [(s, s) for s in speakers])
    participants = db.session.scalars(select(Participant).where(
        Participant.study_id == study.id).order_by(Participant.name)).all()
    form.participant.choices = select_choices(
        [(0, "(nobody: remove the link)")] + [
            (p.id, p.name + (f" — {p.stakeholder_group.name}" if p.stakeholder_group else ""))
            for p in participants])


def _links(transcript):
    return db.session.scalars(select(SpeakerLink).where(
        SpeakerLink.transcript_id == transcript.id).order_by(SpeakerLink.speaker)).all()


@bp.post("/coding/transcripts/<int:transcript_id>/speakers")
@study_view(StudyRole.RESEARCHER)
def speakers(study, transcript_id):
    transcript = get_in_study_or_404(Transcript, transcript_id, study)
    form = SpeakerLinkForm()
    _speaker_choices(study, transcript, form)
    if form.validate_on_submit():
        participant = (get_in_study_or_404(Participant, form.participant.data, study)
                       if form.participant.data else None)
        perform(lambda: link_speaker(current_user, transcript, form.speaker.data or "",
                                     participant),
                "Speaker link saved: their segments now count for that participant's "
                "stakeholder group.", errors=CodingError)
    else:
        flash("Choose a speaker and a participant.", "error")
    return redirect(url_for("analysis.transcript", study_id=study.id,
                            transcript_id=transcript.id) + "#speakers")


@bp.get("/coding/consultations/<int:consultation_id>")
@study_view()
def consultation(study, consultation_id):
    consultation = get_in_study_or_404(Consultation, consultation_id, study)
    from engage.analysis.units import CODED_COMMENT_STATUSES, comment_units

    page = paginate(select(Comment).where(Comment.consultation_id == consultation.id,
                                          Comment.status.in_(CODED_COMMENT_STATUSES))
                    .order_by(Comment.id))
    units = comment_units(page.items)
    ids = [c.id for c in page.items] or [-1]
    counts = dict(db.session.execute(
        select(Coding.comment_id, func.count(Coding.id)).where(
            Coding.comment_id.in_(ids), Coding.assignment_id.is_(None))
        .group_by(Coding.comment_id)).all())
    pending = dict(db.session.execute(
        select(Suggestion.comment_id, func.count(Suggestion.id)).where(
            Suggestion.comment_id.in_(ids), pending_for(current_user, study.id))
        .group_by(Suggestion.comment_id)).all())
    return render_template("analysis/consultation.html", study=study,
                           consultation=consultation, page=page, units=units, counts=counts,
                           pending=pending)


@bp.get("/coding/comments/<int:comment_id>")
@study_view()
def comment(study, comment_id):
    item = db.session.get(Comment, comment_id)
    if item is None or item.consultation.study_id != study.id:
        abort(404)
    unit = load_unit(study, UnitRef("comment", item.id))
    codings = db.session.scalars(visible_codings(current_user).where(
        Coding.comment_id == item.id).order_by(Coding.start_char, Coding.id)).all()
    suggestions = db.session.scalars(
        select(Suggestion).join(Code, Suggestion.code_id == Code.id).where(
            Suggestion.comment_id == item.id, Code.retired.is_(False),
            pending_for(current_user, study.id))
        .order_by(Suggestion.confidence.desc())).all()
    return render_template(
        "analysis/comment.html", study=study, comment=item, unit=unit, codings=codings,
        suggestions=suggestions, marks=marks, stale=stale, memos=_memos(comment_id=item.id),
        span_form=_span_form(study, unit=str(unit.ref)), memo_form=MemoForm(formdata=None),
        confirm=ConfirmForm())


def _unit_url(study, ref: UnitRef, anchor: bool = True) -> str:
    if ref.kind == "comment":
        return url_for("analysis.comment", study_id=study.id, comment_id=ref.id)
    segment = db.session.get(TranscriptSegment, ref.id)
    if segment is None:
        return url_for("analysis.overview", study_id=study.id)
    return url_for("analysis.transcript", study_id=study.id,
                   transcript_id=segment.transcript_id) + (f"#segment-{ref.id}" if anchor else "")


def _ref(text: str | None) -> UnitRef:
    try:
        return UnitRef.parse(text or "")
    except ValueError:
        abort(404)


@bp.get("/coding/units/<unit>/code")
@study_view()
def code_unit(study, unit):
    """Code a passage without JavaScript: type the words, choose the codes."""
    ref = _ref(unit)
    found = load_unit(study, ref)
    if found is None:
        abort(404)
    codings = db.session.scalars(visible_codings(current_user, _transcript_id(ref))
                                 .where(*_on_unit(ref))).all()
    form = _span_form(study, unit=str(ref), start=request.args.get("start", type=int),
                      end=request.args.get("end", type=int))
    if form.start.data is not None and form.end.data is not None:
        start, end = form.start.data, form.end.data
        if 0 <= start < end <= len(found.text):
            form.quote.data = found.text[start:end]
    return render_template("analysis/code_unit.html", study=study, unit=found, form=form,
                           marks=marks(found.text, codings), back=_unit_url(study, ref))


def _transcript_id(ref: UnitRef):
    if ref.kind != "segment":
        return None
    return db.session.scalar(select(TranscriptSegment.transcript_id)
                             .where(TranscriptSegment.id == ref.id))


def _on_unit(ref: UnitRef):
    return [Coding.segment_id == ref.id] if ref.kind == "segment" else [
        Coding.comment_id == ref.id]


@bp.post("/coding/codings")
@study_view()
def create_coding(study):
    form = CodeSpanForm()
    # Every code of the study validates here, so that a retired one gets a clear refusal.
    form.codes.choices = select_choices((c.id, c.name) for c in study_codes(study))
    ref = _ref(form.unit.data)
    if not form.validate_on_submit():
        flash("Nothing was coded: " + _errors(form), "error")
        return redirect(_unit_url(study, ref))
    codes = [get_in_study_or_404(Code, i, study) for i in form.codes.data]
    try:
        made = apply_codes(current_user, study, ref, codes, start=form.start.data,
                           end=form.end.data, quote=form.quote.data, memo=form.memo.data or "")
    except CodingError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(_unit_url(study, ref))
    db.session.commit()
    flash(f"Coded “{_short(made[0].quote)}” with "
          + ", ".join(c.code.name for c in made) + ".", "success")
    return redirect(_unit_url(study, ref))


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _errors(form) -> str:
    messages = []
    for name, errors in form.errors.items():
        label = form[name].label.text if name in form else name
        messages += [f"{label}: {e}" for e in errors]
    if "codes" in form.errors or not form.codes.data:
        messages = messages or ["choose at least one code"]
    return "; ".join(messages)


def _coding(study, coding_id: int) -> Coding:
    coding = get_in_study_or_404(Coding, coding_id, study)
    # Another coder's blind pass is not there for anyone else (adjudication has its own page).
    if coding.assignment_id is not None and coding.coder_id != current_user.id:
        assignment = db.session.get(CodingAssignment, coding.assignment_id)
        if assignment.blind and assignment.status is AssignmentStatus.OPEN:
            abort(404)
    return coding


@bp.get("/coding/codings/<int:coding_id>")
@study_view()
def coding(study, coding_id):
    item = _coding(study, coding_id)
    unit = load_unit(study, item.unit_ref)
    form = ChangeCodingForm(formdata=None, code=item.code_id)
    form.code.choices = _codebook(study)
    return render_template(
        "analysis/coding.html", study=study, coding=item, unit=unit,
        marks=marks(unit.text, [item]) if unit else [], form=form,
        memo_form=MemoForm(formdata=None), confirm=ConfirmForm(),
        editable=can_change(current_user, item, study), stale=stale(item, unit.text)
        if unit else True, back=_unit_url(study, item.unit_ref))


def _coding_action(study, coding_id, operation, message):
    item = _coding(study, coding_id)
    ref = item.unit_ref
    try:
        operation(item)
    except CodingError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("analysis.coding", study_id=study.id, coding_id=coding_id))
    db.session.commit()
    flash(message, "success")
    return redirect(_unit_url(study, ref))


@bp.post("/coding/codings/<int:coding_id>/change")
@study_view()
def change(study, coding_id):
    form = ChangeCodingForm()
    form.code.choices = select_choices((c.id, c.name) for c in study_codes(study))
    if not form.validate_on_submit():
        flash("Nothing was changed: " + _errors(form), "error")
        return redirect(url_for("analysis.coding", study_id=study.id, coding_id=coding_id))
    code = get_in_study_or_404(Code, form.code.data, study)
    return _coding_action(study, coding_id, lambda c: change_coding(
        current_user, study, c, code=code, quote=form.quote.data), "Coding changed.")


@bp.post("/coding/codings/<int:coding_id>/remove")
@study_view()
def remove(study, coding_id):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _coding_action(study, coding_id, lambda c: remove_coding(current_user, study, c),
                          "Coding removed.")


@bp.post("/coding/codings/<int:coding_id>/confirm")
@study_view()
def confirm(study, coding_id):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _coding_action(study, coding_id, lambda c: confirm_coding(current_user, study, c),
                          "Coding confirmed on the current words.")


@bp.get("/coding/flagged")
@study_view()
def flagged(study):
    page = paginate(visible_codings(current_user).where(
        Coding.study_id == study.id, Coding.needs_check.is_(True)).order_by(Coding.id))
    return render_template("analysis/flagged.html", study=study, page=page)


# --- memos -------------------------------------------------------------------------------

MEMO_TARGETS = {"coding": Coding, "code": Code, "transcript": Transcript}


@bp.post("/coding/memos")
@study_view()
def create_memo(study):
    form = MemoForm()
    target = request.form.get("target", "study")
    kind, _, raw_id = target.partition(":")
    back = url_for("analysis.memos", study_id=study.id)
    options = {}
    if kind in MEMO_TARGETS and raw_id.isdigit():
        obj = (_coding(study, int(raw_id)) if kind == "coding"
               else get_in_study_or_404(MEMO_TARGETS[kind], int(raw_id), study))
        options[kind] = obj
        back = {"coding": lambda: url_for("analysis.coding", study_id=study.id,
                                          coding_id=obj.id),
                "code": lambda: url_for("codebook.show", study_id=study.id, code_id=obj.id),
                "transcript": lambda: url_for("analysis.transcript", study_id=study.id,
                                              transcript_id=obj.id)}[kind]() + "#memos"
    elif kind == "comment" and raw_id.isdigit():
        obj = db.session.get(Comment, int(raw_id))
        if obj is None or obj.consultation.study_id != study.id:
            abort(404)
        options["comment"] = obj
        back = url_for("analysis.comment", study_id=study.id, comment_id=obj.id) + "#memos"
    elif kind != "study":
        abort(404)
    if not form.validate_on_submit():
        flash("The memo was not saved: it needs some text.", "error")
        return redirect(back)
    perform(lambda: add_memo(current_user, study, form.body.data, **options), "Memo saved.",
            errors=CodingError)
    return redirect(back)


@bp.get("/coding/memos")
@study_view()
def memos(study):
    kind = request.args.get("kind", "")
    query = select(Memo).where(Memo.study_id == study.id).order_by(Memo.updated_at.desc())
    columns = {"coding": Memo.coding_id, "code": Memo.code_id,
               "transcript": Memo.transcript_id, "comment": Memo.comment_id}
    if kind in columns:
        query = query.where(columns[kind].isnot(None))
    elif kind == "study":
        query = query.where(*(c.is_(None) for c in columns.values()))
    page = paginate(query)
    visible = [m for m in page.items if m.coding is None or _may_see(m.coding)]
    return render_template("analysis/memos.html", study=study, page=page, memos=visible,
                           kind=kind, form=MemoForm(formdata=None), confirm=ConfirmForm())


def _may_see(coding: Coding) -> bool:
    if coding.assignment_id is None or coding.coder_id == current_user.id:
        return True
    assignment = db.session.get(CodingAssignment, coding.assignment_id)
    return not (assignment.blind and assignment.status is AssignmentStatus.OPEN)


def _memo(study, memo_id) -> Memo:
    memo = get_in_study_or_404(Memo, memo_id, study)
    if memo.coding is not None and not _may_see(memo.coding):
        abort(404)
    return memo


@bp.post("/coding/memos/<int:memo_id>/edit")
@study_view()
def edit_memo(study, memo_id):
    memo = _memo(study, memo_id)
    form = MemoForm()
    if form.validate_on_submit():
        perform(lambda: update_memo(current_user, study, memo, form.body.data), "Memo saved.",
                errors=CodingError)
    else:
        flash("A memo needs some text; delete it instead.", "error")
    back = request.form.get("back")
    return redirect(back if _safe(back) else url_for("analysis.memos", study_id=study.id))


@bp.post("/coding/memos/<int:memo_id>/delete")
@study_view()
def remove_memo(study, memo_id):
    memo = _memo(study, memo_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    perform(lambda: delete_memo(current_user, study, memo), "Memo deleted.",
            errors=CodingError)
    back = request.form.get("back")
    return redirect(back if _safe(back) else url_for("analysis.memos", study_id=study.id))


def _safe(url: str | None) -> bool:
    """Only paths on this site: a form field must not send people elsewhere."""
    return bool(url) and url.startswith("/") and not url.startswith("//") and "\\" not in url


# --- independent coding (creation; the report is in agreement_routes) ----------------------

@bp.post("/coding/transcripts/<int:transcript_id>/assignment")
@study_view(StudyRole.RESEARCHER)
def assign(study, transcript_id):
    transcript = get_in_study_or_404(Transcript, transcript_id, study)
    form = AssignmentForm()
    form.coders.choices = _member_choices(study)
    if form.validate_on_submit():
        from engage.analysis.agreement import create_assignment

        coders = [db.session.get(User, i) for i in form.coders.data]
        perform(lambda: create_assignment(current_user, study, transcript,
                                          [c for c in coders if c], blind=form.blind.data),
                "Independent coding started. Each coder now codes this transcript on their "
                "own" + (", seeing only their own codings." if form.blind.data else "."),
                errors=CodingError)
    else:
        flash("Choose at least two coders.", "error")
    return redirect(url_for("analysis.transcript", study_id=study.id,
                            transcript_id=transcript.id) + "#independent")
