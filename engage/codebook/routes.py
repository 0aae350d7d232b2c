from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engage.access import get_in_study_or_404, study_view
from engage.analysis.forms import MemoForm
from engage.analysis.learning import learning_stats
from engage.codebook import bp
from engage.codebook.forms import (
    CodeForm,
    EditCodeForm,
    ImportForm,
    MergeForm,
    MoveForm,
    PatternForm,
)
from engage.codebook.interchange import export_csv, export_qdc, import_codebook_file
from engage.codebook.merge import merge_codes
from engage.codebook.operations import (
    CodebookError,
    create_code,
    move_code,
    reorder_code,
    restore_code,
    retire_code,
    update_code,
)
from engage.codebook.patterns import (
    PatternInput,
    remove_pattern,
    restore_default_patterns,
    update_pattern,
)
from engage.codebook.patterns import add_pattern as add_pattern_op
from engage.codebook.tree import code_choices, code_tree, coding_counts, descendant_ids, history
from engage.forms import ConfirmForm, perform, select_choices
from models import Code, CodePatternRule, Memo, StudyRole, db


@bp.get("")
@study_view()
def index(study):
    model, stats = learning_stats(study)
    return render_template("codebook/index.html", study=study, tree=code_tree(study),
                           counts=coding_counts(study), stats=stats, model=model,
                           confirm=ConfirmForm(), import_form=ImportForm())


def _parent_choices(study, exclude: Code | None = None):
    banned = ({exclude.id} | descendant_ids(exclude)) if exclude else set()
    return select_choices([(0, "(top level)")] + [
        (i, label) for i, label in code_choices(study) if i not in banned])


@bp.route("/new", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def new(study):
    form = CodeForm()
    form.parent.choices = _parent_choices(study)
    if request.method == "GET" and request.args.get("parent", type=int):
        form.parent.data = request.args.get("parent", type=int)
    if form.validate_on_submit():
        parent = get_in_study_or_404(Code, form.parent.data, study) if form.parent.data else None
        try:
            code = create_code(current_user, study, name=form.name.data, parent=parent,
                               description=form.description.data,
                               inclusion=form.inclusion.data, exclusion=form.exclusion.data,
                               color=form.color.data)
        except CodebookError as error:
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Code “{code.name}” added.", "success")
            return redirect(url_for("codebook.show", study_id=study.id, code_id=code.id))
    return render_template("codebook/form.html", study=study, form=form, code=None), \
        400 if form.errors else 200


@bp.get("/<int:code_id>")
@study_view()
def show(study, code_id):
    code = get_in_study_or_404(Code, code_id, study)
    move = MoveForm()
    move.parent.choices = _parent_choices(study, code)
    move.parent.data = code.parent_id or 0
    merge = MergeForm()
    merge.target.choices = select_choices(
        (i, label) for i, label in code_choices(study)
        if i != code.id and i not in descendant_ids(code))
    memos = db.session.scalars(db.select(Memo).where(Memo.code_id == code.id)
                               .order_by(Memo.created_at.desc())).all()
    _, stats = learning_stats(study)
    return render_template(
        "codebook/show.html", study=study, code=code, path=_path(study, code),
        count=coding_counts(study).get(code.id, 0), history=history(code), move=move,
        merge=merge, pattern_form=PatternForm(formdata=None), confirm=ConfirmForm(),
        memos=memos, memo_form=MemoForm(formdata=None), learned=stats.get(code.key))


def _path(study, code):
    return next((e.path for e in code_tree(study) if e.code.id == code.id), code.name)


def _to_code(study, code, anchor: str = ""):
    return redirect(url_for("codebook.show", study_id=study.id, code_id=code.id) + anchor)


@bp.route("/<int:code_id>/edit", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def edit(study, code_id):
    code = get_in_study_or_404(Code, code_id, study)
    form = EditCodeForm(obj=code)
    if form.validate_on_submit():
        try:
            update_code(current_user, code, name=form.name.data,
                        description=form.description.data, inclusion=form.inclusion.data,
                        exclusion=form.exclusion.data, color=form.color.data)
        except CodebookError as error:
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash("Code saved.", "success")
            return _to_code(study, code)
    return render_template("codebook/form.html", study=study, form=form, code=code), \
        400 if form.errors else 200


def _act(study, code, operation, success: str, to_index: bool = False):
    perform(operation, lambda result: success.format(result=result), errors=CodebookError)
    if to_index:
        return redirect(url_for("codebook.index", study_id=study.id) + f"#code-{code.id}")
    return _to_code(study, code)


@bp.post("/<int:code_id>/move")
@study_view(StudyRole.RESEARCHER)
def move(study, code_id):
    code = get_in_study_or_404(Code, code_id, study)
    form = MoveForm()
    form.parent.choices = _parent_choices(study)  # the operation explains a refused place
    if not form.validate_on_submit():
        flash("Choose where to move the code.", "error")
        return _to_code(study, code)
    parent = get_in_study_or_404(Code, form.parent.data, study) if form.parent.data else None
    return _act(study, code, lambda: move_code(current_user, code, parent), "Code moved.")


@bp.post("/<int:code_id>/reorder/<direction>")
@study_view(StudyRole.RESEARCHER)
def reorder(study, code_id, direction):
    code = get_in_study_or_404(Code, code_id, study)
    if direction not in ("up", "down") or not ConfirmForm().validate_on_submit():
        abort(400)
    return _act(study, code, lambda: reorder_code(current_user, code, direction),
                f"Moved {direction}.", to_index=True)


@bp.post("/<int:code_id>/merge")
@study_view(StudyRole.RESEARCHER)
def merge(study, code_id):
    code = get_in_study_or_404(Code, code_id, study)
    form = MergeForm()
    form.target.choices = select_choices(code_choices(study))
    if not form.validate_on_submit():
        flash("Choose the code to merge into.", "error")
        return _to_code(study, code)
    target = get_in_study_or_404(Code, form.target.data, study)
    counts = perform(
        lambda: merge_codes(current_user, code, target),
        lambda counts: f"“{code.name}” was merged into “{target.name}”: {counts['codings']} "
        f"codings, {counts['suggestions']} suggestions, {counts['patterns']} patterns and "
        f"{counts['subcodes']} subcodes moved; it is kept, retired, for the record.",
        errors=CodebookError)
    return _to_code(study, code if counts is None else target)


@bp.post("/<int:code_id>/retire")
@study_view(StudyRole.RESEARCHER)
def retire(study, code_id):
    code = get_in_study_or_404(Code, code_id, study)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _act(study, code, lambda: retire_code(current_user, code),
                "Code retired: it keeps its codings but is no longer offered for coding.")


@bp.post("/<int:code_id>/restore")
@study_view(StudyRole.RESEARCHER)
def restore(study, code_id):
    code = get_in_study_or_404(Code, code_id, study)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _act(study, code, lambda: restore_code(current_user, code), "Code restored.")


def _pattern_input(form: PatternForm) -> PatternInput:
    return PatternInput.from_text(form.terms.data, lemma=form.lemma.data,
                                  case_sensitive=form.case_sensitive.data,
                                  label=(form.label.data or "").strip() or None,
                                  weight=form.weight.data)


@bp.post("/<int:code_id>/patterns")
@study_view(StudyRole.RESEARCHER)
def add_pattern(study, code_id):
    code = get_in_study_or_404(Code, code_id, study)
    form = PatternForm()
    if not form.validate_on_submit():
        flash("The pattern was not added: " + _form_errors(form), "error")
        return _to_code(study, code, "#patterns")
    perform(lambda: add_pattern_op(current_user, code, _pattern_input(form)),
            "Pattern added. Tag again to see its suggestions.", errors=CodebookError)
    return _to_code(study, code, "#patterns")


def _rule(study, code_id: int, pattern_id: int) -> tuple[Code, CodePatternRule]:
    code = get_in_study_or_404(Code, code_id, study)
    rule = db.session.get(CodePatternRule, pattern_id)
    if rule is None or rule.code_id != code.id:
        abort(404)
    return code, rule


@bp.post("/<int:code_id>/patterns/<int:pattern_id>")
@study_view(StudyRole.RESEARCHER)
def edit_pattern(study, code_id, pattern_id):
    code, rule = _rule(study, code_id, pattern_id)
    form = PatternForm()
    if not form.validate_on_submit():
        flash("The pattern was not changed: " + _form_errors(form), "error")
        return _to_code(study, code, f"#pattern-{rule.id}")
    perform(lambda: update_pattern(current_user, rule, _pattern_input(form)), "Pattern saved.",
            errors=CodebookError)
    return _to_code(study, code, f"#pattern-{rule.id}")


@bp.post("/<int:code_id>/patterns/<int:pattern_id>/remove")
@study_view(StudyRole.RESEARCHER)
def delete_pattern(study, code_id, pattern_id):
    code, rule = _rule(study, code_id, pattern_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    remove_pattern(current_user, rule)
    db.session.commit()
    flash("Pattern removed.", "success")
    return _to_code(study, code, "#patterns")


@bp.post("/default-patterns")
@study_view(StudyRole.RESEARCHER)
def default_patterns(study):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    perform(lambda: restore_default_patterns(current_user, study),
            lambda added: f"Added {added} patterns from the guide.", errors=CodebookError)
    return redirect(url_for("codebook.index", study_id=study.id))


@bp.get("/export.<fmt>")
@study_view()
def export(study, fmt):
    if fmt not in ("qdc", "csv"):
        abort(404)
    try:
        data = export_qdc(study) if fmt == "qdc" else export_csv(study)
    except CodebookError as error:
        flash(str(error), "error")
        return redirect(url_for("codebook.index", study_id=study.id))
    kind = "application/xml; charset=utf-8" if fmt == "qdc" else "text/csv; charset=utf-8"
    return data, 200, {"Content-Type": kind,
                       "Content-Disposition": f'attachment; filename="codebook-{study.id}.{fmt}"'}


@bp.route("/import", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def import_file(study):
    form = ImportForm()
    if form.validate_on_submit():
        try:
            summary = import_codebook_file(
                current_user, study, form.file.data,
                max_bytes=current_app.config["CODEBOOK_IMPORT_MAX_BYTES"])
        except CodebookError as error:
            db.session.rollback()
            form.file.errors.append(str(error))
        else:
            db.session.commit()
            flash(summary.message(), "success")
            return redirect(url_for("codebook.index", study_id=study.id))
    return render_template("codebook/import.html", study=study, form=form), \
        400 if form.errors else 200


def _form_errors(form) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors)
