"""Scheduling: sessions, slot offers, invitations, bookings, consent texts and messages.

"Session" would clash with SQLAlchemy's, so an interview, focus group or listening
session is a ``StudySession``. Times are stored in UTC; ``timezone`` is the IANA zone
the session was planned in, used for display and for calendar files.

A session's seats are counted in ``booked_count``; the database refuses more bookings
than ``capacity`` (a CHECK constraint), and booking takes a seat with one conditional
UPDATE, so two people racing for the last seat cannot both get it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db, utcnow


def _enum(e: type[enum.Enum]):
    return db.Enum(e, native_enum=False, length=20, values_callable=lambda m: [x.value for x in m])


class SessionKind(enum.StrEnum):
    INTERVIEW = "interview"
    FOCUS_GROUP = "focus_group"
    LISTENING_SESSION = "listening_session"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class SessionStatus(enum.StrEnum):
    PLANNED = "planned"
    CONFIRMED = "confirmed"
    HELD = "held"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Attendance(enum.StrEnum):
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"attended": "Attended", "no_show": "No-show", "cancelled": "Cancelled"}[self.value]


class MessageKind(enum.StrEnum):
    INVITATION = "invitation"
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    CHANGE = "change"
    CANCELLATION = "cancellation"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"  # handed to the SMTP server
    WRITTEN = "written"  # no SMTP configured: written to the outbox folder
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"queued": "Queued", "sent": "Sent", "written": "In outbox (not emailed)",
                "failed": "Failed"}[self.value]


session_facilitator = Table(
    "session_facilitator", db.metadata,
    Column("session_id", ForeignKey("study_session.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)
# The interview guide: which codebook domains a session covers.
session_guide_code = Table(
    "session_guide_code", db.metadata,
    Column("session_id", ForeignKey("study_session.id", ondelete="CASCADE"), primary_key=True),
    Column("code_id", ForeignKey("code.id", ondelete="CASCADE"), primary_key=True),
)
session_recording = Table(
    "session_recording", db.metadata,
    Column("session_id", ForeignKey("study_session.id", ondelete="CASCADE"), primary_key=True),
    Column("recording_id", ForeignKey("recording.id", ondelete="CASCADE"), primary_key=True),
)


class ConsentText(db.Model):
    """A version of the consent text; versions are never edited, only added."""

    __tablename__ = "consent_text"
    __table_args__ = (UniqueConstraint("study_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Spanish text; the English body is shown where it is empty.
    body_es: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    def text_for(self, lang: str) -> str:
        return self.body_es if lang == "es" and self.body_es.strip() else self.body


class SlotOffer(TimestampMixin, db.Model):
    """A set of times offered to invited participants, who each pick one."""

    __tablename__ = "slot_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SessionKind] = mapped_column(_enum(SessionKind))
    # Minutes kept free around each slot for its facilitators.
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    # A slot cannot be booked less than this many hours before it starts.
    min_notice_hours: Mapped[int] = mapped_column(default=24)
    consent_text_id: Mapped[int] = mapped_column(ForeignKey("consent_text.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    consent_text: Mapped[ConsentText] = relationship()
    sessions: Mapped[list[StudySession]] = relationship(
        back_populates="offer", order_by="StudySession.starts_at")
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="Invitation.id")


class StudySession(TimestampMixin, db.Model):
    __tablename__ = "study_session"
    __table_args__ = (
        CheckConstraint("booked_count >= 0 AND booked_count <= capacity", name="seats"),
        CheckConstraint("capacity >= 1", name="capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SessionKind] = mapped_column(_enum(SessionKind))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(300), default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int] = mapped_column(default=1)
    booked_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[SessionStatus] = mapped_column(_enum(SessionStatus),
                                                  default=SessionStatus.PLANNED)
    # A public listening session: anyone with its public link may register.
    is_public: Mapped[bool] = mapped_column(default=False)
    public_nonce: Mapped[str] = mapped_column(String(32), default=lambda: uuid.uuid4().hex)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Calendar identity: the UID never changes; SEQUENCE grows with every change.
    uid: Mapped[str] = mapped_column(String(64), unique=True,
                                     default=lambda: f"{uuid.uuid4()}@engage")
    sequence: Mapped[int] = mapped_column(default=0)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("slot_offer.id", ondelete="SET NULL"),
                                                 index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    offer: Mapped[SlotOffer | None] = relationship(back_populates="sessions")
    facilitators: Mapped[list[User]] = relationship(  # noqa: F821
        secondary=session_facilitator, order_by="User.name")
    guide_codes: Mapped[list[Code]] = relationship(  # noqa: F821
        secondary=session_guide_code, order_by="Code.position")
    recordings: Mapped[list[Recording]] = relationship(  # noqa: F821
        secondary=session_recording, order_by="Recording.created_at")
    bookings: Mapped[list[Booking]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Booking.id")

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def duration_minutes(self) -> int:
        return int(self.duration.total_seconds() // 60)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.zone)

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.booked_count)

    @property
    def active_bookings(self) -> list[Booking]:
        return [b for b in self.bookings if b.status is BookingStatus.BOOKED]

    def __repr__(self) -> str:
        return f"<StudySession {self.id} {self.title!r} {self.starts_at:%Y-%m-%d %H:%M}Z>"


class Invitation(TimestampMixin, db.Model):
    """A participant's secret booking link for one offer.

    The link is a signed token of ``(id, nonce)``; changing the nonce revokes every
    link sent before, and ``expires_at`` ends them all.
    """

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("offer_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("slot_offer.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(32), default=lambda: uuid.uuid4().hex)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    offer: Mapped[SlotOffer] = relationship(back_populates="invitations")
    participant: Mapped[Participant] = relationship()  # noqa: F821
    bookings: Mapped[list[Booking]] = relationship(back_populates="invitation",
                                                   order_by="Booking.id")

    @property
    def active_booking(self) -> Booking | None:
        return next((b for b in self.bookings if b.status is BookingStatus.BOOKED), None)


class Booking(TimestampMixin, db.Model):
    __tablename__ = "booking"
    __table_args__ = (UniqueConstraint("session_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("study_session.id", ondelete="CASCADE"),
                                            index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL"), index=True)
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus),
                                                  default=BookingStatus.BOOKED)
    attendance: Mapped[Attendance | None] = mapped_column(_enum(Attendance))
    # Consent as given: the typed name, when, and which version of the text was shown.
    consent_text_id: Mapped[int | None] = mapped_column(
        ForeignKey("consent_text.id", ondelete="SET NULL"))
    consent_name: Mapped[str] = mapped_column(String(200), default="")
    consented_at: Mapped[datetime | None]
    # Consent a researcher recorded on the participant's behalf (by phone, at the session),
    # and who: kept apart from who booked, which may be someone else.
    consent_on_behalf: Mapped[bool] = mapped_column(default=False)
    consent_recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"))
    # Per-participant changes (cancel, rebook) add to the session's SEQUENCE.
    sequence: Mapped[int] = mapped_column(default=0)
    reminder_sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Set when staff booked the participant; None for self-booking.
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    session: Mapped[StudySession] = relationship(back_populates="bookings")
    participant: Mapped[Participant] = relationship()  # noqa: F821
    invitation: Mapped[Invitation | None] = relationship(back_populates="bookings")
    consent_text: Mapped[ConsentText | None] = relationship()

    @property
    def consent_status(self) -> str:
        return "given" if self.consented_at else "not recorded"


class OutboxMessage(db.Model):
    """Every message Engage sends is kept here, whether or not SMTP delivered it."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"))
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind))
    language: Mapped[str] = mapped_column(String(12), default="en")
    to_address: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus),
                                                  default=MessageStatus.QUEUED)
    file_name: Mapped[str] = mapped_column(String(120), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]

    participant: Mapped[Participant | None] = relationship()  # noqa: F821


class CalendarFeed(TimestampMixin, db.Model):
    """A researcher's secret calendar subscription for one study; a new nonce revokes it."""

    __tablename__ = "calendar_feed"
    __table_args__ = (UniqueConstraint("study_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(32), default=lambda: uuid.uuid4().hex)
