"""Transcript operations: create from segments, edit with revisions, split, merge, rename."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from engage.audit import record
from models import (
    Recording,
    SegmentRevision,
    Transcript,
    TranscriptSegment,
    User,
    db,
)
from transcripts.segments import Segment, Word


class TranscriptEditError(ValueError):
    """A refused edit, phrased for the coder."""


def create_transcript(study_id: int, segments: Sequence[Segment], *, title: str, source: str,
                      recording: Recording | None = None, language: str | None = None,
                      language_probability: float | None = None, model: str | None = None,
                      duration_ms: int | None = None, actor_id: int | None = None) -> Transcript:
    """Store a transcript and make it the recording's current one."""
    transcript = Transcript(
        study_id=study_id, recording=recording, title=title, source=source, language=language,
        language_probability=language_probability, model=model, duration_ms=duration_ms,
        created_by_id=actor_id, is_current=True)
    db.session.add(transcript)
    db.session.flush()
    if recording is not None:
        # The older transcripts stay, as history, but only one is current.
        db.session.execute(update(Transcript).where(
            Transcript.recording_id == recording.id, Transcript.id != transcript.id,
        ).values(is_current=False))
    db.session.add_all(_row(transcript.id, position, segment)
                       for position, segment in enumerate(segments))
    db.session.flush()
    db.session.refresh(transcript)
    return transcript


def _row(transcript_id: int, position: int, segment: Segment) -> TranscriptSegment:
    return TranscriptSegment(
        transcript_id=transcript_id, position=position, start_ms=segment.start_ms,
        end_ms=segment.end_ms, text=segment.text, speaker=segment.speaker,
        avg_logprob=segment.avg_logprob, no_speech_prob=segment.no_speech_prob,
        needs_review=segment.needs_review,
        words=[{"start_ms": w.start_ms, "end_ms": w.end_ms, "text": w.text,
                "probability": w.probability} for w in segment.words])


def as_segments(transcript: Transcript) -> list[Segment]:
    return [Segment(start_ms=s.start_ms, end_ms=s.end_ms, text=s.text, speaker=s.speaker,
                    avg_logprob=s.avg_logprob, no_speech_prob=s.no_speech_prob,
                    words=[Word(**w) for w in s.words or []])
            for s in transcript.segments]


def export_for(actor: User, transcript: Transcript, fmt: str) -> bytes:
    from transcripts.formats import export_transcript

    record("transcript.export", actor, study_id=transcript.study_id,
           target=("transcript", transcript.id), format=fmt)
    return export_transcript(as_segments(transcript), fmt, title=transcript.title)


def edit_segment(actor: User, segment: TranscriptSegment, *, text: str,
                 speaker: str | None) -> list[SegmentRevision]:
    text = " ".join(text.split())
    speaker = (speaker or "").strip() or None
    if not text:
        raise TranscriptEditError("A segment cannot be empty. Merge it with its neighbour "
                                  "instead.")
    revisions = []
    if text != segment.text:
        revisions.append(_revise(actor, segment, "text", segment.text, text))
        old_text, segment.text = segment.text, text
        # Word timings describe the old words; keep them only while the text matches.
        segment.words = []
        _reanchor_codings(segment, old_text, text)
    if speaker != segment.speaker:
        revisions.append(_revise(actor, segment, "speaker", segment.speaker, speaker))
        segment.speaker = speaker
    if revisions:
        segment.edited = True
        segment.needs_review = False
    db.session.flush()
    return revisions


def revert(actor: User, revision: SegmentRevision) -> SegmentRevision:
    """Put back the value a text or speaker revision replaced, as a new revision."""
    segment = revision.segment
    if revision.field not in ("text", "speaker"):
        raise TranscriptEditError("Only text and speaker changes can be reverted.")
    current = getattr(segment, revision.field)
    # The revert is itself a revision of the same field, so it can be undone too.
    undo = _revise(actor, segment, revision.field, current, revision.before)
    setattr(segment, revision.field, revision.before)
    if revision.field == "text":
        segment.words = []
        _reanchor_codings(segment, current, revision.before)
    segment.edited = True
    db.session.flush()
    return undo


def rename_speaker(actor: User, transcript: Transcript, old: str | None, new: str) -> int:
    new = new.strip()
    if not new:
        raise TranscriptEditError("Give the speaker a name.")
    changed = 0
    for segment in transcript.segments:
        if segment.speaker == old and old != new:
            _revise(actor, segment, "speaker", old, new)
            segment.speaker = new
            segment.edited = True
            changed += 1
    if not changed:
        raise TranscriptEditError(f"No segment has the speaker “{old or 'unnamed'}”.")
    db.session.flush()
    return changed


def split_segment(actor: User, segment: TranscriptSegment, at_char: int) -> TranscriptSegment:
    """Split at a character offset; time is divided in proportion to the text."""
    text = segment.text
    if not 0 < at_char < len(text) or not text[:at_char].strip() or not text[at_char:].strip():
        raise TranscriptEditError("Choose a place inside the text to split it.")
    first, second = text[:at_char].strip(), text[at_char:].strip()
    span = segment.end_ms - segment.start_ms
    cut = segment.start_ms + round(span * len(first) / max(1, len(first) + len(second)))
    words = segment.words or []
    if words:
        # Split word timings at the word boundary the cut text falls on.
        n_first = len(first.split())
        if 0 < n_first < len(words):
            cut = words[n_first]["start_ms"]
    db.session.execute(update(TranscriptSegment).where(
        TranscriptSegment.transcript_id == segment.transcript_id,
        TranscriptSegment.position > segment.position,
    ).values(position=TranscriptSegment.position + 1))
    new = TranscriptSegment(
        transcript_id=segment.transcript_id, position=segment.position + 1, start_ms=cut,
        end_ms=segment.end_ms, text=second, speaker=segment.speaker,
        avg_logprob=segment.avg_logprob, no_speech_prob=segment.no_speech_prob,
        needs_review=segment.needs_review, edited=True,
        words=[w for w in words if w["start_ms"] >= cut])
    _revise(actor, segment, "split", text, f"{first}\n{second}")
    segment.text, segment.end_ms, segment.edited = first, cut, True
    segment.words = [w for w in words if w["start_ms"] < cut]
    db.session.add(new)
    db.session.flush()
    from engage.analysis.anchoring import segment_split

    segment_split(segment, new, text, at_char)
    return new


def merge_with_next(actor: User, segment: TranscriptSegment) -> TranscriptSegment:
    following = db.session.scalar(select(TranscriptSegment).where(
        TranscriptSegment.transcript_id == segment.transcript_id,
        TranscriptSegment.position > segment.position,
    ).order_by(TranscriptSegment.position).limit(1))
    if following is None:
        raise TranscriptEditError("This is the last segment; there is nothing to merge it with.")
    merged = f"{segment.text} {following.text}"
    _revise(actor, segment, "merge", f"{segment.text}\n{following.text}", merged)
    from engage.analysis.anchoring import segments_merged

    segments_merged(segment, following, segment.text)  # before `following` is deleted
    segment.text = merged
    segment.end_ms = max(segment.end_ms, following.end_ms)
    segment.words = (segment.words or []) + (following.words or [])
    segment.needs_review = segment.needs_review or following.needs_review
    segment.edited = True
    db.session.delete(following)
    db.session.flush()
    return segment


def _reanchor_codings(segment: TranscriptSegment, old: str, new: str) -> None:
    """Codings on the segment follow their words, or are flagged for a coder to check."""
    from engage.analysis.anchoring import text_changed

    text_changed(segment, old, new)


def _revise(actor: User, segment: TranscriptSegment, field: str, before: str | None,
            after: str | None) -> SegmentRevision:
    revision = SegmentRevision(segment=segment, user_id=actor.id, field=field,
                               before=before, after=after)
    db.session.add(revision)
    return revision


def import_transcript_file(actor: User, study_id: int, file, *, title: str,
                           recording: Recording | None, max_bytes: int) -> Transcript:
    """Parse a VTT, SRT, TXT or DOCX transcript made elsewhere and store it."""
    from engage.uploads import UploadError, receive_upload
    from transcripts.formats import TranscriptFormatError, import_transcript

    try:
        stored = receive_upload(file, "transcript-imports", max_bytes=max_bytes)
    except UploadError as error:
        raise TranscriptEditError(str(error)) from error
    try:
        data = stored.path.read_bytes()
        segments = import_transcript(
            data, duration_ms=recording.duration_ms if recording else None)
    except (TranscriptFormatError, ValueError) as error:
        raise TranscriptEditError(str(error)) from error
    finally:
        stored.discard()  # the segments are what we keep
    if not segments:
        raise TranscriptEditError("The file holds no transcript text.")
    source = stored.original_filename.rsplit(".", 1)[-1].lower()
    return create_transcript(
        study_id, segments, title=title.strip(), recording=recording, actor_id=actor.id,
        source=source if source in ("vtt", "srt", "txt", "docx") else "import",
        duration_ms=segments[-1].end_ms)
