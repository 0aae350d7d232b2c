"""Redaction of personal data in public comments (issue 5, item 6)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from coding.redaction import LABELS, RedactedSpan, apply_spans, find_spans, redact, redact_person

CSV_PATH = (
    Path(__file__).resolve().parent.parent / "fixtures" / "comments" / "usda-2017-0002-comments.csv"
)

# (text, [(original, kind), ...]): each original must be masked with that kind,
# and nothing else in the text may be masked.
POSITIVE = [
    # Medicare Beneficiary Identifiers, with and without dashes, any case.
    ("My Medicare card says 1EG4-TE5-MK73.", [("1EG4-TE5-MK73", "member_id")]),
    ("MBI 1EG4TE5MK73 on file", [("1EG4TE5MK73", "member_id")]),
    ("number 1eg4-te5-mk73 was rejected", [("1eg4-te5-mk73", "member_id")]),
    # Older Medicare claim numbers (SSN + letter).
    ("My old card had 123-45-6789A on it.", [("123-45-6789A", "member_id")]),
    # Cued Medicaid / plan member IDs.
    ("My Medicaid ID is 123456789012.", [("123456789012", "member_id")]),
    ("Medicaid ID: A12345678, please check.", [("A12345678", "member_id")]),
    ("member ID # ZX99887766", [("ZX99887766", "member_id")]),
    ("Member ID number: XJH-554-2201.", [("XJH-554-2201", "member_id")]),
    ("ID #4455667788 was denied", [("4455667788", "member_id")]),
    ("my ID is QR7781234", [("QR7781234", "member_id")]),
    ("subscriber no. 0098765432", [("0098765432", "member_id")]),
    ("Medicaid number 87654321 expired", [("87654321", "member_id")]),
    # Phone numbers, US formats.
    ("Call me at 410-767-5800.", [("410-767-5800", "phone")]),
    ("Call (410) 767-5800 today", [("(410) 767-5800", "phone")]),
    ("Call (410)767-5800 today", [("(410)767-5800", "phone")]),
    ("phone 410.767.5800", [("410.767.5800", "phone")]),
    ("reach me on 410 767 5800 anytime", [("410 767 5800", "phone")]),
    ("+1 410 767 5800", [("+1 410 767 5800", "phone")]),
    ("+1 (410) 767-5800", [("+1 (410) 767-5800", "phone")]),
    ("+1-410-767-5800", [("+1-410-767-5800", "phone")]),
    ("1-800-633-4227 is the helpline", [("1-800-633-4227", "phone")]),
    ("office 202-690-7000 ext. 1234, thanks", [("202-690-7000 ext. 1234", "phone")]),
    ("office 202-690-7000 x12", [("202-690-7000 x12", "phone")]),
    ("office (202) 690-7000, extension 55.", [("(202) 690-7000, extension 55", "phone")]),
    ("Tel: 2026907000", [("2026907000", "phone")]),
    ("call me at 767-5800", [("767-5800", "phone")]),
    ("cell +12026907000", [("+12026907000", "phone")]),
    # Emails.
    ("Write to jane.doe@example.org.", [("jane.doe@example.org", "email")]),
    ("<maria_lopez+snap@mail.state.md.us>", [("maria_lopez+snap@mail.state.md.us", "email")]),
    ("EMAIL: J.DOE@EXAMPLE.COM", [("J.DOE@EXAMPLE.COM", "email")]),
    # SSNs.
    ("SSN 123-45-6789.", [("123-45-6789", "ssn")]),
    ("my social security number is 123456789", [("123456789", "ssn")]),
    ("social security 123 45 6789", [("123 45 6789", "ssn")]),
    # Dates of birth (only when introduced as such).
    ("DOB: 03/04/1950", [("03/04/1950", "dob")]),
    ("date of birth 1950-03-04", [("1950-03-04", "dob")]),
    ("I was born on March 4, 1950 in Ohio.", [("March 4, 1950", "dob")]),
    ("born 4 March 1950", [("4 March 1950", "dob")]),
    # Street addresses.
    ("I live at 123 Main Street in town.", [("123 Main Street", "address")]),
    (
        "Mail: 1600 Pennsylvania Avenue NW, Washington, DC 20500.",
        [("1600 Pennsylvania Avenue NW, Washington, DC 20500", "address")],
    ),
    (
        "at 42 Oak Hill Rd., Apt 4B, Baltimore, MD 21201 since 2010",
        [("42 Oak Hill Rd., Apt 4B, Baltimore, MD 21201", "address")],
    ),
    ("7 W. 5th Ave is my building", [("7 W. 5th Ave", "address")]),
    ("send it to P.O. Box 1234", [("P.O. Box 1234", "address")]),
    # Names after cues.
    ("My name is Maria Lopez and I care for my mother.", [("Maria Lopez", "name")]),
    ("my name is Jane.", [("Jane", "name")]),
    ("Name: Jane Q. Doe", [("Jane Q. Doe", "name")]),
    ("Hello, I am Jane Doe, a caregiver.", [("Jane Doe", "name")]),
    ("I'm Jose Alvarez from Prince George's County.", [("Jose Alvarez", "name")]),
    ("Sincerely,\nJane Doe", [("Jane Doe", "name")]),
    ("Sincerely,\n\nJane Q. Doe\nExecutive Director\nGreystone", [("Jane Q. Doe", "name")]),
    ("Respectfully submitted,\nDr. Ana María Núñez, MD", [("Ana María Núñez", "name")]),
    ('Best Regards\n\nDale Leuck"\n', [("Dale Leuck", "name")]),
    ("Thanks, Steve\nRe: Supplemental Nutrition", [("Steve", "name")]),
    ("Thank you,\nPat O'Brien", [("Pat O'Brien", "name")]),
    ("Signed,\nMary-Kate McDonald", [("Mary-Kate McDonald", "name")]),
    ("/s/ John Smith", [("John Smith", "name")]),
    ("Mr Shepherd said so.", [("Shepherd", "name")]),
    ("Dr. Jane Smith agreed with Mrs. Garcia.", [("Jane Smith", "name"), ("Garcia", "name")]),
    # Spanish (consultations run in English and Spanish).
    ("Me llamo María López y cuido a mi madre.", [("María López", "name")]),
    ("Mi nombre es José Álvarez.", [("José Álvarez", "name")]),
    ("Atentamente,\nAna Núñez", [("Ana Núñez", "name")]),
    ("Gracias,\nLuis Pérez", [("Luis Pérez", "name")]),
    ("Mi teléfono: 410-767-5800", [("410-767-5800", "phone")]),
    ("llámeme al 7675800", [("7675800", "phone")]),
    ("mi número de Medicaid es 98765432A", [("98765432A", "member_id")]),
    ("fecha de nacimiento: 4 de marzo de 1950", [("4 de marzo de 1950", "dob")]),
    # Several kinds together; offsets must stay right after each label.
    (
        "I am Jane Doe (jane@example.org, 410-767-5800), MBI 1EG4-TE5-MK73.",
        [
            ("Jane Doe", "name"),
            ("jane@example.org", "email"),
            ("410-767-5800", "phone"),
            ("1EG4-TE5-MK73", "member_id"),
        ],
    ),
]

# Ordinary numbers and words that must never be masked.
NEGATIVE = [
    "Docket ID FNS-2018-0004-0001",
    "Docket ID: FNS-2018-0004-0001 and comment USDA-2017-0002-3983",
    "(previously under Docket ID FNS-2018-0004-0001)",
    "Document ID: CMS-2017-0163-0001",
    "FR Doc. 2017-14920 was published",
    "La regla entró en vigor el 4 de marzo de 2018 y costó $2,5 millones.",
    "Gracias por su atención.",
    "The rule at 42 CFR 438 and 42 CFR 438.2 governs managed care.",
    "Section 1115 and 1915(c) waivers",
    "P.L. 104-193 (1996) and E.O. 13777; H.R. 2",
    "In 2018, 12.2 million people were dually eligible.",
    "It costs $1,234,567.89 a year, or $2.5 billion overall.",
    "Spending rose 12.5% from 2017 to 2018 (2017-18).",
    "Comments are due 01/02/2018 or 2018-01-02 or January 2, 2018.",
    "The meeting was on 16 May 2018 at 10:30.",
    "Our ZIP code is 20250 and the full one is 20250-0001.",
    "Table 3: 250 300 4000 members by county",
    "Call 911 in an emergency, or 311.",
    "Reference number 2017-0002 applies.",
    "Room 1234, 100 people attended; 1,000,000 comments",
    "We serve 300 Medicaid members in 12 counties.",
    "I am Very Concerned about this rule.",
    "I am a nurse and I am Native American.",
    "I am Writing To Oppose this change.",
    "I Am Extremely Disappointed In This Rule.",
    "This Is Outrageous Nonsense.",
    "Thank you.\nRe: Supplemental Nutrition Assistance Program",
    "Respectfully\nRe: Supplemental Nutrition Assistance Program",
    "Thank you, Medicaid should cover this.",
    "Thank You & God Bless You.",
    "signed the Energy Independence Executive Order",
    "signed by President Clinton on March 29, 1996.",
    "1-800-MEDICARE is the national line.",
    "Medicaid number of enrollees rose 10% in 2017.",
    "My member ID card arrived late.",
    "ISBN 978-3-16-148410-0 and DOI 10.1000/182",
    "Version 2.14.3 released on 2.1.2019",
    "Latitude 38.889 longitude -77.035",
    "the 21st Century Cures Act and Title 42 Public Health Service Act",
    "call for 250 300 4000 more hours",
]


def _assert_offsets(text: str, spans: list[RedactedSpan]) -> None:
    for span in spans:
        assert text[span.start : span.end] == span.original
    starts = [s.start for s in spans]
    assert starts == sorted(starts)
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.end <= b.start


@pytest.mark.parametrize(("text", "expected"), POSITIVE, ids=[t for t, _ in POSITIVE])
def test_masks_personal_data(text: str, expected: list[tuple[str, str]]) -> None:
    result = redact(text)
    assert [(s.original, s.kind) for s in result.spans] == expected
    _assert_offsets(text, result.spans)
    # The public text is the original with each span replaced by its label.
    rebuilt = text
    for span in reversed(result.spans):
        rebuilt = rebuilt[: span.start] + LABELS[span.kind] + rebuilt[span.end :]
    assert result.text == rebuilt
    for original, _ in expected:
        assert original not in result.text


@pytest.mark.parametrize("text", NEGATIVE)
def test_leaves_ordinary_numbers_and_words(text: str) -> None:
    result = redact(text)
    assert result.spans == []
    assert result.text == text


@pytest.mark.parametrize("text", [t for t, _ in POSITIVE] + NEGATIVE)
def test_idempotent(text: str) -> None:
    once = redact(text)
    twice = redact(once.text)
    assert twice.text == once.text
    assert twice.spans == []


def test_labels_are_readable() -> None:
    result = redact("Call 410-767-5800 or write jane@example.org; Medicaid ID: A12345678")
    assert result.text == "Call [phone] or write [email]; Medicaid ID: [member ID]"


def test_offsets_refer_to_original_text() -> None:
    text = "Jane here: 410-767-5800.\nMy name is Jane Doe; jane@example.org"
    spans = find_spans(text)
    assert [(s.start, s.end, s.kind) for s in spans] == [
        (11, 23, "phone"),
        (36, 44, "name"),
        (46, 62, "email"),
    ]
    _assert_offsets(text, spans)


def test_overlapping_matches_are_merged() -> None:
    # The honorific cue and the closing both find the name; the address and
    # the "Dr" honorific overlap too. Each stretch is masked once.
    text = "Sincerely,\nMr. John Smith\n"
    spans = redact(text).spans
    assert [(s.original, s.kind) for s in spans] == [("John Smith", "name")]
    text = "Call me at 410-767-5800, phone 410-767-5800"
    assert [s.original for s in redact(text).spans] == ["410-767-5800", "410-767-5800"]
    merged = redact("my name is Jane Doe", known_names=["Jane Doe", "Doe"]).spans
    assert [(s.start, s.end) for s in merged] == [(11, 19)]


def test_longer_detection_names_the_merged_kind() -> None:
    # A phone-looking run inside a cued member ID stays one member ID span.
    spans = redact("Medicaid ID: 410-767-5800-01").spans
    assert [(s.original, s.kind) for s in spans] == [("410-767-5800-01", "member_id")]


def test_known_names() -> None:
    text = "JANE DOE wrote this. Doe's mother, jane, and Ms. Doe agree. I will hope."
    result = redact(text, known_names=["Jane Doe", "Will Hope"])
    assert [s.original for s in result.spans] == ["JANE DOE", "Doe", "Doe"]
    # "jane" in lower case is a word here, not the name; "will"/"hope" are words.
    assert "jane" in result.text and "I will hope." in result.text
    assert result.text.startswith("[name] wrote this. [name]'s mother")


def test_known_name_full_match_is_case_and_space_insensitive() -> None:
    result = redact("signed by maria   lopez", known_names=[" Maria Lopez "])
    assert result.text == "signed by [name]"


def test_known_names_ignore_blank_and_tiny_entries() -> None:
    assert redact("a b c", known_names=["", "  ", "a"]).spans == []


def test_apply_spans_accepts_researcher_edits() -> None:
    text = "Call 410-767-5800, ask for Bob at the clinic."
    spans = find_spans(text)
    # The researcher adds a name the patterns could not know.
    start = text.index("Bob")
    spans.append(RedactedSpan(start, start + 3, "name", "Bob"))
    assert apply_spans(text, spans) == "Call [phone], ask for [name] at the clinic."
    with pytest.raises(ValueError):
        apply_spans(text, [RedactedSpan(0, 10, "name", text[:10]), RedactedSpan(5, 12, "name", "")])


def test_empty_text() -> None:
    assert redact("").text == ""
    assert redact("").spans == []


def _real_comments() -> list[tuple[str, str]]:
    with CSV_PATH.open(newline="", encoding="utf-8") as fh:
        return [(row["Document ID"], row["Text Comment"]) for row in csv.DictReader(fh)]


def test_real_comments_do_not_crash_and_keep_docket_ids() -> None:
    comments = _real_comments()
    assert len(comments) == 199
    docket = re.compile(r"\b[A-Z]{2,5}-\d{4}-\d{4}(?:-\d{4})?\b")
    kinds: set[str] = set()
    for doc_id, text in comments:
        result = redact(text)
        _assert_offsets(text, result.spans)
        assert docket.findall(result.text) == docket.findall(text), doc_id
        assert redact(result.text).text == result.text, doc_id
        kinds.update(s.kind for s in result.spans)
    # The docket has no contact details or IDs; only signed names are found,
    # so any other kind here would be a false positive on ordinary numbers.
    assert kinds <= {"name"}


def test_real_comments_signatures() -> None:
    found = {(doc_id, s.original) for doc_id, text in _real_comments() for s in redact(text).spans}
    assert found == {
        ("USDA-2017-0002-0193", "Shepherd"),  # "Mr Shepherd said."
        ("USDA-2017-0002-0299", "Dale Leuck"),  # "Best Regards\n\nDale Leuck"
        ("USDA-2017-0002-3747", "Steve"),  # "Thanks, Steve"
    }


def test_redact_person_masks_only_that_person() -> None:
    text = ("As Maria Lopez said, Dr. Smith at Riverside Clinic (555-201-3344, "
            "MARIA@riverside.example) knows. Maria agreed; I will hope so.")
    result = redact_person(text, ["Maria Lopez"], {
        "email": "maria@riverside.example", "organization": "Riverside Clinic",
        "phone": ""})
    assert result.text == ("As [name] said, Dr. Smith at [organization] (555-201-3344, "
                           "[email]) knows. [name] agreed; I will hope so.")
    assert [s.original for s in result.spans] == [
        "Maria Lopez", "Riverside Clinic", "MARIA@riverside.example", "Maria"]


def test_redact_person_ignores_tiny_details_and_leaves_clean_text_alone() -> None:
    assert redact_person("We met at 10 in the hall.", ["Jo Li"], {"phone": "10"}).text == \
        "We met at 10 in the hall."
    assert redact_person("", ["Jo Li"]).text == ""
