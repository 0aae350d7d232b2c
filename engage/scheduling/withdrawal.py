"""A participant withdraws: their contact data goes, and what they said is deleted or
kept de-identified, as the researcher chooses.

What is theirs is found in two ways: recordings linked to sessions they were
booked into (a session no one else was booked into is theirs alone), and the
speaker links that say which voice in a transcript is theirs.

* **delete**: recordings and transcripts that are theirs alone are deleted with
  everything on them (codings, theme quotes, topic assignments); in a group
  recording their turns are deleted from the transcript and made silent in the
  audio.
* **de-identify**: a voice identifies a person, so the audio that is theirs
  alone is deleted and their turns in group recordings are made silent; the
  transcripts stay, with their turns stripped of personal data and their
  speaker label replaced by a pseudonym (``P12``), so the study's codings and
  counts by stakeholder group stay whole.

Either way their names, email, phone and organisation are masked wherever else
the study holds text (other speakers' words, titles, codings' quotes, theme
quotes, memos, edit history, topic words), and then ``erase_participant``
removes their contact data. One audit entry records the choice and what it did.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update

from coding.embeddings import text_hash
from coding.redaction import redact, redact_person
from engage.audit import record
from engage.exports.qdpx import pseudonym
from engage.scheduling.participants import ParticipantError, erase_participant
from engage.topics.corpus import speaker_groups, speaker_link
from engage.uploads import discard_on_rollback, remove_after_commit, stored_path, upload_folder
from models import (
    Attendance,
    Booking,
    BookingStatus,
    Coding,
    Embedding,
    Memo,
    Participant,
    Recording,
    SegmentRevision,
    SpeakerLink,
    StudySession,
    Theme,
    ThemeEvidence,
    Topic,
    TopicRun,
    Transcript,
    TranscriptSegment,
    User,
    db,
)
from transcripts.audio import silence_spans
from transcripts.probe import MediaError

RECORDINGS = "recordings"  # engage.recordings.operations.FILES (importing it would loop)


class Retention(enum.StrEnum):
    DELETE = "delete"
    DEIDENTIFY = "deidentify"

    @property
    def label(self) -> str:
        return {"delete": "Delete their recordings and transcripts",
                "deidentify": "Keep their transcripts, de-identified"}[self.value]


@dataclass
class Shared:
    """A transcript with other speakers, and the segments that are this participant's."""

    transcript: Transcript
    segment_ids: list[int]


@dataclass
class Material:
    recordings: list[Recording] = field(default_factory=list)  # theirs alone
    transcripts: list[Transcript] = field(default_factory=list)  # theirs alone, no audio
    shared: list[Shared] = field(default_factory=list)
    # Group recordings of sessions they were booked into where no voice is linked to them:
    # their words cannot be told apart until a researcher links their speaker label.
    unlinked: list[Recording] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.recordings or self.transcripts or self.shared)


def find_material(participant: Participant) -> Material:
    booked = list(db.session.scalars(select(StudySession).join(Booking).where(
        Booking.participant_id == participant.id, Booking.status == BookingStatus.BOOKED,
        (Booking.attendance.is_(None)) | (Booking.attendance != Attendance.NO_SHOW))
        .distinct()))
    alone: dict[int, Recording] = {}
    with_others: dict[int, Recording] = {}
    for session in booked:
        others = any(b.participant_id != participant.id and b.status == BookingStatus.BOOKED
                     for b in session.bookings)
        for recording in session.recordings:
            (with_others if others else alone)[recording.id] = recording
    for recording_id in with_others:
        alone.pop(recording_id, None)

    linked = list(db.session.scalars(select(Transcript).join(SpeakerLink).where(
        SpeakerLink.participant_id == participant.id).distinct().order_by(Transcript.id)))
    links = speaker_groups([t.id for t in linked])
    material = Material()
    for transcript in linked:
        if transcript.recording_id in alone:
            continue
        only_them = {pid for pid, _ in links.get(transcript.id, {}).values()} == {participant.id}
        recording = transcript.recording
        if only_them and recording is not None and recording.id not in with_others \
                and not recording.sessions:
            alone[recording.id] = recording
        elif only_them and recording is None:
            material.transcripts.append(transcript)
        else:
            theirs = [s.id for s in transcript.segments
                      if (speaker_link(links[transcript.id], s.speaker) or (None,))[0]
                      == participant.id]
            material.shared.append(Shared(transcript, theirs))
    material.recordings = sorted(alone.values(), key=lambda r: r.id)
    heard = {s.transcript.recording_id for s in material.shared}
    material.unlinked = [r for r in with_others.values() if r.id not in heard]
    return material


def withdraw_participant(actor: User, participant: Participant, retention: Retention) -> Material:
    """Apply the researcher's choice to the participant's material, then erase their data."""
    if participant.erased_at:
        raise ParticipantError("This participant has already been withdrawn and erased.")
    material = find_material(participant)
    mask = _masker(participant)
    summary: dict[str, list[int] | int] = {
        "recordings_deleted": [r.id for r in material.recordings],
        "transcripts_deleted": [], "segments_deleted": 0, "segments_deidentified": 0,
        "audio_silenced": []}
    own_transcripts = list(material.transcripts)
    for recording in material.recordings:
        if retention is Retention.DEIDENTIFY and recording.current_transcript is not None:
            own_transcripts.append(_detach_current(recording))
        summary["transcripts_deleted"] += [t.id for t in recording.transcripts]
        _delete_recording(recording)
    for shared in material.shared:
        segments = [s for s in shared.transcript.segments if s.id in shared.segment_ids]
        recording = shared.transcript.recording
        if recording is not None and shared.transcript.is_current and segments:
            _silence(recording, [(s.start_ms, s.end_ms) for s in segments])
            summary["audio_silenced"].append(recording.id)
        if retention is Retention.DELETE:
            summary["segments_deleted"] += len(segments)
            _delete_segments(shared.transcript, segments)
        else:
            summary["segments_deidentified"] += len(segments)
            _deidentify(segments, mask, participant, relabel=segments)
    for transcript in own_transcripts:
        if retention is Retention.DELETE:
            summary["transcripts_deleted"].append(transcript.id)
            db.session.delete(transcript)
        else:
            # An interview is about them throughout: the interviewer's turns lose personal
            # data too, but only the turns linked to them take their pseudonym.
            links = speaker_groups([transcript.id]).get(transcript.id, {})
            theirs = [s for s in transcript.segments
                      if (speaker_link(links, s.speaker) or (None,))[0] == participant.id]
            summary["segments_deidentified"] += len(transcript.segments)
            _deidentify(transcript.segments, mask, participant, relabel=theirs)
    if retention is Retention.DELETE:
        db.session.execute(delete(SpeakerLink).where(
            SpeakerLink.participant_id == participant.id))
    db.session.flush()
    summary["texts_masked"] = _mask_study(participant.study_id, mask)
    record("participant.withdraw", actor, study_id=participant.study_id,
           target=("participant", participant.id), retention=retention.value,
           unlinked_group_recordings=[r.id for r in material.unlinked], **summary)
    erase_participant(actor, participant)
    return material


# --- masking ---------------------------------------------------------------------------

Mask = Callable[[str], str]


def _masker(participant: Participant) -> Mask:
    names = [participant.name]
    details = {"email": participant.email, "phone": participant.phone,
               "organization": participant.organization}

    def mask(text: str) -> str:
        return redact_person(text, names, details).text if text else text

    return mask


def _deidentify(segments: list[TranscriptSegment], mask: Mask, participant: Participant, *,
                relabel: list[TranscriptSegment]) -> None:
    """Every kind of personal data goes from ``segments``; ``relabel`` take their pseudonym."""
    label = pseudonym(participant.id)
    relabelled = {s.id for s in relabel}

    def scrub(text: str) -> str:
        return redact(mask(text)).text

    for segment in segments:
        _set_text(segment, scrub)
        for revision in segment.revisions:
            if revision.field != "speaker":
                revision.before, revision.after = (scrub(revision.before or ""),
                                                   scrub(revision.after or ""))
            elif segment.id in relabelled:
                revision.before = revision.after = label
        if segment.id in relabelled:
            segment.speaker = label


def _set_text(segment: TranscriptSegment, change: Mask) -> bool:
    from engage.analysis.anchoring import text_changed

    old, new = segment.text, change(segment.text)
    if new == old:
        return False
    _forget_embeddings(old)
    flagged_before = {c.id: (c.needs_check, c.check_reason) for c in db.session.scalars(
        select(Coding).where(Coding.segment_id == segment.id))}
    segment.text, segment.words = new, []
    text_changed(segment, old, new)
    for coding in db.session.scalars(select(Coding).where(Coding.segment_id == segment.id)):
        if change(coding.quote) == new[coding.start_char:coding.end_char]:
            # The coded words are the same words, masked: nothing for a coder to check.
            coding.needs_check, coding.check_reason = flagged_before[coding.id]
        coding.quote = change(coding.quote)
        coding.check_reason = change(coding.check_reason or "") or coding.check_reason
    return True


def _mask_study(study_id: int, mask: Mask) -> int:
    """Their names and details, wherever else the study keeps text."""
    changed = 0
    segments = db.session.scalars(select(TranscriptSegment).join(Transcript).where(
        Transcript.study_id == study_id))
    for segment in segments:
        changed += _set_text(segment, mask)
        new_speaker = mask(segment.speaker or "") or segment.speaker
        if new_speaker != segment.speaker:
            segment.speaker, changed = new_speaker, changed + 1
    masked_columns = [
        (select(SegmentRevision).join(TranscriptSegment).join(Transcript).where(
            Transcript.study_id == study_id), ("before", "after")),
        (select(Transcript).where(Transcript.study_id == study_id), ("title",)),
        (select(Recording).where(Recording.study_id == study_id),
         ("title", "original_filename")),
        (select(StudySession).where(StudySession.study_id == study_id), ("title", "notes")),
        (select(Coding).where(Coding.study_id == study_id), ("quote",)),
        (select(ThemeEvidence).join(Theme).where(Theme.study_id == study_id),
         ("quote", "note")),
        (select(Memo).where(Memo.study_id == study_id), ("body",)),
        (select(Topic).join(TopicRun).where(TopicRun.study_id == study_id), ("name",)),
    ]
    for query, columns in masked_columns:
        for row in db.session.scalars(query):
            for column in columns:
                value = getattr(row, column)
                if value and mask(value) != value:
                    setattr(row, column, mask(value))
                    changed += 1
    for run in db.session.scalars(select(TopicRun).where(TopicRun.study_id == study_id)):
        changed += _mask_topic_words(run, mask)
    db.session.flush()
    return changed


def _mask_topic_words(run: TopicRun, mask: Mask) -> int:
    changed = 0
    for topic in run.topics:
        kept = [k for k in topic.keywords if mask(str(k[0])) == str(k[0])]
        if len(kept) != len(topic.keywords):
            topic.keywords, changed = kept, changed + 1
    figures = {name: mask(value) for name, value in (run.figures or {}).items()}
    if figures != (run.figures or {}):
        run.figures, changed = figures, changed + 1
    return changed


def _forget_embeddings(text: str) -> None:
    hashes = {text_hash(text), text_hash(text.strip())}
    db.session.execute(delete(Embedding).where(Embedding.text_hash.in_(hashes)))


# --- recordings and segments -----------------------------------------------------------


def _detach_current(recording: Recording) -> Transcript:
    """Keep the current transcript without its audio; earlier versions go with the recording."""
    transcript = recording.current_transcript
    db.session.execute(update(Transcript).where(Transcript.id == transcript.id)
                       .values(recording_id=None))
    db.session.expire(recording, ["transcripts"])
    db.session.refresh(transcript)
    return transcript


def _delete_recording(recording: Recording) -> None:
    for transcript in recording.transcripts:
        for segment in transcript.segments:
            _forget_embeddings(segment.text)
    remove_after_commit(stored_path(RECORDINGS, recording.stored_name))
    db.session.delete(recording)


def _delete_segments(transcript: Transcript, segments: list[TranscriptSegment]) -> None:
    for segment in segments:
        _forget_embeddings(segment.text)
        db.session.delete(segment)
    db.session.flush()
    db.session.expire(transcript, ["segments"])
    for position, segment in enumerate(transcript.segments):
        segment.position = position


def _silence(recording: Recording, spans_ms: list[tuple[int, int]]) -> None:
    """Replace the stored audio by a copy with ``spans_ms`` silent."""
    source = stored_path(RECORDINGS, recording.stored_name)
    name = uuid.uuid4().hex
    target = upload_folder(RECORDINGS) / name
    discard_on_rollback(target)
    try:
        silence_spans(source, target, spans_ms)
    except MediaError as error:
        raise ParticipantError(f"The audio of “{recording.title}” could not be edited: "
                               f"{error.message} Nothing was changed.") from error
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    remove_after_commit(source)
    recording.stored_name, recording.sha256 = name, digest
    recording.size_bytes = target.stat().st_size
    recording.container, recording.audio_codec = "ogg", "opus"
