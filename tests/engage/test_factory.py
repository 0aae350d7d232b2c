"""The factory's configuration order and generated secrets."""

from engage import create_app
from tests.conftest import make_test_config


def test_config_order_defaults_instance_env_test(tmp_path, instance_path, monkeypatch):
    instance_path.mkdir(parents=True)
    (instance_path / "config.py").write_text(
        "PAGE_SIZE = 11\nLOGIN_MAX_FAILURES = 11\nLOGIN_LOCKOUT_MINUTES = 11\n")
    monkeypatch.setenv("ENGAGE_LOGIN_MAX_FAILURES", "22")
    monkeypatch.setenv("ENGAGE_LOGIN_LOCKOUT_MINUTES", "22")
    app = create_app(make_test_config(tmp_path, LOGIN_LOCKOUT_MINUTES=33))
    assert app.config["JOB_STALE_AFTER_SECONDS"] == 900  # default
    assert app.config["PAGE_SIZE"] == 11  # instance/config.py over defaults
    assert app.config["LOGIN_MAX_FAILURES"] == 22  # environment over instance
    assert app.config["LOGIN_LOCKOUT_MINUTES"] == 33  # test config over everything


def test_secret_key_generated_once_into_instance(tmp_path, instance_path):
    config = make_test_config(tmp_path)
    del config["SECRET_KEY"]
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    key_file = instance_path / "secret_key"
    assert key_file.read_text() == first == second
    assert len(first) == 64
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only


def test_default_database_and_broker_live_in_instance(instance_path):
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance_path / 'engage.sqlite'}"
    assert app.config["CELERY_BROKER_URL"] == f"sqla+sqlite:///{instance_path / 'broker.sqlite'}"
    assert app.extensions["celery"].conf.broker_url == app.config["CELERY_BROKER_URL"]
    assert app.extensions["celery"].conf.task_acks_late is True


def test_database_url_switches_to_postgresql_with_psycopg(instance_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://engage:pw@db.internal:5432/engage")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://engage:pw@db.internal:5432/engage")
    with app.app_context():
        from models import db

        assert db.engine.dialect.driver == "psycopg"


def test_redis_broker_from_environment(instance_path, monkeypatch):
    monkeypatch.setenv("ENGAGE_CELERY_BROKER_URL", "redis://queue.internal:6379/0")
    app = create_app({"TESTING": True})
    assert app.extensions["celery"].conf.broker_url == "redis://queue.internal:6379/0"


def test_domain_packages_do_not_import_flask():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for package in ("coding", "transcripts"):
        for path in (root / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                for name in names:
                    top = name.split(".")[0]
                    assert top not in ("flask", "engage", "flask_sqlalchemy"), (
                        f"{path} imports {name}")
