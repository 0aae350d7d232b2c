"""REFI-QDA projects (``.qdpx``): write a whole study, read one from any QDA tool.

A ``.qdpx`` is a zip holding ``project.qde`` (XML in namespace
``urn:QDA-XML:project:1.0``, schema ``coding/schemas/Project.xsd``) and a
``sources/`` folder with the documents, referred to as ``internal://NAME``.
NVivo, ATLAS.ti, MAXQDA and QualCoder exchange projects this way.

This package knows the format only: ``Project`` and its parts are plain
dataclasses (``model``); ``write_qdpx`` (``writer``) turns one into validated
bytes and ``read_qdpx`` (``reader``, through ``archive`` and ``validation``)
turns an upload back into one. What a study maps to (transcripts, comments,
participants as cases, memos as notes, themes as sets) is decided in
``engage.exports.qdpx``.

Positions are Unicode code points, as REFI counts them and as Python indexes
``str``; plain texts are stored as UTF-8 files without a byte-order mark.

Reading is defensive, because a ``.qdpx`` is an upload: members with absolute
paths or ``..`` are refused, the number of members, every member's size and
the total are capped while *reading* (a zip's own size fields can lie), the
compression ratio is checked against zip bombs, and the XML is parsed without
DTDs, entities or network access. Extra files may travel alongside (Engage
puts ``engage.json`` there to round-trip what REFI has no place for); other
tools ignore them.
"""

from coding.refiqda_project.archive import (
    MAX_MEMBER_BYTES,
    MAX_MEMBERS,
    MAX_RATIO,
    MAX_TEXT_BYTES,
    MAX_TOTAL_BYTES,
)
from coding.refiqda_project.model import (
    NAMESPACE,
    VARIABLE_TYPES,
    AudioSource,
    Case,
    Coding,
    Note,
    Project,
    ProjectFormatError,
    Q,
    Selection,
    Set,
    SyncPoint,
    TextSource,
    User,
    Variable,
    new_guid,
)
from coding.refiqda_project.reader import read_qde, read_qdpx
from coding.refiqda_project.validation import SCHEMA_PATH, validate_qde
from coding.refiqda_project.writer import to_qde, write_qdpx

__all__ = [
    "MAX_MEMBERS", "MAX_MEMBER_BYTES", "MAX_RATIO", "MAX_TEXT_BYTES", "MAX_TOTAL_BYTES",
    "NAMESPACE", "Q", "SCHEMA_PATH", "VARIABLE_TYPES",
    "AudioSource", "Case", "Coding", "Note", "Project", "ProjectFormatError", "Selection",
    "Set", "SyncPoint", "TextSource", "User", "Variable",
    "new_guid", "read_qde", "read_qdpx", "to_qde", "validate_qde", "write_qdpx",
]
