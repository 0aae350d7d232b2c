from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from engage.audit import record
from engage.auth import bp
from engage.auth.forms import ChangePasswordForm, ConfirmPasswordForm, LoginForm
from engage.auth.operations import (
    AccountError,
    authenticate,
    change_password,
    confirm_password,
)
from engage.extensions import limiter
from engage.security import mark_reauthenticated, mark_signed_in
from engage.urls import safe_next
from models import db


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        result = authenticate(
            form.email.data, form.password.data,
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lockout_minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"],
        )
        db.session.commit()
        if result.user:
            login_user(result.user, remember=form.remember.data)
            mark_signed_in()
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
        form.password.errors.append(result.error)
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    record("logout", current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current.data, form.new.data)
        except AccountError as error:
            form.current.errors.append(str(error))
        else:
            db.session.commit()
            flash("Your password is changed.", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def confirm():
    """Ask for the password again before an export or a role change."""
    form = ConfirmPasswordForm()
    target = safe_next(request.args.get("next")) or url_for("main.index")
    if form.validate_on_submit():
        try:
            confirm_password(current_user, form.password.data)
        except AccountError as error:
            form.password.errors.append(str(error))
        else:
            mark_reauthenticated()
            db.session.commit()
            return redirect(target)
        db.session.commit()
    return render_template("auth/confirm.html", form=form)
