"""REFI-QDA codebook exchange (``.qdc``): export and import.

A ``.qdc`` is a UTF-8 XML document in namespace ``urn:QDA-XML:codebook:1.0``
(schema: ``coding/schemas/Codebook.xsd``, copied from REFI so the app never
reads outside its package). NVivo, ATLAS.ti, MAXQDA and QualCoder open it.

REFI identifies codes by GUID; Engage identifies them by a stable ``key``. A
code without its own GUID exports with ``uuid5(ENGAGE_NAMESPACE, key)``, so
exporting the same codebook twice yields the same GUIDs and a re-import can
map them back to keys (pass ``known_keys``). The schema has no room for keys,
match patterns or inclusion notes, so only name, description, color,
codability, hierarchy and sets travel.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from coding.vocabulary import CodeSpec

NAMESPACE = "urn:QDA-XML:codebook:1.0"
SCHEMA_PATH = Path(__file__).with_name("schemas") / "Codebook.xsd"
# Fixed forever: changing it would give every exported code a new GUID.
ENGAGE_NAMESPACE = uuid.UUID("6f0c3a52-6a4e-4d0e-9d0b-3b1e4c1f7a10")

_GUID = re.compile(
    r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$"
)
_COLOR = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")
_MAX_REPORTED_ERRORS = 5


class CodebookFormatError(ValueError):
    """A codebook that cannot be written or read as REFI-QDA; says what is wrong."""


@dataclass
class Code:
    key: str
    name: str
    description: str = ""
    color: str | None = None
    children: list[Code] = field(default_factory=list)
    guid: str | None = None
    is_codable: bool = True

    @property
    def export_guid(self) -> str:
        return normalize_guid(self.guid) if self.guid else guid_for_key(self.key)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Code:
        return cls(
            key=data["key"],
            name=data["name"],
            description=data.get("description") or "",
            color=data.get("color"),
            children=[cls.from_dict(c) for c in data.get("children") or ()],
            guid=data.get("guid"),
            is_codable=data.get("is_codable", True),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "guid": self.export_guid,
            "name": self.name,
            "description": self.description,
            "color": self.color,
            "is_codable": self.is_codable,
            "children": [c.to_dict() for c in self.children],
        }


@dataclass
class CodeSet:
    """A REFI set: a named group of codes across the hierarchy."""

    guid: str
    name: str
    description: str = ""
    member_guids: list[str] = field(default_factory=list)


@dataclass
class Codebook:
    codes: list[Code]
    sets: list[CodeSet] = field(default_factory=list)
    origin: str | None = None


def guid_for_key(key: str) -> str:
    return str(uuid.uuid5(ENGAGE_NAMESPACE, key))


def normalize_guid(guid: str) -> str:
    """REFI allows ``{...}`` braces and any case; compare GUIDs in one form."""
    return guid.strip().strip("{}").lower()


def codes_from_specs(specs: Iterable[CodeSpec]) -> list[Code]:
    """The vocabulary's ``CodeSpec`` trees as exportable codes.

    Parents that exist only to group children ("Interview domains") are not
    codable, so other tools do not offer them for coding text.
    """
    return [
        Code(
            key=s.key,
            name=s.name,
            description=s.description,
            color=s.color,
            children=codes_from_specs(s.children),
            is_codable=not s.children,
        )
        for s in specs
    ]


def to_qdc(codes: Iterable[Code], *, sets: Iterable[CodeSet] = (), origin: str = "Engage") -> str:
    """Serialize codes (and optional sets) as a schema-valid ``.qdc`` document."""
    codes = list(codes)
    if not codes:
        raise CodebookFormatError("a .qdc codebook needs at least one code")
    seen: dict[str, str] = {}
    root = etree.Element(f"{{{NAMESPACE}}}CodeBook", nsmap={None: NAMESPACE})
    root.set("origin", origin)
    codes_el = etree.SubElement(root, f"{{{NAMESPACE}}}Codes")
    for code in codes:
        _write_code(codes_el, code, seen)
    sets = list(sets)
    if sets:
        sets_el = etree.SubElement(root, f"{{{NAMESPACE}}}Sets")
        for code_set in sets:
            _write_set(sets_el, code_set, seen)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    # Belt and braces: whatever we write must be what we accept.
    _validate(etree.fromstring(xml, _parser()).getroottree())
    return xml.decode("utf-8")


def from_qdc(data: str | bytes, *, known_keys: Iterable[str] = ()) -> Codebook:
    """Parse and validate a ``.qdc``; raise :class:`CodebookFormatError` if unusable.

    Codes whose GUID is ``guid_for_key(k)`` for some ``k`` in ``known_keys``
    get that key back; others use their GUID as key.
    """
    if isinstance(data, str):
        # lxml refuses str input that carries an encoding declaration.
        data = data.encode("utf-8")
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise CodebookFormatError(f"not a well-formed XML document: {exc}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        # REFI documents never need a DTD; entity declarations in an upload are
        # at best noise and at worst an attempt to read local files.
        raise CodebookFormatError("a .qdc must not contain a DOCTYPE or entity declarations")
    root = tree.getroot()
    if root.tag != f"{{{NAMESPACE}}}CodeBook":
        raise CodebookFormatError(
            f"root element is {_local(root.tag)!r}"
            + (f" in namespace {_ns(root.tag)!r}" if _ns(root.tag) else " without a namespace")
            + f"; a .qdc needs CodeBook in namespace {NAMESPACE!r}"
        )
    _validate(tree)

    keys = {guid_for_key(k): k for k in known_keys}
    seen: set[str] = set()
    codes_el = root.find(f"{{{NAMESPACE}}}Codes")
    codes = [_read_code(el, keys, seen) for el in codes_el.findall(f"{{{NAMESPACE}}}Code")]
    sets = []
    sets_el = root.find(f"{{{NAMESPACE}}}Sets")
    if sets_el is not None:
        for el in sets_el.findall(f"{{{NAMESPACE}}}Set"):
            members = [
                normalize_guid(m.get("guid")) for m in el.findall(f"{{{NAMESPACE}}}MemberCode")
            ]
            unknown = [m for m in members if m not in seen]
            if unknown:
                raise CodebookFormatError(
                    f"set {el.get('name')!r} (line {el.sourceline}) lists codes that are not "
                    f"in the codebook: {', '.join(unknown)}"
                )
            sets.append(
                CodeSet(normalize_guid(el.get("guid")), el.get("name"), _description(el), members)
            )
    return Codebook(codes, sets, root.get("origin"))


def validate_qdc(data: str | bytes) -> None:
    """Raise :class:`CodebookFormatError` unless ``data`` is a valid ``.qdc``."""
    from_qdc(data)


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _parser() -> etree.XMLParser:
    # Untrusted uploads: no entity expansion, no DTDs, no network.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _validate(tree: etree._ElementTree) -> None:
    schema = _schema()
    try:
        if schema.validate(tree):
            return
    except etree.XMLSchemaValidateError as exc:  # libxml2 gives up on odd trees
        raise CodebookFormatError(
            f"the codebook could not be checked against the schema: {exc}"
        ) from None
    errors = [f"line {e.line}: {e.message}" for e in schema.error_log][:_MAX_REPORTED_ERRORS]
    raise CodebookFormatError(
        "the codebook does not match the REFI-QDA Codebook schema: " + "; ".join(errors)
    )


def _write_code(parent: etree._Element, code: Code, seen: dict[str, str]) -> None:
    if not code.name or not code.name.strip():
        raise CodebookFormatError(f"code {code.key!r} has no name")
    if code.guid and not _GUID.match(code.guid):
        raise CodebookFormatError(f"code {code.name!r} has an invalid GUID {code.guid!r}")
    if code.color and not _COLOR.match(code.color):
        raise CodebookFormatError(
            f"code {code.name!r} has color {code.color!r}; REFI needs #RRGGBB or #RGB"
        )
    guid = code.export_guid
    if guid in seen:
        raise CodebookFormatError(
            f"codes {seen[guid]!r} and {code.name!r} have the same GUID {guid}"
        )
    seen[guid] = code.name
    el = etree.SubElement(parent, f"{{{NAMESPACE}}}Code")
    try:
        el.set("guid", guid)
        el.set("name", code.name)
        el.set("isCodable", "true" if code.is_codable else "false")
        if code.color:
            el.set("color", code.color)
        if code.description:
            etree.SubElement(el, f"{{{NAMESPACE}}}Description").text = code.description
    except ValueError as exc:  # control characters are not allowed in XML 1.0
        raise CodebookFormatError(f"code {code.name!r} cannot be written as XML: {exc}") from None
    for child in code.children:
        _write_code(el, child, seen)


def _write_set(parent: etree._Element, code_set: CodeSet, seen: dict[str, str]) -> None:
    if not _GUID.match(code_set.guid):
        raise CodebookFormatError(f"set {code_set.name!r} has an invalid GUID {code_set.guid!r}")
    el = etree.SubElement(parent, f"{{{NAMESPACE}}}Set")
    el.set("guid", normalize_guid(code_set.guid))
    el.set("name", code_set.name)
    if code_set.description:
        etree.SubElement(el, f"{{{NAMESPACE}}}Description").text = code_set.description
    for member in code_set.member_guids:
        if normalize_guid(member) not in seen:
            raise CodebookFormatError(
                f"set {code_set.name!r} refers to code {member} that is not in the codebook"
            )
        etree.SubElement(el, f"{{{NAMESPACE}}}MemberCode").set("guid", normalize_guid(member))


def _read_code(el: etree._Element, keys: Mapping[str, str], seen: set[str]) -> Code:
    guid = normalize_guid(el.get("guid"))
    if guid in seen:
        raise CodebookFormatError(
            f"code {el.get('name')!r} (line {el.sourceline}) reuses GUID {guid}; "
            "every code needs its own"
        )
    seen.add(guid)
    return Code(
        key=keys.get(guid, guid),
        name=el.get("name"),
        description=_description(el),
        color=el.get("color"),
        children=[_read_code(c, keys, seen) for c in el.findall(f"{{{NAMESPACE}}}Code")],
        guid=guid,
        is_codable=el.get("isCodable") in ("true", "1"),
    )


def _description(el: etree._Element) -> str:
    desc = el.find(f"{{{NAMESPACE}}}Description")
    return (desc.text or "") if desc is not None else ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
