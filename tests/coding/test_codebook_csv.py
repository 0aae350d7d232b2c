"""Codebook CSV: patterns survive a round trip; every problem is reported with its row."""

from __future__ import annotations

import pytest

from coding.codebook_csv import (
    CodebookCsvError,
    CodeRow,
    PatternSpec,
    format_pattern,
    parse_pattern,
    read_codebook_csv,
    slugify,
    write_codebook_csv,
)
from coding.tagger import PatternError


def test_round_trip_keeps_hierarchy_notes_and_patterns():
    rows = [
        CodeRow("domains", "Interview domains", color="#1f5f8b"),
        CodeRow("mech", "Integration mechanisms", parent_key="domains",
                description="Vehicles, e.g. D-SNPs", inclusion="Plan types",
                exclusion="Enrollment rules", color="#6a4c93",
                patterns=[PatternSpec(("D-SNP", "DSNP", "dual special needs plan")),
                          PatternSpec(("PACE",), case_sensitive=True, label="PACE"),
                          PatternSpec(("provider network",), lemma=True, weight=0.4)]),
        CodeRow("old", "Old code", retired=True),
    ]
    text = write_codebook_csv(rows)
    assert read_codebook_csv(text.encode("utf-8")) == rows


def test_pattern_lines():
    assert parse_pattern("[lemma] integrated care; integrated plan") == PatternSpec(
        ("integrated care", "integrated plan"), lemma=True)
    spec = parse_pattern("[case, label=PACE, weight=0.5] PACE")
    assert (spec.case_sensitive, spec.label, spec.weight) == (True, "PACE", 0.5)
    assert format_pattern(spec) == "[case, label=PACE, weight=0.5] PACE"
    for line, message in [("[lemma]", "no terms"), ("[shout] PACE", "unknown pattern option"),
                          ("[weight=heavy] PACE", "not a number"), ("[weight=2] PACE", "weight"),
                          ("---", "without letters"), ("[lemma, case] x", "both")]:
        with pytest.raises(PatternError, match=message):
            parse_pattern(line)


def test_errors_are_listed_with_row_numbers_and_nothing_is_returned():
    data = (b"key,name,parent_key,color,patterns\n"
            b"a,Alpha,,#123456,\n"
            b"a,Again,,,\n"
            b",,,,\n"
            b"b,,,,\n"
            b"Bad Key,Beta,zzz,blue,[shout] x\n")
    with pytest.raises(CodebookCsvError) as caught:
        read_codebook_csv(data)
    errors = caught.value.errors
    assert "row 3: key 'a' is already used on row 2" in errors
    assert "row 5: the name is empty" in errors
    assert any(e.startswith("row 6: key 'Bad Key'") for e in errors)
    assert "row 6: color 'blue' is not of the form #RRGGBB" in errors
    assert any(e.startswith("row 6: pattern “[shout] x”") for e in errors)
    assert "row 6: parent 'zzz' is neither in the file nor in the codebook" in errors
    assert str(caught.value).startswith("The codebook CSV was not imported:")


def test_parents_from_the_codebook_and_loops():
    data = b"key,name,parent_key\nchild,Child,existing\n"
    assert read_codebook_csv(data, known_keys=["existing"])[0].parent_key == "existing"
    loop = b"key,name,parent_key\na,A,b\nb,B,a\n"
    with pytest.raises(CodebookCsvError, match="loop"):
        read_codebook_csv(loop)


def test_not_a_codebook():
    for data, message in [(b"\xff\xfe\x00bad", "not UTF-8"), (b"title,body\nx,y\n", "name"),
                          (b"name\n", "no codes")]:
        with pytest.raises(CodebookCsvError, match=message):
            read_codebook_csv(data)


def test_keys_come_from_names_and_a_bom_is_fine():
    rows = read_codebook_csv("\ufeffname\nStrategies to address équité\n".encode())
    assert rows[0].key == "strategies-to-address-equite"
    assert slugify("!!!") == "code"
