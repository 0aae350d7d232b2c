"""A participant's withdrawal: the page that shows what is theirs and takes the choice."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from engage.access import get_in_study_or_404, study_view
from engage.exports.qdpx import pseudonym
from engage.scheduling import bp
from engage.scheduling.forms import WithdrawForm
from engage.scheduling.participants import ParticipantError
from engage.scheduling.withdrawal import Retention, find_material, withdraw_participant
from engage.security import recent_login_required
from models import Participant, StudyRole, db


@bp.route("/<int:study_id>/participants/<int:participant_id>/withdraw",
          methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
@recent_login_required
def participant_withdraw(study, participant_id):
    person = get_in_study_or_404(Participant, participant_id, study)
    if person.erased_at:
        flash("This participant has already been withdrawn and erased.", "error")
        return redirect(url_for("scheduling.participant", study_id=study.id,
                                participant_id=person.id))
    form = WithdrawForm(expected_name=person.name)
    if form.validate_on_submit():
        try:
            withdraw_participant(current_user, person, Retention(form.retention.data))
        except ParticipantError as error:
            db.session.rollback()  # also removes audio already rewritten for this attempt
            form.retention.errors = [*form.retention.errors, str(error)]
        else:
            db.session.commit()
            flash("The participant was withdrawn: their personal data was erased and their "
                  "recordings and transcripts were "
                  + ("deleted." if form.retention.data == Retention.DELETE
                     else "de-identified."), "success")
            return redirect(url_for("scheduling.participant", study_id=study.id,
                                    participant_id=person.id))
    return render_template("scheduling/withdraw.html", study=study, person=person, form=form,
                           material=find_material(person),
                           pseudonym=pseudonym(person.id)), 400 if form.errors else 200
