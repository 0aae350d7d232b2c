"""Error pages: a clear page for people, JSON for scripts, never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from models import db

EXPLANATIONS = {
    400: "The request could not be understood. Go back, check the form and try again.",
    403: "Your role does not allow this. Ask a researcher on the study or an administrator.",
    404: "There is nothing here, or it belongs to a study you are not a member of.",
    405: "That action is not available at this address.",
    413: "The upload or form is larger than this server accepts.",
    429: "Too many attempts in a short time. Wait a minute and try again.",
    500: "Something went wrong on our side. Nothing you submitted was half-saved; try again.",
}


def wants_json() -> bool:
    if request.is_json or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and (
        request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(code: int, title: str, detail: str | None = None):
    detail = detail or EXPLANATIONS.get(code, "")
    if wants_json():
        return jsonify(error=title, detail=detail, status=code), code
    return render_template("errors/error.html", code=code, title=title, detail=detail), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        return render_error(
            400, "Form expired or invalid",
            "The form's security token was missing or expired, so nothing was saved. "
            "Reload the page and submit it again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        code = error.code or 500
        detail = error.description if code in (400, 403) and error.description and (
            error.description != type(error).description) else None
        return render_error(code, error.name, detail)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        return render_error(500, "Something went wrong")
