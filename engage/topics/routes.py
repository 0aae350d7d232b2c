import functools
import re
from pathlib import Path

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from engage.access import get_in_study_or_404, study_view
from engage.forms import ConfirmForm, perform, select_choices
from engage.pagination import paginate
from engage.topics import bp
from engage.topics.charts import all_charts
from engage.topics.corpus import NO_GROUP, CorpusFilters
from engage.topics.forms import CompareForm, MergeForm, NoiseForm, RenameForm, RunForm
from engage.topics.operations import (
    TopicError,
    active_topics,
    breakdown,
    compare_runs,
    delete_run,
    deletion_impact,
    document_texts,
    merge_topics,
    rename_topic,
    run_is_running,
    run_job,
    set_noise,
    split_keys,
    start_run,
    unmerge_topic,
)
from models import (
    Comment,
    Consultation,
    SessionKind,
    StudyRole,
    Topic,
    TopicAssignment,
    TopicRun,
    TranscriptSegment,
    db,
)

BASE = "/studies/<int:study_id>/topics"
RUN = f"{BASE}/runs/<int:run_id>"
TOPIC = f"{RUN}/topics/<int:topic_id>"


def _plotly_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@functools.cache
def plotly_styles() -> tuple[str, tuple[str, ...]]:
    """Plotly's own CSS, and the ids of the style elements it would otherwise inject.

    Plotly.js writes its stylesheet into ``<style>`` elements at run time, which the
    CSP (``style-src 'self'``) refuses. It skips that when an element with the id it
    uses is already there and has the class ``no-inline-styles``; the rules then come
    from ``/topics/assets/plotly.css``, read from the same installed file. If a later
    Plotly changes its layout the CSS is empty: charts still draw, a little plainer.
    """
    source = _plotly_path().read_text(encoding="utf-8")
    css: list[str] = []
    start = source.find('{"X,X div":')
    end = source.find("};", start)
    if start >= 0 and end > start:
        for key, double, single in _CSS_PAIR.findall(source[start:end]):
            selector = re.sub(r"^,", " ,", key).replace("X", ".js-plotly-plot .plotly") \
                .replace("Y", ".plotly-notifier")
            css.append(f"{selector}{{{double or single}}}")
    ids = tuple(dict.fromkeys(re.findall(
        r'getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)',
        source)))
    return "\n".join(css) + "\n", ("plotly.js-style-global", *ids)


_CSS_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)":(?:"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\')')


@bp.get("/topics/assets/plotly.min.js")
@login_required
def plotly_js():
    """Plotly from the installed ``plotly`` package: no CDN, works offline."""
    response = send_file(_plotly_path(), mimetype="text/javascript", conditional=True,
                         max_age=86400)
    # Not personal data: let the browser keep it (the app default is no-store when signed in).
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/topics/assets/plotly.css")
@login_required
def plotly_css():
    response = Response(plotly_styles()[0], mimetype="text/css")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get(BASE)
@study_view()
def index(study):
    runs = paginate(select(TopicRun).where(TopicRun.study_id == study.id)
                    .order_by(TopicRun.created_at.desc()))
    return render_template("topics/index.html", study=study, runs=runs,
                           form=_run_form(study), compare=_compare_form(study))


@bp.post(BASE)
@study_view(StudyRole.RESEARCHER)
def start(study):
    form = _run_form(study)
    if form.validate_on_submit():
        filters = CorpusFilters(
            source=form.source.data, session_kinds=form.session_kinds.data or [],
            groups=form.groups.data or [], consultation_ids=form.consultation_ids.data or [],
            date_from=form.date_from.data, date_to=form.date_to.data,
            campaigns=form.campaigns.data)
        try:
            run = start_run(current_user, study, filters, name=form.name.data or "",
                            overrides={"min_topic_size": form.min_topic_size.data,
                                       "n_neighbors": form.n_neighbors.data,
                                       "nr_topics": form.nr_topics.data})
        except TopicError as error:
            form.source.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Topic run “{run.name}” started over {run.n_documents} documents.",
                  "success")
            return redirect(url_for("topics.run", study_id=study.id, run_id=run.id))
    runs = paginate(select(TopicRun).where(TopicRun.study_id == study.id)
                    .order_by(TopicRun.created_at.desc()))
    return render_template("topics/index.html", study=study, runs=runs, form=form,
                           compare=_compare_form(study)), 400


@bp.get(RUN)
@study_view()
def run(study, run_id):
    topic_run = get_in_study_or_404(TopicRun, run_id, study)
    topics = active_topics(topic_run)
    reps = _documents({k for t in topics for k in t.representatives[:3]})
    merge = MergeForm()
    choices = select_choices((t.id, t.label) for t in topics if not t.is_outliers)
    merge.topics.choices = choices
    merge.into.choices = choices
    groups = breakdown(topic_run, "group") if topic_run.status.value == "done" else None
    return render_template(
        "topics/run.html", study=study, run=topic_run, job=run_job(topic_run), topics=topics,
        merged=[t for t in topic_run.topics if t.merged_into_id], reps=reps, merge=merge,
        rename=RenameForm(), noise=NoiseForm(), confirm=ConfirmForm(), groups=groups,
        filters=CorpusFilters.from_dict(topic_run.filters), plotly_style_ids=plotly_styles()[1],
        deletable=not run_is_running(topic_run),
        charts=all_charts(topic_run) if topic_run.status.value == "done" else {})


@bp.get(f"{RUN}/delete")
@study_view(StudyRole.RESEARCHER)
def confirm_delete(study, run_id):
    topic_run = get_in_study_or_404(TopicRun, run_id, study)
    return render_template("topics/delete.html", study=study, run=topic_run,
                           impact=deletion_impact(topic_run),
                           running=run_is_running(topic_run), confirm=ConfirmForm())


@bp.post(f"{RUN}/delete")
@study_view(StudyRole.RESEARCHER)
def delete(study, run_id):
    topic_run = get_in_study_or_404(TopicRun, run_id, study)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("topics.confirm_delete", study_id=study.id, run_id=run_id))
    name = topic_run.name
    try:
        delete_run(current_user, topic_run)
    except TopicError as error:
        flash(str(error), "error")
        return redirect(url_for("topics.run", study_id=study.id, run_id=run_id))
    db.session.commit()
    flash(f"Topic run “{name}” deleted.", "success")
    return redirect(url_for("topics.index", study_id=study.id))


@bp.get(f"{RUN}/charts.json")
@study_view()
def charts(study, run_id):
    topic_run = get_in_study_or_404(TopicRun, run_id, study)
    return jsonify(all_charts(topic_run))


@bp.get(TOPIC)
@study_view()
def topic(study, run_id, topic_id):
    topic_run = get_in_study_or_404(TopicRun, run_id, study)
    item = _topic(topic_run, topic_id)
    page = paginate(select(TopicAssignment).where(TopicAssignment.topic_id == item.id)
                    .order_by(TopicAssignment.probability.desc(), TopicAssignment.id))
    docs = _documents({a.unit_key for a in page.items})
    return render_template("topics/topic.html", study=study, run=topic_run, topic=item,
                           page=page, docs=docs, rename=RenameForm(name=item.name or ""),
                           noise=NoiseForm(), confirm=ConfirmForm())


@bp.post(f"{TOPIC}/rename")
@study_view(StudyRole.RESEARCHER)
def rename(study, run_id, topic_id):
    item = _topic(get_in_study_or_404(TopicRun, run_id, study), topic_id)
    form = RenameForm()
    if form.validate_on_submit():
        perform(lambda: rename_topic(current_user, item, form.name.data),
                lambda _: f"Topic renamed “{item.label}”.", errors=TopicError)
    else:
        flash("A topic name can have at most 200 characters.", "error")
    return _back(study, run_id)


@bp.post(f"{TOPIC}/noise")
@study_view(StudyRole.RESEARCHER)
def noise(study, run_id, topic_id):
    item = _topic(get_in_study_or_404(TopicRun, run_id, study), topic_id)
    form = NoiseForm()
    if form.validate_on_submit():
        perform(lambda: set_noise(current_user, item, form.noise.data == "1"),
                lambda _: f"“{item.label}” is "
                          f"{'marked as noise' if item.is_noise else 'a topic again'}.",
                errors=TopicError)
    return _back(study, run_id)


@bp.post(f"{RUN}/merge")
@study_view(StudyRole.RESEARCHER)
def merge(study, run_id):
    topic_run = get_in_study_or_404(TopicRun, run_id, study)
    form = MergeForm()
    choices = select_choices((t.id, t.label) for t in active_topics(topic_run)
                             if not t.is_outliers)
    form.topics.choices = choices
    form.into.choices = choices
    if form.validate_on_submit():
        perform(lambda: merge_topics(current_user, topic_run,
                                     [_topic(topic_run, i) for i in form.topics.data],
                                     _topic(topic_run, form.into.data)),
                lambda target: f"Merged into “{target.label}”.", errors=TopicError)
    else:
        flash("Choose the topics to merge and the topic to merge them into.", "error")
    return _back(study, run_id)


@bp.post(f"{TOPIC}/unmerge")
@study_view(StudyRole.RESEARCHER)
def unmerge(study, run_id, topic_id):
    item = _topic(get_in_study_or_404(TopicRun, run_id, study), topic_id)
    if ConfirmForm().validate_on_submit():
        perform(lambda: unmerge_topic(current_user, item),
                lambda _: f"“{item.label}” has its own documents again.", errors=TopicError)
    return _back(study, run_id)


@bp.get(f"{BASE}/compare")
@study_view()
def compare(study):
    form = _compare_form(study)
    a = get_in_study_or_404(TopicRun, form.a.data, study) if form.a.data else None
    b = get_in_study_or_404(TopicRun, form.b.data, study) if form.b.data else None
    rows = unmatched = None
    if a and b:
        rows = compare_runs(a, b)
        hit = {row[1].id for row in rows if row[1] is not None and row[2].persists}
        unmatched = [t for t in active_topics(b) if not t.is_outliers and t.id not in hit]
    return render_template("topics/compare.html", study=study, form=form, a=a, b=b, rows=rows,
                           unmatched=unmatched)


def _topic(run: TopicRun, topic_id: int) -> Topic:
    item = db.session.get(Topic, topic_id)
    if item is None or item.run_id != run.id:
        abort(404)
    return item


def _back(study, run_id):
    target = request.form.get("next", "")
    if target.startswith(f"/studies/{study.id}/topics/") and "//" not in target:
        return redirect(target)
    return redirect(url_for("topics.run", study_id=study.id, run_id=run_id))


def _run_form(study) -> RunForm:
    form = RunForm()
    form.session_kinds.choices = select_choices((k.value, k.label) for k in SessionKind)
    form.groups.choices = select_choices(
        [(g.name, g.name) for g in study.stakeholder_groups] + [(NO_GROUP, NO_GROUP)])
    form.consultation_ids.choices = select_choices(
        (c.id, c.title) for c in db.session.scalars(
            select(Consultation).where(Consultation.study_id == study.id)
            .order_by(Consultation.created_at)))
    return form


def _compare_form(study) -> CompareForm:
    form = CompareForm(request.args)
    runs = db.session.scalars(select(TopicRun).where(
        TopicRun.study_id == study.id, TopicRun.status == "done")
        .order_by(TopicRun.created_at.desc())).all()
    form.a.choices = form.b.choices = select_choices((r.id, f"#{r.id} {r.name}") for r in runs)
    for field in (form.a, form.b):
        try:
            field.data = int(request.args.get(field.name, ""))
        except ValueError:
            field.data = None
    return form


class DocumentView:
    """A document as the browser shows it: text, where it came from, a link to it."""

    def __init__(self, key, text, url, where):
        self.key, self.text, self.url, self.where = key, text, url, where


def _documents(keys) -> dict[str, DocumentView]:
    keys = set(keys)
    texts = document_texts(keys)
    segment_ids, comment_ids = split_keys(keys)
    out = {}
    for segment in db.session.scalars(select(TranscriptSegment).where(
            TranscriptSegment.id.in_(segment_ids or [-1]))):
        key = f"segment:{segment.id}"
        seconds = segment.start_ms // 1000
        out[key] = DocumentView(
            key, texts.get(key, ""),
            url_for("transcript_editor.show", study_id=segment.transcript.study_id,
                    transcript_id=segment.transcript_id) + f"#segment-{segment.id}",
            f"{segment.transcript.title} at {seconds // 60:02d}:{seconds % 60:02d}")
    for comment in db.session.scalars(select(Comment).where(
            Comment.id.in_(comment_ids or [-1]))):
        key = f"comment:{comment.id}"
        out[key] = DocumentView(
            key, texts.get(key, ""),
            url_for("consultations.comment", study_id=comment.consultation.study_id,
                    consultation_id=comment.consultation_id, comment_id=comment.id),
            f"Comment {comment.external_id or comment.id} · {comment.consultation.title}")
    return out
