"""What participants are sent: invitations, confirmations, changes, cancellations and
reminders, each with a calendar file (``.ics``) where there is a session; the links in them.

Messages are written in the participant's preferred language and queued with
``mail.queue_message``: they are delivered only after the transaction commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, has_request_context, url_for
from sqlalchemy import select, update

from engage.i18n import format_session_time, kind_label, translate
from engage.scheduling import tokens
from engage.scheduling.ics import EventData, calendar_bytes
from engage.scheduling.mail import queue_message, sender
from engage.scheduling.operations import OPEN
from models import (
    Booking,
    BookingStatus,
    Invitation,
    MessageKind,
    SessionStatus,
    StudySession,
    db,
    utcnow,
)

# Links and calendar files

def external_url(endpoint: str, **values) -> str:
    """An absolute URL, also from the worker (which has no request): ENGAGE_BASE_URL."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = current_app.config.get("BASE_URL", "http://localhost:5000")
    with current_app.test_request_context("/", base_url=base):
        return url_for(endpoint, _external=True, **values)


def invitation_link(invitation: Invitation) -> str:
    token = tokens.make_invitation_token(invitation.id, invitation.nonce)
    return external_url("booking.invitation", token=token)


def invitation_max_age_s() -> int:
    return int(current_app.config.get("INVITATION_MAX_DAYS", 90)) * 86400


def event_data(session: StudySession, *, booking: Booking | None = None,
               cancelled: bool = False, url: str = "", description: str = "") -> EventData:
    name, address = sender()
    participant = booking.participant if booking else None
    return EventData(
        uid=session.uid,
        sequence=session.sequence + (booking.sequence if booking else 0),
        title=session.title, starts_at=session.starts_at, ends_at=session.ends_at,
        timezone=session.timezone, location=session.location,
        url=session.video_url or url, description=description,
        cancelled=cancelled or session.status is SessionStatus.CANCELLED,
        confirmed=session.status is SessionStatus.CONFIRMED,
        organizer_email=address, organizer_name=name,
        attendee_email=participant.email if participant else "",
        attendee_name=participant.name if participant else "",
        updated_at=session.updated_at)


def booking_ics(booking: Booking, *, cancelled: bool = False, link: str = "") -> bytes:
    session = booking.session
    cancelled = cancelled or booking.status is BookingStatus.CANCELLED or (
        session.status is SessionStatus.CANCELLED)
    return calendar_bytes([event_data(session, booking=booking, cancelled=cancelled,
                                      url=link)],
                          method="CANCEL" if cancelled else "REQUEST")


# Messages

def _details(session: StudySession, lang: str) -> list[str]:
    starts = format_session_time(session.starts_at, session.timezone, lang)
    lines = [f"  {session.title} ({kind_label(lang, session.kind)})",
             f"  {translate(lang, 'When')}: {starts}"]
    if session.location:
        lines.append(f"  {translate(lang, 'Where')}: {session.location}")
    if session.video_url:
        lines.append(f"  {translate(lang, 'Video link')}: {session.video_url}")
    return lines


SUBJECTS = {
    MessageKind.INVITATION: "Invitation: {title}",
    MessageKind.CONFIRMATION: "Confirmed: {title}",
    MessageKind.REMINDER: "Reminder: {title}",
    MessageKind.CHANGE: "Changed: {title}",
    MessageKind.CANCELLATION: "Cancelled: {title}",
}
LEADS = {
    MessageKind.CONFIRMATION: "Your booking is confirmed:",
    MessageKind.REMINDER: "This is a reminder of your session:",
    MessageKind.CHANGE: "Your session has changed:",
}


def notify(kind: MessageKind, booking: Booking, *, session_cancelled: bool = False,
           lead: str | None = None) -> None:
    """Queue the message of this kind about the booking, with its calendar file."""
    participant, session = booking.participant, booking.session
    lang = participant.preferred_language
    link = invitation_link(booking.invitation) if booking.invitation else ""
    cancelled = kind is MessageKind.CANCELLATION
    if cancelled:
        lead = lead or ("The session was cancelled:" if session_cancelled
                        else "Your booking was cancelled:")
    lines = [translate(lang, "Hello {name},", name=participant.name), "",
             translate(lang, lead or LEADS[kind]), *_details(session, lang), ""]
    if link:
        lines += [translate(lang, "To change or cancel, use your link:"), f"  {link}", ""]
    lines += [translate(lang, "The attached calendar file updates your calendar."), "",
              translate(lang, "Thank you.")]
    queue_message(
        study_id=session.study_id, kind=kind, to_address=participant.email,
        subject=translate(lang, SUBJECTS[kind], title=session.title), body="\n".join(lines),
        language=lang, participant_id=participant.id, booking_id=booking.id,
        ics=booking_ics(booking, cancelled=cancelled, link=link))


def send_invitation(invitation: Invitation) -> None:
    participant, offer = invitation.participant, invitation.offer
    lang = participant.preferred_language
    expires = format_session_time(invitation.expires_at,
                                  offer.sessions[0].timezone if offer.sessions else "UTC",
                                  lang, with_zone=False)
    body = "\n".join([
        translate(lang, "Hello {name},", name=participant.name), "",
        translate(lang, "You are invited to take part in: {title}.", title=offer.title), "",
        translate(lang, "Choose a time that suits you and give consent here:"),
        f"  {invitation_link(invitation)}", "",
        translate(lang, "This link is personal. It works until {date}.", date=expires), "",
        translate(lang, "Thank you.")])
    queue_message(study_id=invitation.study_id, kind=MessageKind.INVITATION,
                  to_address=participant.email, language=lang, participant_id=participant.id,
                  subject=translate(lang, SUBJECTS[MessageKind.INVITATION], title=offer.title),
                  body=body)


# Reminders

def due_reminders(now: datetime | None = None) -> list[Booking]:
    now = now or utcnow()
    window = timedelta(hours=float(current_app.config.get("REMINDER_HOURS", 24)))
    return list(db.session.scalars(
        select(Booking).join(StudySession)
        .where(Booking.status == BookingStatus.BOOKED, Booking.reminder_sent_at.is_(None),
               StudySession.status.in_(OPEN), StudySession.starts_at > now,
               StudySession.starts_at <= now + window)
        .order_by(StudySession.starts_at, Booking.id)))


def send_due_reminders(now: datetime | None = None, progress=None) -> int:
    """Send each due reminder once: the booking is claimed and committed with its message."""
    due = due_reminders(now)
    sent = 0
    for index, booking in enumerate(due):
        claimed = db.session.execute(
            update(Booking).where(Booking.id == booking.id, Booking.reminder_sent_at.is_(None))
            .values(reminder_sent_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            notify(MessageKind.REMINDER, booking)
            sent += 1
        db.session.commit()
        if progress:
            progress(100 * (index + 1) / len(due), f"Sent {sent} reminder(s)")
    return sent

