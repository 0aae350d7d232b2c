"""The moderation queue and a comment's page: status, masking, the public version."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from coding.attachments import KINDS, kind_from_name
from engage.access import study_view
from engage.consultations import bp
from engage.consultations.forms import BulkForm, ModerateForm, PublicTextForm, RedactionForm
from engage.consultations.moderation import (
    ModerationAction,
    ModerationError,
    QueueFilters,
    adjust_redactions,
    comments_in,
    detected_spans,
    edit_public_text,
    is_hand_edited,
    languages_in,
    masked,
    moderate,
    public_text,
    queue_query,
    spans_of,
    target_status,
)
from engage.consultations.routes import BASE, is_researcher, load_comment, load_consultation
from engage.forms import perform
from engage.pagination import paginate
from engage.public.operations import ATTACHMENT_FOLDER
from engage.uploads import stored_path
from models import Comment, CommentSource, CommentStatus, StudyRole, db

COMMENT = f"{BASE}/<int:consultation_id>/comments/<int:comment_id>"
BULK_LIMIT = 2000


@bp.get(f"{BASE}/<int:consultation_id>/comments")
@study_view()
def queue(study, consultation_id):
    consultation = load_consultation(study, consultation_id)
    filters = QueueFilters.from_args(request.args)
    page = paginate(queue_query(consultation, filters, search_original=is_researcher()))
    bulk = BulkForm(filters=urlencode(filters.as_args()))
    return render_template(
        "consultations/queue.html", study=study, consultation=consultation, page=page,
        filters=filters, bulk=bulk, statuses=list(CommentStatus), sources=list(CommentSource),
        languages=languages_in(consultation), can_edit=is_researcher(),
        public_text=public_text)


@bp.post(f"{BASE}/<int:consultation_id>/comments/bulk")
@study_view(StudyRole.RESEARCHER)
def bulk(study, consultation_id):
    consultation = load_consultation(study, consultation_id)
    form = BulkForm()
    filters = QueueFilters.from_args(MultiDict(parse_qsl(form.filters.data or "")))
    back = url_for("consultations.queue", study_id=study.id, consultation_id=consultation.id,
                   **filters.as_args())
    if not form.validate_on_submit():
        flash("Choose an action.", "error")
        return redirect(back)
    more = False
    if form.scope.data == "matching":
        # Bounded: approving computes each public version, and a request must stay short.
        # Comments already in the target state are left out, so "apply again" moves on.
        target = target_status(ModerationAction(form.action.data))
        comments = db.session.scalars(queue_query(consultation, filters, True)
                                      .where(Comment.status != target)
                                      .limit(BULK_LIMIT + 1)).all()
        more, comments = len(comments) > BULK_LIMIT, comments[:BULK_LIMIT]
    else:
        comments = comments_in(consultation, request.form.getlist("ids", type=int))
    if not comments:
        flash("Tick at least one comment, or apply the action to every matching comment.",
              "error")
        return redirect(back)
    perform(lambda: moderate(current_user, comments, ModerationAction(form.action.data),
                             form.reason.data),
            lambda changed: f"{changed} comment{'' if changed == 1 else 's'} changed."
            + (f" Only the first {BULK_LIMIT:,} matching comments were handled; apply the "
               "action again for the rest." if more else ""), errors=ModerationError)
    return redirect(back)


@bp.get(COMMENT)
@study_view()
def comment(study, consultation_id, comment_id):
    consultation = load_consultation(study, consultation_id)
    item = load_comment(consultation, comment_id)
    researcher = is_researcher()
    reviewed = item.public_body is not None
    spans = spans_of(item) if reviewed else detected_spans(item)
    return render_template(
        "consultations/comment.html", study=study, consultation=consultation, comment=item,
        researcher=researcher, spans=spans, reviewed=reviewed,
        hand_edited=is_hand_edited(item), public=public_text(item),
        moderate_form=ModerateForm(), redaction_form=RedactionForm(),
        public_form=PublicTextForm(public_body=public_text(item)),
        segments=_segments(item.body, spans) if researcher else None,
        addition=item.personal_addition if researcher else masked(item.personal_addition))


def _segments(text: str, spans) -> list[tuple[str, object]]:
    """The original text cut into plain pieces and masked spans, for highlighting."""
    pieces, pos = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        pieces.append((text[pos:span.start], None))
        pieces.append((text[span.start:span.end], span))
        pos = span.end
    pieces.append((text[pos:], None))
    return [(t, s) for t, s in pieces if t]


def _back(study, consultation, item):
    return redirect(url_for("consultations.comment", study_id=study.id,
                            consultation_id=consultation.id, comment_id=item.id))


@bp.post(f"{COMMENT}/moderate")
@study_view(StudyRole.RESEARCHER)
def moderate_one(study, consultation_id, comment_id):
    consultation = load_consultation(study, consultation_id)
    item = load_comment(consultation, comment_id)
    form = ModerateForm()
    if form.validate_on_submit():
        perform(lambda: moderate(current_user, [item], ModerationAction(form.action.data),
                                 form.reason.data),
                lambda _: f"Comment {item.tracking_number or item.external_id or item.id} "
                          f"is now {item.status.value}.", errors=ModerationError)
    return _back(study, consultation, item)


@bp.post(f"{COMMENT}/redactions")
@study_view(StudyRole.RESEARCHER)
def redactions(study, consultation_id, comment_id):
    consultation = load_consultation(study, consultation_id)
    item = load_comment(consultation, comment_id)
    form = RedactionForm()
    if form.validate_on_submit():
        perform(lambda: adjust_redactions(current_user, item,
                                          remove=request.form.getlist("remove", type=int),
                                          add_text=form.add_text.data or "",
                                          add_kind=form.add_kind.data,
                                          redetect=bool(form.redetect.data)),
                "Masking updated; the public version follows it.", errors=ModerationError)
    return _back(study, consultation, item)


@bp.post(f"{COMMENT}/public-text")
@study_view(StudyRole.RESEARCHER)
def public_version(study, consultation_id, comment_id):
    consultation = load_consultation(study, consultation_id)
    item = load_comment(consultation, comment_id)
    form = PublicTextForm()
    if form.validate_on_submit():
        perform(lambda: edit_public_text(current_user, item, form.public_body.data),
                "Public version saved. The original text is unchanged.", errors=ModerationError)
    else:
        flash("The public version cannot be empty; reject the comment instead.", "error")
    return _back(study, consultation, item)


@bp.get(f"{COMMENT}/attachment")
@study_view(StudyRole.RESEARCHER)
def attachment(study, consultation_id, comment_id):
    consultation = load_consultation(study, consultation_id)
    item = load_comment(consultation, comment_id)
    if not item.attachment_stored_name:
        abort(404)
    path = stored_path(ATTACHMENT_FOLDER, item.attachment_stored_name)
    if not path.exists():
        abort(404)
    kind = kind_from_name(item.attachment_name or "") or "txt"
    # Always a download: a file from the public is never rendered inside this site.
    return send_file(path, mimetype=KINDS[kind], as_attachment=True,
                     download_name=item.attachment_name or f"attachment.{kind}")
