"""Bookings: a participant's through their link, anyone's through a public listening
session's link, and staff's (booking, recording consent, cancelling, attendance)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from engage.audit import record
from engage.i18n import LANGUAGES, translate
from engage.scheduling import tokens
from engage.scheduling.consent import (
    StaffConsent,
    check_consent,
    consent_text_for,
    latest_consent,
)
from engage.scheduling.messages import external_url, invitation_max_age_s, notify
from engage.scheduling.operations import OPEN, BookingError, SchedulingError
from engage.scheduling.seats import release_seat, seat_participant
from models import (
    Attendance,
    Booking,
    BookingStatus,
    Invitation,
    MessageKind,
    Participant,
    StakeholderGroup,
    Study,
    StudySession,
    User,
    db,
    utcnow,
)

# A participant's own link

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
        raise BookingError(translate(lang, "That time is no longer offered. Choose another."),
                           "slot", "slot")
    if not bookable(invitation, session):
        raise BookingError(
            translate(lang, "That time starts too soon to book. Choose a later one."),
            "too_soon", "slot")
    current = invitation.active_booking
    if current is not None and current.session_id == session.id:
        return current
    consent: dict = {}
    if current is None:
        offer_consent = invitation.offer.consent_text
        check_consent(offer_consent, consent_text_id, consent_name, consent_given, lang)
        consent = {"consent_text_id": offer_consent.id, "consent_name": consent_name.strip(),
                   "consented_at": utcnow()}
    else:
        consent = {"consent_text_id": current.consent_text_id,
                   "consent_name": current.consent_name, "consented_at": current.consented_at,
                   "consent_on_behalf": current.consent_on_behalf,
                   "consent_recorded_by_id": current.consent_recorded_by_id}
    booking = seat_participant(session, participant, invitation=invitation, booked_by_id=None,
                               **consent)
    if accessibility_needs is not None and accessibility_needs.strip():
        participant.accessibility_needs = accessibility_needs.strip()[:2000]
    participant.preferred_language = lang
    if current is not None:
        release_seat(current, None)
        notify(MessageKind.CANCELLATION, current, lead="Your booking was moved.")
        notify(MessageKind.CHANGE, booking, lead="Your booking was moved.")
        record("booking.move", None, study_id=session.study_id, target=("booking", booking.id),
               participant=participant.id, before=current.session_id, after=session.id)
    else:
        notify(MessageKind.CONFIRMATION, booking)
        record("booking.create", None, study_id=session.study_id,
               target=("booking", booking.id), participant=participant.id, via="link")
    return booking


def cancel_own_booking(invitation: Invitation) -> Booking:
    booking = invitation.active_booking
    if booking is None:
        raise BookingError("There is no booking to cancel.", "none")
    release_seat(booking, Attendance.CANCELLED)
    notify(MessageKind.CANCELLATION, booking)
    record("booking.cancel", None, study_id=invitation.study_id, target=("booking", booking.id),
           participant=booking.participant_id, via="link")
    return booking


# Public listening sessions: anyone with the link registers

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
        raise BookingError(translate(language, "Registration for this session is closed."),
                           "closed")
    study = db.session.get(Study, session.study_id)
    consent = latest_consent(study)
    check_consent(consent, consent_text_id, consent_name, consent_given, language)
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
        raise BookingError(translate(language, "You are already registered for this session."),
                           "duplicate")
    booking = seat_participant(session, participant, consent_text_id=consent.id,
                               consent_name=consent_name.strip(), consented_at=utcnow())
    notify(MessageKind.CONFIRMATION, booking)
    record("booking.create", None, study_id=study.id, target=("booking", booking.id),
           participant=participant.id, via="public")
    return booking


# Staff actions on bookings

# A staff booking whose consent is to be collected at the session: nothing recorded yet.
NO_CONSENT = {"consent_text_id": None, "consent_name": "", "consented_at": None}


def _consent_on_behalf(actor: User, session: StudySession, consent_text_id: int | None,
                       consent_name: str, consent_given: bool) -> dict:
    """The consent a researcher records for a participant, checked like the participant's own."""
    expected = consent_text_for(session)
    check_consent(expected, consent_text_id, consent_name, consent_given, "en", on_behalf=True)
    return {"consent_text_id": expected.id, "consent_name": consent_name.strip(),
            "consented_at": utcnow(), "consent_on_behalf": True,
            "consent_recorded_by_id": actor.id}


def bookable_participants(session: StudySession) -> list[Participant]:
    """The study's participants a researcher may book into the session (not booked in it)."""
    booked = {b.participant_id for b in session.active_bookings}
    return [p for p in db.session.scalars(select(Participant).where(
        Participant.study_id == session.study_id, Participant.erased_at.is_(None))
        .order_by(Participant.name)) if p.id not in booked]


def staff_book(actor: User, session: StudySession, participant: Participant | None,
               consent: StaffConsent | None, *, consent_text_id: int | None = None,
               consent_name: str = "", consent_given: bool = False) -> Booking:
    """Book a participant on their behalf (after a phone call, say).

    ``consent`` says how their consent stands: ``AGREED``, they agreed to the session's
    consent text and the researcher records it now (their name as they gave it, the box
    checked); ``AT_SESSION``, it is collected at the session and stays outstanding.
    """
    if participant is None or participant.study_id != session.study_id or participant.erased_at:
        raise SchedulingError("Choose a participant of this study.", "participant")
    if db.session.scalar(select(Booking.id).where(
            Booking.session_id == session.id, Booking.participant_id == participant.id,
            Booking.status == BookingStatus.BOOKED)):
        raise SchedulingError(f"{participant.name} is already booked.", "participant")
    if consent is None:
        raise SchedulingError("Choose whether you record the participant's consent now or it "
                              "is collected at the session.", "consent")
    fields = NO_CONSENT if consent is StaffConsent.AT_SESSION else _consent_on_behalf(
        actor, session, consent_text_id, consent_name, consent_given)
    try:
        booking = seat_participant(session, participant, booked_by_id=actor.id, **fields)
    except BookingError as error:
        raise SchedulingError("The session is full or cancelled.", "participant") from error
    notify(MessageKind.CONFIRMATION, booking)
    record("booking.create", actor, study_id=session.study_id, target=("booking", booking.id),
           participant=participant.id, via="staff", consent=consent.value,
           consent_text=fields["consent_text_id"])
    return booking


def record_consent(actor: User, booking: Booking, *, consent_text_id: int | None,
                   consent_name: str, consent_given: bool) -> Booking:
    """Record the consent a participant gave later (at the session, by phone) on a booking
    whose consent is outstanding; the booking names the researcher who recorded it."""
    if booking.status is not BookingStatus.BOOKED:
        raise SchedulingError("This booking is cancelled.", "consent_given")
    if booking.consented_at is not None:
        raise SchedulingError("Consent is already recorded for this booking.", "consent_given")
    fields = _consent_on_behalf(actor, booking.session, consent_text_id, consent_name,
                                consent_given)
    for name, value in fields.items():
        setattr(booking, name, value)
    db.session.flush()
    record("booking.consent", actor, study_id=booking.session.study_id,
           target=("booking", booking.id), participant=booking.participant_id, via="staff",
           consent_text=fields["consent_text_id"])
    return booking


def staff_cancel(actor: User, booking: Booking) -> None:
    if booking.status is not BookingStatus.BOOKED:
        raise SchedulingError("This booking is already cancelled.")
    release_seat(booking, Attendance.CANCELLED)
    if booking.session.starts_at > utcnow():
        notify(MessageKind.CANCELLATION, booking)
    record("booking.cancel", actor, study_id=booking.session.study_id,
           target=("booking", booking.id), participant=booking.participant_id, via="staff")


def set_attendance(actor: User, session: StudySession, booking_ids: list[int],
                   attendance: Attendance) -> int:
    bookings = [b for b in session.bookings if b.id in set(booking_ids)]
    if not bookings or len(bookings) != len(set(booking_ids)):
        raise SchedulingError("Choose participants booked in this session.", "bookings")
    for booking in bookings:
        if attendance is Attendance.CANCELLED and booking.status is BookingStatus.BOOKED:
            release_seat(booking, Attendance.CANCELLED)
            if session.starts_at > utcnow():
                notify(MessageKind.CANCELLATION, booking)
        else:
            booking.attendance = attendance
    db.session.flush()
    record("booking.attendance", actor, study_id=session.study_id,
           target=("session", session.id), attendance=attendance.value,
           bookings=[b.id for b in bookings])
    return len(bookings)


# Views' queries

def participant_history(participant: Participant) -> list[Booking]:
    return list(db.session.scalars(select(Booking).join(StudySession)
                                   .where(Booking.participant_id == participant.id)
                                   .order_by(StudySession.starts_at.desc())))


@dataclass(frozen=True)
class ConsentRecord:
    """Where a booking's consent stands, as the pages show it."""

    state: str  # "participant" (their own link), "staff" (a researcher recorded it), "outstanding"
    recorded_by: str = ""  # the researcher, for "staff"


def consent_record(booking: Booking) -> ConsentRecord:
    if booking.consented_at is None:
        return ConsentRecord("outstanding")
    if not booking.consent_on_behalf:
        return ConsentRecord("participant")
    researcher = db.session.get(User, booking.consent_recorded_by_id or 0)
    return ConsentRecord("staff", researcher.name if researcher else "a former member")
