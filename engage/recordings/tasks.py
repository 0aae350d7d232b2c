"""The transcription job: Whisper over a stored recording, progress per segment."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from engage.jobs.runner import JobFailed, Progress, job_task
from engage.recordings.operations import FILES
from engage.transcript_editor.operations import create_transcript
from engage.uploads import stored_path
from models import Job, Recording, db
from transcripts.formats import format_clock
from transcripts.whisper import TranscriptionError, transcribe


@job_task("transcribe")
def transcribe_recording(job: Job, progress: Progress) -> str:
    recording = db.session.get(Recording, job.target_id)
    if recording is None:
        raise JobFailed("The recording was deleted before it could be transcribed.")
    path = stored_path(FILES, recording.stored_name)
    if not path.exists():
        raise JobFailed("The recording's file is missing from storage. Upload it again.")
    config = current_app.config
    total = format_clock(recording.duration_ms)
    progress(1, "Loading the speech model")

    def on_progress(percent: float, segment) -> None:
        if segment is not None:
            # Keep the last percent for saving the transcript.
            progress(min(percent, 99), f"Transcribed {format_clock(segment.end_ms)} of {total}")

    try:
        result = transcribe(
            path, model=job.params.get("model") or config["WHISPER_MODEL"],
            cache_dir=Path(config["WHISPER_MODEL_DIR"]), language=recording.language,
            task="translate" if recording.translate else "transcribe",
            device=config["WHISPER_DEVICE"], vad=config["WHISPER_VAD"],
            batched=config["WHISPER_BATCHED"], beam_size=config["WHISPER_BEAM_SIZE"],
            on_progress=on_progress)
    except TranscriptionError as error:
        raise JobFailed(error.message) from error
    except MemoryError as error:
        raise JobFailed("The worker ran out of memory transcribing this recording. Try a "
                        "smaller model, or ask an administrator to add memory.") from error
    from engage.analysis.carry_over import carry_over

    previous = recording.current_transcript
    transcript = create_transcript(
        recording.study_id, result.segments, title=recording.title, source="whisper",
        recording=recording, language=result.language,
        language_probability=result.language_probability, model=result.model,
        duration_ms=result.duration_ms, actor_id=job.created_by_id)
    # Codings, speaker links and theme quotes on the replaced transcript follow it.
    carried = carry_over(previous, transcript, actor_id=job.created_by_id) \
        if previous is not None else None
    flagged = sum(s.needs_review for s in transcript.segments)
    from engage.analysis.tagging import tag_after_transcription

    tag_after_transcription(transcript, job.created_by_id)  # suggests codes in the background
    return (f"Transcribed {len(transcript.segments)} segments in "
            f"{result.language or 'an undetected language'}"
            + (f"; {flagged} need a listen" if flagged else "") + "."
            + (f" {carried.message()}" if carried and carried.message() else ""))
