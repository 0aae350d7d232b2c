"""Email receipts for public comments, sent by a background job when SMTP is configured.

The intake request only records the job (in its one transaction); the worker
sends the mail, so a slow or unreachable mail server never delays or fails a
submission. The job reads the address from the comment, so it is not copied
into job parameters that other pages show.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app, url_for

from engage.i18n import format_datetime, translate
from engage.jobs.operations import enqueue
from engage.jobs.runner import JobFailed, Progress, job_task
from models import Comment, Consultation, Job, db

JOB_KIND = "comment-receipt"


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def queue_receipt(comment: Comment, consultation: Consultation) -> Job | None:
    """Record the receipt job when there is an address and a mail server; else nothing."""
    if not comment.email or not mail_configured():
        return None
    db.session.flush()  # the job names the comment by its id
    return enqueue(JOB_KIND, actor=None, study_id=consultation.study_id,
                   target=("comment", comment.id))


def receipt_message(comment: Comment, consultation: Consultation, sender: str,
                    link: str) -> EmailMessage:
    lang = comment.language or "en"

    def t(msgid: str, **values: object) -> str:
        return translate(lang, msgid, **values)

    message = EmailMessage()
    message["From"] = sender
    message["To"] = comment.email
    message["Subject"] = t("Your comment was received: {tracking}",
                           tracking=comment.tracking_number)
    message.set_content("\n\n".join([
        t("Thank you. Your comment was received."),
        t("Your tracking number") + f": {comment.tracking_number}",
        t("Comment on: {title}", title=consultation.title),
        t("Received on {date}.", date=format_datetime(comment.created_at, consultation.timezone,
                                                      lang)),
        t("Keep this number. Quote it if you contact us about your comment."),
        *([link] if link else []),
    ]) + "\n")
    return message


@job_task(JOB_KIND)
def send_receipt(job: Job, progress: Progress) -> str:
    comment = db.session.get(Comment, job.target_id)
    if comment is None or not comment.email:
        return "No receipt to send: the comment or its address was removed."
    consultation = db.session.get(Consultation, comment.consultation_id)
    config = current_app.config
    link = ""
    if config.get("PUBLIC_BASE_URL") and consultation.slug:
        # The worker has no request to take the host from; the setting says it.
        with current_app.test_request_context(base_url=config["PUBLIC_BASE_URL"]):
            link = url_for("public.consultation", slug=consultation.slug, _external=True)
    message = receipt_message(comment, consultation, config.get("MAIL_FROM") or
                              f"engage@{config['MAIL_SERVER']}", link)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config.get("MAIL_PORT", 25), timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise JobFailed(f"The mail server did not accept the receipt ({exc}). "
                        "Check the MAIL_* settings, then press Retry.") from exc
    return f"Receipt for {comment.tracking_number} sent."
