"""Reading public comments from CSV exports (regulations.gov and similar).

Exports differ in their column names, so reading happens in two steps:
``preview_csv`` shows the columns, a few rows and a guessed ``ColumnMapping``
(which column holds the text, the ID, the name, ...); the researcher confirms
or changes the mapping and ``read_comments_csv`` reads every row with it.
Rows with problems are reported by row number and left out, never guessed at.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass, field, fields

# Column names as regulations.gov exports them, then common alternatives.
ID_COLUMNS = ("Document ID", "document_id", "id", "ID", "Tracking Number")
TEXT_COLUMNS = ("Text Comment", "Comment", "comment", "text", "body")
NAME_COLUMNS = ("Author", "Name", "name", "Submitter Name", "First Name", "author")
LAST_NAME_COLUMNS = ("Last Name", "last_name")
ORGANIZATION_COLUMNS = ("Organization Name", "Organization", "organization",
                        "Organization/Affiliation")
EMAIL_COLUMNS = ("Email", "email", "E-mail", "Email Address")

# regulations.gov comments can be long; the csv module's default field limit
# (128 KiB) would stop the whole file at the first long one.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class ColumnMapping:
    """Which CSV column holds each field; ``None`` when the file has none."""

    text: str
    external_id: str | None = None
    author_name: str | None = None
    # regulations.gov splits names into "First Name" and "Last Name".
    author_last_name: str | None = None
    organization: str | None = None
    email: str | None = None

    def columns(self) -> list[str]:
        return [c for c in (getattr(self, f.name) for f in fields(self)) if c]

    def to_dict(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, str | None]) -> ColumnMapping:
        known = {f.name for f in fields(cls)}
        return cls(**{k: (v or None) for k, v in data.items() if k in known})


@dataclass(frozen=True)
class ImportedComment:
    row: int
    external_id: str | None
    body: str
    author_name: str = ""
    organization: str = ""
    email: str = ""


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


@dataclass(frozen=True)
class CSVPreview:
    columns: list[str]
    rows: list[dict[str, str]]
    total_rows: int
    mapping: ColumnMapping | None  # None when no text column could be guessed
    sample: list[ImportedComment] = field(default_factory=list)


class CommentCSVError(ValueError):
    """The file as a whole cannot be read (no header, no text column)."""


def _decode(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommentCSVError("The file is not UTF-8 text. Save it as CSV (UTF-8).") from exc


def _first(candidates: tuple[str, ...], header: list[str]) -> str | None:
    return next((c for c in candidates if c in header), None)


def guess_mapping(header: list[str]) -> ColumnMapping | None:
    text = _first(TEXT_COLUMNS, header)
    if text is None:
        return None
    name = _first(NAME_COLUMNS, header)
    return ColumnMapping(
        text=text,
        external_id=_first(ID_COLUMNS, header),
        author_name=name,
        author_last_name=_first(LAST_NAME_COLUMNS, header) if name == "First Name" else None,
        organization=_first(ORGANIZATION_COLUMNS, header),
        email=_first(EMAIL_COLUMNS, header),
    )


def _reader(text: str) -> tuple[csv.DictReader, list[str]]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h for h in (reader.fieldnames or []) if h is not None]
    except csv.Error as exc:
        raise CommentCSVError(f"The file is not a readable CSV file ({exc}).") from exc
    if not header:
        raise CommentCSVError("The file is empty or has no header row.")
    return reader, header


def preview_csv(data: str | bytes, rows: int = 5) -> CSVPreview:
    """The columns, the first ``rows`` rows, the row count and a guessed mapping."""
    reader, header = _reader(_decode(data))
    shown: list[dict[str, str]] = []
    total = 0
    try:
        for row in reader:
            total += 1
            if len(shown) < rows:
                shown.append({c: (row.get(c) or "") for c in header})
    except csv.Error as exc:
        raise CommentCSVError(f"Row {reader.line_num} cannot be read: {exc}.") from exc
    mapping = guess_mapping(header)
    sample = [_comment(i + 2, r, mapping) for i, r in enumerate(shown)] if mapping else []
    return CSVPreview(header, shown, total, mapping, sample)


def _cell(row: dict, column: str | None) -> str:
    return (row.get(column) or "").strip() if column else ""


def _comment(row_number: int, row: dict, mapping: ColumnMapping) -> ImportedComment:
    name = " ".join(p for p in (_cell(row, mapping.author_name),
                                _cell(row, mapping.author_last_name)) if p)
    return ImportedComment(
        row=row_number, external_id=_cell(row, mapping.external_id) or None,
        body=_cell(row, mapping.text), author_name=name[:200],
        organization=_cell(row, mapping.organization)[:200],
        email=_cell(row, mapping.email)[:254])


def read_comments_csv(data: str | bytes, max_length: int = 100_000,
                      mapping: ColumnMapping | None = None,
                      ) -> tuple[list[ImportedComment], list[RowError]]:
    """Parse comments; rows with problems are reported by row number, not imported.

    Without a mapping, the columns are guessed (``guess_mapping``).
    """
    reader, header = _reader(_decode(data))
    if mapping is None:
        mapping = guess_mapping(header)
        if mapping is None:
            raise CommentCSVError(
                "No comment text column found. Expected one of: " + ", ".join(TEXT_COLUMNS)
                + f". The file's columns are: {', '.join(header) or 'none'}.")
    missing = [c for c in mapping.columns() if c not in header]
    if missing:
        raise CommentCSVError(f"The file has no column named {', '.join(missing)}.")
    comments: list[ImportedComment] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    row_number = 1  # row 1 is the header
    try:
        for row_number, row in enumerate(reader, start=2):
            comment = _comment(row_number, row, mapping)
            external_id = comment.external_id
            if not comment.body:
                errors.append(RowError(row_number, "The comment text is empty."))
            elif len(comment.body) > max_length:
                errors.append(RowError(row_number, f"The comment is longer than {max_length:,} "
                                                   "characters."))
            elif external_id and len(external_id) > 80:
                errors.append(RowError(row_number, "The ID is longer than 80 characters."))
            elif external_id and external_id in seen:
                errors.append(RowError(row_number, f"The ID {external_id} already appears on "
                                                   f"row {seen[external_id]}."))
            else:
                if external_id:
                    seen[external_id] = row_number
                comments.append(comment)
    except csv.Error as exc:
        raise CommentCSVError(f"Row {row_number + 1} cannot be read: {exc}.") from exc
    return comments, errors
