from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from engage.access import get_in_study_or_404, study_view
from engage.forms import ConfirmForm, perform, select_choices
from engage.security import recent_login_required
from engage.transcript_editor import bp
from engage.transcript_editor.forms import (
    EXPORT_FORMATS,
    ImportTranscriptForm,
    RenameSpeakerForm,
    SegmentForm,
    SplitForm,
)
from engage.transcript_editor.operations import (
    TranscriptEditError,
    edit_segment,
    export_for,
    import_transcript_file,
    merge_with_next,
    rename_speaker,
    revert,
    split_segment,
)
from models import (
    Recording,
    SegmentRevision,
    StudyRole,
    Transcript,
    TranscriptSegment,
    db,
)

MIMETYPES = {"txt": "text/plain; charset=utf-8", "vtt": "text/vtt; charset=utf-8",
             "srt": "application/x-subrip; charset=utf-8",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@bp.get("")
@study_view()
def index(study):
    transcripts = db.session.scalars(select(Transcript).where(
        Transcript.study_id == study.id, Transcript.is_current.is_(True))
        .order_by(Transcript.created_at.desc())).all()
    return render_template("transcript_editor/index.html", study=study,
                           transcripts=transcripts, form=_import_form(study))


@bp.post("/import")
@study_view(StudyRole.RESEARCHER)
def import_file(study):
    form = _import_form(study)
    if form.validate_on_submit():
        recording = (get_in_study_or_404(Recording, form.recording.data, study)
                     if form.recording.data else None)
        try:
            transcript = import_transcript_file(
                current_user, study.id, form.file.data, title=form.title.data,
                recording=recording,
                max_bytes=current_app.config["TRANSCRIPT_IMPORT_MAX_BYTES"])
        except TranscriptEditError as error:
            form.file.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Imported {len(transcript.segments)} segments.", "success")
            return _to_transcript(transcript)
    return render_template("transcript_editor/index.html", study=study, transcripts=[],
                           form=form), 400


@bp.get("/<int:transcript_id>")
@study_view()
def show(study, transcript_id):
    transcript = get_in_study_or_404(Transcript, transcript_id, study)
    speakers = sorted({s.speaker or "" for s in transcript.segments})
    rename = RenameSpeakerForm()
    rename.old.choices = select_choices((s, s or "(no speaker)") for s in speakers)
    return render_template("transcript_editor/show.html", study=study, transcript=transcript,
                           segment_form=SegmentForm(), split_form=SplitForm(), rename=rename,
                           confirm=ConfirmForm(), formats=EXPORT_FORMATS)


@bp.post("/<int:transcript_id>/segments/<int:segment_id>")
@study_view()
def edit(study, transcript_id, segment_id):
    transcript, segment = _segment(study, transcript_id, segment_id)
    form = SegmentForm()
    if form.validate_on_submit():
        return _apply(transcript, segment, lambda: edit_segment(
            current_user, segment, text=form.text.data, speaker=form.speaker.data))
    flash("A segment needs some text; nothing was changed.", "error")
    return _to_transcript(transcript, segment)


@bp.post("/<int:transcript_id>/segments/<int:segment_id>/split")
@study_view()
def split(study, transcript_id, segment_id):
    transcript, segment = _segment(study, transcript_id, segment_id)
    form = SplitForm()
    if not form.validate_on_submit():
        flash("Give the character position to split at.", "error")
        return _to_transcript(transcript, segment)
    return _apply(transcript, segment, lambda: split_segment(current_user, segment,
                                                             form.at.data))


@bp.post("/<int:transcript_id>/segments/<int:segment_id>/merge")
@study_view()
def merge(study, transcript_id, segment_id):
    transcript, segment = _segment(study, transcript_id, segment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _apply(transcript, segment, lambda: merge_with_next(current_user, segment))


@bp.get("/<int:transcript_id>/segments/<int:segment_id>/history")
@study_view()
def history(study, transcript_id, segment_id):
    transcript, segment = _segment(study, transcript_id, segment_id)
    return render_template("transcript_editor/history.html", study=study,
                           transcript=transcript, segment=segment, confirm=ConfirmForm())


@bp.post("/<int:transcript_id>/revisions/<int:revision_id>/revert")
@study_view()
def revert_revision(study, transcript_id, revision_id):
    transcript = get_in_study_or_404(Transcript, transcript_id, study)
    revision = db.session.get(SegmentRevision, revision_id)
    if revision is None or revision.segment.transcript_id != transcript.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _apply(transcript, revision.segment, lambda: revert(current_user, revision))


@bp.post("/<int:transcript_id>/speakers")
@study_view()
def speakers(study, transcript_id):
    transcript = get_in_study_or_404(Transcript, transcript_id, study)
    form = RenameSpeakerForm()
    form.old.choices = select_choices((s.speaker or "", "") for s in transcript.segments)
    if form.validate_on_submit():
        perform(lambda: rename_speaker(current_user, transcript, form.old.data or None,
                                       form.new.data),
                lambda count: f"Renamed the speaker in {count} segments.",
                errors=TranscriptEditError)
    else:
        flash("Choose a speaker and give a new name.", "error")
    return _to_transcript(transcript)


@bp.get("/<int:transcript_id>/export.<fmt>")
@study_view()
@recent_login_required
def export(study, transcript_id, fmt):
    transcript = get_in_study_or_404(Transcript, transcript_id, study)
    if fmt not in EXPORT_FORMATS:
        abort(404)
    data = export_for(current_user, transcript, fmt)
    db.session.commit()
    filename = f"transcript-{transcript.id}.{fmt}"
    return data, 200, {"Content-Type": MIMETYPES[fmt],
                       "Content-Disposition": f'attachment; filename="{filename}"'}


def _segment(study, transcript_id: int, segment_id: int):
    transcript = get_in_study_or_404(Transcript, transcript_id, study)
    segment = db.session.get(TranscriptSegment, segment_id)
    if segment is None or segment.transcript_id != transcript.id:
        abort(404)
    return transcript, segment


def _apply(transcript, segment, operation):
    perform(operation, errors=TranscriptEditError)
    return _to_transcript(transcript, segment)


def _to_transcript(transcript, segment=None):
    anchor = f"#segment-{segment.id}" if segment is not None and segment.id else ""
    return redirect(url_for("transcript_editor.show", study_id=transcript.study_id,
                            transcript_id=transcript.id) + anchor)


def _import_form(study) -> ImportTranscriptForm:
    form = ImportTranscriptForm()
    recordings = db.session.scalars(select(Recording).where(Recording.study_id == study.id)
                                    .order_by(Recording.title)).all()
    form.recording.choices = select_choices(
        [(0, "None (no audio)")] + [(r.id, r.title) for r in recordings])
    return form
