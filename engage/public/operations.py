"""Taking in a public comment: screening, the tracking number, counted refusals.

The intake path is one short transaction: everything slow (reading the form,
screening, storing and checking an attachment: ``check_submission``) happens
before it, and so does building the row (``new_comment``); ``add_comment`` only
adds it (and the receipt job when one is mailed), so the view commits once,
inside ``write_turn``, and shows the receipt after the commit. Submissions that
look automated (honeypot filled, sent faster than a person can read and type)
are stored as ``held`` with the reason, for a person to decide; refusals
(closed, rate limited, too large) are counted in ``IntakeRejection`` so
researchers see them.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import FileStorage

from coding.attachments import AttachmentError, check_document
from engage.i18n import format_size, translate
from engage.public.forms import honeypot_filled
from engage.public.receipts import queue_receipt
from engage.uploads import UploadError, receive_upload, stored_path
from models import (
    Comment,
    CommentSource,
    CommentStatus,
    Consultation,
    IntakeRejection,
    db,
    utcnow,
)

ATTACHMENT_FOLDER = "comment-attachments"

# Crockford's base 32: no I, L, O or U, so a number read over the phone is not misheard.
TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class RejectionReason:
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    RATE_LIMITED = "rate_limited"
    TOO_LARGE = "too_large"
    TOO_LONG = "too_long"
    BAD_ATTACHMENT = "bad_attachment"

    LABELS = {
        "not_open": "Sent before the comment period opened",
        "closed": "Sent after the comment period closed",
        "rate_limited": "Too many submissions in a short time (rate limit)",
        "too_large": "Request larger than the form accepts",
        "too_long": "Comment longer than the limit (shown to the sender to shorten)",
        "bad_attachment": "Attachment refused (shown to the sender to replace)",
    }


@dataclass
class Attachment:
    name: str
    stored_name: str
    text: str


@dataclass
class Submission:
    body: str
    language: str
    section_ref: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    consent_to_publish: bool = False
    author_name: str = ""
    organization: str = ""
    email: str = ""
    attachment: Attachment | None = None
    hold_reason: str | None = None


def new_tracking_number() -> str:
    """``ENG-XXXX-XXXX``: 40 random bits, so numbers cannot be guessed or enumerated;
    the column's unique constraint is the last word on the (1 in 10^12) collision."""
    chars = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(8))
    return f"ENG-{chars[:4]}-{chars[4:]}"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="engage.comment-form")


def form_token(consultation: Consultation) -> str:
    """Signed "this form was shown now" for the hidden ``started`` field."""
    return _serializer().dumps(consultation.id)


def screen(consultation: Consultation, honeypot: str | None, token: str | None,
           now: datetime | None = None) -> str | None:
    """Why this submission looks automated, or ``None`` when it looks like a person."""
    if honeypot_filled(honeypot):
        return "Honeypot field filled in (people do not see it)"
    min_seconds = current_app.config["INTAKE_MIN_FILL_SECONDS"]
    try:
        consultation_id, shown_at = _serializer().loads(token or "", return_timestamp=True)
    except BadSignature:
        return "Form timing token missing or altered"
    if consultation_id != consultation.id:
        return "Form timing token from another consultation"
    elapsed = ((now or datetime.now(UTC)) - shown_at).total_seconds()
    if elapsed < min_seconds:
        return f"Sent {max(elapsed, 0):.1f} s after the form was shown (minimum {min_seconds} s)"
    return None


class AttachmentRefused(ValueError):
    """The attachment was refused; nothing was stored. ``code`` as in coding.attachments."""

    MESSAGES = {
        "too_large": "The file is larger than {size}.",
        "empty": "The file is empty.",
        "type": "Attach a PDF, Word (.docx) or plain text (.txt) file.",
        "mismatch": "The file's content does not match its name. Attach a PDF, Word (.docx) "
                    "or plain text (.txt) file.",
        "executable": "Programs cannot be attached.",
        "archive": "The file could not be read. Save it again as PDF, Word (.docx) or plain "
                   "text and attach that.",
        "corrupt": "The file could not be read. Save it again as PDF, Word (.docx) or plain "
                   "text and attach that.",
        "macros": "Documents with macros cannot be attached. Save it as a plain .docx or PDF.",
        "encrypted": "The PDF is protected by a password. Attach a copy without a password.",
    }

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    def message(self, lang: str, limit: int) -> str:
        return translate(lang, self.MESSAGES.get(self.code, self.MESSAGES["corrupt"]),
                         size=format_size(limit))


def store_attachment(file: FileStorage) -> Attachment:
    """Stream the file to disk, check its content and extract its text, or refuse it."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    try:
        upload = receive_upload(file, ATTACHMENT_FOLDER, max_bytes=limit)
    except UploadError as exc:
        raise AttachmentRefused("empty" if "empty" in str(exc) else "too_large") from exc
    try:
        document = check_document(upload.path, upload.original_filename, max_bytes=limit)
    except AttachmentError as exc:
        upload.discard()
        current_app.logger.info("attachment refused: %s (%s)", exc.code, exc)
        raise AttachmentRefused(exc.code) from exc
    return Attachment(upload.original_filename, upload.stored_name, document.text)


def discard_attachment(comment: Comment) -> None:
    if comment.attachment_stored_name:
        stored_path(ATTACHMENT_FOLDER, comment.attachment_stored_name).unlink(missing_ok=True)


_SQLITE_WRITER = threading.Lock()


@contextmanager
def write_turn() -> Iterator[None]:
    """Hold around an intake transaction's writes and commit: on SQLite, this process's
    threads write one at a time. SQLite has one writer anyway, but a connection that
    finds it busy sleeps in growing steps (1, 2, 5 ... 100 ms) before trying again, so
    under load submissions slept long after the database was free (bench/intake.py, 8
    clients: the INSERT's p99 was 145 ms for well under 1 ms of work). Waiting here, the
    next thread goes as soon as the commit before it ends. Other databases lock rows,
    not the file: there this does nothing."""
    if db.engine.dialect.name != "sqlite":
        yield
        return
    with _SQLITE_WRITER:
        yield


def check_submission(consultation: Consultation, submission: Submission, *,
                     file: FileStorage | None, honeypot: str | None,
                     token: str | None) -> None:
    """Screen the submission and store its attachment, before the transaction (both are
    slow). ``AttachmentRefused`` when the attachment is refused: nothing was stored, and
    the caller counts the refusal so the commenter can fix it and send again."""
    submission.hold_reason = screen(consultation, honeypot, token)
    if file is not None and file.filename:
        submission.attachment = store_attachment(file)


def new_comment(consultation: Consultation, submission: Submission) -> Comment:
    """The comment (pending, or held with the reason), built but not yet added: its
    tracking number and time are known before the transaction, which only writes it."""
    attachment = submission.attachment
    return Comment(
        consultation_id=consultation.id,
        tracking_number=new_tracking_number(),
        created_at=utcnow(),
        body=submission.body.strip(),
        source=CommentSource.FORM,
        status=CommentStatus.HELD if submission.hold_reason else CommentStatus.PENDING,
        hold_reason=submission.hold_reason,
        language=submission.language,
        section_ref=submission.section_ref or None,
        answers=submission.answers,
        consent_to_publish=submission.consent_to_publish,
        author_name=submission.author_name.strip(),
        organization=submission.organization.strip(),
        email=submission.email.strip(),
        attachment_name=attachment.name if attachment else None,
        attachment_stored_name=attachment.stored_name if attachment else None,
        attachment_text=attachment.text if attachment else None,
    )


def add_comment(comment: Comment, consultation: Consultation) -> None:
    """Add the comment and its receipt job; the caller commits (inside ``write_turn``)."""
    db.session.add(comment)
    queue_receipt(comment, consultation)  # sent by the worker after the commit, if configured


def count_rejection(consultation: Consultation, reason: str) -> None:
    """Count a refused submission, in a transaction of its own."""
    with write_turn():
        db.session.add(IntakeRejection(consultation_id=consultation.id, reason=reason))
        db.session.commit()


def published_comments_query(consultation: Consultation, q: str = ""):
    """Approved comments whose authors agreed to publication, newest first."""
    query = (db.select(Comment)
             .where(Comment.consultation_id == consultation.id,
                    Comment.status == CommentStatus.APPROVED,
                    Comment.consent_to_publish.is_(True),
                    Comment.public_body.is_not(None))
             .order_by(Comment.created_at.desc(), Comment.id.desc()))
    if q:
        query = query.where(Comment.public_body.icontains(q, autoescape=True))
    return query
