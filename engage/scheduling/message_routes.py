"""What participants read and are sent: the consent text (its versions) and the outbox."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engage.access import get_in_study_or_404, study_view
from engage.pagination import paginate
from engage.scheduling import bp
from engage.scheduling.consent import (
    DEFAULT_CONSENT,
    DEFAULT_CONSENT_ES,
    add_consent_text,
    latest_consent,
)
from engage.scheduling.forms import ConsentForm
from engage.scheduling.operations import SchedulingError
from engage.scheduling.participants import record_contact_view
from engage.scheduling.routes import field_error, viewer_zone
from models import ConsentText, OutboxMessage, StudyRole, db

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
                field_error(form, error)
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


# Outbox

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


