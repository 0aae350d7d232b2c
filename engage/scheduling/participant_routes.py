"""Participants: the list, adding and editing one, erasing, CSV import and export."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, StringField

from coding.participant_csv import ParticipantCSVError, parse_attribute, read_participants_csv
from engage.access import get_in_study_or_404, study_view
from engage.forms import select_choices
from engage.pagination import paginate
from engage.scheduling import bp
from engage.scheduling.bookings import participant_history
from engage.scheduling.forms import ImportConfirmForm, ImportForm, ParticipantForm
from engage.scheduling.participants import (
    ParticipantData,
    ParticipantError,
    attribute_definitions,
    attribute_specs,
    create_participant,
    export_participants,
    groups_of,
    import_participants,
    record_contact_view,
    update_participant,
)
from engage.scheduling.routes import field_error, sees_contacts, viewer_zone
from engage.security import recent_login_required
from engage.uploads import UploadError, receive_upload, stored_path
from models import AttributeKind, Invitation, Participant, StudyRole, db

IMPORTS = "participant-imports"


def _participant_form(study, obj=None) -> ParticipantForm:
    definitions = attribute_definitions(study)

    class Form(ParticipantForm):
        pass

    for definition in definitions:
        name = f"attr_{definition.key}"
        if definition.kind is AttributeKind.YES_NO:
            field = _yes_no_field(definition.label)
        else:
            hint = {"number": " (a number)", "date": " (YYYY-MM-DD)"}.get(definition.kind.value,
                                                                           "")
            field = StringField(definition.label + hint)
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


def _yes_no_field(label: str) -> SelectField:
    return SelectField(label, choices=select_choices([("", "Not recorded"), ("yes", "Yes"),
                                                      ("no", "No")]), default="")


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
    if sees_contacts():
        record_contact_view(current_user, study, page.items)
        db.session.commit()
    return render_template("scheduling/participants.html", study=study, page=page,
                           groups=groups_of(study), group=group, q=q,
                           sees_contacts=sees_contacts(),
                           definitions=attribute_definitions(study))


@bp.route("/<int:study_id>/participants/new", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def participant_new(study):
    form = _participant_form(study)
    if form.validate_on_submit() and (data := _participant_data(form)):
        try:
            participant = create_participant(current_user, study, data)
        except ParticipantError as error:
            field_error(form, error)
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
    if sees_contacts():
        record_contact_view(current_user, study, [person])
        db.session.commit()
    invitations = db.session.scalars(select(Invitation).where(
        Invitation.participant_id == person.id).order_by(Invitation.id.desc())).all()
    return render_template("scheduling/participant.html", study=study, person=person,
                           history=participant_history(person), invitations=invitations,
                           sees_contacts=sees_contacts(),
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
            field_error(form, error)
        else:
            db.session.commit()
            flash("Participant saved.", "success")
            return redirect(url_for("scheduling.participant", study_id=study.id,
                                    participant_id=person.id))
    return render_template("scheduling/participant_form.html", study=study, form=form,
                           participant=person), 400 if form.errors else 200


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


