"""Slot offers: times offered to chosen participants, each invited with a personal link."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from engage.audit import record
from engage.i18n import format_session_time
from engage.scheduling.consent import (
    DEFAULT_CONSENT,
    DEFAULT_CONSENT_ES,
    DEFAULT_CONSENT_TITLE,
    add_consent_text,
    latest_consent,
)
from engage.scheduling.messages import send_invitation
from engage.scheduling.operations import SchedulingError
from engage.scheduling.sessions import SessionData, create_session
from models import (
    ConsentText,
    Invitation,
    Participant,
    SessionKind,
    SlotOffer,
    Study,
    User,
    db,
    utcnow,
)


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
                f"Time {index + 1} ({format_session_time(start, data.timezone, 'en')}): {error}",
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

