"""Messages to participants: kept in the outbox table, delivered after the commit.

An operation calls ``queue_message``; the row is written in the same transaction,
and only when that transaction commits is the message delivered: by SMTP
(``smtplib``) when ``MAIL_SERVER`` is configured, otherwise written as an ``.eml``
file to ``instance/outbox/``. Either way the row records what happened, and the
researcher reads every message in the app: nothing is dropped silently. Messages
left queued (a crash between commit and delivery) are delivered by the next
reminder tick.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from models import MessageKind, MessageStatus, OutboxMessage, db, utcnow

log = logging.getLogger(__name__)
_PENDING = "engage.messages_to_deliver"


def outbox_folder() -> Path:
    folder = Path(current_app.config["OUTBOX_FOLDER"]
                  or Path(current_app.instance_path) / "outbox")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sender() -> tuple[str, str]:
    config = current_app.config
    return config["MAIL_SENDER_NAME"], config["MAIL_DEFAULT_SENDER"]


def queue_message(*, study_id: int, kind: MessageKind, to_address: str, subject: str,
                  body: str, language: str = "en", participant_id: int | None = None,
                  booking_id: int | None = None, ics: bytes | None = None) -> OutboxMessage:
    message = OutboxMessage(
        study_id=study_id, kind=kind, to_address=to_address, subject=subject, body=body,
        language=language, participant_id=participant_id, booking_id=booking_id,
        ics=ics.decode() if ics else None, status=MessageStatus.QUEUED)
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(message.id)
    return message


def build_email(message: OutboxMessage) -> EmailMessage:
    name, address = sender()
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = formataddr((name, address))
    email["To"] = message.to_address or "undisclosed-recipients:;"
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or "engage")
    email["Content-Language"] = message.language
    email.set_content(message.body)
    if message.ics:
        method = "CANCEL" if "METHOD:CANCEL" in message.ics else "REQUEST"
        email.add_attachment(message.ics.encode(), maintype="text", subtype="calendar",
                             filename="invite.ics", params={"method": method})
    return email


def deliver(message_id: int) -> None:
    """Send one queued message and record the outcome (its own transaction)."""
    with Session(db.engine) as session:
        # Claim it, so two deliverers never send the same message twice.
        claimed = session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id,
                                        OutboxMessage.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.FAILED, error="Delivery was interrupted.")
        ).rowcount
        session.commit()
        if not claimed:
            return
        message = session.get(OutboxMessage, message_id)
        email = build_email(message)
        file_name = f"{message.created_at:%Y%m%dT%H%M%S}-{message.id}-{message.kind.value}.eml"
        try:
            (outbox_folder() / file_name).write_bytes(bytes(email))
            message.file_name = file_name
            if current_app.config["MAIL_SERVER"] and message.to_address:
                _smtp_send(email)
                message.status = MessageStatus.SENT
            else:
                message.status = MessageStatus.WRITTEN
            message.error = ""
            message.sent_at = utcnow()
        except (OSError, smtplib.SMTPException) as exc:
            log.exception("could not deliver message %s", message_id)
            message.status = MessageStatus.FAILED
            message.error = f"Not delivered: {exc}. It is kept here; deliver it by hand."
        session.commit()


def _smtp_send(email: EmailMessage) -> None:
    config = current_app.config
    host, port = config["MAIL_SERVER"], int(config["MAIL_PORT"])
    timeout = float(config["MAIL_TIMEOUT"])
    if config["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


def deliver_left_over(older_than_s: int = 60) -> int:
    """Deliver messages still queued a while after they were written (a crash in between)."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    ids = db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == MessageStatus.QUEUED, OutboxMessage.created_at < cutoff)).all()
    for message_id in ids:
        deliver(message_id)
    return len(ids)


def _deliver_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    for message_id in pending:
        try:
            deliver(message_id)
        except Exception:  # the message stays queued and is retried by the next tick
            log.exception("delivery of message %s failed", message_id)


event.listen(Session, "after_commit", _deliver_pending)
event.listen(Session, "after_soft_rollback",
             lambda session, previous: session.info.pop(_PENDING, None))
