"""Stakeholder groups and participant attributes: how a study describes its participants."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from engage.access import get_in_study_or_404, study_view
from engage.forms import ConfirmForm, perform
from engage.scheduling import bp
from engage.scheduling.forms import AttributeForm, GroupForm
from engage.scheduling.participants import (
    ParticipantError,
    add_attribute,
    attribute_definitions,
    delete_group,
    groups_of,
    save_group,
)
from engage.scheduling.routes import field_error
from models import AttributeKind, Participant, StakeholderGroup, StudyRole, db

# Attributes

@bp.route("/<int:study_id>/participants/attributes", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def attributes(study):
    form = AttributeForm()
    if form.validate_on_submit():
        try:
            definition = add_attribute(current_user, study, form.label.data,
                                       AttributeKind(form.kind.data))
        except ParticipantError as error:
            field_error(form, error)
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
                field_error(form, error)
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
            field_error(form, error)
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
        perform(lambda: delete_group(current_user, group), "Group deleted.",
                errors=ParticipantError)
    return redirect(url_for("scheduling.groups", study_id=study.id))

