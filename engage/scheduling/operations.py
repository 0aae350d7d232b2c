"""What the scheduling operations share: their refusals and which sessions are open.

The operations themselves, by subject: ``sessions`` (planning, changing, cancelling;
the engagement summary), ``offers`` (slot offers and invitations), ``consent`` (consent
texts), ``seats`` (taking and giving back a seat), ``bookings`` (booking through a link,
public registration, staff bookings and attendance), ``messages`` (what participants
are sent, reminders, calendar files) and ``feeds`` (researchers' calendar feeds).

Operations flush; the request (or the job) commits once. Messages are queued in
the same transaction and delivered only after it commits (``mail.queue_message``).
"""

from __future__ import annotations

from models import SessionStatus

OPEN = (SessionStatus.PLANNED, SessionStatus.CONFIRMED)


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

