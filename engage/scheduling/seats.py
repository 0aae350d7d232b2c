"""Seats: taking one for a participant, giving it back.

A seat is taken with one conditional UPDATE (``booked_count < capacity``) and the
database refuses an overfull session with a CHECK constraint, so the last seat
goes to exactly one of the people racing for it.
"""

from __future__ import annotations

from sqlalchemy import select, update

from engage.i18n import translate
from engage.scheduling.operations import OPEN, BookingError
from models import Attendance, Booking, BookingStatus, Participant, StudySession, db, utcnow


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


def release_seat(booking: Booking, attendance: Attendance | None, *,
                 bump_sequence: bool = True) -> None:
    """Cancel the booking and give its seat back; the caller tells the participant."""
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
        release_seat(booking, Attendance.CANCELLED)


def seat_participant(session: StudySession, participant: Participant, **fields) -> Booking:
    """Take a seat for the participant (a new booking, or their cancelled one again)."""
    if not _take_seat(session):
        lang = participant.preferred_language
        if session.status not in OPEN:
            raise BookingError(translate(lang, "This session was cancelled by the research team."),
                               "closed")
        raise BookingError(translate(lang, "Sorry, that time just filled up. Choose another time."),
                           "full", "slot")
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
    booking.consent_on_behalf, booking.consent_recorded_by_id = False, None
    for name, value in fields.items():
        setattr(booking, name, value)
    db.session.flush()
    return booking

