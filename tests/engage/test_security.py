"""Security headers, cookies, session expiry, re-authentication and the audit log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engage.security import AUTH_AT, LOGIN_AT
from models import AuditEvent, Role, StudyMember, StudyRole
from models.audit import AuditLogIsAppendOnly

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def actions(db) -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_security_headers_on_public_and_signed_in_pages(client, make, login):
    for response in (client.get("/login"),):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    login(make.user())
    page = client.get("/")
    assert page.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in page.headers


def test_no_inline_script_in_any_template():
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", path.read_text()):
            # Data blocks (type="application/json") are not executed; anything else needs src.
            assert "src=" in tag or 'type="application/json"' in tag, f"inline script in {path}"
        assert not re.search(r"\son[a-z]+\s*=", path.read_text()), f"event handler in {path}"


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True}], indirect=True)
def test_session_cookie_is_secure_httponly_samesite(client, make):
    user = make.user()
    response = client.post("/login", data={"email": user.email, "password": make.PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # a permanent session with a lifetime, not forever


def test_session_ends_after_the_maximum_age(client, make, login, app):
    login(make.user())
    with client.session_transaction() as session:
        session[LOGIN_AT] -= app.config["SESSION_MAX_HOURS"] * 3600 + 60
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/").headers["Location"].startswith("/login")


def test_export_asks_for_password_again_after_a_while(client, make, login, db):
    from engage.transcript_editor.operations import create_transcript
    from transcripts.segments import Segment

    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    transcript = create_transcript(study.id, [Segment(0, 1000, "Hello")], title="T",
                                   source="vtt")
    db.session.commit()
    login(owner)
    url = f"/studies/{study.id}/transcripts/{transcript.id}/export.vtt"
    assert client.get(url).status_code == 200  # just signed in
    with client.session_transaction() as session:
        session[AUTH_AT] -= 16 * 60
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/confirm?next=")
    wrong = client.post(response.headers["Location"], data={"password": "nope"})
    assert "That password is not right" in wrong.get_data(as_text=True)
    right = client.post(response.headers["Location"], data={"password": make.PASSWORD})
    assert right.headers["Location"] == url
    assert client.get(url).status_code == 200
    assert actions(db).count("transcript.export") == 2
    assert "reauth.failed" in actions(db) and "reauth" in actions(db)


def test_role_change_needs_recent_password(client, make, login, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    member = make.member(study, make.user(Role.RESEARCHER), StudyRole.CODER)
    login(owner)
    with client.session_transaction() as session:
        session[AUTH_AT] = 0
    response = client.post(f"/studies/{study.id}/members/{member.id}/role",
                           data={"role": "researcher"},
                           headers={"Referer": f"/studies/{study.id}/members"})
    assert response.headers["Location"].startswith("/account/confirm")
    db.session.expire_all()
    assert db.session.get(StudyMember, member.id).role is StudyRole.CODER


def test_audit_log_records_who_did_what(client, make, login, db):
    admin = make.user(Role.ADMIN)
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    client.post("/login", data={"email": owner.email, "password": "wrong"})
    login(owner)
    coder = make.user(Role.CODER)
    client.post(f"/studies/{study.id}/members", data={"email": coder.email, "role": "coder"})
    client.get(f"/studies/{study.id}/participants")
    client.post("/logout")
    events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
    by_action = {e.action: e for e in events}
    assert [e.action for e in events][-5:] == [
        "login.failed", "login", "member.add", "contacts.view", "logout"]
    assert by_action["login.failed"].detail["email"] == owner.email
    assert by_action["member.add"].actor_id == owner.id
    assert (by_action["member.add"].target_type, by_action["member.add"].target_id) == (
        "user", coder.id)
    assert by_action["member.add"].ip == "127.0.0.1"
    login(admin)
    page = client.get("/admin/audit?action=member").get_data(as_text=True)
    assert "member.add" in page and "login.failed" not in page


def test_audit_log_is_append_only(app, make, db):
    make.study(make.user(Role.RESEARCHER))
    event = db.session.scalar(db.select(AuditEvent))
    event.action = "tampered"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(db.select(AuditEvent)))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(db.select(AuditEvent)).action == "study.create"


def test_audit_page_is_for_admins_only(client, make, login):
    login(make.user(Role.RESEARCHER))
    assert client.get("/admin/audit").status_code == 403


