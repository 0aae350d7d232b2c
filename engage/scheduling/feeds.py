"""Researchers' calendar feeds: a secret address per researcher and study that calendar
programs subscribe to; it lists the study's sessions without contact details."""

from __future__ import annotations

import hmac
import uuid
from datetime import timedelta

from sqlalchemy import select

from engage.audit import record
from engage.scheduling import tokens
from engage.scheduling.ics import EventData, calendar_bytes
from engage.scheduling.messages import event_data, external_url
from models import CalendarFeed, Study, StudyRole, StudySession, User, db, utcnow


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

