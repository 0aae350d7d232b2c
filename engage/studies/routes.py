from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from engage.access import get_in_study_or_404, role_required, study_view
from engage.consultations.moderation import public_text
from engage.forms import ConfirmForm, perform
from engage.jobs.operations import recent_jobs
from engage.pagination import paginate
from engage.security import recent_login_required
from engage.studies import bp
from engage.studies.forms import AddMemberForm, MemberRoleForm, StudyForm
from engage.studies.operations import (
    StudyError,
    add_member,
    change_member_role,
    create_study,
    remove_member,
    update_study,
)
from models import (
    Code,
    Comment,
    Consultation,
    Participant,
    Role,
    StudyMember,
    StudyRole,
    User,
    db,
)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.RESEARCHER)
def new():
    form = StudyForm()
    if form.validate_on_submit():
        study = create_study(current_user, form.name.data, form.description.data)
        db.session.commit()
        flash(f"Study “{study.name}” created with the default codebook.", "success")
        return redirect(url_for("studies.show", study_id=study.id))
    return render_template("studies/form.html", form=form, study=None)


@bp.get("/<int:study_id>")
@study_view()
def show(study):
    counts = {
        "participants": _count(Participant.id, Participant.study_id == study.id),
        "codes": _count(Code.id, Code.study_id == study.id),
        "comments": db.session.scalar(select(func.count(Comment.id)).join(Consultation)
                                      .where(Consultation.study_id == study.id)),
        "members": _count(StudyMember.id, StudyMember.study_id == study.id),
    }
    return render_template("studies/show.html", study=study, counts=counts,
                           jobs=recent_jobs(study.id, limit=5))


@bp.route("/<int:study_id>/edit", methods=["GET", "POST"])
@study_view(StudyRole.RESEARCHER)
def edit(study):
    form = StudyForm(obj=study)
    if form.validate_on_submit():
        update_study(current_user, study, form.name.data, form.description.data)
        db.session.commit()
        flash("Study saved.", "success")
        return redirect(url_for("studies.show", study_id=study.id))
    return render_template("studies/form.html", form=form, study=study)


@bp.get("/<int:study_id>/members")
@study_view()
def members(study):
    return _members_page(study, AddMemberForm())


@bp.post("/<int:study_id>/members")
@study_view(StudyRole.RESEARCHER)
@recent_login_required
def member_add(study):
    form = AddMemberForm()
    if form.validate_on_submit():
        try:
            member = add_member(current_user, study, form.email.data, StudyRole(form.role.data))
        except StudyError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"{member.user.name} added as {member.role.label.lower()}.", "success")
            return redirect(url_for("studies.members", study_id=study.id))
    return _members_page(study, form), 400


def _members_page(study, form):
    rows = db.session.execute(
        select(StudyMember, User).join(User).where(StudyMember.study_id == study.id)
        .order_by(User.name)).all()
    return render_template("studies/members.html", study=study, form=form, rows=rows,
                           role_form=MemberRoleForm(), confirm=ConfirmForm())


@bp.post("/<int:study_id>/members/<int:member_id>/role")
@study_view(StudyRole.RESEARCHER)
@recent_login_required
def member_role(study, member_id):
    member = get_in_study_or_404(StudyMember, member_id, study)
    form = MemberRoleForm()
    if form.validate_on_submit():
        perform(lambda: change_member_role(current_user, member, StudyRole(form.role.data)),
                lambda _: f"{member.user.name} is now {member.role.label.lower()}.",
                errors=StudyError)
    else:
        flash("Choose a valid role.", "error")
    return redirect(url_for("studies.members", study_id=study.id))


@bp.post("/<int:study_id>/members/<int:member_id>/remove")
@study_view(StudyRole.RESEARCHER)
def member_remove(study, member_id):
    member = get_in_study_or_404(StudyMember, member_id, study)
    if ConfirmForm().validate_on_submit():
        name = member.user.name
        perform(lambda: remove_member(current_user, member), f"{name} removed from the study.",
                errors=StudyError)
    return redirect(url_for("studies.members", study_id=study.id))


@bp.get("/<int:study_id>/comments")
@study_view()
def comments(study):
    """All comments of the study's consultations; coders read only the masked version."""
    q = request.args.get("q", "").strip()
    query = (select(Comment).join(Consultation).where(Consultation.study_id == study.id)
             .order_by(Comment.id))
    researcher = g.study_role is StudyRole.RESEARCHER
    if q:
        column = Comment.body if researcher else func.coalesce(Comment.public_body, Comment.body)
        query = query.where(column.icontains(q, autoescape=True))
    page = paginate(query)
    texts = {c.id: c.body if researcher else public_text(c) for c in page.items}
    return render_template("studies/comments.html", study=study, page=page, q=q, texts=texts)


def _count(column, condition) -> int:
    return db.session.scalar(select(func.count(column)).where(condition))
