"""Participant operations: create, edit, import, export, erase; attributes and groups.

Operations flush; the request commits once. Each records itself in the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select, update

from coding.participant_csv import (
    AttributeSpec,
    ParticipantCSV,
    ParticipantDetails,
    write_participants_csv,
)
from engage.audit import record
from engage.i18n import LANGUAGES
from models import (
    AttributeDefinition,
    AttributeKind,
    Booking,
    BookingStatus,
    Invitation,
    OutboxMessage,
    Participant,
    StakeholderGroup,
    Study,
    User,
    db,
    utcnow,
)


class ParticipantError(ValueError):
    """A refused change, phrased for the person who asked for it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, kw_only=True)
class ParticipantData(ParticipantDetails):
    stakeholder_group_id: int | None = None


def attribute_definitions(study: Study) -> list[AttributeDefinition]:
    return list(db.session.scalars(select(AttributeDefinition).where(
        AttributeDefinition.study_id == study.id).order_by(AttributeDefinition.position,
                                                           AttributeDefinition.id)))


def attribute_specs(study: Study) -> list[AttributeSpec]:
    return [AttributeSpec(a.key, a.label, a.kind.value) for a in attribute_definitions(study)]


def groups_of(study: Study) -> list[StakeholderGroup]:
    return list(db.session.scalars(select(StakeholderGroup).where(
        StakeholderGroup.study_id == study.id).order_by(StakeholderGroup.position,
                                                        StakeholderGroup.id)))


def _check(study: Study, data: ParticipantData, participant: Participant | None = None) -> None:
    if not data.name.strip():
        raise ParticipantError("Enter the participant's name.", "name")
    if data.preferred_language not in LANGUAGES:
        raise ParticipantError("Choose a language from the list.", "preferred_language")
    if data.stakeholder_group_id is not None:
        group = db.session.get(StakeholderGroup, data.stakeholder_group_id)
        if group is None or group.study_id != study.id:
            raise ParticipantError("Choose a stakeholder group of this study.",
                                   "stakeholder_group_id")
    email = data.email.strip().lower()
    if email:
        query = select(Participant.id).where(Participant.study_id == study.id,
                                             func.lower(Participant.email) == email)
        if participant is not None:
            query = query.where(Participant.id != participant.id)
        if db.session.scalar(query):
            raise ParticipantError(f"{data.email} is already a participant of this study.",
                                   "email")


def _apply(participant: Participant, data: ParticipantDetails, group_id: int | None) -> None:
    participant.name = data.name.strip()
    participant.organization = data.organization.strip()
    participant.stakeholder_group_id = group_id
    participant.region, participant.county = data.region.strip(), data.county.strip()
    participant.email, participant.phone = data.email.strip(), data.phone.strip()
    participant.preferred_language = data.preferred_language
    participant.accessibility_needs = data.accessibility_needs.strip()
    participant.notes = data.notes.strip()
    participant.attributes = {k: v for k, v in data.attributes.items() if v is not None}


def create_participant(actor: User, study: Study, data: ParticipantData) -> Participant:
    _check(study, data)
    participant = Participant(study_id=study.id)
    _apply(participant, data, data.stakeholder_group_id)
    db.session.add(participant)
    db.session.flush()
    record("participant.create", actor, study_id=study.id,
           target=("participant", participant.id))
    return participant


def update_participant(actor: User, participant: Participant, data: ParticipantData) -> None:
    if participant.erased_at:
        raise ParticipantError("This participant's data was erased; it cannot be edited.")
    _check(db.session.get(Study, participant.study_id), data, participant)
    _apply(participant, data, data.stakeholder_group_id)
    db.session.flush()
    record("participant.update", actor, study_id=participant.study_id,
           target=("participant", participant.id))


def import_participants(actor: User, study: Study, parsed: ParticipantCSV,
                        file_name: str = "") -> list[Participant]:
    """Save every row of a checked file, or nothing when it has errors."""
    if parsed.errors:
        raise ParticipantError(f"The file has {len(parsed.errors)} problem(s); nothing was "
                               "imported. Fix them and upload it again.")
    groups = {g.name: g.id for g in groups_of(study)}
    existing = {e.lower() for e in db.session.scalars(select(Participant.email).where(
        Participant.study_id == study.id, Participant.email != ""))}
    clashes = [r for r in parsed.rows if r.email and r.email.lower() in existing]
    if clashes:  # someone added them since the preview
        raise ParticipantError(f"{clashes[0].email} (row {clashes[0].row}) is already a "
                               "participant of this study; nothing was imported.")
    created = []
    for row in parsed.rows:
        participant = Participant(study_id=study.id)
        _apply(participant, row, groups.get(row.stakeholder_group))
        db.session.add(participant)
        created.append(participant)
    db.session.flush()
    record("participant.import", actor, study_id=study.id, count=len(created),
           file=file_name, participants=[p.id for p in created])
    return created


def export_participants(actor: User, study: Study) -> str:
    participants = db.session.scalars(select(Participant).where(
        Participant.study_id == study.id, Participant.erased_at.is_(None))
        .order_by(Participant.name, Participant.id)).all()
    rows = [{
        "name": p.name, "organization": p.organization,
        "stakeholder_group": p.stakeholder_group.name if p.stakeholder_group else "",
        "region": p.region, "county": p.county, "email": p.email, "phone": p.phone,
        "preferred_language": p.preferred_language,
        "accessibility_needs": p.accessibility_needs, "notes": p.notes,
        "attributes": p.attributes or {}} for p in participants]
    record("participant.export", actor, study_id=study.id, count=len(rows))
    return write_participants_csv(rows, attribute_specs(study))


def record_contact_view(actor: User, study: Study, participants: list[Participant]) -> None:
    """Researchers see contact details; that is worth a trace."""
    record("contacts.view", actor, study_id=study.id,
           participants=[p.id for p in participants])


def erase_participant(actor: User, participant: Participant) -> None:
    """Remove what identifies the person; keep the row so counts and codings stay whole."""
    from engage.scheduling.seats import release_booking

    if participant.erased_at:
        raise ParticipantError("This participant's data was already erased.")
    now = utcnow()
    for booking in db.session.scalars(select(Booking).where(
            Booking.participant_id == participant.id,
            Booking.status == BookingStatus.BOOKED)):
        if booking.session.starts_at > now:
            release_booking(booking)
    db.session.execute(update(Invitation).where(Invitation.participant_id == participant.id)
                       .values(revoked_at=now, nonce=_new_nonce()))
    db.session.execute(update(Booking).where(Booking.participant_id == participant.id)
                       .values(consent_name=""))
    db.session.execute(update(OutboxMessage).where(
        OutboxMessage.participant_id == participant.id).values(
            to_address="", body="(erased)", ics=None, subject="(erased)"))
    _remove_outbox_files(participant.id)
    participant.name = f"Erased participant {participant.id}"
    participant.organization = participant.email = participant.phone = ""
    participant.notes = participant.accessibility_needs = ""
    participant.region = participant.county = ""
    participant.attributes = {}
    participant.erased_at = now
    db.session.flush()
    record("participant.erase", actor, study_id=participant.study_id,
           target=("participant", participant.id))


def _remove_outbox_files(participant_id: int) -> None:
    from engage.scheduling.mail import outbox_folder

    names = db.session.scalars(select(OutboxMessage.file_name).where(
        OutboxMessage.participant_id == participant_id, OutboxMessage.file_name != "")).all()
    folder = outbox_folder()
    for name in names:
        if re.fullmatch(r"[\w.-]+\.eml", name):
            (folder / name).unlink(missing_ok=True)


def _new_nonce() -> str:
    import uuid

    return uuid.uuid4().hex


# Attributes and stakeholder groups

def add_attribute(actor: User, study: Study, label: str, kind: AttributeKind
                  ) -> AttributeDefinition:
    label = label.strip()
    key = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:60]
    if not key:
        raise ParticipantError("Give the attribute a name with letters or digits.", "label")
    from coding.participant_csv import STANDARD_COLUMNS

    if key in STANDARD_COLUMNS:
        raise ParticipantError(f"“{label}” is already a standard participant field.", "label")
    if db.session.scalar(select(AttributeDefinition.id).where(
            AttributeDefinition.study_id == study.id, AttributeDefinition.key == key)):
        raise ParticipantError(f"This study already has an attribute “{label}”.", "label")
    position = db.session.scalar(select(func.count(AttributeDefinition.id)).where(
        AttributeDefinition.study_id == study.id)) or 0
    definition = AttributeDefinition(study_id=study.id, key=key, label=label, kind=kind,
                                     position=position)
    db.session.add(definition)
    db.session.flush()
    record("attribute.add", actor, study_id=study.id, key=key, kind=kind.value)
    return definition


def save_group(actor: User, study: Study, name: str, description: str,
               group: StakeholderGroup | None = None) -> StakeholderGroup:
    name = name.strip()
    if not name:
        raise ParticipantError("Enter the group's name.", "name")
    clash = select(StakeholderGroup.id).where(StakeholderGroup.study_id == study.id,
                                              func.lower(StakeholderGroup.name) == name.lower())
    if group is not None:
        clash = clash.where(StakeholderGroup.id != group.id)
    if db.session.scalar(clash):
        raise ParticipantError(f"This study already has a group “{name}”.", "name")
    if group is None:
        position = db.session.scalar(select(func.max(StakeholderGroup.position)).where(
            StakeholderGroup.study_id == study.id))
        group = StakeholderGroup(study_id=study.id, position=(position or 0) + 1)
        db.session.add(group)
        action = "group.add"
    else:
        action = "group.update"
    group.name, group.description = name, (description or "").strip()
    db.session.flush()
    record(action, actor, study_id=study.id, target=("stakeholder_group", group.id), name=name)
    return group


def delete_group(actor: User, group: StakeholderGroup) -> None:
    used = db.session.scalar(select(func.count(Participant.id)).where(
        Participant.stakeholder_group_id == group.id))
    if used:
        raise ParticipantError(f"{used} participant(s) are in “{group.name}”. Move them to "
                               "another group first.")
    record("group.delete", actor, study_id=group.study_id,
           target=("stakeholder_group", group.id), name=group.name)
    db.session.delete(group)
    db.session.flush()
