"""A codebook as CSV: one row per code, with its match patterns, for spreadsheets.

Columns: ``key, parent_key, name, description, inclusion, exclusion, color,
retired, patterns``. Only ``name`` is required; a missing key is made from
the name. ``patterns`` holds one pattern per line, each a list of terms
separated by ``;`` with optional flags in brackets first::

    [lemma] integrated care; integrated plan
    [case, label=PACE] PACE
    D-SNP; DSNP; dual special needs plan

Flags: ``lemma`` (match inflections), ``case`` (case-sensitive),
``label=...`` (the concept's name in explanations), ``weight=0.4`` (a fixed
confidence weight). Reading checks every row and reports all problems with
their row numbers, so nothing is half-imported.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from coding.queries import to_csv
from coding.tagger import CodePattern, PatternError

COLUMNS = ("key", "parent_key", "name", "description", "inclusion", "exclusion", "color",
           "retired", "patterns")
MAX_ERRORS = 20
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_FLAGS = re.compile(r"^\[(?P<flags>[^\]]*)\]\s*")
_TRUE = {"1", "true", "yes", "y", "x"}


class CodebookCsvError(ValueError):
    """A codebook CSV that cannot be imported; ``errors`` lists each problem with its row."""

    def __init__(self, errors: Sequence[str]):
        self.errors = list(errors)
        shown = "; ".join(self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"The codebook CSV was not imported: {shown}{more}")


@dataclass(frozen=True)
class PatternSpec:
    terms: tuple[str, ...]
    lemma: bool = False
    case_sensitive: bool = False
    label: str | None = None
    weight: float | None = None

    def to_pattern(self, code_key: str) -> CodePattern:
        return CodePattern(code_key, self.terms, lemma=self.lemma,
                           case_sensitive=self.case_sensitive, label=self.label,
                           weight=self.weight)


@dataclass
class CodeRow:
    key: str
    name: str
    parent_key: str | None = None
    description: str = ""
    inclusion: str = ""
    exclusion: str = ""
    color: str | None = None
    retired: bool = False
    patterns: list[PatternSpec] = field(default_factory=list)


def slugify(name: str, max_length: int = 80) -> str:
    """A stable ASCII key from a name: "Strategies to address equity" -> "strategies-to-...."."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "code"


def format_pattern(p: PatternSpec) -> str:
    flags = []
    if p.lemma:
        flags.append("lemma")
    if p.case_sensitive:
        flags.append("case")
    if p.label:
        flags.append(f"label={p.label}")
    if p.weight is not None:
        flags.append(f"weight={p.weight:g}")
    prefix = f"[{', '.join(flags)}] " if flags else ""
    return prefix + "; ".join(p.terms)


def parse_pattern(line: str, code_key: str = "code") -> PatternSpec:
    """One pattern line (see the module docstring); raises ``PatternError``."""
    line = line.strip()
    lemma = case = False
    label: str | None = None
    weight: float | None = None
    match = _FLAGS.match(line)
    if match:
        line = line[match.end():]
        for flag in (f.strip() for f in match["flags"].split(",")):
            name, _, value = flag.partition("=")
            name, value = name.strip().lower(), value.strip()
            if name == "lemma":
                lemma = True
            elif name in ("case", "case-sensitive"):
                case = True
            elif name == "label" and value:
                label = value
            elif name == "weight":
                try:
                    weight = float(value)
                except ValueError:
                    raise PatternError(f"weight {value!r} is not a number") from None
            elif name:
                raise PatternError(f"unknown pattern option {name!r} (use lemma, case, "
                                   "label=..., weight=...)")
    terms = tuple(t.strip() for t in line.split(";") if t.strip())
    spec = PatternSpec(terms, lemma, case, label, weight)
    spec.to_pattern(code_key)  # validates terms, options and weight
    return spec


def write_codebook_csv(rows: Iterable[CodeRow]) -> str:
    return to_csv(COLUMNS, (
        (r.key, r.parent_key or "", r.name, r.description, r.inclusion, r.exclusion,
         r.color or "", "yes" if r.retired else "",
         "\n".join(format_pattern(p) for p in r.patterns))
        for r in rows))


def read_codebook_csv(data: bytes, known_keys: Iterable[str] = ()) -> list[CodeRow]:
    """Parse and check a codebook CSV; parents must come from the file or ``known_keys``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CodebookCsvError(["the file is not UTF-8 text; save it as CSV UTF-8"]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "name" not in header:
        raise CodebookCsvError(["the first row must name the columns, including “name” "
                                f"(expected {', '.join(COLUMNS)})"])
    reader.fieldnames = header
    errors: list[str] = []
    rows: list[CodeRow] = []
    keys: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        values = {k: (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        where = f"row {line}"
        name = values.get("name", "")
        if not name:
            errors.append(f"{where}: the name is empty")
            continue
        if len(name) > 200:
            errors.append(f"{where}: the name is longer than 200 characters")
        key = values.get("key") or slugify(name)
        if not _KEY.match(key):
            errors.append(f"{where}: key {key!r} may hold only lower-case letters, digits "
                          "and hyphens (80 at most)")
        if key in keys:
            errors.append(f"{where}: key {key!r} is already used on row {keys[key]}")
        keys[key] = line
        color = values.get("color") or None
        if color and not _COLOR.match(color):
            errors.append(f"{where}: color {color!r} is not of the form #RRGGBB")
        patterns = []
        for text_line in values.get("patterns", "").splitlines():
            if not text_line.strip():
                continue
            try:
                patterns.append(parse_pattern(text_line, key))
            except PatternError as error:
                errors.append(f"{where}: pattern “{text_line.strip()}”: {error}")
        rows.append(CodeRow(key=key, name=name, parent_key=values.get("parent_key") or None,
                            description=values.get("description", ""),
                            inclusion=values.get("inclusion", ""),
                            exclusion=values.get("exclusion", ""), color=color,
                            retired=values.get("retired", "").lower() in _TRUE,
                            patterns=patterns))
        if len(errors) >= MAX_ERRORS:
            break
    if not rows and not errors:
        errors.append("the file has no codes")
    known = set(known_keys) | set(keys)
    parents = {r.key: r.parent_key for r in rows}
    for r in rows:
        if r.parent_key and r.parent_key not in known:
            errors.append(f"row {keys[r.key]}: parent {r.parent_key!r} is neither in the file "
                          "nor in the codebook")
        # A cycle inside the file (a -> b -> a) can never be placed.
        seen, current = {r.key}, r.parent_key
        while current in parents:
            if current in seen:
                errors.append(f"row {keys[r.key]}: parents form a loop through {current!r}")
                break
            seen.add(current)
            current = parents[current]
    if errors:
        raise CodebookCsvError(errors)
    return rows
