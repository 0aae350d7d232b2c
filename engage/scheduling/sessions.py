"""Sessions: planning, changing and cancelling them; who was heard across them.

Booked participants are sent a change (with an updated calendar file) when a session's
time or place changes, and a cancellation when it is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from engage.audit import record
from engage.i18n import format_session_time
from engage.scheduling.messages import notify
from engage.scheduling.operations import SchedulingError
from engage.scheduling.seats import release_seat
from engage.scheduling.timezones import zone
from models import (
    Attendance,
    Booking,
    BookingStatus,
    Code,
    MessageKind,
    Participant,
    Recording,
    SessionKind,
    SessionStatus,
    SlotOffer,
    StakeholderGroup,
    Study,
    StudyMember,
    StudySession,
    User,
    db,
    utcnow,
)
from models.scheduling import session_facilitator


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
            at = format_session_time(other.starts_at, data.timezone, "en")
            where = (f"“{other.title}” ({at})" if other.study_id == study.id
                     else "a session in another study")
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
            notify(MessageKind.CHANGE, booking)
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
        release_seat(booking, Attendance.CANCELLED, bump_sequence=False)
        notify(MessageKind.CANCELLATION, booking, session_cancelled=True)
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


# Engagement across sessions

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
