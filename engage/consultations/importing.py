"""Importing comments from CSV: preview with a column mapping, then a background job.

The upload is stored first (``engage.uploads``) and previewed; the researcher
confirms the mapping, and the job reads the stored file. A signed token ties
the preview to its study and consultation, so a stored file name from one
study cannot be imported into another.

Duplicates of comments already stored are skipped, not imported twice: the
same external ID in the consultation, or, for rows without an ID, the same
text (as campaign grouping normalises it) from the same name, each stored
copy matching one row. So importing a file twice adds nothing the second time,
while a file's own repeated rows (form letters from people it does not name)
are all kept; campaign grouping handles those.
The job commits in batches between progress reports, so a retry after a lost
worker continues where the last batch ended (the duplicate check skips what
is already there).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from coding.campaigns import normalize
from coding.comment_csv import (
    ColumnMapping,
    CommentCSVError,
    CSVPreview,
    ImportedComment,
    preview_csv,
    read_comments_csv,
)
from engage.jobs.operations import enqueue
from engage.jobs.runner import JobFailed, Progress
from engage.uploads import UploadError, receive_upload, stored_path
from models import Comment, CommentSource, Consultation, Job, User, db

IMPORT_FOLDER = "comment-imports"
BATCH = 500
JOB_KIND = "comments-import"


class ImportError_(ValueError):
    """A refused import, phrased for the researcher."""


@dataclass(frozen=True)
class ImportPreview:
    preview: CSVPreview
    token: str
    filename: str


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="engage.comment-import")


def preview_import(actor: User, consultation: Consultation, file: FileStorage | None
                   ) -> ImportPreview:
    try:
        upload = receive_upload(file, IMPORT_FOLDER,
                                max_bytes=current_app.config["IMPORT_MAX_BYTES"])
    except UploadError as exc:
        raise ImportError_(str(exc)) from exc
    try:
        preview = preview_csv(upload.path.read_bytes())
    except CommentCSVError as exc:
        upload.discard()
        raise ImportError_(str(exc)) from exc
    token = _serializer().dumps({"s": consultation.study_id, "c": consultation.id,
                                 "f": upload.stored_name, "n": upload.original_filename})
    return ImportPreview(preview, token, upload.original_filename)


def reopen_preview(consultation: Consultation, token: str) -> ImportPreview:
    """The preview again (the mapping form failed validation)."""
    data = _token_data(consultation, token)
    preview = preview_csv(stored_path(IMPORT_FOLDER, data["f"]).read_bytes())
    return ImportPreview(preview, token, data["n"])


def _token_data(consultation: Consultation, token: str) -> dict:
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise ImportError_("The preview has expired. Upload the file again.") from exc
    if data.get("s") != consultation.study_id or data.get("c") != consultation.id:
        raise ImportError_("The preview has expired. Upload the file again.")
    if not stored_path(IMPORT_FOLDER, data["f"]).exists():
        raise ImportError_("The uploaded file is gone. Upload it again.")
    return data


def start_import(actor: User, consultation: Consultation, token: str, mapping: ColumnMapping,
                 consent_to_publish: bool) -> Job:
    data = _token_data(consultation, token)
    return enqueue(JOB_KIND, actor=actor, study_id=consultation.study_id,
                   target=("consultation", consultation.id),
                   params={"stored_name": data["f"], "filename": data["n"],
                           "mapping": mapping.to_dict(), "consent": consent_to_publish})


def _content_key(body: str, name: str) -> bytes:
    text = normalize(body) + "\x00" + " ".join(name.casefold().split())
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def run_import(job: Job, progress: Progress) -> str:
    consultation = db.session.get(Consultation, job.target_id)
    if consultation is None:
        raise JobFailed("The consultation was deleted before the import ran.")
    params = job.params
    path = stored_path(IMPORT_FOLDER, params["stored_name"])
    if not path.exists():
        raise JobFailed("The uploaded file is gone. Upload it again and start a new import.")
    progress(1, "Reading the file")
    try:
        rows, errors = read_comments_csv(path.read_bytes(),
                                         mapping=ColumnMapping.from_dict(params["mapping"]))
    except CommentCSVError as exc:
        raise JobFailed(str(exc)) from exc

    ids, keys = _existing(consultation)
    imported = duplicates = 0
    for start in range(0, len(rows), BATCH):
        for row in rows[start:start + BATCH]:
            if _is_duplicate(row, ids, keys):
                duplicates += 1
                continue
            db.session.add(_comment(consultation, row, bool(params.get("consent"))))
            imported += 1
        done = min(start + BATCH, len(rows))
        # Each report commits this batch; a cancel between batches keeps the earlier ones.
        progress(5 + 94 * done / max(len(rows), 1), f"Read {done:,} of {len(rows):,} rows")
    path.unlink(missing_ok=True)
    parts = [f"Imported {imported:,} comments from {params.get('filename', 'the file')}",
             f"{duplicates:,} duplicates of stored comments skipped",
             f"{len(errors):,} rows with problems left out"]
    message = "; ".join(parts) + "."
    if errors:
        message += " " + " ".join(f"Row {e.row}: {e.message}" for e in errors[:10])
        if len(errors) > 10:
            message += f" (and {len(errors) - 10:,} more)"
    return message


def _existing(consultation: Consultation) -> tuple[set[str], Counter[bytes]]:
    ids: set[str] = set()
    keys: Counter[bytes] = Counter()
    rows = db.session.execute(select(Comment.external_id, Comment.body, Comment.author_name)
                              .where(Comment.consultation_id == consultation.id))
    for external_id, body, name in rows:
        if external_id:
            ids.add(external_id)
        else:
            keys[_content_key(body, name or "")] += 1
    return ids, keys


def _is_duplicate(row: ImportedComment, ids: set[str], keys: Counter[bytes]) -> bool:
    if row.external_id:
        # IDs repeated inside the file are row errors already (read_comments_csv).
        return row.external_id in ids
    key = _content_key(row.body, row.author_name)
    if keys[key] > 0:  # one stored copy stands for one row
        keys[key] -= 1
        return True
    return False


def _comment(consultation: Consultation, row: ImportedComment, consent: bool) -> Comment:
    return Comment(consultation_id=consultation.id, external_id=row.external_id, body=row.body,
                   source=CommentSource.IMPORT, author_name=row.author_name,
                   organization=row.organization, email=row.email,
                   consent_to_publish=consent)
