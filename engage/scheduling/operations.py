"""Scheduling operations: sessions, slot offers, invitations, bookings, attendance, feeds.

Operations flush; the request (or the job) commits once. Messages are queued in
the same transaction and delivered only after it commits (``mail.queue_message``).

Seats are taken with one conditional UPDATE (``booked_count < capacity``) and the
database refuses an overfull session with a CHECK constraint, so the last seat
goes to exactly one of the people racing for it.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, has_request_context, url_for
from sqlalchemy import func, or_, select, update

from engage.audit import record
from engage.scheduling import tokens
from engage.scheduling.i18n import LANGUAGES, kind_label, translate, when
from engage.scheduling.ics import EventData, calendar_bytes
from engage.scheduling.mail import queue_message, sender
from engage.scheduling.timezones import zone
from models import (
    Attendance,
    Booking,
    BookingStatus,
    CalendarFeed,
    Code,
    ConsentText,
    Invitation,
    MessageKind,
    Participant,
    Recording,
    SessionKind,
    SessionStatus,
    SlotOffer,
    StakeholderGroup,
    Study,
    StudyMember,
    StudyRole,
    StudySession,
    User,
    db,
    utcnow,
)
from models.scheduling import session_facilitator

OPEN = (SessionStatus.PLANNED, SessionStatus.CONFIRMED)
DEFAULT_CONSENT_TITLE = "Consent to take part"
DEFAULT_CONSENT = """\
You are invited to take part in a conversation about how Medicare and Medicaid could work \
better together for people who have both.

- Taking part is voluntary. You can skip any question and stop at any time.
- The conversation is recorded and transcribed so we can study what was said. Recordings are \
kept on the agency's own servers.
- Reports describe what groups of people said (for example "health plans"). Your name is not \
published.
- You can withdraw by contacting the research team; we then stop using what you said.
"""
DEFAULT_CONSENT_ES = """\
Le invitamos a participar en una conversación sobre cómo Medicare y Medicaid podrían funcionar \
mejor juntos para las personas que tienen ambos.

- Participar es voluntario. Puede saltar cualquier pregunta y parar en cualquier momento.
- La conversación se graba y se transcribe para estudiar lo que se dijo. Las grabaciones se \
guardan en los servidores de la agencia.
- Los informes describen lo que dijeron grupos de personas (por ejemplo, "planes de salud"). \
Su nombre no se publica.
- Puede retirarse comunicándose con el equipo de investigación; entonces dejamos de usar lo \
que usted dijo.
"""


class SchedulingError(ValueError):
    """A refused change, phrased for the person who asked for it, with the field it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class BookingError(SchedulingError):
    """A participant's booking refused. ``code`` says why: full, slot, too_soon, consent."""

    def __init__(self, message: str, code: str, field: str | None = None):
        super().__init__(message, field)
        self.code = code


# Links and messages

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


def _details(session: StudySession, lang: str) -> list[str]:
    lines = [f"  {session.title} ({kind_label(session.kind, lang)})",
             f"  {translate('When', lang)}: {when(session.starts_at, session.timezone, lang)}"]
    if session.location:
        lines.append(f"  {translate('Where', lang)}: {session.location}")
    if session.video_url:
        lines.append(f"  {translate('Video link', lang)}: {session.video_url}")
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


def _notify(kind: MessageKind, booking: Booking, *, session_cancelled: bool = False,
            lead: str | None = None) -> None:
    participant, session = booking.participant, booking.session
    lang = participant.preferred_language
    link = invitation_link(booking.invitation) if booking.invitation else ""
    cancelled = kind is MessageKind.CANCELLATION
    if cancelled:
        lead = lead or ("The session was cancelled:" if session_cancelled
                        else "Your booking was cancelled:")
    lines = [translate("Hello {name},", lang, name=participant.name), "",
             translate(lead or LEADS[kind], lang), *_details(session, lang), ""]
    if link:
        lines += [translate("To change or cancel, use your link:", lang), f"  {link}", ""]
    lines += [translate("The attached calendar file updates your calendar.", lang), "",
              translate("Thank you.", lang)]
    queue_message(
        study_id=session.study_id, kind=kind, to_address=participant.email,
        subject=translate(SUBJECTS[kind], lang, title=session.title), body="\n".join(lines),
        language=lang, participant_id=participant.id, booking_id=booking.id,
        ics=booking_ics(booking, cancelled=cancelled, link=link))


def send_invitation(invitation: Invitation) -> None:
    participant, offer = invitation.participant, invitation.offer
    lang = participant.preferred_language
    expires = when(invitation.expires_at, offer.sessions[0].timezone if offer.sessions else "UTC",
                   lang, with_zone=False)
    body = "\n".join([
        translate("Hello {name},", lang, name=participant.name), "",
        translate("You are invited to take part in: {title}.", lang, title=offer.title), "",
        translate("Choose a time that suits you and give consent here:", lang),
        f"  {invitation_link(invitation)}", "",
        translate("This link is personal. It works until {date}.", lang, date=expires), "",
        translate("Thank you.", lang)])
    queue_message(study_id=invitation.study_id, kind=MessageKind.INVITATION,
                  to_address=participant.email, language=lang, participant_id=participant.id,
                  subject=translate(SUBJECTS[MessageKind.INVITATION], lang, title=offer.title),
                  body=body)


# Sessions

@dataclass
class SessionData:
    kind: SessionKind
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    location: str = ""
    video_url: str = ""
    capacity: int = 1
    facilitator_ids: list[int] = field(default_factory=list)
    guide_code_ids: list[int] = field(default_factory=list)
    is_public: bool = False
    notes: str = ""
    status: SessionStatus = SessionStatus.PLANNED


CALENDAR_FIELDS = ("title", "starts_at", "ends_at", "timezone", "location", "video_url")


def _check_session(study: Study, data: SessionData, existing: StudySession | None,
                   buffer_minutes: int = 0) -> tuple[list[User], list[Code]]:
    zone(data.timezone)  # raises TimeError for unknown zones
    if not data.title.strip():
        raise SchedulingError("Enter a title.", "title")
    if data.ends_at <= data.starts_at:
        raise SchedulingError("The end must be after the start.", "end_time")
    if data.ends_at - data.starts_at > timedelta(hours=12):
        raise SchedulingError("A session cannot be longer than 12 hours.", "end_time")
    moved = existing is None or existing.starts_at != data.starts_at
    if moved and data.starts_at <= utcnow():
        raise SchedulingError("The start is in the past. Choose a future time.", "start_date")
    if data.capacity < 1:
        raise SchedulingError("Capacity must be at least 1.", "capacity")
    if existing is not None and data.capacity < existing.booked_count:
        raise SchedulingError(f"{existing.booked_count} people are booked; capacity cannot be "
                              "lower than that.", "capacity")
    if data.is_public and data.kind is not SessionKind.LISTENING_SESSION:
        raise SchedulingError("Only a listening session can be open to the public.",
                              "is_public")
    facilitators = list(db.session.scalars(
        select(User).join(StudyMember, StudyMember.user_id == User.id)
        .where(StudyMember.study_id == study.id, User.id.in_(data.facilitator_ids or [0]))))
    admins = [u for u in db.session.scalars(select(User).where(
        User.id.in_(data.facilitator_ids or [0]))) if u.is_admin and u not in facilitators]
    facilitators += admins
    if len(facilitators) != len(set(data.facilitator_ids)):
        raise SchedulingError("Facilitators must be members of this study.", "facilitators")
    codes = list(db.session.scalars(select(Code).where(
        Code.study_id == study.id, Code.id.in_(data.guide_code_ids or [0]))))
    if len(codes) != len(set(data.guide_code_ids)):
        raise SchedulingError("Choose interview domains from this study's codebook.",
                              "guide_codes")
    if data.status is not SessionStatus.CANCELLED:
        conflict = facilitator_conflict(facilitators, data.starts_at, data.ends_at,
                                        buffer_minutes,
                                        exclude_id=existing.id if existing else None)
        if conflict:
            user, other = conflict
            where = (f"“{other.title}” ({when(other.starts_at, data.timezone, 'en')})"
                     if other.study_id == study.id else "a session in another study")
            raise SchedulingError(f"{user.name} is already facilitating {where} at that time.",
                                  "facilitators")
    return facilitators, codes


def facilitator_conflict(facilitators: list[User], starts: datetime, ends: datetime,
                         buffer_minutes: int = 0, exclude_id: int | None = None
                         ) -> tuple[User, StudySession] | None:
    """A session (in any study) that a facilitator already runs at that time, buffer included."""
    if not facilitators:
        return None
    buffer = timedelta(minutes=buffer_minutes)
    query = (select(User, StudySession)
             .join(session_facilitator, session_facilitator.c.user_id == User.id)
             .join(StudySession, StudySession.id == session_facilitator.c.session_id)
             .where(User.id.in_([u.id for u in facilitators]),
                    StudySession.status != SessionStatus.CANCELLED,
                    StudySession.starts_at < ends + buffer,
                    StudySession.ends_at > starts - buffer)
             .order_by(StudySession.starts_at))
    if exclude_id is not None:
        query = query.where(StudySession.id != exclude_id)
    row = db.session.execute(query).first()
    return (row[0], row[1]) if row else None


def create_session(actor: User, study: Study, data: SessionData, *, buffer_minutes: int = 0,
                   offer: SlotOffer | None = None) -> StudySession:
    facilitators, codes = _check_session(study, data, None, buffer_minutes)
    session = StudySession(
        study_id=study.id, kind=data.kind, title=data.title.strip(), starts_at=data.starts_at,
        ends_at=data.ends_at, timezone=data.timezone, location=data.location.strip(),
        video_url=data.video_url.strip(), capacity=data.capacity, is_public=data.is_public,
        notes=data.notes.strip(), status=data.status, created_by_id=actor.id, offer=offer,
        facilitators=facilitators, guide_codes=codes)
    db.session.add(session)
    db.session.flush()
    record("session.create", actor, study_id=study.id, target=("session", session.id))
    return session


def update_session(actor: User, session: StudySession, data: SessionData) -> bool:
    """Save changes; booked participants get an updated calendar file. True if they did."""
    if session.status is SessionStatus.CANCELLED:
        raise SchedulingError("This session was cancelled; plan a new one instead.")
    study = db.session.get(Study, session.study_id)
    buffer = session.offer.buffer_minutes if session.offer else 0
    facilitators, codes = _check_session(study, data, session, buffer)
    before = {f: getattr(session, f) for f in CALENDAR_FIELDS}
    session.kind, session.title = data.kind, data.title.strip()
    session.starts_at, session.ends_at, session.timezone = (data.starts_at, data.ends_at,
                                                            data.timezone)
    session.location, session.video_url = data.location.strip(), data.video_url.strip()
    session.capacity, session.is_public, session.notes = (data.capacity, data.is_public,
                                                          data.notes.strip())
    session.facilitators, session.guide_codes = facilitators, codes
    if data.status is not SessionStatus.CANCELLED:
        session.status = data.status
    changed = [f for f in CALENDAR_FIELDS if getattr(session, f) != before[f]]
    if changed:
        session.sequence += 1
        if "starts_at" in changed:
            for booking in session.active_bookings:
                booking.reminder_sent_at = None
        session.updated_at = utcnow()
        db.session.flush()
        for booking in session.active_bookings:
            _notify(MessageKind.CHANGE, booking)
    db.session.flush()
    record("session.update", actor, study_id=session.study_id, target=("session", session.id),
           changed=changed)
    if data.status is SessionStatus.CANCELLED:
        cancel_session(actor, session)
    return bool(changed)


def set_session_status(actor: User, session: StudySession, status: SessionStatus) -> None:
    if status is SessionStatus.CANCELLED:
        cancel_session(actor, session)
        return
    if session.status is SessionStatus.CANCELLED:
        raise SchedulingError("A cancelled session stays cancelled; plan a new one instead.")
    before = session.status
    session.status = status
    db.session.flush()
    record("session.status", actor, study_id=session.study_id, target=("session", session.id),
           before=before.value, after=status.value)


def cancel_session(actor: User, session: StudySession) -> None:
    if session.status is SessionStatus.CANCELLED:
        raise SchedulingError("This session is already cancelled.")
    session.status = SessionStatus.CANCELLED
    session.sequence += 1
    session.updated_at = utcnow()
    for booking in list(session.active_bookings):
        _release(booking, Attendance.CANCELLED, bump_sequence=False)
        _notify(MessageKind.CANCELLATION, booking, session_cancelled=True)
    db.session.flush()
    record("session.cancel", actor, study_id=session.study_id, target=("session", session.id))


def link_recording(actor: User, session: StudySession, recording: Recording) -> None:
    if recording.study_id != session.study_id:
        raise SchedulingError("Choose a recording of this study.", "recording")
    if recording not in session.recordings:
        session.recordings.append(recording)
        db.session.flush()
        record("session.recording", actor, study_id=session.study_id,
               target=("session", session.id), recording=recording.id)


# Seats

def _take_seat(session: StudySession) -> bool:
    """Take one seat in the database; False when the session is full or closed."""
    taken = db.session.execute(
        update(StudySession)
        .where(StudySession.id == session.id, StudySession.status.in_(OPEN),
               StudySession.booked_count < StudySession.capacity)
        .values(booked_count=StudySession.booked_count + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.expire(session, ["booked_count"])
    return taken == 1


def _give_back_seat(session: StudySession) -> None:
    db.session.execute(
        update(StudySession).where(StudySession.id == session.id, StudySession.booked_count > 0)
        .values(booked_count=StudySession.booked_count - 1)
        .execution_options(synchronize_session=False))
    db.session.expire(session, ["booked_count"])


def _release(booking: Booking, attendance: Attendance | None, *,
             bump_sequence: bool = True) -> None:
    booking.status = BookingStatus.CANCELLED
    booking.attendance = attendance
    booking.cancelled_at = utcnow()
    if bump_sequence:  # not when the whole session's SEQUENCE already grew
        booking.sequence += 1
    _give_back_seat(booking.session)
    db.session.flush()


def release_booking(booking: Booking) -> None:
    """Free the seat without a message (used when erasing a participant)."""
    if booking.status is BookingStatus.BOOKED:
        _release(booking, Attendance.CANCELLED)


def _seat(session: StudySession, participant: Participant, **fields) -> Booking:
    """Take a seat for the participant (a new booking, or their cancelled one again)."""
    if not _take_seat(session):
        if session.status not in OPEN:
            raise BookingError(translate("This session was cancelled by the research team.",
                                         participant.preferred_language), "closed")
        raise BookingError(translate("Sorry, that time just filled up. Choose another time.",
                                     participant.preferred_language), "full", "slot")
    booking = db.session.scalar(select(Booking).where(Booking.session_id == session.id,
                                                      Booking.participant_id == participant.id))
    if booking is not None and booking.status is BookingStatus.BOOKED:
        _give_back_seat(session)  # a second submit of the same booking: one seat only
        return booking
    if booking is None:
        booking = Booking(session=session, participant=participant)
        db.session.add(booking)
    else:
        booking.sequence += 1  # their calendar has this event cancelled; this supersedes it
    booking.status = BookingStatus.BOOKED
    booking.attendance = None
    booking.cancelled_at = booking.reminder_sent_at = None
    for name, value in fields.items():
        setattr(booking, name, value)
    db.session.flush()
    return booking


# Consent texts

def latest_consent(study: Study) -> ConsentText | None:
    return db.session.scalar(select(ConsentText).where(ConsentText.study_id == study.id)
                             .order_by(ConsentText.version.desc()).limit(1))


def add_consent_text(actor: User | None, study: Study, title: str, body: str,
                     body_es: str = "") -> ConsentText:
    if not body.strip():
        raise SchedulingError("Enter the consent text.", "body")
    version = (db.session.scalar(select(func.max(ConsentText.version)).where(
        ConsentText.study_id == study.id)) or 0) + 1
    text = ConsentText(study_id=study.id, version=version, title=title.strip() or
                       DEFAULT_CONSENT_TITLE, body=body.strip(), body_es=body_es.strip(),
                       created_by_id=actor.id if actor else None)
    db.session.add(text)
    db.session.flush()
    record("consent.version", actor, study_id=study.id, target=("consent_text", text.id),
           version=version)
    return text


# Slot offers and invitations

@dataclass
class OfferData:
    title: str
    kind: SessionKind
    times: list[datetime]  # UTC starts
    duration_minutes: int
    timezone: str
    capacity: int = 1
    location: str = ""
    video_url: str = ""
    facilitator_ids: list[int] = field(default_factory=list)
    guide_code_ids: list[int] = field(default_factory=list)
    buffer_minutes: int = 0
    min_notice_hours: int = 24
    consent_text_id: int | None = None
    participant_ids: list[int] = field(default_factory=list)
    expires_days: int = 30


def create_offer(actor: User, study: Study, data: OfferData) -> SlotOffer:
    if not data.times:
        raise SchedulingError("Enter at least one time to offer.", "times")
    if len(set(data.times)) != len(data.times):
        raise SchedulingError("The same time is listed twice.", "times")
    if not 5 <= data.duration_minutes <= 720:
        raise SchedulingError("The duration must be between 5 minutes and 12 hours.",
                              "duration_minutes")
    if data.consent_text_id:
        consent = db.session.get(ConsentText, data.consent_text_id)
        if consent is None or consent.study_id != study.id:
            raise SchedulingError("Choose a consent text of this study.", "consent_text_id")
    else:
        consent = latest_consent(study) or add_consent_text(
            actor, study, DEFAULT_CONSENT_TITLE, DEFAULT_CONSENT, DEFAULT_CONSENT_ES)
    offer = SlotOffer(study_id=study.id, title=data.title.strip(), kind=data.kind,
                      buffer_minutes=data.buffer_minutes,
                      min_notice_hours=data.min_notice_hours, consent_text=consent,
                      created_by_id=actor.id)
    db.session.add(offer)
    db.session.flush()
    for index, start in enumerate(sorted(data.times)):
        try:
            create_session(actor, study, SessionData(
                kind=data.kind, title=data.title, starts_at=start,
                ends_at=start + timedelta(minutes=data.duration_minutes),
                timezone=data.timezone, location=data.location, video_url=data.video_url,
                capacity=data.capacity, facilitator_ids=data.facilitator_ids,
                guide_code_ids=data.guide_code_ids), buffer_minutes=data.buffer_minutes,
                offer=offer)
        except SchedulingError as error:
            raise SchedulingError(
                f"Time {index + 1} ({when(start, data.timezone, 'en')}): {error}",
                "times" if error.field in ("start_date", "facilitators") else error.field
            ) from error
    invite(actor, offer, data.participant_ids, data.expires_days)
    record("offer.create", actor, study_id=study.id, target=("offer", offer.id),
           slots=len(data.times), invited=len(data.participant_ids))
    return offer


def invite(actor: User, offer: SlotOffer, participant_ids: list[int],
           expires_days: int = 30) -> list[Invitation]:
    participants = list(db.session.scalars(select(Participant).where(
        Participant.study_id == offer.study_id, Participant.id.in_(participant_ids or [0]),
        Participant.erased_at.is_(None))))
    if len(participants) != len(set(participant_ids)):
        raise SchedulingError("Choose participants of this study.", "participants")
    already = {i.participant_id for i in offer.invitations}
    expires = utcnow() + timedelta(days=max(1, min(expires_days, 365)))
    if offer.sessions:
        expires = min(expires, max(s.starts_at for s in offer.sessions))
    invitations = []
    for participant in participants:
        if participant.id in already:
            continue
        invitation = Invitation(study_id=offer.study_id, offer=offer, participant=participant,
                                expires_at=expires)
        db.session.add(invitation)
        db.session.flush()
        send_invitation(invitation)
        invitations.append(invitation)
    if invitations:
        record("invitation.create", actor, study_id=offer.study_id, target=("offer", offer.id),
               participants=[i.participant_id for i in invitations])
    return invitations


def revoke_invitation(actor: User, invitation: Invitation) -> None:
    invitation.nonce = uuid.uuid4().hex
    invitation.revoked_at = utcnow()
    db.session.flush()
    record("invitation.revoke", actor, study_id=invitation.study_id,
           target=("invitation", invitation.id))


def renew_invitation(actor: User, invitation: Invitation, days: int = 30) -> None:
    """A new link (old ones stop working), valid again, and sent again."""
    invitation.nonce = uuid.uuid4().hex
    invitation.revoked_at = None
    invitation.expires_at = utcnow() + timedelta(days=days)
    db.session.flush()
    send_invitation(invitation)
    record("invitation.renew", actor, study_id=invitation.study_id,
           target=("invitation", invitation.id))


def resolve_invitation(token: str) -> Invitation:
    invitation_id, nonce = tokens.read_invitation_token(token, invitation_max_age_s())
    invitation = db.session.get(Invitation, invitation_id)
    if (invitation is None or invitation.revoked_at is not None
            or not hmac.compare_digest(invitation.nonce, nonce)
            or invitation.participant.erased_at is not None):
        raise tokens.TokenError("This booking link was replaced or withdrawn.")
    if invitation.expires_at <= utcnow():
        raise tokens.TokenError("This booking link has expired.", expired=True)
    return invitation


def offered_slots(invitation: Invitation) -> list[StudySession]:
    return [s for s in invitation.offer.sessions if s.status in OPEN and s.starts_at > utcnow()]


def bookable(invitation: Invitation, session: StudySession) -> bool:
    notice = timedelta(hours=invitation.offer.min_notice_hours)
    return session.status in OPEN and session.starts_at >= utcnow() + notice


def book(invitation: Invitation, session_id: int | None, *, consent_name: str = "",
         consent_given: bool = False, consent_text_id: int | None = None,
         accessibility_needs: str | None = None, language: str | None = None) -> Booking:
    """Book, or move an existing booking to another offered time (consent is kept).

    ``language`` is the one the participant read the page in: refusals use it, and a
    booking made in it makes it their preferred language for the messages that follow.
    """
    participant = invitation.participant
    lang = language if language in LANGUAGES else participant.preferred_language
    session = db.session.get(StudySession, session_id) if session_id else None
    if session is None or session.offer_id != invitation.offer_id or session.status not in OPEN:
        raise BookingError(translate("That time is no longer offered. Choose another.", lang),
                           "slot", "slot")
    if not bookable(invitation, session):
        raise BookingError(translate("That time starts too soon to book. Choose a later one.",
                                     lang), "too_soon", "slot")
    current = invitation.active_booking
    if current is not None and current.session_id == session.id:
        return current
    consent: dict = {}
    if current is None:
        offer_consent = invitation.offer.consent_text
        if consent_text_id != offer_consent.id:
            raise BookingError("The consent text changed. Read it again below.", "consent",
                               "consent_name")
        if not consent_name.strip():
            raise BookingError(translate("Type your name to give consent.", lang), "consent",
                               "consent_name")
        if not consent_given:
            raise BookingError(translate("Check the box to give consent.", lang), "consent",
                               "consent_given")
        consent = {"consent_text_id": offer_consent.id, "consent_name": consent_name.strip(),
                   "consented_at": utcnow()}
    else:
        consent = {"consent_text_id": current.consent_text_id,
                   "consent_name": current.consent_name, "consented_at": current.consented_at}
    booking = _seat(session, participant, invitation=invitation, booked_by_id=None, **consent)
    if accessibility_needs is not None and accessibility_needs.strip():
        participant.accessibility_needs = accessibility_needs.strip()[:2000]
    participant.preferred_language = lang
    if current is not None:
        _release(current, None)
        _notify(MessageKind.CANCELLATION, current, lead="Your booking was moved.")
        _notify(MessageKind.CHANGE, booking, lead="Your booking was moved.")
        record("booking.move", None, study_id=session.study_id, target=("booking", booking.id),
               participant=participant.id, before=current.session_id, after=session.id)
    else:
        _notify(MessageKind.CONFIRMATION, booking)
        record("booking.create", None, study_id=session.study_id,
               target=("booking", booking.id), participant=participant.id, via="link")
    return booking


def cancel_own_booking(invitation: Invitation) -> Booking:
    booking = invitation.active_booking
    if booking is None:
        raise BookingError("There is no booking to cancel.", "none")
    _release(booking, Attendance.CANCELLED)
    _notify(MessageKind.CANCELLATION, booking)
    record("booking.cancel", None, study_id=invitation.study_id, target=("booking", booking.id),
           participant=booking.participant_id, via="link")
    return booking


def public_link(session: StudySession) -> str:
    return external_url("booking.register",
                        token=tokens.make_token(tokens.PUBLIC_SESSION_SALT, session.id,
                                                session.public_nonce))


def resolve_public_session(token: str) -> StudySession:
    session_id, nonce = tokens.read_token(tokens.PUBLIC_SESSION_SALT, token)
    session = db.session.get(StudySession, session_id)
    if session is None or not session.is_public or not hmac.compare_digest(
            session.public_nonce, nonce):
        raise tokens.TokenError("This link is not valid.")
    return session


def register_public(session: StudySession, *, name: str, email: str, language: str,
                    group_id: int | None, consent_name: str, consent_given: bool,
                    consent_text_id: int | None, accessibility_needs: str = "",
                    page_language: str | None = None) -> Booking:
    """Anyone with a public listening session's link registers (a participant is created).

    Refusals are written in ``page_language`` (the page they read), else ``language``.
    """
    preferred, language = language, page_language or language
    if session.status not in OPEN or session.starts_at <= utcnow():
        raise BookingError(translate("Registration for this session is closed.", language),
                           "closed")
    study = db.session.get(Study, session.study_id)
    consent = latest_consent(study)
    if consent is None or consent_text_id != consent.id:
        raise BookingError("The consent text changed. Read it again below.", "consent",
                           "consent_name")
    if not consent_name.strip():
        raise BookingError(translate("Type your name to give consent.", language), "consent",
                           "consent_name")
    if not consent_given:
        raise BookingError(translate("Check the box to give consent.", language), "consent",
                           "consent_given")
    group = db.session.get(StakeholderGroup, group_id) if group_id else None
    participant = db.session.scalar(select(Participant).where(
        Participant.study_id == study.id, func.lower(Participant.email) == email.lower(),
        Participant.erased_at.is_(None)))
    if participant is None:
        participant = Participant(
            study_id=study.id, name=name.strip(), email=email.strip(),
            preferred_language=preferred, accessibility_needs=accessibility_needs.strip(),
            stakeholder_group_id=group.id if group and group.study_id == study.id else None,
            notes="Registered through the public link.")
        db.session.add(participant)
        db.session.flush()
    elif db.session.scalar(select(Booking.id).where(
            Booking.session_id == session.id, Booking.participant_id == participant.id,
            Booking.status == BookingStatus.BOOKED)):
        raise BookingError(translate("You are already registered for this session.", language),
                           "duplicate")
    booking = _seat(session, participant, consent_text_id=consent.id,
                    consent_name=consent_name.strip(), consented_at=utcnow())
    _notify(MessageKind.CONFIRMATION, booking)
    record("booking.create", None, study_id=study.id, target=("booking", booking.id),
           participant=participant.id, via="public")
    return booking


# Staff actions on bookings

def staff_book(actor: User, session: StudySession, participant: Participant) -> Booking:
    if participant.study_id != session.study_id or participant.erased_at:
        raise SchedulingError("Choose a participant of this study.", "participant")
    if db.session.scalar(select(Booking.id).where(
            Booking.session_id == session.id, Booking.participant_id == participant.id,
            Booking.status == BookingStatus.BOOKED)):
        raise SchedulingError(f"{participant.name} is already booked.", "participant")
    try:
        booking = _seat(session, participant, booked_by_id=actor.id)
    except BookingError as error:
        raise SchedulingError("The session is full or cancelled.", "participant") from error
    _notify(MessageKind.CONFIRMATION, booking)
    record("booking.create", actor, study_id=session.study_id, target=("booking", booking.id),
           participant=participant.id, via="staff")
    return booking


def staff_cancel(actor: User, booking: Booking) -> None:
    if booking.status is not BookingStatus.BOOKED:
        raise SchedulingError("This booking is already cancelled.")
    _release(booking, Attendance.CANCELLED)
    if booking.session.starts_at > utcnow():
        _notify(MessageKind.CANCELLATION, booking)
    record("booking.cancel", actor, study_id=booking.session.study_id,
           target=("booking", booking.id), participant=booking.participant_id, via="staff")


def set_attendance(actor: User, session: StudySession, booking_ids: list[int],
                   attendance: Attendance) -> int:
    bookings = [b for b in session.bookings if b.id in set(booking_ids)]
    if not bookings or len(bookings) != len(set(booking_ids)):
        raise SchedulingError("Choose participants booked in this session.", "bookings")
    for booking in bookings:
        if attendance is Attendance.CANCELLED and booking.status is BookingStatus.BOOKED:
            _release(booking, Attendance.CANCELLED)
            if session.starts_at > utcnow():
                _notify(MessageKind.CANCELLATION, booking)
        else:
            booking.attendance = attendance
    db.session.flush()
    record("booking.attendance", actor, study_id=session.study_id,
           target=("session", session.id), attendance=attendance.value,
           bookings=[b.id for b in bookings])
    return len(bookings)


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
            _notify(MessageKind.REMINDER, booking)
            sent += 1
        db.session.commit()
        if progress:
            progress(100 * (index + 1) / len(due), f"Sent {sent} reminder(s)")
    return sent


# Calendar feed

def calendar_feed(actor: User, study: Study, renew: bool = False) -> CalendarFeed:
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.study_id == study.id,
                                                        CalendarFeed.user_id == actor.id))
    if feed is None:
        feed = CalendarFeed(study_id=study.id, user_id=actor.id)
        db.session.add(feed)
    elif renew:
        feed.nonce = uuid.uuid4().hex
        record("calendar_feed.renew", actor, study_id=study.id)
    db.session.flush()
    return feed


def feed_link(feed: CalendarFeed) -> str:
    return external_url("booking.feed",
                        token=tokens.make_token(tokens.FEED_SALT, feed.id, feed.nonce))


def resolve_feed(token: str) -> CalendarFeed:
    from engage.access import study_role

    feed_id, nonce = tokens.read_token(tokens.FEED_SALT, token)
    feed = db.session.get(CalendarFeed, feed_id)
    if feed is None or not hmac.compare_digest(feed.nonce, nonce):
        raise tokens.TokenError("This link is not valid.")
    user = db.session.get(User, feed.user_id)
    study = db.session.get(Study, feed.study_id)
    if not user or not user.active or study_role(user, study) is not StudyRole.RESEARCHER:
        raise tokens.TokenError("This link is not valid.")
    return feed


def feed_ics(feed: CalendarFeed) -> bytes:
    """The study's sessions from 90 days back: no contact details, only counts."""
    study = db.session.get(Study, feed.study_id)
    sessions = db.session.scalars(select(StudySession).where(
        StudySession.study_id == study.id,
        StudySession.ends_at > utcnow() - timedelta(days=90)).order_by(StudySession.starts_at))
    events = []
    for session in sessions:
        description = (f"{session.kind.label}. {session.booked_count} of {session.capacity} "
                       f"booked. Facilitators: "
                       f"{', '.join(u.name for u in session.facilitators) or 'none yet'}.")
        data = event_data(session, description=description,
                          url=external_url("scheduling.session", study_id=study.id,
                                           session_id=session.id))
        events.append(EventData(**{**data.__dict__, "organizer_email": "",
                                   "attendee_email": ""}))
    return calendar_bytes(events, name=f"Engage: {study.name}")


# Views' queries

def participant_history(participant: Participant) -> list[Booking]:
    return list(db.session.scalars(select(Booking).join(StudySession)
                                   .where(Booking.participant_id == participant.id)
                                   .order_by(StudySession.starts_at.desc())))


def engagement_summary(study: Study) -> dict:
    """Per stakeholder group: participants, sessions by status, attendance; who is unheard."""
    groups = [(g.id, g.name) for g in db.session.scalars(select(StakeholderGroup).where(
        StakeholderGroup.study_id == study.id).order_by(StakeholderGroup.position))]
    groups.append((None, "No group"))
    participants = dict(db.session.execute(
        select(Participant.stakeholder_group_id, func.count(Participant.id))
        .where(Participant.study_id == study.id, Participant.erased_at.is_(None))
        .group_by(Participant.stakeholder_group_id)).all())
    counted = or_(Booking.status == BookingStatus.BOOKED,
                  StudySession.status == SessionStatus.CANCELLED, Booking.attendance.in_(
                      [Attendance.ATTENDED, Attendance.NO_SHOW]))
    sessions = db.session.execute(
        select(Participant.stakeholder_group_id, StudySession.status,
               func.count(func.distinct(StudySession.id)))
        .select_from(Booking).join(Participant).join(StudySession)
        .where(StudySession.study_id == study.id, counted)
        .group_by(Participant.stakeholder_group_id, StudySession.status)).all()
    attendance = db.session.execute(
        select(Participant.stakeholder_group_id, Booking.attendance,
               func.count(func.distinct(Participant.id)))
        .select_from(Booking).join(Participant).join(StudySession)
        .where(StudySession.study_id == study.id, Booking.attendance.is_not(None))
        .group_by(Participant.stakeholder_group_id, Booking.attendance)).all()
    rows = []
    for group_id, name in groups:
        by_status = {s: 0 for s in SessionStatus}
        for gid, status, count in sessions:
            if gid == group_id:
                by_status[status] = count
        heard = {a: c for gid, a, c in attendance if gid == group_id}
        row = {"group_id": group_id, "name": name, "participants": participants.get(group_id, 0),
               "sessions": by_status, "attended": heard.get(Attendance.ATTENDED, 0),
               "no_show": heard.get(Attendance.NO_SHOW, 0)}
        if group_id is None and not row["participants"] and not any(by_status.values()):
            continue
        rows.append(row)
    heard_ids = select(Booking.participant_id).where(Booking.attendance == Attendance.ATTENDED)
    unheard = db.session.scalars(select(Participant).where(
        Participant.study_id == study.id, Participant.erased_at.is_(None),
        Participant.id.not_in(heard_ids)).order_by(Participant.name)).all()
    return {"rows": rows, "unheard": unheard,
            "unheard_groups": [r["name"] for r in rows if r["group_id"] is not None
                               and not r["attended"]]}
