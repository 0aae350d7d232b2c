"""Slot offers: offering times to participants, inviting more, revoking and renewing links."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engage.access import get_in_study_or_404, study_view
from engage.forms import ConfirmForm, perform, select_choices
from engage.scheduling import bp
from engage.scheduling.forms import InviteForm, OfferForm
from engage.scheduling.messages import invitation_link
from engage.scheduling.offers import (
    OfferData,
    create_offer,
    invite,
    renew_invitation,
    revoke_invitation,
)
from engage.scheduling.operations import SchedulingError
from engage.scheduling.participants import record_contact_view
from engage.scheduling.routes import field_error, viewer_zone
from engage.scheduling.session_routes import session_choices
from engage.scheduling.timezones import TimeError, parse_local
from models import ConsentText, Invitation, Participant, SessionKind, SlotOffer, StudyRole, db


def _offer_choices(form, study) -> None:
    session_choices(form, study)
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
            field_error(form, error)
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
        perform(lambda: invite(current_user, item, form.participants.data),
                lambda sent: f"Sent {len(sent)} invitation(s).", errors=SchedulingError)
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


