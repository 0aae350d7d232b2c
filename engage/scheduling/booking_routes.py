"""Staff's side of bookings: booking a participant (recording their consent, or leaving it
to the session), recording consent later, cancelling, attendance; calendar files of a
booking and the researcher's calendar feed."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engage.access import get_in_study_or_404, study_view
from engage.forms import ConfirmForm, perform, select_choices
from engage.scheduling import bp
from engage.scheduling.bookings import (
    bookable_participants,
    consent_record,
    record_consent,
    set_attendance,
    staff_book,
    staff_cancel,
)
from engage.scheduling.consent import StaffConsent, consent_text_for
from engage.scheduling.feeds import calendar_feed, feed_link
from engage.scheduling.forms import AttendanceForm, RecordConsentForm, StaffBookForm
from engage.scheduling.messages import booking_ics, invitation_link
from engage.scheduling.operations import SchedulingError
from engage.scheduling.routes import field_error, viewer_zone
from models import Attendance, Booking, Participant, StudyRole, StudySession, db

# Pages show where each booking's consent stands, and the text to consent to.
bp.add_app_template_global(consent_record, "booking_consent")
bp.add_app_template_global(consent_text_for, "session_consent_text")


def _booking_in(item: StudySession, booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.session_id != item.id:
        abort(404)
    return booking


def _consent_page(study, item, form, booking=None):
    """The staff booking page, or the page recording a booking's consent (with its errors)."""
    text = consent_text_for(item)
    form.consent_text_id.data = text.id if text else None  # the version shown is agreed to
    if booking is None:
        form.participant.choices = select_choices(
            (p.id, p.name) for p in bookable_participants(item))
    return render_template("scheduling/staff_booking.html", study=study, item=item, form=form,
                           booking=booking, text=text,
                           zone=viewer_zone()), 400 if form.errors else 200


def _given(form) -> dict:
    """The consent the form records: the version shown, the name typed, the box."""
    return {"consent_text_id": form.consent_text_id.data,
            "consent_name": form.consent_name.data or "",
            "consent_given": form.consent_given.data}


def _saved(form, operation) -> bool:
    """Run the one operation and commit; or roll back and show its refusal at its field."""
    try:
        operation()
    except SchedulingError as error:
        db.session.rollback()
        field_error(form, error)
        return False
    db.session.commit()
    return True


@bp.route("/<int:study_id>/sessions/<int:session_id>/bookings", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def session_book(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    form = StaffBookForm()
    if request.method == "GET":
        person = db.session.get(Participant, request.args.get("participant", 0, type=int))
        person = person if person and person.study_id == study.id else None
        form.participant.data = person.id if person else None
        form.consent_name.data = person.name if person else ""
    elif form.validate_on_submit():
        person = db.session.get(Participant, form.participant.data or 0)
        if _saved(form, lambda: staff_book(current_user, item, person,
                                           StaffConsent(form.consent.data), **_given(form))):
            flash(f"{person.name} is booked.", "success")
            return redirect(url_for("scheduling.session", study_id=study.id,
                                    session_id=item.id))
    return _consent_page(study, item, form)


@bp.post("/<int:study_id>/sessions/<int:session_id>/bookings/<int:booking_id>/consent")
@study_view(StudyRole.RESEARCHER)
def booking_consent(study, session_id, booking_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    booking = _booking_in(item, booking_id)
    form = RecordConsentForm()
    if form.validate_on_submit() and _saved(
            form, lambda: record_consent(current_user, booking, **_given(form))):
        flash(f"Consent of {booking.participant.name} recorded.", "success")
        return redirect(url_for("scheduling.session", study_id=study.id, session_id=item.id))
    return _consent_page(study, item, form, booking)


@bp.post("/<int:study_id>/sessions/<int:session_id>/bookings/<int:booking_id>/cancel")
@study_view(StudyRole.RESEARCHER)
def booking_cancel(study, session_id, booking_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    booking = _booking_in(item, booking_id)
    if ConfirmForm().validate_on_submit():
        perform(lambda: staff_cancel(current_user, booking), "Booking cancelled.",
                errors=SchedulingError)
    return redirect(url_for("scheduling.session", study_id=study.id, session_id=item.id))


@bp.post("/<int:study_id>/sessions/<int:session_id>/attendance")
@study_view(StudyRole.RESEARCHER)
def attendance(study, session_id):
    item = get_in_study_or_404(StudySession, session_id, study)
    form = AttendanceForm()
    form.bookings.choices = select_choices((b.id, b.participant.name) for b in item.bookings)
    if form.validate_on_submit() and form.bookings.data:
        perform(lambda: set_attendance(current_user, item, form.bookings.data,
                                       Attendance(form.attendance.data)),
                lambda count: f"Marked {count} participant(s) "
                              f"{Attendance(form.attendance.data).label}.",
                errors=SchedulingError)
    else:
        flash("Choose at least one participant and what to mark.", "error")
    return redirect(url_for("scheduling.session", study_id=study.id, session_id=item.id))


# Calendar files and the feed

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


