"""Sessions: the list and week calendar, planning and editing one, its status, linked
recordings and calendar file; the engagement summary."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engage.access import get_in_study_or_404, study_view
from engage.forms import ConfirmForm, perform, select_choices
from engage.pagination import paginate
from engage.scheduling import bp
from engage.scheduling.bookings import public_link
from engage.scheduling.forms import (
    AttendanceForm,
    LinkRecordingForm,
    SessionForm,
    StaffBookForm,
    StatusForm,
)
from engage.scheduling.ics import calendar_bytes
from engage.scheduling.messages import event_data
from engage.scheduling.operations import SchedulingError
from engage.scheduling.participants import record_contact_view
from engage.scheduling.routes import field_error, sees_contacts, viewer_zone
from engage.scheduling.sessions import (
    SessionData,
    cancel_session,
    create_session,
    engagement_summary,
    link_recording,
    set_session_status,
    update_session,
)
from engage.scheduling.timezones import TimeError, to_utc
from models import (
    Code,
    Participant,
    Recording,
    SessionKind,
    SessionStatus,
    SlotOffer,
    StudyMember,
    StudyRole,
    StudySession,
    User,
    db,
    utcnow,
)


def _members(study) -> list[User]:
    return list(db.session.scalars(select(User).join(StudyMember).where(
        StudyMember.study_id == study.id, User.active.is_(True)).order_by(User.name)))


def _domains(study) -> list[Code]:
    parent = db.session.scalar(select(Code).where(Code.study_id == study.id,
                                                  Code.key == "interview-domains"))
    query = select(Code).where(Code.study_id == study.id, Code.retired.is_(False))
    if parent is not None:
        query = query.where(Code.parent_id == parent.id)
    else:
        query = query.where(Code.parent_id.is_(None))
    return list(db.session.scalars(query.order_by(Code.position)))


def session_choices(form, study) -> None:
    form.facilitators.choices = select_choices((u.id, u.name) for u in _members(study))
    form.guide_codes.choices = select_choices((c.id, c.name) for c in _domains(study))


def _session_data(form) -> SessionData:
    tz = form.timezone.data.strip()
    starts = to_utc(form.start_date.data, form.start_time.data, tz)
    end_day = form.start_date.data
    if form.end_time.data <= form.start_time.data:
        raise SchedulingError("The end must be after the start.", "end_time")
    ends = to_utc(end_day, form.end_time.data, tz)
    return SessionData(
        kind=SessionKind(form.kind.data), title=form.title.data, starts_at=starts,
        ends_at=ends, timezone=tz, location=form.location.data or "",
        video_url=form.video_url.data or "", capacity=form.capacity.data,
        facilitator_ids=form.facilitators.data or [], guide_code_ids=form.guide_codes.data or [],
        is_public=form.is_public.data, notes=form.notes.data or "",
        status=SessionStatus(form.status.data))


@bp.get("/<int:study_id>/sessions")
@study_view()
def sessions(study):
    zone = viewer_zone()
    view = request.args.get("view", "list")
    tz = ZoneInfo(zone)
    if view == "week":
        try:
            start_day = date.fromisoformat(request.args.get("week", ""))
        except ValueError:
            start_day = datetime.now(tz).date()
        start_day -= timedelta(days=start_day.weekday())
        days = [start_day + timedelta(days=i) for i in range(7)]
        begin = datetime.combine(start_day, time(), tz)
        end = datetime.combine(start_day + timedelta(days=7), time(), tz)
        rows = db.session.scalars(select(StudySession).where(
            StudySession.study_id == study.id, StudySession.starts_at < end,
            StudySession.ends_at > begin).order_by(StudySession.starts_at)).all()
        by_day = {d: [s for s in rows if s.starts_at.astimezone(tz).date() == d] for d in days}
        return render_template("scheduling/week.html", study=study, days=days, by_day=by_day,
                               zone=zone, prev_week=(start_day - timedelta(days=7)).isoformat(),
                               next_week=(start_day + timedelta(days=7)).isoformat())
    show = request.args.get("show", "upcoming")
    query = select(StudySession).where(StudySession.study_id == study.id)
    if show == "past":
        query = query.where(StudySession.ends_at <= utcnow()).order_by(
            StudySession.starts_at.desc())
    elif show == "all":
        query = query.order_by(StudySession.starts_at)
    else:
        show = "upcoming"
        query = query.where(StudySession.ends_at > utcnow()).order_by(StudySession.starts_at)
    offers = db.session.scalars(select(SlotOffer).where(SlotOffer.study_id == study.id)
                                .order_by(SlotOffer.created_at.desc())).all()
    return render_template("scheduling/sessions.html", study=study, page=paginate(query),
                           zone=zone, show=show, offers=offers,
                           summary=engagement_summary(study))


@bp.route("/<int:study_id>/sessions/new", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def session_new(study):
    form = SessionForm()
    session_choices(form, study)
    if request.method == "GET":
        form.timezone.data = viewer_zone()
        form.facilitators.data = [current_user.id]
    if form.validate_on_submit():
        try:
            created = create_session(current_user, study, _session_data(form))
        except (SchedulingError, TimeError) as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(f"Session “{created.title}” planned.", "success")
            return redirect(url_for("scheduling.session", study_id=study.id,
                                    session_id=created.id))
    return render_template("scheduling/session_form.html", study=study, form=form,
                           item=None), 400 if form.errors else 200


@bp.get("/<int:study_id>/sessions/<int:session_id>")
@study_view()
def session(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    attendance = AttendanceForm()
    attendance.bookings.choices = select_choices((b.id, b.participant.name)
                                                 for b in item.bookings)
    book_form = StaffBookForm()
    booked = {b.participant_id for b in item.active_bookings}
    book_form.participant.choices = select_choices(
        (p.id, p.name) for p in db.session.scalars(select(Participant).where(
            Participant.study_id == study.id, Participant.erased_at.is_(None))
            .order_by(Participant.name)) if p.id not in booked)
    recording_form = LinkRecordingForm()
    recording_form.recording.choices = select_choices(
        (r.id, r.title) for r in db.session.scalars(select(Recording).where(
            Recording.study_id == study.id).order_by(Recording.created_at.desc()))
        if r not in item.recordings)
    status_form = StatusForm(status=item.status.value)
    if sees_contacts() and item.bookings:
        record_contact_view(current_user, study, [b.participant for b in item.bookings])
        db.session.commit()
    return render_template("scheduling/session.html", study=study, item=item,
                           zone=viewer_zone(), attendance=attendance, book_form=book_form,
                           recording_form=recording_form, status_form=status_form,
                           confirm=ConfirmForm(), sees_contacts=sees_contacts(),
                           public_url=public_link(item) if item.is_public and sees_contacts()
                           else None)


@bp.route("/<int:study_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def session_edit(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    form = SessionForm(obj=item)
    session_choices(form, study)
    if request.method == "GET":
        form.kind.data, form.status.data = item.kind.value, item.status.value
        form.start_date.data = item.local_start.date()
        form.start_time.data = item.local_start.time().replace(tzinfo=None)
        form.end_time.data = item.local_end.time().replace(tzinfo=None)
        form.facilitators.data = [u.id for u in item.facilitators]
        form.guide_codes.data = [c.id for c in item.guide_codes]
    if form.validate_on_submit():
        try:
            changed = update_session(current_user, item, _session_data(form))
        except (SchedulingError, TimeError) as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash("Session saved." + (" Booked participants were sent the change."
                                      if changed and item.active_bookings else ""), "success")
            return redirect(url_for("scheduling.session", study_id=study.id,
                                    session_id=item.id))
    return render_template("scheduling/session_form.html", study=study, form=form,
                           item=item), 400 if form.errors else 200


@bp.post("/<int:study_id>/sessions/<int:session_id>/status")
@study_view(StudyRole.RESEARCHER)
def session_status(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    form = StatusForm()
    if form.validate_on_submit():
        perform(lambda: set_session_status(current_user, item, SessionStatus(form.status.data)),
                lambda _: f"Status: {item.status.label}.", errors=SchedulingError)
    else:
        flash("Choose a status.", "error")
    return redirect(url_for("scheduling.session", study_id=study.id, session_id=item.id))


@bp.post("/<int:study_id>/sessions/<int:session_id>/cancel")
@study_view(StudyRole.RESEARCHER)
def session_cancel(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    if ConfirmForm().validate_on_submit():
        perform(lambda: cancel_session(current_user, item),
                "Session cancelled; booked participants were sent a cancellation.",
                errors=SchedulingError)
    return redirect(url_for("scheduling.session", study_id=study.id, session_id=item.id))


@bp.post("/<int:study_id>/sessions/<int:session_id>/recordings")
@study_view(StudyRole.RESEARCHER)
def session_recording(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    form = LinkRecordingForm()
    recording = db.session.get(Recording, form.recording.data or 0) if (
        form.validate_on_submit()) else None
    if recording is None or recording.study_id != study.id:
        flash("Choose a recording of this study.", "error")
    else:
        link_recording(current_user, item, recording)
        db.session.commit()
        flash(f"“{recording.title}” linked.", "success")
    return redirect(url_for("scheduling.session", study_id=study.id, session_id=item.id))


@bp.get("/<int:study_id>/sessions/<int:session_id>.ics")
@study_view()
def session_ics(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    data = calendar_bytes([event_data(item)], method="PUBLISH")
    return Response(data, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="session-{item.id}.ics"'})


@bp.get("/<int:study_id>/engagement")
@study_view()
def engagement(study):
    return render_template("scheduling/engagement.html", study=study,
                           summary=engagement_summary(study))


