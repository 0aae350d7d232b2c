"""Receiving uploaded files, in one place.

Files are streamed to disk under the instance folder with a generated name and
hashed on the way; the name the user gave is kept only as a label. Whoever
receives a file validates its content (media probe, document check) and calls
``discard`` if it is refused, so a refused upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from models import db

CHUNK = 1024 * 1024


class UploadError(ValueError):
    """An upload refused, with a message for the person who sent it."""


@dataclass(frozen=True)
class StoredUpload:
    stored_name: str
    path: Path
    sha256: str
    size: int
    original_filename: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def upload_folder(kind: str) -> Path:
    """``instance/files/<kind>``: outside every folder the web server serves."""
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def receive_upload(file: FileStorage | None, kind: str, *, max_bytes: int) -> StoredUpload:
    if file is None or not file.filename:
        raise UploadError("Choose a file to upload.")
    stored_name = uuid.uuid4().hex
    path = upload_folder(kind) / stored_name
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("xb") as out:
            while chunk := file.stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError(
                        f"The file is larger than the limit of {human_size(max_bytes)}.")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadError("The file is empty.")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    # Only the last path component, and only as a label.
    label = Path(file.filename.replace("\\", "/")).name[:255]
    return StoredUpload(stored_name, path, digest.hexdigest(), size, label)


def stored_path(kind: str, stored_name: str) -> Path:
    if not stored_name.isalnum():  # generated names are hex; anything else is tampering
        raise UploadError("Unknown file.")
    return upload_folder(kind) / stored_name


# Files follow the transaction that stops or starts referring to them: a stored file is
# removed only once the rows pointing at it are gone for good, and a file written for
# rows that are rolled back does not stay behind.
_REMOVE, _WRITTEN = "engage.files_to_remove", "engage.files_written"


def remove_after_commit(path: Path) -> None:
    db.session.info.setdefault(_REMOVE, []).append(path)


def discard_on_rollback(path: Path) -> None:
    db.session.info.setdefault(_WRITTEN, []).append(path)


def _committed(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    for path in session.info.pop(_REMOVE, []):
        path.unlink(missing_ok=True)


def _rolled_back(session: Session, previous) -> None:
    session.info.pop(_REMOVE, None)
    for path in session.info.pop(_WRITTEN, []):
        path.unlink(missing_ok=True)


event.listen(Session, "after_commit", _committed)
event.listen(Session, "after_soft_rollback", _rolled_back)


def human_size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")
