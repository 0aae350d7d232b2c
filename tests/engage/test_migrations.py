"""Migrations build the schema the models describe and keep data across upgrades."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from engage import create_app
from models import db
from tests.conftest import make_test_config


def _app(tmp_path):
    return create_app(make_test_config(tmp_path))


def test_upgrade_empty_database_to_head_matches_models(tmp_path, instance_path):
    app = _app(tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"render_as_batch": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ; run flask db migrate: {diff}"
        tables = set(inspect(db.engine).get_table_names())
        assert {"user", "study", "study_member", "code", "job", "comment"} <= tables


def test_upgrade_keeps_rows_and_downgrade_round_trips(tmp_path, instance_path):
    app = _app(tmp_path)
    with app.app_context():
        upgrade()
        from engage.demo import load_demo

        load_demo()
        db.session.commit()
        upgrade()  # what every `make run` does on an existing database
        assert db.session.scalar(text("select count(*) from comment")) == 199
        db.session.remove()
        downgrade(revision="base")
        assert "comment" not in inspect(db.engine).get_table_names()
        upgrade()
        assert "comment" in inspect(db.engine).get_table_names()


FIRST_REVISION = "0c47ee5a979d"


def test_database_from_the_first_release_upgrades_without_losing_rows(tmp_path, instance_path):
    app = _app(tmp_path)
    with app.app_context():
        upgrade(revision=FIRST_REVISION)
        with db.engine.begin() as connection:
            connection.execute(text(
                "insert into user (id, email, name, password_hash, role, active, failed_logins,"
                " created_at) values (1, 'a@example.org', 'A', 'x', 'researcher', 1, 0,"
                " '2026-01-01 00:00:00')"))
            connection.execute(text(
                "insert into study (id, name, description, created_at)"
                " values (1, 'Old study', '', '2026-01-01 00:00:00')"))
            connection.execute(text(
                "insert into consultation (id, study_id, title, draft, created_at)"
                " values (1, 1, 'Old consultation', '', '2026-01-01 00:00:00')"))
            connection.execute(text(
                "insert into comment (id, consultation_id, external_id, body, source, created_at)"
                " values (1, 1, 'X-1', 'An old comment', 'import', '2026-01-01 00:00:00')"))
        upgrade()
        from models import Comment, CommentStatus, Consultation

        comment = db.session.get(Comment, 1)
        assert comment.body == "An old comment"
        assert comment.status is CommentStatus.PENDING and comment.answers == {}
        consultation = db.session.get(Consultation, 1)
        assert consultation.languages == ["en", "es"] and consultation.questions == []
        assert consultation.max_comment_length == 10_000


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    import engage.extensions  # noqa: F401  (installs the connect hook)

    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
