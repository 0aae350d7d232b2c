"""The parts of a REFI-QDA project as plain dataclasses, and what writing and reading share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from coding.refiqda_codebook import Code

NAMESPACE = "urn:QDA-XML:project:1.0"
Q = f"{{{NAMESPACE}}}"
VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")


class ProjectFormatError(ValueError):
    """A project that cannot be written or read; the message says what is wrong."""


def new_guid(namespace: uuid.UUID | None = None, name: str | None = None) -> str:
    return str(uuid.uuid5(namespace, name)) if namespace and name else str(uuid.uuid4())


@dataclass
class User:
    guid: str
    name: str


@dataclass
class Variable:
    guid: str
    name: str
    type: str = "Text"  # one of VARIABLE_TYPES
    description: str = ""


@dataclass
class Case:
    guid: str
    name: str
    description: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # variable guid -> value
    source_guids: list[str] = field(default_factory=list)


@dataclass
class Coding:
    guid: str
    code_guid: str
    creator: str | None = None  # user guid
    created: datetime | None = None
    note_guids: list[str] = field(default_factory=list)


@dataclass
class Selection:
    guid: str
    start: int
    end: int
    codings: list[Coding] = field(default_factory=list)
    name: str | None = None
    creator: str | None = None
    created: datetime | None = None
    note_guids: list[str] = field(default_factory=list)


@dataclass
class TextSource:
    guid: str
    name: str
    text: str
    description: str = ""
    selections: list[Selection] = field(default_factory=list)
    note_guids: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # variable guid -> value
    creator: str | None = None
    created: datetime | None = None
    file_name: str | None = None  # in sources/; default "<guid>.txt"


@dataclass
class SyncPoint:
    guid: str
    time_ms: int
    position: int


@dataclass
class AudioSource:
    guid: str
    name: str
    data: bytes | None  # None: not included (the path is then external)
    extension: str = "audio"
    description: str = ""
    transcript_text: str | None = None
    transcript_guid: str | None = None
    sync_points: list[SyncPoint] = field(default_factory=list)
    created: datetime | None = None


@dataclass
class Note:
    guid: str
    name: str
    text: str
    creator: str | None = None
    created: datetime | None = None


@dataclass
class Set:
    guid: str
    name: str
    description: str = ""
    member_codes: list[str] = field(default_factory=list)
    member_sources: list[str] = field(default_factory=list)
    member_notes: list[str] = field(default_factory=list)


@dataclass
class Project:
    name: str
    origin: str = "Engage"
    created: datetime | None = None
    users: list[User] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    code_notes: dict[str, list[str]] = field(default_factory=dict)  # code guid -> note guids
    variables: list[Variable] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    sources: list[TextSource] = field(default_factory=list)
    audio: list[AudioSource] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    sets: list[Set] = field(default_factory=list)
    description: str = ""
    note_guids: list[str] = field(default_factory=list)  # notes on the whole project
    extra_files: dict[str, bytes] = field(default_factory=dict)  # other zip members kept
    warnings: list[str] = field(default_factory=list)  # what reading had to skip

    def all_codes(self) -> list[Code]:
        out: list[Code] = []

        def walk(codes):
            for code in codes:
                out.append(code)
                walk(code.children)

        walk(self.codes)
        return out
