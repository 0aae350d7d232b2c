"""Fixtures: an app on its own SQLite file per test, a client, factories."""

from __future__ import annotations

import pytest

from engage import create_app
from models import db as _db
from tests.factories import Factory

pytest_plugins = ["tests.worker"]  # the start_worker fixture


def make_test_config(tmp_path, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "only-for-tests",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'engage.sqlite'}",
        "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
        "WTF_CSRF_ENABLED": False,
    }
    config.update(overrides)
    return config


@pytest.fixture
def instance_path(tmp_path, monkeypatch):
    path = tmp_path / "instance"
    monkeypatch.setenv("ENGAGE_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def app_config(request) -> dict:
    """Extra configuration, via ``parametrize("app_config", [{...}], indirect=True)``."""
    return getattr(request, "param", {})


@pytest.fixture
def app(tmp_path, instance_path, app_config):
    app = create_app(make_test_config(tmp_path, **app_config))
    with app.app_context():
        _db.create_all()
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(db) -> Factory:
    return Factory(db)


@pytest.fixture
def login(client):
    def login_as(user, password: str = Factory.PASSWORD):
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return login_as
