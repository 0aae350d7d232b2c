"""Booking pages for participants, reached through a signed link; calendar feeds.

Each page is in the participant's language (``?lang=``, else their preferred
language). They work without JavaScript and load nothing from other servers.
A refused link (tampered, expired, withdrawn) gets a page that says so.
"""

from __future__ import annotations

import re

from flask import Response, current_app, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engage.booking import bp
from engage.booking.forms import BookForm, CancelForm, RegisterForm
from engage.extensions import limiter
from engage.i18n import (
    LANGUAGES,
    format_session_time,
    kind_label,
    page_context,
    page_language,
    translate,
)
from engage.public.forms import honeypot_filled
from engage.scheduling.bookings import (
    book,
    bookable,
    cancel_own_booking,
    offered_slots,
    register_public,
    resolve_invitation,
    resolve_public_session,
)
from engage.scheduling.consent import latest_consent
from engage.scheduling.feeds import feed_ics, resolve_feed
from engage.scheduling.messages import booking_ics, invitation_link
from engage.scheduling.operations import BookingError
from engage.scheduling.tokens import TokenError
from models import Study, db

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def _rate_limit() -> str:
    return current_app.config.get("BOOKING_RATE_LIMIT", "30 per minute")


@bp.context_processor
def _booking_context() -> dict:
    lang = g.get("lang", "en")
    return {**page_context(lang, list(LANGUAGES)),
            "when": lambda moment, zone: format_session_time(moment, zone, lang),
            "kind_label": lambda kind: kind_label(lang, kind)}


@bp.after_request
def _private(response: Response) -> Response:
    # Booking pages name the person: keep them out of caches and search engines.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _language(preferred: str | None) -> str:
    return page_language(list(LANGUAGES), preferred)


def _refused(error: TokenError):
    g.lang = _language(None)
    status = 410 if error.expired else 404
    return render_template("booking/refused.html", message=str(error)), status


def _invitation_page(invitation, form: BookForm, status: int = 200, done: str | None = None):
    slots = offered_slots(invitation)
    return render_template(
        "booking/invitation.html", invitation=invitation, offer=invitation.offer,
        participant=invitation.participant, slots=slots,
        open_ids={s.id for s in slots if bookable(invitation, s)},
        current=invitation.active_booking, form=form, cancel_form=CancelForm(),
        consent=invitation.offer.consent_text, done=done, token=request.view_args["token"],
    ), status


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def invitation(token: str):
    try:
        invitation = resolve_invitation(token)
    except TokenError as error:
        return _refused(error)
    g.lang = _language(invitation.participant.preferred_language)
    form = BookForm()
    if request.method == "GET":
        form.consent_text_id.data = invitation.offer.consent_text_id
        current = invitation.active_booking
        form.slot.data = current.session_id if current else None
        return _invitation_page(invitation, form, done=request.args.get("done"))
    if not form.validate_on_submit():
        return _invitation_page(invitation, form, 400)
    moving = invitation.active_booking is not None
    # Every missing answer at once; the operation checks them again.
    if not form.slot.data:
        form.slot.errors.append(translate(g.lang, "Choose one of the offered times."))
    if not moving and not (form.consent_name.data or "").strip():
        form.consent_name.errors.append(translate(g.lang, "Type your name to give consent."))
    if not moving and not form.consent_given.data:
        form.consent_given.errors.append(translate(g.lang, "Check the box to give consent."))
    if form.errors:
        return _invitation_page(invitation, form, 400)
    try:
        book(invitation, form.slot.data, consent_name=form.consent_name.data or "",
             consent_given=bool(form.consent_given.data),
             consent_text_id=_int(form.consent_text_id.data),
             accessibility_needs=form.accessibility_needs.data, language=g.lang)
        db.session.commit()
    except (BookingError, IntegrityError) as error:
        db.session.rollback()
        if isinstance(error, IntegrityError) or error.code in ("full", "closed"):
            return render_template("booking/full.html", invitation=invitation,
                                   token=token), 409
        field = form[error.field] if error.field and error.field in form else form.slot
        field.errors = [*field.errors, str(error)]
        return _invitation_page(invitation, form, 400)
    return redirect(url_for("booking.invitation", token=token, lang=request.args.get("lang"),
                            done="moved" if moving else "booked"), 303)


@bp.post("/<token>/cancel")
@limiter.limit(_rate_limit)
def cancel(token: str):
    try:
        invitation = resolve_invitation(token)
    except TokenError as error:
        return _refused(error)
    g.lang = _language(invitation.participant.preferred_language)
    if CancelForm().validate_on_submit():
        try:
            cancel_own_booking(invitation)
        except BookingError:
            pass  # nothing to cancel (a second click): the page shows the state
        else:
            db.session.commit()
    return redirect(url_for("booking.invitation", token=token, lang=request.args.get("lang"),
                            done="cancelled"), 303)


@bp.get("/<token>/calendar.ics")
def calendar(token: str):
    try:
        invitation = resolve_invitation(token)
    except TokenError as error:
        return _refused(error)
    booking = invitation.active_booking or (invitation.bookings[-1] if invitation.bookings
                                            else None)
    if booking is None:
        g.lang = _language(invitation.participant.preferred_language)
        return redirect(url_for("booking.invitation", token=token))
    return Response(booking_ics(booking, link=invitation_link(invitation)),
                    mimetype="text/calendar", headers={
                        "Content-Disposition": 'attachment; filename="session.ics"'})


@bp.route("/open/<token>", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def register(token: str):
    try:
        session = resolve_public_session(token)
    except TokenError as error:
        return _refused(error)
    g.lang = _language(None)
    study = db.session.get(Study, session.study_id)
    consent = latest_consent(study)
    form = RegisterForm()
    from models import StakeholderGroup

    groups = db.session.scalars(select(StakeholderGroup).where(
        StakeholderGroup.study_id == study.id).order_by(StakeholderGroup.position)).all()
    form.group.choices = [("", translate(g.lang, "Prefer not to say"))] + [
        (str(grp.id), grp.name) for grp in groups]
    done = request.args.get("done")
    status = 200
    if request.method == "GET":
        form.preferred_language.data = g.lang
        form.consent_text_id.data = consent.id if consent else ""
    elif form.validate_on_submit():
        if honeypot_filled(form.website.data):
            # Software filled in the field people never see. Like the public comment form,
            # answer as if it worked; unlike a comment, nothing is kept: no participant, no
            # booking, no message.
            return _registered(token)
        name, email = (form.name.data or "").strip(), (form.email.data or "").strip()
        if not name:
            form.name.errors.append(translate(g.lang, "Enter your name."))
        if not EMAIL.match(email):
            form.email.errors.append(translate(g.lang,
                                               "Enter an email address like name@example.org."))
        if not form.errors:
            try:
                register_public(session, name=name[:200], email=email[:254],
                                language=form.preferred_language.data,
                                group_id=form.group.data, consent_name=form.consent_name.data
                                or "", consent_given=bool(form.consent_given.data),
                                consent_text_id=_int(form.consent_text_id.data),
                                accessibility_needs=form.accessibility_needs.data or "",
                                page_language=g.lang)
                db.session.commit()
            except (BookingError, IntegrityError) as error:
                db.session.rollback()
                if isinstance(error, IntegrityError) or error.code in ("full",):
                    return render_template("booking/full.html", invitation=None,
                                           token=None), 409
                field = form[error.field] if error.field and error.field in form else form.name
                field.errors = [*field.errors, str(error)]
            else:
                return _registered(token)
        status = 400
    else:
        status = 400
    return render_template("booking/register.html", item=session, form=form, consent=consent,
                           done=done, closed=session.status.value == "cancelled"), status


def _registered(token: str):
    return redirect(url_for("booking.register", token=token, done="registered",
                            lang=request.args.get("lang")), 303)


@bp.get("/feed/<token>.ics")
def feed(token: str):
    try:
        item = resolve_feed(token)
    except TokenError:
        return Response("Not found\n", status=404, mimetype="text/plain")
    return Response(feed_ics(item), mimetype="text/calendar",
                    headers={"Content-Disposition": 'inline; filename="engage.ics"'})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
