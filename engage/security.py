"""HTTP security headers, session lifetime and re-authentication for sensitive actions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, current_app, redirect, request, session, url_for
from flask_login import current_user, logout_user

from models import utcnow

# No inline script anywhere: scripts come from /static only. Inline style *attributes*
# are allowed for data-driven colours (code swatches); style elements are not.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "media-src 'self'",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

AUTH_AT = "auth_at"
LOGIN_AT = "login_at"


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if current_user.is_authenticated:
            # Pages behind sign-in hold personal data: never keep them in shared caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.before_request
    def expire_old_sessions():
        started = session.get(LOGIN_AT)
        if current_user.is_authenticated and started is not None:
            limit = current_app.config["SESSION_MAX_HOURS"] * 3600
            if utcnow().timestamp() - started > limit:
                logout_user()
                session.clear()
                return redirect(url_for("auth.login", next=request.full_path))
        return None


def mark_signed_in() -> None:
    """Start a session: it slides with activity but ends after SESSION_MAX_HOURS."""
    session.permanent = True
    now = utcnow().timestamp()
    session[LOGIN_AT] = now
    session[AUTH_AT] = now


def mark_reauthenticated() -> None:
    session[AUTH_AT] = utcnow().timestamp()


def recently_authenticated() -> bool:
    window = timedelta(minutes=current_app.config["REAUTH_MINUTES"]).total_seconds()
    return utcnow().timestamp() - session.get(AUTH_AT, 0) <= window


def recent_login_required(view: Callable) -> Callable:
    """Sensitive actions (exports, role changes) ask for the password again after a while."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.is_authenticated and not recently_authenticated():
            target = request.full_path if request.method == "GET" else request.referrer
            return redirect(url_for("auth.confirm", next=target))
        return view(*args, **kwargs)

    wrapped.needs_recent_login = True
    return wrapped
