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


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    import engage.extensions  # noqa: F401  (installs the connect hook)

    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
