"""Reading and writing participant lists as CSV. No Flask in here.

``read_participants_csv`` checks a whole file before anything is saved: the file
must have a ``name`` column; every row is checked (name present, email form,
stakeholder group known to the study, language offered, typed attribute values)
and each problem is reported with its row number (the header is row 1, as in a
spreadsheet) and column. The caller saves nothing unless there are no errors.
``write_participants_csv`` writes the same columns, so an export can be edited
and imported into another study.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

REQUIRED_COLUMNS = ("name",)
STANDARD_COLUMNS = ("name", "organization", "stakeholder_group", "region", "county", "email",
                    "phone", "preferred_language", "accessibility_needs", "notes")
LIMITS = {"name": 200, "organization": 200, "stakeholder_group": 120, "region": 120,
          "county": 120, "email": 254, "phone": 40, "preferred_language": 12,
          "accessibility_needs": 2000, "notes": 5000}
MAX_ROWS = 5000
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
YES = {"yes", "y", "true", "1", "sí", "si"}
NO = {"no", "n", "false", "0"}


@dataclass(frozen=True)
class AttributeSpec:
    key: str
    label: str
    kind: str  # text, number, date, yes_no


@dataclass(frozen=True, kw_only=True)
class ParticipantDetails:
    """What is recorded about a participant, less the stakeholder group: a CSV row names
    the group (``ParticipantRow``), a form picks it by id (``engage``'s ``ParticipantData``)."""

    name: str
    organization: str = ""
    region: str = ""
    county: str = ""
    email: str = ""
    phone: str = ""
    preferred_language: str = "en"
    accessibility_needs: str = ""
    notes: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ParticipantRow(ParticipantDetails):
    row: int
    stakeholder_group: str = ""  # the group's name as the study spells it, or ""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class ParticipantCSV:
    columns: list[str]
    rows: list[ParticipantRow]
    errors: list[RowError]
    ignored_columns: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors


class ParticipantCSVError(ValueError):
    """The file as a whole cannot be used (not CSV, no header, missing columns)."""


def normalize_column(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def parse_attribute(kind: str, text: str) -> Any:
    """A typed value from text; raises ValueError with a message. Empty text is None."""
    text = text.strip()
    if not text:
        return None
    if kind == "number":
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            raise ValueError(f"“{text}” is not a number.") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"“{text}” is not a number.")
        return int(number) if number.is_integer() else number
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"“{text}” is not a date like 2027-03-15.") from None
    if kind == "yes_no":
        lowered = text.lower()
        if lowered in YES:
            return True
        if lowered in NO:
            return False
        raise ValueError(f"“{text}” is not yes or no.")
    return text[:1000]


def format_attribute(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _decode(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParticipantCSVError("The file is not UTF-8 text. Save it as CSV (UTF-8).") from exc


def read_participants_csv(data: str | bytes, *, groups: Iterable[str] = (),
                          attributes: Iterable[AttributeSpec] = (),
                          languages: Iterable[str] = ("en", "es"),
                          existing_emails: Iterable[str] = ()) -> ParticipantCSV:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ParticipantCSVError(f"The file is not a readable CSV file ({exc}).") from exc
    if not header or not any(h.strip() for h in header):
        raise ParticipantCSVError("The file is empty or has no header row.")
    specs = {a.key: a for a in attributes}
    by_label = {normalize_column(a.label): a.key for a in specs.values()}
    columns: list[str | None] = []
    ignored: list[str] = []
    for raw in header:
        name = normalize_column(raw)
        name = by_label.get(name, name) if name not in STANDARD_COLUMNS else name
        if name in STANDARD_COLUMNS or name in specs:
            if name in columns:
                raise ParticipantCSVError(f"The column “{raw}” appears twice.")
            columns.append(name)
        else:
            columns.append(None)
            if raw.strip():
                ignored.append(raw.strip())
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ParticipantCSVError(
            f"The file has no “{missing[0]}” column. Its columns are: "
            f"{', '.join(h for h in header if h.strip()) or 'none'}. "
            f"Expected columns: {', '.join(STANDARD_COLUMNS)}"
            + (f", and the attributes {', '.join(specs)}" if specs else "") + ".")
    known_groups = {g.strip().lower(): g for g in groups}
    offered = set(languages)
    seen_emails = {e.strip().lower(): 0 for e in existing_emails if e.strip()}
    rows: list[ParticipantRow] = []
    errors: list[RowError] = []
    row_number = 1
    try:
        for row_number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue  # blank lines are not participants
            if row_number - 1 > MAX_ROWS:
                raise ParticipantCSVError(f"The file has more than {MAX_ROWS:,} rows. Split it.")
            if len(cells) > len(columns):
                errors.append(RowError(row_number, "", f"The row has {len(cells)} cells but the "
                                       f"header has {len(columns)} columns."))
                continue
            values = {c: _unescape(cells[i].strip()) for i, c in enumerate(columns)
                      if c and i < len(cells)}
            row_errors: list[RowError] = []
            for column, limit in LIMITS.items():
                if len(values.get(column, "")) > limit:
                    row_errors.append(RowError(row_number, column,
                                               f"Longer than {limit} characters."))
            if not values.get("name"):
                row_errors.append(RowError(row_number, "name", "The name is empty."))
            email = values.get("email", "")
            if email and not EMAIL.match(email):
                row_errors.append(RowError(row_number, "email",
                                           f"“{email}” is not an email address."))
            elif email:
                previous = seen_emails.get(email.lower())
                if previous is not None:
                    where = f"row {previous}" if previous else "a participant of this study"
                    row_errors.append(RowError(row_number, "email",
                                               f"{email} is already used by {where}."))
                else:
                    seen_emails[email.lower()] = row_number
            group = values.get("stakeholder_group", "")
            if group and group.lower() not in known_groups:
                row_errors.append(RowError(
                    row_number, "stakeholder_group",
                    f"“{group}” is not a stakeholder group of this study. Use one of: "
                    f"{', '.join(known_groups.values())}."))
            language = (values.get("preferred_language") or "en").lower()
            if language not in offered:
                row_errors.append(RowError(row_number, "preferred_language",
                                           f"“{language}” is not offered. Use one of: "
                                           f"{', '.join(sorted(offered))}."))
            typed: dict[str, Any] = {}
            for key, spec in specs.items():
                try:
                    value = parse_attribute(spec.kind, values.get(key, ""))
                except ValueError as exc:
                    row_errors.append(RowError(row_number, key, str(exc)))
                else:
                    if value is not None:
                        typed[key] = value
            if row_errors:
                errors.extend(row_errors)
                continue
            rows.append(ParticipantRow(
                row=row_number, name=values["name"],
                organization=values.get("organization", ""),
                stakeholder_group=known_groups.get(group.lower(), "") if group else "",
                region=values.get("region", ""), county=values.get("county", ""),
                email=email, phone=values.get("phone", ""), preferred_language=language,
                accessibility_needs=values.get("accessibility_needs", ""),
                notes=values.get("notes", ""), attributes=typed))
    except csv.Error as exc:
        raise ParticipantCSVError(f"Row {row_number + 1} cannot be read: {exc}.") from exc
    return ParticipantCSV([c for c in columns if c], rows, errors, ignored)


def write_participants_csv(rows: Iterable[dict[str, Any]],
                           attributes: Iterable[AttributeSpec] = (),
                           contacts: bool = True) -> str:
    """CSV text of participants given as dicts with the standard keys and ``attributes``."""
    specs = list(attributes)
    columns = [c for c in STANDARD_COLUMNS if contacts or c not in ("email", "phone")]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns + [a.key for a in specs])
    for row in rows:
        cells = [_safe(str(row.get(c) or "")) for c in columns]
        values = row.get("attributes") or {}
        cells += [_safe(format_attribute(values.get(a.key))) for a in specs]
        writer.writerow(cells)
    return out.getvalue()


def _safe(cell: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _unescape(cell: str) -> str:
    """Undo ``_safe`` so exported files import unchanged."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell
