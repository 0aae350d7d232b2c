"""Staff's side of bookings: booking a participant, cancelling, attendance; calendar files
of a booking and the researcher's calendar feed."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engage.access import get_in_study_or_404, study_view
from engage.forms import ConfirmForm, select_choices
from engage.scheduling import bp
from engage.scheduling.bookings import set_attendance, staff_book, staff_cancel
from engage.scheduling.feeds import calendar_feed, feed_link
from engage.scheduling.forms import AttendanceForm, StaffBookForm
from engage.scheduling.messages import booking_ics, invitation_link
from engage.scheduling.operations import SchedulingError
from models import Attendance, Booking, Participant, StudyRole, StudySession, db


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


