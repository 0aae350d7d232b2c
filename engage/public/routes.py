"""Public pages: a consultation, its comment form, the receipt, published comments.

No account is needed. Each page is in the commenter's language (``?lang=``,
else the browser's preference, else the consultation's first language).
The form's POST is rate limited per address and per consultation; CSRF is
checked by the form itself rather than globally, so that an expired token
shows the form again with the commenter's text instead of losing it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from flask import (
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import bindparam, select
from werkzeug.exceptions import RequestEntityTooLarge

from engage.consultations import drafts
from engage.extensions import csrf, limiter
from engage.i18n import (
    LANGUAGES,
    format_datetime,
    format_size,
    page_context,
    page_language,
    translate,
)
from engage.pagination import paginate
from engage.public import bp
from engage.public.forms import WHOLE_DRAFT, answers_from, build_comment_form
from engage.public.operations import (
    AttachmentRefused,
    RejectionReason,
    Submission,
    add_comment,
    check_submission,
    count_rejection,
    discard_attachment,
    form_token,
    new_comment,
    published_comments_query,
    write_turn,
)
from models import Consultation, db
from models.consultation import ConsultationPhase

# Built once: SQLAlchemy then reuses its cache key instead of deriving it per request.
_BY_SLUG = select(Consultation).where(Consultation.slug == bindparam("slug"))


def _consultation_or_404(slug: str) -> Consultation:
    consultation = db.session.scalar(_BY_SLUG, {"slug": slug})
    if consultation is None:
        abort(404)
    return consultation


def _language(consultation: Consultation | None) -> str:
    offered = [code for code in (consultation.languages if consultation else None) or ["en"]
               if code in LANGUAGES] or ["en"]
    return page_language(offered)


@bp.url_value_preprocessor
def _load(endpoint, values) -> None:
    slug = (values or {}).get("slug")
    g.consultation = _consultation_or_404(slug) if slug else None
    g.lang = _language(g.consultation)


@bp.context_processor
def _public_context() -> dict:
    consultation = g.get("consultation")
    lang = g.get("lang", "en")

    def when(moment, with_time: bool = True) -> str:
        zone = consultation.timezone if consultation else "UTC"
        return format_datetime(moment, zone, lang, with_time) if moment else ""

    offered = consultation.languages if consultation else []
    return {**page_context(lang, offered), "when": when, "consultation": consultation}


@bp.after_request
def _private_pages(response):
    # The form carries a CSRF token and the commenter's text, the receipt their tracking
    # number: neither may be kept by a shared cache (library computers, proxies).
    if request.endpoint in ("public.comment", "public.receipt"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _per_ip_limit() -> str:
    return current_app.config["INTAKE_RATE_LIMIT_PER_IP"]


def _per_consultation_limit() -> str:
    return current_app.config["INTAKE_RATE_LIMIT_PER_CONSULTATION"]


def _slug_key() -> str:
    return (request.view_args or {}).get("slug", "")


@bp.get("/<slug>")
def consultation(slug: str):
    c = g.consultation
    if c.phase() is ConsultationPhase.INTERNAL:
        abort(404)
    return render_template("public/consultation.html", phase=c.phase(),
                           draft_html=drafts.render(c.draft), sections=drafts.sections(c.draft))


@bp.route("/<slug>/comment", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(_per_ip_limit, methods=["POST"], scope="intake-ip")
@limiter.limit(_per_consultation_limit, key_func=_slug_key, methods=["POST"],
               scope="intake-consultation")
def comment(slug: str):
    c, lang = g.consultation, g.lang
    phase = c.phase()
    if phase is ConsultationPhase.INTERNAL:
        abort(404)
    if request.method == "POST":
        # Set before anything reads the body: a bigger request is refused unread.
        request.max_content_length = current_app.config["INTAKE_MAX_REQUEST_BYTES"]
        try:
            request.form  # noqa: B018 (parse now, so a too-large body is caught here)
        except RequestEntityTooLarge:
            return _refuse(RejectionReason.TOO_LARGE, 413, "The submission is too large")
        if phase is not ConsultationPhase.OPEN:
            reason = (RejectionReason.CLOSED if phase is ConsultationPhase.CLOSED
                      else RejectionReason.NOT_OPEN)
            return _refuse(reason, 403, "Comments are not being accepted")
    elif phase is not ConsultationPhase.OPEN:
        return redirect(url_for("public.consultation", slug=slug, lang=lang))

    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    form = build_comment_form(c, lang, limit)
    if request.method == "GET":
        form.started.data = form_token(c)
    elif form.validate_on_submit():
        submission = Submission(
            body=form.body.data, language=lang,
            section_ref=form.section.data if form.section.data != WHOLE_DRAFT else None,
            answers=answers_from(form, c), consent_to_publish=bool(form.consent.data),
            author_name=form.author_name.data or "", organization=form.organization.data or "",
            email=form.email.data or "")
        try:
            check_submission(c, submission, file=form.attachment.data,
                             honeypot=form.website.data, token=form.started.data)
        except AttachmentRefused as refused:
            count_rejection(c, RejectionReason.BAD_ATTACHMENT)
            form.attachment.errors.append(refused.message(lang, limit))
        else:
            received = new_comment(c, submission)
            # Taken now: the commit expires the comment and the consultation, and reading
            # them after it loaded both again (two of a submission's four statements).
            receipt = {"slug": slug, "tracking": received.tracking_number,
                       "at": received.created_at.isoformat(), "email": bool(received.email)}
            try:
                with write_turn():
                    add_comment(received, c)
                    db.session.commit()
            except BaseException:
                discard_attachment(received)
                raise
            session["receipt"] = receipt
            return redirect(url_for("public.receipt", slug=slug, lang=lang), code=303)
    elif len(form.body.data or "") > c.max_comment_length:
        count_rejection(c, RejectionReason.TOO_LONG)
    if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
        form.csrf_token.errors = [translate(
            lang, "This form had expired, so nothing was sent. Your text is still here: "
                  "check it and send it again.")]
        # The page renders a fresh CSRF token; ``started`` keeps the first visit's time.
    status = 400 if request.method == "POST" else 200
    return render_template("public/form.html", form=form, sections=drafts.sections(c.draft),
                           attachment_limit=format_size(limit)), status


def _refuse(reason: str, status: int, title: str):
    """Count the refusal and say why, giving the commenter their text back."""
    c = g.consultation
    count_rejection(c, reason)
    text = ""
    if reason != RejectionReason.TOO_LARGE:
        request.max_content_length = current_app.config["INTAKE_MAX_REQUEST_BYTES"]
        with contextlib.suppress(RequestEntityTooLarge):
            text = request.form.get("body", "")[: c.max_comment_length * 2]
    return render_template("public/refused.html", reason=reason, title=title, text=text,
                           limit=format_size(current_app.config["INTAKE_MAX_REQUEST_BYTES"]),
                           phase=c.phase()), status


@bp.errorhandler(429)
def rate_limited(error):
    db.session.rollback()
    if g.get("consultation") is None:
        return error
    return _refuse(RejectionReason.RATE_LIMITED, 429, "Too many comments in a short time")


@bp.get("/<slug>/receipt")
def receipt(slug: str):
    data = session.get("receipt")
    if not data or data.get("slug") != slug:
        return redirect(url_for("public.consultation", slug=slug, lang=g.lang))
    return render_template("public/receipt.html", tracking=data["tracking"],
                           received_at=datetime.fromisoformat(data["at"]),
                           email_sent=data.get("email") and current_app.config.get("MAIL_SERVER"))


@bp.get("/<slug>/comments")
def published(slug: str):
    c = g.consultation
    if c.phase() is ConsultationPhase.INTERNAL or not c.publish_comments:
        abort(404)
    q = request.args.get("q", "").strip()[:200]
    page = paginate(published_comments_query(c, q))
    return render_template("public/comments.html", page=page, q=q)
