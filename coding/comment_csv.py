"""Reading public comments from CSV exports (regulations.gov and similar)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

# Column names as regulations.gov exports them, then common alternatives.
ID_COLUMNS = ("Document ID", "document_id", "id", "ID")
TEXT_COLUMNS = ("Text Comment", "Comment", "comment", "text", "body")


@dataclass(frozen=True)
class ImportedComment:
    row: int
    external_id: str | None
    body: str


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


class CommentCSVError(ValueError):
    """The file as a whole cannot be read (no header, no text column)."""


def read_comments_csv(data: str | bytes,
                      max_length: int = 100_000) -> tuple[list[ImportedComment], list[RowError]]:
    """Parse comments; rows with problems are reported by row number, not imported."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommentCSVError("The file is not UTF-8 text. Save it as CSV (UTF-8).") from exc
    reader = csv.DictReader(io.StringIO(data))
    header = reader.fieldnames or []
    text_col = next((c for c in TEXT_COLUMNS if c in header), None)
    id_col = next((c for c in ID_COLUMNS if c in header), None)
    if text_col is None:
        raise CommentCSVError(
            "No comment text column found. Expected one of: " + ", ".join(TEXT_COLUMNS)
            + f". The file's columns are: {', '.join(header) or 'none'}.")
    comments: list[ImportedComment] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row_number, row in enumerate(reader, start=2):  # row 1 is the header
        body = (row.get(text_col) or "").strip()
        external_id = (row.get(id_col) or "").strip() or None if id_col else None
        if not body:
            errors.append(RowError(row_number, "The comment text is empty."))
        elif len(body) > max_length:
            errors.append(RowError(row_number, f"The comment is longer than {max_length:,} "
                                               "characters."))
        elif external_id and external_id in seen:
            errors.append(RowError(row_number, f"The ID {external_id} already appears on row "
                                               f"{seen[external_id]}."))
        else:
            if external_id:
                seen[external_id] = row_number
            comments.append(ImportedComment(row_number, external_id, body))
    return comments, errors
