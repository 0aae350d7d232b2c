from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engage.access import role_required
from engage.admin import bp
from engage.admin.forms import EditUserForm, ResetPasswordForm, UserForm, WorkerCheckForm
from engage.admin.operations import reset_password, update_user
from engage.auth.operations import AccountError, create_user
from engage.jobs.operations import enqueue, recent_jobs
from engage.pagination import paginate
from engage.security import recent_login_required
from models import AuditEvent, Role, User, db

admin_only = role_required(Role.ADMIN)


@bp.get("/users")
@admin_only
def users():
    page = paginate(select(User).order_by(User.name))
    return render_template("admin/users.html", page=page)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def user_new():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user, password = create_user(form.email.data, form.name.data, Role(form.role.data),
                                         actor=current_user)
        except AccountError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            return render_template("admin/password_shown.html", user=user, password=password)
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
@recent_login_required
def user_edit(user_id):
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        try:
            update_user(current_user, user, name=form.name.data, role=Role(form.role.data),
                        active=form.active.data)
        except AccountError as error:
            form.role.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"{user.name}'s account is saved.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_edit.html", form=form, user=user,
                           reset_form=ResetPasswordForm())


@bp.post("/users/<int:user_id>/password")
@admin_only
@recent_login_required
def user_password(user_id):
    user = db.get_or_404(User, user_id)
    if not ResetPasswordForm().validate_on_submit():
        return redirect(url_for("admin.user_edit", user_id=user.id))
    password = reset_password(current_user, user)
    db.session.commit()
    return render_template("admin/password_shown.html", user=user, password=password)


@bp.route("/system", methods=["GET", "POST"])
@admin_only
def system():
    form = WorkerCheckForm()
    if form.validate_on_submit():
        job = enqueue("worker-check", actor=current_user)
        db.session.commit()
        return redirect(url_for("jobs.show", job_id=job.id))
    return render_template("admin/system.html", form=form, jobs=recent_jobs(None))


@bp.get("/audit")
@admin_only
def audit():
    action = request.args.get("action", "").strip()
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    return render_template("admin/audit.html", page=paginate(query, per_page=50), action=action)
