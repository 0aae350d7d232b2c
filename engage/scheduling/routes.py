"""Researchers' and coders' pages: participants, sessions, offers, consent, outbox, calendar.

Views load and authorize (``study_view``), validate the form, call one operation,
commit once and redirect. Contact details are shown to researchers only, and each
page that shows them records a ``contacts.view`` audit event.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask_login import current_user
from sqlalchemy import func, select

from coding.participant_csv import ParticipantCSVError, parse_attribute, read_participants_csv
from engage.access import get_in_study_or_404, study_view
from engage.forms import ConfirmForm, select_choices
from engage.pagination import paginate
from engage.scheduling import bp
from engage.scheduling.forms import (
    AttendanceForm,
    AttributeForm,
    ConsentForm,
    GroupForm,
    ImportConfirmForm,
    ImportForm,
    InviteForm,
    LinkRecordingForm,
    OfferForm,
    ParticipantForm,
    SessionForm,
    StaffBookForm,
    StatusForm,
)
from engage.scheduling.operations import (
    DEFAULT_CONSENT,
    DEFAULT_CONSENT_ES,
    OfferData,
    SchedulingError,
    SessionData,
    add_consent_text,
    booking_ics,
    calendar_feed,
    cancel_session,
    create_offer,
    create_session,
    engagement_summary,
    feed_link,
    invitation_link,
    invite,
    latest_consent,
    link_recording,
    participant_history,
    public_link,
    renew_invitation,
    revoke_invitation,
    set_attendance,
    set_session_status,
    staff_book,
    staff_cancel,
    update_session,
)
from engage.scheduling.participants import (
    ParticipantData,
    ParticipantError,
    add_attribute,
    attribute_definitions,
    attribute_specs,
    create_participant,
    delete_group,
    erase_participant,
    export_participants,
    groups_of,
    import_participants,
    record_contact_view,
    save_group,
    update_participant,
)
from engage.scheduling.timezones import COMMON_ZONES, TimeError, all_zones, parse_local, to_utc
from engage.security import recent_login_required
from engage.uploads import UploadError, receive_upload, stored_path
from models import (
    Attendance,
    AttributeKind,
    Booking,
    Code,
    ConsentText,
    Invitation,
    OutboxMessage,
    Participant,
    Recording,
    SessionKind,
    SessionStatus,
    SlotOffer,
    StakeholderGroup,
    StudyMember,
    StudyRole,
    StudySession,
    User,
    db,
)

IMPORTS = "participant-imports"


def _sees_contacts() -> bool:
    return g.study_role is StudyRole.RESEARCHER


def viewer_zone() -> str:
    """The zone this viewer reads times in: ``?tz=``, remembered in the session."""
    asked = request.args.get("tz")
    if asked and asked in all_zones():
        flask_session["tz"] = asked
    zone = flask_session.get("tz") or current_app.config.get("DISPLAY_TIMEZONE", "America/New_York")
    return zone if zone in all_zones() else "UTC"


@bp.context_processor
def _scheduling_context() -> dict:
    return {"zone_names": COMMON_ZONES, "all_zone_names": all_zones}


# Participants

def _participant_form(study, obj=None) -> ParticipantForm:
    definitions = attribute_definitions(study)

    class Form(ParticipantForm):
        pass

    for definition in definitions:
        name = f"attr_{definition.key}"
        if definition.kind is AttributeKind.YES_NO:
            field = SelectFieldFor(definition.label)
        else:
            hint = {"number": " (a number)", "date": " (YYYY-MM-DD)"}.get(definition.kind.value,
                                                                           "")
            field = StringFieldFor(definition.label + hint)
        setattr(Form, name, field)
    form = Form(obj=obj)
    form.stakeholder_group_id.choices = select_choices(
        [("", "No group")] + [(g.id, g.name) for g in groups_of(study)])
    if obj is not None and request.method == "GET":
        for definition in definitions:
            value = (obj.attributes or {}).get(definition.key)
            field = form[f"attr_{definition.key}"]
            field.data = ("yes" if value else "no") if isinstance(value, bool) else (
                "" if value is None else str(value))
    form.attribute_fields = [(d, form[f"attr_{d.key}"]) for d in definitions]
    return form


def SelectFieldFor(label):  # noqa: N802 (a field factory)
    from wtforms import SelectField

    return SelectField(label, choices=select_choices([("", "Not recorded"), ("yes", "Yes"),
                                                      ("no", "No")]), default="")


def StringFieldFor(label):  # noqa: N802
    from wtforms import StringField

    return StringField(label)


def _participant_data(form) -> ParticipantData | None:
    attributes, ok = {}, True
    for definition, field in form.attribute_fields:
        try:
            attributes[definition.key] = parse_attribute(definition.kind.value, field.data or "")
        except ValueError as error:
            field.errors = [*field.errors, str(error)]
            ok = False
    if not ok:
        return None
    return ParticipantData(
        name=form.name.data, organization=form.organization.data or "",
        stakeholder_group_id=form.stakeholder_group_id.data, region=form.region.data or "",
        county=form.county.data or "", email=form.email.data or "", phone=form.phone.data or "",
        preferred_language=form.preferred_language.data,
        accessibility_needs=form.accessibility_needs.data or "", notes=form.notes.data or "",
        attributes=attributes)


@bp.get("/<int:study_id>/participants")
@study_view()
def participants(study):
    query = select(Participant).where(Participant.study_id == study.id)
    group = request.args.get("group", type=int)
    if group:
        query = query.where(Participant.stakeholder_group_id == group)
    q = request.args.get("q", "").strip()
    if q:
        query = query.where(Participant.name.icontains(q, autoescape=True)
                            | Participant.organization.icontains(q, autoescape=True))
    page = paginate(query.order_by(Participant.name, Participant.id))
    if _sees_contacts():
        record_contact_view(current_user, study, page.items)
        db.session.commit()
    return render_template("scheduling/participants.html", study=study, page=page,
                           groups=groups_of(study), group=group, q=q,
                           sees_contacts=_sees_contacts(),
                           definitions=attribute_definitions(study))


@bp.route("/<int:study_id>/participants/new", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def participant_new(study):
    form = _participant_form(study)
    if form.validate_on_submit() and (data := _participant_data(form)):
        try:
            participant = create_participant(current_user, study, data)
        except ParticipantError as error:
            _field_error(form, error)
        else:
            db.session.commit()
            flash(f"{participant.name} added.", "success")
            return redirect(url_for("scheduling.participant", study_id=study.id,
                                    participant_id=participant.id))
    return render_template("scheduling/participant_form.html", study=study, form=form,
                           participant=None), 400 if form.errors else 200


@bp.get("/<int:study_id>/participants/<int:participant_id>")
@study_view()
def participant(study, participant_id):
    person = get_in_study_or_404(Participant, participant_id, study)
    if _sees_contacts():
        record_contact_view(current_user, study, [person])
        db.session.commit()
    invitations = db.session.scalars(select(Invitation).where(
        Invitation.participant_id == person.id).order_by(Invitation.id.desc())).all()
    return render_template("scheduling/participant.html", study=study, person=person,
                           history=participant_history(person), invitations=invitations,
                           sees_contacts=_sees_contacts(), confirm=ConfirmForm(),
                           definitions=attribute_definitions(study), zone=viewer_zone())


@bp.route("/<int:study_id>/participants/<int:participant_id>/edit", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def participant_edit(study, participant_id):
    person = get_in_study_or_404(Participant, participant_id, study)
    form = _participant_form(study, obj=person)
    if form.validate_on_submit() and (data := _participant_data(form)):
        try:
            update_participant(current_user, person, data)
        except ParticipantError as error:
            _field_error(form, error)
        else:
            db.session.commit()
            flash("Participant saved.", "success")
            return redirect(url_for("scheduling.participant", study_id=study.id,
                                    participant_id=person.id))
    return render_template("scheduling/participant_form.html", study=study, form=form,
                           participant=person), 400 if form.errors else 200


@bp.post("/<int:study_id>/participants/<int:participant_id>/erase")
@study_view(StudyRole.RESEARCHER)
@recent_login_required
def participant_erase(study, participant_id):
    person = get_in_study_or_404(Participant, participant_id, study)
    if ConfirmForm().validate_on_submit():
        try:
            erase_participant(current_user, person)
        except ParticipantError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("The participant's personal data was erased.", "success")
    return redirect(url_for("scheduling.participant", study_id=study.id,
                            participant_id=person.id))


def _parse_upload(study, stored_name: str):
    path = stored_path(IMPORTS, stored_name)
    if not path.exists():
        raise ParticipantCSVError("The uploaded file is gone. Upload it again.")
    existing = db.session.scalars(select(Participant.email).where(
        Participant.study_id == study.id, Participant.email != "")).all()
    return read_participants_csv(path.read_bytes(), groups=[g.name for g in groups_of(study)],
                                 attributes=attribute_specs(study), existing_emails=existing)


@bp.route("/<int:study_id>/participants/import", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def participant_import(study):
    form = ImportForm()
    if form.validate_on_submit():
        try:
            upload = receive_upload(form.file.data, IMPORTS,
                                    max_bytes=current_app.config.get(
                                        "PARTICIPANT_IMPORT_MAX_BYTES", 5 * 1024**2))
        except UploadError as error:
            form.file.errors.append(str(error))
        else:
            try:
                parsed = _parse_upload(study, upload.stored_name)
            except ParticipantCSVError as error:
                upload.discard()
                form.file.errors.append(str(error))
            else:
                if not parsed.ok:
                    upload.discard()  # nothing to import from it; the errors are shown
                return render_template(
                    "scheduling/import_preview.html", study=study, parsed=parsed,
                    file_name=upload.original_filename,
                    confirm=ImportConfirmForm(stored=upload.stored_name), form=ImportForm(),
                    status=200 if parsed.ok else 400), 200 if parsed.ok else 400
    return render_template("scheduling/import.html", study=study, form=form,
                           definitions=attribute_definitions(study),
                           groups=groups_of(study)), 400 if form.errors else 200


@bp.post("/<int:study_id>/participants/import/confirm")
@study_view(StudyRole.RESEARCHER)
def participant_import_confirm(study):
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        parsed = _parse_upload(study, form.stored.data)
        created = import_participants(current_user, study, parsed)
    except (ParticipantCSVError, ParticipantError, UploadError) as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("scheduling.participant_import", study_id=study.id))
    db.session.commit()
    stored_path(IMPORTS, form.stored.data).unlink(missing_ok=True)
    flash(f"Imported {len(created)} participant(s).", "success")
    return redirect(url_for("scheduling.participants", study_id=study.id))


@bp.get("/<int:study_id>/participants/export.csv")
@study_view(StudyRole.RESEARCHER)
@recent_login_required
def participant_export(study):
    text = export_participants(current_user, study)
    db.session.commit()
    return Response(text.encode("utf-8-sig"), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="participants-study-{study.id}.csv"'})


@bp.route("/<int:study_id>/participants/attributes", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def attributes(study):
    form = AttributeForm()
    if form.validate_on_submit():
        try:
            definition = add_attribute(current_user, study, form.label.data,
                                       AttributeKind(form.kind.data))
        except ParticipantError as error:
            _field_error(form, error)
        else:
            db.session.commit()
            flash(f"Attribute “{definition.label}” added (CSV column “{definition.key}”).",
                  "success")
            return redirect(url_for("scheduling.attributes", study_id=study.id))
    return render_template("scheduling/attributes.html", study=study, form=form,
                           definitions=attribute_definitions(study)), 400 if form.errors else 200


# Stakeholder groups

@bp.route("/<int:study_id>/groups", methods=["GET", "POST"])
@study_view()
def groups(study):
    form = GroupForm()
    if request.method == "POST":
        if g.study_role is not StudyRole.RESEARCHER:
            abort(403)
        if form.validate_on_submit():
            try:
                group = save_group(current_user, study, form.name.data, form.description.data)
            except ParticipantError as error:
                _field_error(form, error)
            else:
                db.session.commit()
                flash(f"Group “{group.name}” added.", "success")
                return redirect(url_for("scheduling.groups", study_id=study.id))
    counts = dict(db.session.execute(select(Participant.stakeholder_group_id,
                                            func.count(Participant.id))
                                     .where(Participant.study_id == study.id)
                                     .group_by(Participant.stakeholder_group_id)).all())
    return render_template("scheduling/groups.html", study=study, form=form,
                           groups=groups_of(study), counts=counts,
                           confirm=ConfirmForm()), 400 if form.errors else 200


@bp.route("/<int:study_id>/groups/<int:group_id>/edit", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def group_edit(study, group_id):
    group = get_in_study_or_404(StakeholderGroup, group_id, study)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        try:
            save_group(current_user, study, form.name.data, form.description.data, group)
        except ParticipantError as error:
            _field_error(form, error)
        else:
            db.session.commit()
            flash("Group saved.", "success")
            return redirect(url_for("scheduling.groups", study_id=study.id))
    return render_template("scheduling/group_form.html", study=study, form=form,
                           group=group), 400 if form.errors else 200


@bp.post("/<int:study_id>/groups/<int:group_id>/delete")
@study_view(StudyRole.RESEARCHER)
def group_delete(study, group_id):
    group = get_in_study_or_404(StakeholderGroup, group_id, study)
    if ConfirmForm().validate_on_submit():
        try:
            delete_group(current_user, group)
        except ParticipantError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Group deleted.", "success")
    return redirect(url_for("scheduling.groups", study_id=study.id))


# Sessions and the calendar

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


def _session_choices(form, study) -> None:
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


def _field_error(form, error) -> None:
    name = getattr(error, "field", None)
    field = form[name] if name and name in form else None
    if field is None and isinstance(error, TimeError):
        name = "timezone" if "time zone" in str(error) else "start_time"
        field = getattr(form, name, None)
    if field is None:
        field = next(iter(form))  # the first field: the summary still links somewhere
    field.errors = [*field.errors, str(error)]
    if hasattr(form, "_errors"):
        form._errors = None


@bp.get("/<int:study_id>/sessions")
@study_view()
def sessions(study):
    zone = viewer_zone()
    view = request.args.get("view", "list")
    from zoneinfo import ZoneInfo

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
    from models import utcnow

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
    _session_choices(form, study)
    if request.method == "GET":
        form.timezone.data = viewer_zone()
        form.facilitators.data = [current_user.id]
    if form.validate_on_submit():
        try:
            created = create_session(current_user, study, _session_data(form))
        except (SchedulingError, TimeError) as error:
            _field_error(form, error)
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
    if _sees_contacts() and item.bookings:
        record_contact_view(current_user, study, [b.participant for b in item.bookings])
        db.session.commit()
    return render_template("scheduling/session.html", study=study, item=item,
                           zone=viewer_zone(), attendance=attendance, book_form=book_form,
                           recording_form=recording_form, status_form=status_form,
                           confirm=ConfirmForm(), sees_contacts=_sees_contacts(),
                           public_url=public_link(item) if item.is_public and _sees_contacts()
                           else None)


@bp.route("/<int:study_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def session_edit(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    form = SessionForm(obj=item)
    _session_choices(form, study)
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
            _field_error(form, error)
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
        try:
            set_session_status(current_user, item, SessionStatus(form.status.data))
        except SchedulingError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"Status: {item.status.label}.", "success")
    else:
        flash("Choose a status.", "error")
    return redirect(url_for("scheduling.session", study_id=study.id, session_id=item.id))


@bp.post("/<int:study_id>/sessions/<int:session_id>/cancel")
@study_view(StudyRole.RESEARCHER)
def session_cancel(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    if ConfirmForm().validate_on_submit():
        try:
            cancel_session(current_user, item)
        except SchedulingError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Session cancelled; booked participants were sent a cancellation.", "success")
    return redirect(url_for("scheduling.session", study_id=study.id, session_id=item.id))


@bp.post("/<int:study_id>/sessions/<int:session_id>/bookings")
@study_view(StudyRole.RESEARCHER)
def session_book(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    form = StaffBookForm()
    person = db.session.get(Participant, form.participant.data or 0) if (
        form.validate_on_submit()) else None
    if person is None or person.study_id != study.id:
        flash("Choose a participant of this study.", "error")
    else:
        try:
            staff_book(current_user, item, person)
        except SchedulingError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"{person.name} is booked.", "success")
    return redirect(url_for("scheduling.session", study_id=study.id, session_id=item.id))


@bp.post("/<int:study_id>/sessions/<int:session_id>/bookings/<int:booking_id>/cancel")
@study_view(StudyRole.RESEARCHER)
def booking_cancel(study, session_id, booking_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.session_id != item.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            staff_cancel(current_user, booking)
        except SchedulingError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Booking cancelled.", "success")
    return redirect(url_for("scheduling.session", study_id=study.id, session_id=item.id))


@bp.post("/<int:study_id>/sessions/<int:session_id>/attendance")
@study_view(StudyRole.RESEARCHER)
def attendance(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    form = AttendanceForm()
    form.bookings.choices = select_choices((b.id, b.participant.name) for b in item.bookings)
    if form.validate_on_submit() and form.bookings.data:
        try:
            count = set_attendance(current_user, item, form.bookings.data,
                                   Attendance(form.attendance.data))
        except SchedulingError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"Marked {count} participant(s) {Attendance(form.attendance.data).label}.",
                  "success")
    else:
        flash("Choose at least one participant and what to mark.", "error")
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
    from engage.scheduling.ics import calendar_bytes
    from engage.scheduling.operations import event_data

    item = get_in_study_or_404(StudySession, session_id, study)
    data = calendar_bytes([event_data(item)], method="PUBLISH")
    return Response(data, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="session-{item.id}.ics"'})


# Slot offers and invitations

def _offer_choices(form, study) -> None:
    _session_choices(form, study)
    consents = db.session.scalars(select(ConsentText).where(ConsentText.study_id == study.id)
                                  .order_by(ConsentText.version.desc())).all()
    form.consent_text_id.choices = select_choices(
        [(c.id, f"Version {c.version}: {c.title}") for c in consents]
        or [("", "The standard consent text (saved as version 1)")])
    people = db.session.scalars(select(Participant).where(
        Participant.study_id == study.id, Participant.erased_at.is_(None))
        .order_by(Participant.name)).all()
    form.participants.choices = select_choices(
        (p.id, p.name + (f" ({p.stakeholder_group.name})" if p.stakeholder_group else ""))
        for p in people)


@bp.route("/<int:study_id>/offers/new", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def offer_new(study):
    form = OfferForm()
    _offer_choices(form, study)
    if request.method == "GET":
        form.timezone.data = viewer_zone()
        form.facilitators.data = [current_user.id]
        form.participants.data = request.args.getlist("participant", type=int)
    if form.validate_on_submit():
        try:
            tz = form.timezone.data.strip()
            times = [parse_local(line, tz) for line in form.times.data.splitlines()
                     if line.strip()]
            offer = create_offer(current_user, study, OfferData(
                title=form.title.data, kind=SessionKind(form.kind.data), times=times,
                duration_minutes=form.duration_minutes.data, timezone=tz,
                capacity=form.capacity.data, location=form.location.data or "",
                video_url=form.video_url.data or "",
                facilitator_ids=form.facilitators.data or [],
                guide_code_ids=form.guide_codes.data or [],
                buffer_minutes=form.buffer_minutes.data or 0,
                min_notice_hours=form.min_notice_hours.data or 0,
                consent_text_id=form.consent_text_id.data,
                participant_ids=form.participants.data or [],
                expires_days=form.expires_days.data or 30))
        except TimeError as error:
            db.session.rollback()
            field = "timezone" if "time zone" in str(error) else "times"
            form[field].errors = [*form[field].errors, str(error)]
        except SchedulingError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(f"Offered {len(offer.sessions)} time(s) to {len(offer.invitations)} "
                  "participant(s). The invitations are in the outbox.", "success")
            return redirect(url_for("scheduling.offer", study_id=study.id, offer_id=offer.id))
    return render_template("scheduling/offer_form.html", study=study,
                           form=form), 400 if form.errors else 200


@bp.get("/<int:study_id>/offers/<int:offer_id>")
@study_view(StudyRole.RESEARCHER)
def offer(study, offer_id):
    item = get_in_study_or_404(SlotOffer, offer_id, study)
    form = InviteForm()
    invited = {i.participant_id for i in item.invitations}
    form.participants.choices = select_choices(
        (p.id, p.name) for p in db.session.scalars(select(Participant).where(
            Participant.study_id == study.id, Participant.erased_at.is_(None))
            .order_by(Participant.name)) if p.id not in invited)
    record_contact_view(current_user, study, [i.participant for i in item.invitations])
    db.session.commit()
    links = {i.id: invitation_link(i) for i in item.invitations if i.revoked_at is None}
    return render_template("scheduling/offer.html", study=study, offer=item, form=form,
                           links=links, confirm=ConfirmForm(), zone=viewer_zone())


@bp.post("/<int:study_id>/offers/<int:offer_id>/invite")
@study_view(StudyRole.RESEARCHER)
def offer_invite(study, offer_id):
    item = get_in_study_or_404(SlotOffer, offer_id, study)
    form = InviteForm()
    form.participants.choices = select_choices(
        (p.id, p.name) for p in db.session.scalars(select(Participant).where(
            Participant.study_id == study.id)))
    if form.validate_on_submit() and form.participants.data:
        try:
            sent = invite(current_user, item, form.participants.data)
        except SchedulingError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"Sent {len(sent)} invitation(s).", "success")
    else:
        flash("Choose participants to invite.", "error")
    return redirect(url_for("scheduling.offer", study_id=study.id, offer_id=item.id))


@bp.post("/<int:study_id>/invitations/<int:invitation_id>/revoke")
@study_view(StudyRole.RESEARCHER)
def invitation_revoke(study, invitation_id):
    invitation = get_in_study_or_404(Invitation, invitation_id, study)
    if ConfirmForm().validate_on_submit():
        revoke_invitation(current_user, invitation)
        db.session.commit()
        flash("The link no longer works.", "success")
    return redirect(url_for("scheduling.offer", study_id=study.id,
                            offer_id=invitation.offer_id))


@bp.post("/<int:study_id>/invitations/<int:invitation_id>/renew")
@study_view(StudyRole.RESEARCHER)
def invitation_renew(study, invitation_id):
    invitation = get_in_study_or_404(Invitation, invitation_id, study)
    if ConfirmForm().validate_on_submit():
        renew_invitation(current_user, invitation)
        db.session.commit()
        flash("A new link was sent; the old one no longer works.", "success")
    return redirect(url_for("scheduling.offer", study_id=study.id,
                            offer_id=invitation.offer_id))


# Consent texts

@bp.route("/<int:study_id>/consent", methods=["GET", "POST"])
@study_view()
def consent(study):
    form = ConsentForm()
    if request.method == "POST":
        if g.study_role is not StudyRole.RESEARCHER:
            abort(403)
        if form.validate_on_submit():
            try:
                text = add_consent_text(current_user, study, form.title.data, form.body.data,
                                        form.body_es.data or "")
            except SchedulingError as error:
                _field_error(form, error)
            else:
                db.session.commit()
                flash(f"Consent text version {text.version} saved. New offers use it.",
                      "success")
                return redirect(url_for("scheduling.consent", study_id=study.id))
    elif (latest := latest_consent(study)) is not None:
        form.title.data, form.body.data, form.body_es.data = (latest.title, latest.body,
                                                              latest.body_es)
    else:
        form.body.data, form.body_es.data = DEFAULT_CONSENT, DEFAULT_CONSENT_ES
    versions = db.session.scalars(select(ConsentText).where(ConsentText.study_id == study.id)
                                  .order_by(ConsentText.version.desc())).all()
    return render_template("scheduling/consent.html", study=study, form=form,
                           versions=versions), 400 if form.errors else 200


# Outbox, engagement, calendar feed

@bp.get("/<int:study_id>/outbox")
@study_view(StudyRole.RESEARCHER)
def outbox(study):
    page = paginate(select(OutboxMessage).where(OutboxMessage.study_id == study.id)
                    .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()))
    return render_template("scheduling/outbox.html", study=study, page=page, zone=viewer_zone())


@bp.get("/<int:study_id>/outbox/<int:message_id>")
@study_view(StudyRole.RESEARCHER)
def outbox_message(study, message_id):
    message = get_in_study_or_404(OutboxMessage, message_id, study)
    if message.participant is not None:
        record_contact_view(current_user, study, [message.participant])
        db.session.commit()
    return render_template("scheduling/message.html", study=study, message=message,
                           zone=viewer_zone())


@bp.get("/<int:study_id>/engagement")
@study_view()
def engagement(study):
    return render_template("scheduling/engagement.html", study=study,
                           summary=engagement_summary(study))


@bp.route("/<int:study_id>/calendar-feed", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def feed(study):
    renew = request.method == "POST" and ConfirmForm().validate_on_submit()
    item = calendar_feed(current_user, study, renew=renew)
    db.session.commit()
    if renew:
        flash("New feed address made; the old one no longer works.", "success")
        return redirect(url_for("scheduling.feed", study_id=study.id))
    return render_template("scheduling/feed.html", study=study, url=feed_link(item),
                           confirm=ConfirmForm())


@bp.get("/<int:study_id>/bookings/<int:booking_id>.ics")
@study_view(StudyRole.RESEARCHER)
def booking_calendar(study, booking_id):
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.session.study_id != study.id:
        abort(404)
    link = invitation_link(booking.invitation) if booking.invitation else ""
    return Response(booking_ics(booking, link=link), mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="booking-{booking.id}.ics"'})


@bp.app_template_filter("in_zone")
def in_zone(moment, zone_name: str, with_zone: bool = True) -> str:
    """``{{ session.starts_at|in_zone(zone) }}``: a UTC time read in a zone."""
    from engage.scheduling.timezones import describe

    return describe(moment, zone_name, with_zone) if moment else ""
