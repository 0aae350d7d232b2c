"""Backup and restore: the database, uploaded files and instance configuration.

A backup is one ``.tar.gz``: ``manifest.json``, ``database.sqlite`` (SQLite's online
backup API, consistent while the app keeps writing) or ``database.sql`` (``pg_dump``),
``files/`` (recordings, attachments) and ``instance/`` (``config.py``, ``secret_key``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from models import utcnow

FORMAT_VERSION = 1
INSTANCE_FILES = ("config.py", "secret_key")


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead, with the reason in plain words."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    database: str
    files: int
    revision: str | None


def backup(target: Path, *, database_url: str, instance: Path, upload_folder: Path,
           revision: str | None) -> BackupSummary:
    target = target if target.name.endswith(".tar.gz") else target.with_name(
        target.name + ".tar.gz")
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new name.")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        database = _dump_database(database_url, work)
        manifest = {
            "format": FORMAT_VERSION, "created_at": utcnow().isoformat(),
            "database": database.name, "alembic_revision": revision,
            "sha256": {database.name: _sha256(database)},
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        files = 0
        with tarfile.open(target, "w:gz") as archive:
            archive.add(work / "manifest.json", "manifest.json")
            archive.add(database, database.name)
            for name in INSTANCE_FILES:
                if (instance / name).exists():
                    archive.add(instance / name, f"instance/{name}")
            if upload_folder.exists():
                for path in sorted(p for p in upload_folder.rglob("*") if p.is_file()):
                    archive.add(path, f"files/{path.relative_to(upload_folder)}")
                    files += 1
    target.chmod(0o600)
    return BackupSummary(target, database.name, files, revision)


def restore(source: Path, *, database_url: str, instance: Path, upload_folder: Path) -> dict:
    """Bring a backup back. Stop the server and workers first: the database is replaced."""
    if not source.exists():
        raise BackupError(f"There is no backup at {source}.")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(source, "r:gz") as archive:
        work = Path(tmp)
        # The data filter refuses absolute paths, links out of the folder and devices.
        archive.extractall(work, filter="data")
        try:
            manifest = json.loads((work / "manifest.json").read_text())
        except (OSError, ValueError) as error:
            raise BackupError("This is not an Engage backup (no manifest).") from error
        if manifest.get("format") != FORMAT_VERSION:
            raise BackupError("This backup was made by an incompatible version of Engage.")
        database = work / manifest["database"]
        if _sha256(database) != manifest["sha256"][database.name]:
            raise BackupError("The backup's database does not match its checksum; it is "
                              "damaged.")
        _load_database(database, database_url)
        if (work / "files").exists():
            shutil.copytree(work / "files", upload_folder, dirs_exist_ok=True)
        for name in INSTANCE_FILES:
            if (work / "instance" / name).exists():
                shutil.copy2(work / "instance" / name, instance / name)
    return manifest


def _dump_database(database_url: str, work: Path) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        out = work / "database.sqlite"
        source = sqlite3.connect(url.database)
        destination = sqlite3.connect(out)
        try:
            with destination:
                source.backup(destination)  # one step: a consistent snapshot
        finally:
            source.close()
            destination.close()
        return out
    if url.get_backend_name() == "postgresql":
        out = work / "database.sql"
        _run(["pg_dump", "--clean", "--if-exists", "--no-owner", "-f", str(out),
              _libpq_url(database_url)])
        return out
    raise BackupError(f"Backups of {url.get_backend_name()} databases are not supported.")


def _load_database(dump: Path, database_url: str) -> None:
    url = make_url(database_url)
    if dump.suffix == ".sqlite" and url.get_backend_name() == "sqlite":
        source = sqlite3.connect(dump)
        destination = sqlite3.connect(url.database)
        try:
            source.backup(destination)
        finally:
            source.close()
            destination.close()
    elif dump.suffix == ".sql" and url.get_backend_name() == "postgresql":
        _run(["psql", "--quiet", "--set", "ON_ERROR_STOP=1", "-f", str(dump),
              _libpq_url(database_url)])
    else:
        raise BackupError("The backup's database kind differs from the configured one.")


def _libpq_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} is not installed on this machine.") from error
    except subprocess.CalledProcessError as error:
        raise BackupError(f"{command[0]} failed: {error.stderr.strip()[:500]}") from error


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
