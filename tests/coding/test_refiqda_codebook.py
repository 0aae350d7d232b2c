"""REFI-QDA .qdc export/import, validated against the REFI Codebook schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from coding.refiqda_codebook import (
    NAMESPACE,
    SCHEMA_PATH,
    Code,
    CodebookFormatError,
    CodeSet,
    codes_from_specs,
    from_qdc,
    guid_for_key,
    to_qdc,
    validate_qdc,
)
from coding.vocabulary import DEFAULT_CODEBOOK, iter_codes

SHARED_SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "data" / "refi-qda"
ALL_KEYS = [spec.key for _, spec in iter_codes()]


def schema_valid(xml: str) -> None:
    schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    schema.assertValid(etree.fromstring(xml.encode("utf-8")))


def flatten(codes: list[Code]) -> list[tuple[int, str, str, str, str | None, bool]]:
    out = []

    def walk(items: list[Code], depth: int) -> None:
        for c in items:
            out.append((depth, c.key, c.name, c.description, c.color, c.is_codable))
            walk(c.children, depth + 1)

    walk(codes, 0)
    return out


def test_bundled_schemas_are_the_refi_originals():
    if not SHARED_SCHEMAS.is_dir():
        pytest.skip("shared/data/refi-qda is not present here")
    for name in ("Codebook.xsd", "Project.xsd", "NOTICE.md"):
        assert (SCHEMA_PATH.parent / name).read_bytes() == (SHARED_SCHEMAS / name).read_bytes()


def test_default_codebook_exports_schema_valid_qdc():
    xml = to_qdc(codes_from_specs(DEFAULT_CODEBOOK))
    schema_valid(xml)
    root = etree.fromstring(xml.encode("utf-8"))
    assert root.tag == f"{{{NAMESPACE}}}CodeBook"
    top = root.findall(f"{{{NAMESPACE}}}Codes/{{{NAMESPACE}}}Code")
    assert [c.get("name") for c in top] == ["Interview domains", "Policy parameters"]
    assert [c.get("isCodable") for c in top] == ["false", "false"]
    domains = top[0].findall(f"{{{NAMESPACE}}}Code")
    assert len(domains) == 8 and domains[0].get("name") == "Defining integration"
    assert domains[0].get("guid") == guid_for_key("defining-integration")


def test_round_trip_keeps_hierarchy_text_colors_and_keys():
    codes = codes_from_specs(DEFAULT_CODEBOOK)
    back = from_qdc(to_qdc(codes), known_keys=ALL_KEYS)
    assert back.origin == "Engage"
    assert flatten(back.codes) == flatten(codes)
    assert len(flatten(back.codes)) == len(ALL_KEYS)


def test_guids_are_stable_across_exports():
    codes = codes_from_specs(DEFAULT_CODEBOOK)
    assert to_qdc(codes) == to_qdc(codes_from_specs(DEFAULT_CODEBOOK))
    assert guid_for_key("equity-strategies") == guid_for_key("equity-strategies")
    assert guid_for_key("equity-strategies") != guid_for_key("lessons-learned")


def test_round_trip_of_awkward_text_and_sets():
    tricky = Code(
        key="c-1",
        name='Beneficiaries & "care partners" <say>',
        description="Ñandú — café, 💬 and\nnew lines",
        color="#ABC",
        children=[Code(key="c-2", name="Child", guid="{0A1B2C3D-0000-4000-8000-00000000ABCD}")],
    )
    plain = Code(key="c-3", name="No description, no color")
    sets = [
        CodeSet(
            guid="11111111-2222-4333-8444-555555555555",
            name="Enrollment",
            description="Codes about enrollment",
            member_guids=[guid_for_key("c-1"), "0a1b2c3d-0000-4000-8000-00000000abcd"],
        )
    ]
    xml = to_qdc([tricky, plain], sets=sets, origin="Engage test")
    schema_valid(xml)
    back = from_qdc(xml, known_keys=["c-1", "c-3"])
    assert back.origin == "Engage test"
    first, second = back.codes
    assert (first.key, first.name, first.description, first.color) == (
        "c-1",
        tricky.name,
        tricky.description,
        "#ABC",
    )
    # A code that carried its own GUID keeps it (normalized) and uses it as key.
    assert first.children[0].guid == "0a1b2c3d-0000-4000-8000-00000000abcd"
    assert first.children[0].key == first.children[0].guid
    assert (second.description, second.color) == ("", None)
    [code_set] = back.sets
    assert code_set.name == "Enrollment"
    assert code_set.member_guids == [guid_for_key("c-1"), first.children[0].guid]


def test_imports_a_codebook_written_by_another_tool():
    xml = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="QualCoder 3.5">
  <Codes>
    <Code guid="{D7E1A6A6-6B7B-4C3F-9E3A-2C1A4A6B8F01}" name="Access" isCodable="1">
      <Code guid="D7E1A6A6-6B7B-4C3F-9E3A-2C1A4A6B8F02" name="Transport" isCodable="true"
            color="#00ff00"/>
    </Code>
  </Codes>
</CodeBook>"""
    book = from_qdc(xml)
    assert book.origin == "QualCoder 3.5"
    [access] = book.codes
    assert access.key == "d7e1a6a6-6b7b-4c3f-9e3a-2c1a4a6b8f01"
    assert access.is_codable
    assert [c.name for c in access.children] == ["Transport"]
    validate_qdc(xml.encode("utf-8"))


def test_dict_helpers_round_trip():
    codes = codes_from_specs(DEFAULT_CODEBOOK)
    dicts = [c.to_dict() for c in codes]
    assert dicts[0]["children"][0]["key"] == "defining-integration"
    assert flatten([Code.from_dict(d) for d in dicts]) == flatten(codes)


def _qdc(codes_xml: str, root: str = "CodeBook", ns: str = NAMESPACE) -> str:
    return f'<{root} xmlns="{ns}"><Codes>{codes_xml}</Codes></{root}>'


GOOD = 'guid="d7e1a6a6-6b7b-4c3f-9e3a-2c1a4a6b8f01"'


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("", "well-formed"),
        ("this is not xml", "well-formed"),
        (_qdc(f'<Code {GOOD} name="A" isCodable="true">'), "well-formed"),
        (_qdc(f'<Code {GOOD} name="A" isCodable="true"/>', root="Project"), "root element is"),
        (_qdc(f'<Code {GOOD} name="A" isCodable="true"/>', ns="urn:other"), "namespace"),
        ("<CodeBook><Codes/></CodeBook>", "without a namespace"),
        (_qdc(""), "schema"),
        (_qdc(f'<Code {GOOD} isCodable="true"/>'), "name"),
        (_qdc('<Code guid="not-a-guid" name="A" isCodable="true"/>'), "guid"),
        (_qdc(f'<Code {GOOD} name="A" isCodable="true" color="red"/>'), "color"),
        (_qdc(f'<Code {GOOD} name="A" isCodable="maybe"/>'), "isCodable"),
        (
            _qdc(f'<Code {GOOD} name="A" isCodable="true"/><Code {GOOD} name="B" isCodable="1"/>'),
            "reuses GUID",
        ),
        (
            f'<CodeBook xmlns="{NAMESPACE}"><Codes><Code {GOOD} name="A" isCodable="true"/>'
            '</Codes><Sets><Set guid="11111111-2222-4333-8444-555555555555" name="S">'
            '<MemberCode guid="99999999-2222-4333-8444-555555555555"/></Set></Sets></CodeBook>',
            "not in the codebook",
        ),
    ],
)
def test_malformed_qdc_raises_codebook_format_error(xml, message):
    with pytest.raises(CodebookFormatError, match=message):
        from_qdc(xml)


def test_schema_errors_name_the_line():
    xml = _qdc(f'\n<Code {GOOD} isCodable="true"/>')
    with pytest.raises(CodebookFormatError, match=r"line 2: .*'name' is required"):
        from_qdc(xml)


def test_external_entities_are_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE CodeBook [<!ENTITY x SYSTEM "file://{secret}">]>'
        f'<CodeBook xmlns="{NAMESPACE}"><Codes><Code {GOOD} name="A" isCodable="true">'
        "<Description>&x;</Description></Code></Codes></CodeBook>"
    )
    with pytest.raises(CodebookFormatError, match="DOCTYPE") as info:
        from_qdc(xml)
    assert "TOP-SECRET" not in str(info.value)


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ([], "at least one code"),
        ([Code(key="a", name="A", color="blue")], "color"),
        ([Code(key="a", name="A", guid="nope")], "invalid GUID"),
        ([Code(key="a", name="  ")], "no name"),
        ([Code(key="a", name="A"), Code(key="a", name="Again")], "same GUID"),
        ([Code(key="a", name="bell \x07")], "cannot be written as XML"),
    ],
)
def test_export_refuses_what_other_tools_could_not_read(codes, message):
    with pytest.raises(CodebookFormatError, match=message):
        to_qdc(codes)


def test_export_refuses_sets_with_unknown_members():
    with pytest.raises(CodebookFormatError, match="not in the codebook"):
        to_qdc(
            [Code(key="a", name="A")],
            sets=[
                CodeSet(
                    "11111111-2222-4333-8444-555555555555", "S", member_guids=[guid_for_key("b")]
                )
            ],
        )
