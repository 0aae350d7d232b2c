"""Signing in and out, lockout, rate limiting, passwords, accounts."""

import pytest

from models import Role, User


def test_login_and_logout(client, make, login):
    user = make.user(Role.CODER, name="Casey")
    assert client.get("/").status_code == 302  # anonymous: sent to sign in
    login(user)
    page = client.get("/")
    assert page.status_code == 200 and "Casey" in page.get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")


def test_wrong_password_is_refused_with_a_message(client, make, db):
    user = make.user()
    response = client.post("/login", data={"email": user.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match an active account" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).failed_logins == 1


def test_email_is_case_insensitive(client, make):
    make.user(email="mixed@example.org")
    response = client.post("/login", data={"email": "MIXED@example.ORG",
                                           "password": make.PASSWORD})
    assert response.status_code == 302


def test_lockout_after_repeated_failures(client, make, app, db):
    user = make.user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        response = client.post("/login", data={"email": user.email, "password": "wrong"})
    assert "locked for 15 minutes" in response.get_data(as_text=True)
    # Even the right password is refused while locked.
    response = client.post("/login", data={"email": user.email, "password": make.PASSWORD})
    assert response.status_code == 200
    assert "locked for" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).locked_until is not None


def test_deactivated_account_cannot_sign_in(client, make):
    user = make.user(active=False)
    response = client.post("/login", data={"email": user.email, "password": make.PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "app_config", [{"LOGIN_RATE_LIMIT": "3 per minute", "LOGIN_MAX_FAILURES": 100}],
    indirect=True)
def test_failed_logins_are_rate_limited_per_address(client, make):
    user = make.user()
    codes = [client.post("/login", data={"email": user.email, "password": "x"}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/login").status_code == 200  # reading the form is never limited


def test_next_parameter_only_follows_local_paths(client, make, login):
    user = make.user()
    response = client.post("/login?next=https://evil.example/",
                           data={"email": user.email, "password": make.PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/account/password",
                           data={"email": user.email, "password": make.PASSWORD})
    assert response.headers["Location"] == "/account/password"


def test_change_password(client, make, login, db):
    user = make.user()
    login(user)
    response = client.post("/account/password", data={
        "current": "wrong", "new": "a much longer password", "confirm": "a much longer password"})
    assert "current password is not right" in response.get_data(as_text=True)
    response = client.post("/account/password", data={
        "current": make.PASSWORD, "new": "short", "confirm": "short"})
    assert "at least 10 characters" in response.get_data(as_text=True)
    response = client.post("/account/password", data={
        "current": make.PASSWORD, "new": "a much longer password",
        "confirm": "a much longer password"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password("a much longer password")


def test_admin_creates_account_and_sees_password_once(client, make, login, db):
    login(make.user(Role.ADMIN))
    response = client.post("/admin/users/new", data={
        "name": "New Coder", "email": "new.coder@example.org", "role": "coder"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "shown only now" in page
    created = db.session.scalar(db.select(User).where(User.email == "new.coder@example.org"))
    assert created.role is Role.CODER
    duplicate = client.post("/admin/users/new", data={
        "name": "Again", "email": "NEW.coder@example.org", "role": "coder"})
    assert "already exists" in duplicate.get_data(as_text=True)


def test_admin_cannot_demote_last_admin(client, make, login, db):
    admin = make.user(Role.ADMIN)
    login(admin)
    response = client.post(f"/admin/users/{admin.id}", data={
        "name": admin.name, "role": "coder", "active": "y"})
    assert "cannot remove your own administrator role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).role is Role.ADMIN


def test_admin_resets_password_and_unlocks(client, make, login, db):
    from datetime import timedelta

    from models import utcnow

    target = make.user()
    target.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    login(make.user(Role.ADMIN))
    page = client.post(f"/admin/users/{target.id}/password").get_data(as_text=True)
    password = page.split("<code>")[1].split("</code>")[0]
    db.session.expire_all()
    refreshed = db.session.get(User, target.id)
    assert refreshed.locked_until is None and refreshed.check_password(password)


def test_create_user_cli(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["engage", "create-user", "--email", "cli@example.org",
                                 "--name", "Cli User", "--role", "coder"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[1]
    user = db.session.scalar(db.select(User).where(User.email == "cli@example.org"))
    assert user.role is Role.CODER and user.check_password(password)
    again = runner.invoke(args=["engage", "create-user", "--email", "cli@example.org",
                                "--name", "X", "--role", "coder"])
    assert again.exit_code != 0 and "already exists" in again.output
