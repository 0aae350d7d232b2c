"""Bad input gets a clear 4xx and changes nothing."""

import pytest

from models import Role, Study, StudyMember


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_csrf_is_enforced_and_nothing_is_written(client, make, db):
    researcher = make.user(Role.RESEARCHER)
    # Sign in properly, with the token from the form.
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/login", data={"email": researcher.email, "password": make.PASSWORD,
                                       "csrf_token": token}).status_code == 302
    response = client.post("/studies/new", data={"name": "Sneaky"})
    assert response.status_code == 400
    assert "security token was missing or expired" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(Study).where(Study.name == "Sneaky")) is None


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_login_without_csrf_token_is_refused(client, make):
    user = make.user()
    response = client.post("/login", data={"email": user.email, "password": make.PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still signed out


def test_unknown_route_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing here" in response.get_data(as_text=True)


def test_json_clients_get_json_errors(client, make, login):
    login(make.user())
    response = client.get("/jobs/424242.json")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 1024}], indirect=True)
def test_oversized_request_is_413(client, make, login, db):
    login(make.user())
    response = client.post("/studies/new", data={"name": "x" * 5000})
    assert response.status_code == 413
    assert "larger than this server accepts" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Study.id))) == 0


def test_malformed_form_data_is_refused_without_a_write(client, make, login, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    target = make.user(Role.CODER)
    login(owner)
    response = client.post(f"/studies/{study.id}/members",
                           data={"email": target.email, "role": "superuser"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    response = client.post(f"/studies/{study.id}/members",
                           data={"email": "not-an-email", "role": "coder"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(StudyMember.id))) == 1  # only the owner


def test_bad_page_numbers(client, make, login):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    login(owner)
    assert client.get(f"/studies/{study.id}/comments?page=abc").status_code == 200
    assert client.get(f"/studies/{study.id}/comments?page=0").status_code == 404
    assert client.get(f"/studies/{study.id}/comments?page=99").status_code == 404


def test_unexpected_errors_are_a_500_page_not_a_trace(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body and "secret internals" not in body
