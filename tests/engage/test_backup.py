"""Backup while the app writes, then restore to an identical database."""

from __future__ import annotations

import io
import sqlite3
import tarfile
import threading
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade

from engage import create_app
from engage.demo import load_demo
from models import db
from tests.conftest import make_test_config


def _dump(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


@pytest.fixture
def running_app(tmp_path, instance_path):
    app = create_app(make_test_config(tmp_path, UPLOAD_FOLDER=str(tmp_path / "files")))
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        recordings = Path(app.config["UPLOAD_FOLDER"]) / "recordings"
        recordings.mkdir(parents=True, exist_ok=True)
        (recordings / "abc123").write_bytes(b"RIFF fake audio bytes" * 100)
        (instance_path / "config.py").write_text("PAGE_SIZE = 30\n")
        yield app
        db.session.remove()


def test_backup_under_concurrent_writes_restores_identically(running_app, tmp_path):
    app = running_app
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    stop = threading.Event()
    written = []

    def keep_writing():
        # Another process's worth of writes: its own connection, committing constantly.
        connection = sqlite3.connect(database, timeout=30)
        while not stop.is_set():
            connection.execute(
                "insert into audit_event (at, actor_email, action, detail)"
                " values (datetime('now'), 'writer@example.org', 'test.write', '{}')")
            connection.commit()
            written.append(1)
            time.sleep(0.002)
        connection.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    time.sleep(0.2)
    result = app.test_cli_runner().invoke(args=["engage", "backup", str(tmp_path / "snap")])
    time.sleep(0.2)
    stop.set()
    writer.join()
    assert result.exit_code == 0, result.output
    archive = tmp_path / "snap.tar.gz"
    uploaded = sum(1 for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file())
    assert f"Backed up the database and {uploaded} files" in result.output
    assert archive.stat().st_mode & 0o077 == 0

    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        assert {"manifest.json", "database.sqlite", "files/recordings/abc123",
                "instance/config.py"} <= names
        tar.extract("database.sqlite", tmp_path / "extracted", filter="data")
    snapshot = tmp_path / "extracted" / "database.sqlite"
    snapshot_rows = _dump(snapshot)
    writes_in_snapshot = sum("test.write" in row for row in snapshot_rows)
    assert 0 < writes_in_snapshot < len(written)  # taken mid-stream, and consistent:
    assert sqlite3.connect(snapshot).execute("pragma integrity_check").fetchone()[0] == "ok"

    # Restore into a fresh installation.
    fresh = tmp_path / "fresh"
    fresh_app = create_app(make_test_config(
        fresh, SQLALCHEMY_DATABASE_URI=f"sqlite:///{fresh / 'engage.sqlite'}",
        UPLOAD_FOLDER=str(fresh / "files")))
    fresh.mkdir(exist_ok=True)
    with fresh_app.app_context():
        restored = fresh_app.test_cli_runner().invoke(
            args=["engage", "restore", str(archive), "--yes"])
        assert restored.exit_code == 0, restored.output
        db.session.remove()
    assert _dump(fresh / "engage.sqlite") == snapshot_rows
    assert (fresh / "files" / "recordings" / "abc123").read_bytes() == (
        Path(app.config["UPLOAD_FOLDER"]) / "recordings" / "abc123").read_bytes()
    assert (Path(fresh_app.instance_path) / "config.py").read_text() == "PAGE_SIZE = 30\n"


def test_restore_refuses_damaged_or_foreign_archives(running_app, tmp_path):
    app = running_app
    runner = app.test_cli_runner()
    runner.invoke(args=["engage", "backup", str(tmp_path / "good.tar.gz")])
    # Damage the database inside the archive, keep the manifest.
    with tarfile.open(tmp_path / "good.tar.gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    members["database.sqlite"] = members["database.sqlite"][:-10] + b"0123456789"
    with tarfile.open(tmp_path / "bad.tar.gz", "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    result = runner.invoke(args=["engage", "restore", str(tmp_path / "bad.tar.gz"), "--yes"])
    assert result.exit_code == 1 and "damaged" in result.output
    with tarfile.open(tmp_path / "foreign.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    result = runner.invoke(args=["engage", "restore", str(tmp_path / "foreign.tar.gz"),
                                 "--yes"])
    assert result.exit_code == 1 and "not an Engage backup" in result.output
    existing = runner.invoke(args=["engage", "backup", str(tmp_path / "good.tar.gz")])
    assert existing.exit_code == 1 and "already exists" in existing.output
