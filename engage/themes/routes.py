from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engage.access import get_in_study_or_404, study_view
from engage.codebook.tree import code_tree
from engage.forms import ConfirmForm, perform, select_choices
from engage.themes import bp
from engage.themes.forms import CodesForm, EvidenceForm, NewThemeForm, ThemeForm, TopicsForm
from engage.themes.operations import (
    ThemeError,
    add_coding_evidence,
    add_evidence,
    candidate_quotes,
    create_theme,
    delete_theme,
    group_counts,
    move_evidence,
    remove_evidence,
    set_codes,
    set_topics,
    study_themes,
    topic_choices,
    unit_info,
    update_theme,
)
from engage.topics.routes import _documents
from models import Code, Coding, StudyRole, Theme, ThemeEvidence, Topic, TopicRun, db


@bp.get("")
@study_view()
def index(study):
    themes = study_themes(study)
    return render_template("themes/index.html", study=study, themes=themes,
                           counts={t.id: group_counts(t) for t in themes}, form=NewThemeForm())


@bp.post("")
@study_view(StudyRole.RESEARCHER)
def create(study):
    form = NewThemeForm()
    if form.validate_on_submit():
        try:
            theme = create_theme(current_user, study, form.name.data, form.summary.data)
        except ThemeError as error:
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Theme “{theme.name}” created. Add topics, codes and quotes.", "success")
            return redirect(url_for("themes.show", study_id=study.id, theme_id=theme.id))
    themes = study_themes(study)
    return render_template("themes/index.html", study=study, themes=themes,
                           counts={t.id: group_counts(t) for t in themes}, form=form), 400


@bp.get("/<int:theme_id>")
@study_view()
def show(study, theme_id):
    theme = get_in_study_or_404(Theme, theme_id, study)
    return _page(study, theme)


def _page(study, theme, form=None, evidence_form=None, status=200):
    form = form or ThemeForm(obj=theme, status=theme.status.value)
    topics_form = TopicsForm(topics=[t.id for t in theme.topics])
    topics_form.topics.choices = _topic_choices(study, theme)
    codes_form = CodesForm(codes=[c.id for c in theme.codes])
    codes_form.codes.choices = select_choices((e.code.id, e.path) for e in code_tree(study)
                                              if not e.code.retired)
    evidence = list(theme.evidence)
    candidates = candidate_quotes(theme)
    docs = _documents({e.unit_key for e in evidence} | {k for k, *_ in candidates})
    return render_template(
        "themes/show.html", study=study, theme=theme, form=form, topics_form=topics_form,
        codes_form=codes_form, evidence_form=evidence_form or EvidenceForm(),
        evidence=evidence, info=unit_info({e.unit_key for e in evidence}), docs=docs,
        candidates=candidates, counts=group_counts(theme), confirm=ConfirmForm()), status


def _topic_choices(study, theme):
    topics = topic_choices(study)
    topics += [t for t in theme.topics if t not in topics]
    runs = {r.id: r for r in db.session.scalars(select(TopicRun).where(
        TopicRun.id.in_({t.run_id for t in topics} or {-1})))}
    return select_choices((t.id, f"{t.label} · run #{t.run_id} {runs[t.run_id].name}")
                          for t in topics)


@bp.post("/<int:theme_id>")
@study_view(StudyRole.RESEARCHER)
def update(study, theme_id):
    theme = get_in_study_or_404(Theme, theme_id, study)
    form = ThemeForm()
    if form.validate_on_submit():
        try:
            update_theme(current_user, theme, name=form.name.data, summary=form.summary.data,
                         status=form.status.data)
        except ThemeError as error:
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash("Theme saved.", "success")
            return redirect(url_for("themes.show", study_id=study.id, theme_id=theme.id))
    return _page(study, theme, form=form, status=400)


@bp.post("/<int:theme_id>/topics")
@study_view(StudyRole.RESEARCHER)
def topics(study, theme_id):
    theme = get_in_study_or_404(Theme, theme_id, study)
    form = TopicsForm()
    form.topics.choices = _topic_choices(study, theme)
    if form.validate_on_submit():
        chosen = [db.session.get(Topic, i) for i in form.topics.data]
        perform(lambda: set_topics(current_user, theme, [t for t in chosen if t is not None]),
                "Topics saved.", errors=ThemeError)
    return redirect(url_for("themes.show", study_id=study.id, theme_id=theme.id))


@bp.post("/<int:theme_id>/codes")
@study_view(StudyRole.RESEARCHER)
def codes(study, theme_id):
    theme = get_in_study_or_404(Theme, theme_id, study)
    form = CodesForm()
    form.codes.choices = select_choices((e.code.id, e.path) for e in code_tree(study))
    if form.validate_on_submit():
        perform(lambda: set_codes(current_user, theme, [get_in_study_or_404(Code, i, study)
                                                        for i in form.codes.data]),
                "Codes saved.", errors=ThemeError)
    return redirect(url_for("themes.show", study_id=study.id, theme_id=theme.id))


@bp.post("/<int:theme_id>/evidence")
@study_view(StudyRole.RESEARCHER)
def add_quote(study, theme_id):
    theme = get_in_study_or_404(Theme, theme_id, study)
    form = EvidenceForm()
    if form.validate_on_submit():
        try:
            if form.coding_id.data:
                coding = get_in_study_or_404(Coding, _int(form.coding_id.data), study)
                add_coding_evidence(current_user, theme, coding)
            else:
                topic = db.session.get(Topic, _int(form.topic_id.data)) \
                    if form.topic_id.data else None
                add_evidence(current_user, theme, form.unit.data.strip(),
                             quote=form.quote.data or "", note=form.note.data or "",
                             topic=topic if topic and topic.run.study_id == study.id else None)
        except ThemeError as error:
            form.unit.errors.append(str(error))
            return _page(study, theme, evidence_form=form, status=400)
        db.session.commit()
        flash("Quote added.", "success")
        return redirect(url_for("themes.show", study_id=study.id, theme_id=theme.id,
                                _anchor="evidence"))
    return _page(study, theme, evidence_form=form, status=400)


@bp.post("/<int:theme_id>/evidence/<int:evidence_id>/remove")
@study_view(StudyRole.RESEARCHER)
def remove_quote(study, theme_id, evidence_id):
    evidence = _evidence(study, theme_id, evidence_id)
    if ConfirmForm().validate_on_submit():
        remove_evidence(current_user, evidence)
        db.session.commit()
        flash("Quote removed.", "success")
    return redirect(url_for("themes.show", study_id=study.id, theme_id=theme_id,
                            _anchor="evidence"))


@bp.post("/<int:theme_id>/evidence/<int:evidence_id>/move")
@study_view(StudyRole.RESEARCHER)
def move_quote(study, theme_id, evidence_id):
    evidence = _evidence(study, theme_id, evidence_id)
    if ConfirmForm().validate_on_submit():
        move_evidence(current_user, evidence, request.form.get("direction", "down"))
        db.session.commit()
    return redirect(url_for("themes.show", study_id=study.id, theme_id=theme_id,
                            _anchor="evidence"))


@bp.post("/<int:theme_id>/delete")
@study_view(StudyRole.RESEARCHER)
def delete(study, theme_id):
    theme = get_in_study_or_404(Theme, theme_id, study)
    if ConfirmForm().validate_on_submit():
        name = theme.name
        delete_theme(current_user, theme)
        db.session.commit()
        flash(f"Theme “{name}” deleted.", "success")
    return redirect(url_for("themes.index", study_id=study.id))


def _evidence(study, theme_id, evidence_id) -> ThemeEvidence:
    theme = get_in_study_or_404(Theme, theme_id, study)
    evidence = db.session.get(ThemeEvidence, evidence_id)
    if evidence is None or evidence.theme_id != theme.id:
        abort(404)
    return evidence


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(400)
