"""Checking ``project.qde`` against the REFI-QDA Project schema, without DTDs or network."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

from coding.refiqda_project.model import NAMESPACE, ProjectFormatError, Q

SCHEMA_PATH = Path(__file__).parents[1] / "schemas" / "Project.xsd"
_MAX_REPORTED_ERRORS = 5


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=True)


def validate_qde(data: bytes) -> etree._ElementTree:
    """Parse and validate ``project.qde``; raise ``ProjectFormatError`` if not valid."""
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise ProjectFormatError(f"project.qde is not well-formed XML: {exc}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ProjectFormatError("project.qde must not contain a DOCTYPE or entity declarations")
    root = tree.getroot()
    if root.tag != Q + "Project":
        raise ProjectFormatError(
            f"the root element of project.qde is {root.tag!r}; a REFI-QDA project needs "
            f"Project in namespace {NAMESPACE!r}")
    schema = _schema()
    try:
        valid = schema.validate(tree)
    except etree.XMLSchemaValidateError as exc:
        raise ProjectFormatError(f"project.qde could not be checked: {exc}") from None
    if not valid:
        errors = [f"line {e.line}: {e.message}" for e in schema.error_log]
        raise ProjectFormatError("project.qde does not match the REFI-QDA Project schema: "
                                 + "; ".join(errors[:_MAX_REPORTED_ERRORS]))
    return tree
