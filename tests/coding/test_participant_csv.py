"""Participant CSVs: whole-file problems, row-level errors, typed attributes, round trip."""

import pytest

from coding.participant_csv import (
    AttributeSpec,
    ParticipantCSVError,
    parse_attribute,
    read_participants_csv,
    write_participants_csv,
)

GROUPS = ["State officials", "Health plans", "Providers"]
ATTRIBUTES = [AttributeSpec("years_in_role", "Years in role", "number"),
              AttributeSpec("first_contact", "First contact", "date"),
              AttributeSpec("dual_eligible", "Dual eligible", "yes_no")]


def read(text, **kwargs):
    kwargs.setdefault("groups", GROUPS)
    kwargs.setdefault("attributes", ATTRIBUTES)
    return read_participants_csv(text.encode(), **kwargs)


def test_good_file_reads_every_column_and_types_attributes():
    parsed = read(
        "Name,Organization,Stakeholder group,Region,County,Email,Phone,Preferred language,"
        "Accessibility needs,Notes,Years in role,first_contact,dual_eligible\n"
        "Dana Whitfield,State Medicaid agency,state officials,Central,Wake,dana@example.org,"
        "555-0100,es,Captions,Met in May,12,2027-01-15,yes\n"
        "\n"
        "Luis Ortega,,,,,,,,,,,,\n")
    assert parsed.ok and parsed.ignored_columns == []
    dana, luis = parsed.rows
    assert (dana.row, luis.row) == (2, 4)  # the header is row 1; blank lines are skipped
    assert dana.stakeholder_group == "State officials"  # matched without case
    assert dana.preferred_language == "es" and dana.accessibility_needs == "Captions"
    assert dana.attributes == {"years_in_role": 12, "first_contact": "2027-01-15",
                               "dual_eligible": True}
    assert luis.preferred_language == "en" and luis.attributes == {}


def test_missing_name_column_is_a_file_error_that_names_the_columns():
    with pytest.raises(ParticipantCSVError, match="no “name” column.*Full name, Email"):
        read("Full name,Email\nDana,dana@example.org\n")
    with pytest.raises(ParticipantCSVError, match="empty"):
        read("")
    with pytest.raises(ParticipantCSVError, match="UTF-8"):
        read_participants_csv("name\nJosé\n".encode("latin-1"))


def test_bad_rows_are_reported_by_row_and_column_and_left_out():
    parsed = read(
        "name,email,stakeholder_group,preferred_language,years_in_role,first_contact,"
        "dual_eligible,county\n"
        "Good Person,good@example.org,Providers,en,3,2027-02-01,no,Wake\n"
        ",nobody@example.org,,,,,,\n"
        "Bad Email,not-an-email,,,,,,\n"
        "Unknown Group,u@example.org,Astronauts,,,,,\n"
        "Bad Values,v@example.org,,fr,many,15/02/2027,maybe,\n"
        "Twice,good@example.org,,,,,,\n"
        "Known,known@example.org,,,,,,\n",
        existing_emails=["KNOWN@example.org"])
    assert [r.name for r in parsed.rows] == ["Good Person"]
    errors = {(e.row, e.column): e.message for e in parsed.errors}
    assert errors[(3, "name")] == "The name is empty."
    assert "not an email" in errors[(4, "email")]
    assert "not a stakeholder group" in errors[(5, "stakeholder_group")]
    assert "State officials" in errors[(5, "stakeholder_group")]
    assert "not offered" in errors[(6, "preferred_language")]
    assert errors[(6, "years_in_role")] == "“many” is not a number."
    assert "not a date" in errors[(6, "first_contact")]
    assert errors[(6, "dual_eligible")] == "“maybe” is not yes or no."
    assert errors[(7, "email")] == "good@example.org is already used by row 2."
    assert "already used by a participant of this study" in errors[(8, "email")]
    assert not parsed.ok


def test_rows_with_too_many_cells_and_unknown_columns():
    parsed = read("name,favourite colour\nDana,blue,extra\nLuis,green\n")
    assert parsed.ignored_columns == ["favourite colour"]
    assert [e.row for e in parsed.errors] == [2] and "3 cells" in parsed.errors[0].message
    assert [r.name for r in parsed.rows] == ["Luis"]


def test_attribute_parsing():
    assert parse_attribute("number", "1,250") == 1250
    assert parse_attribute("number", "2.5") == 2.5
    assert parse_attribute("yes_no", "Sí") is True and parse_attribute("yes_no", "N") is False
    assert parse_attribute("date", " 2027-03-15 ") == "2027-03-15"
    assert parse_attribute("text", "") is None
    with pytest.raises(ValueError):
        parse_attribute("number", "nan")


def test_export_round_trips_and_defuses_formulas():
    rows = [{"name": "=HYPERLINK(\"x\")", "organization": "Plan", "stakeholder_group":
             "Health plans", "email": "a@example.org", "phone": "+1 555 0100",
             "preferred_language": "es",
             "attributes": {"years_in_role": -3, "dual_eligible": False}}]
    text = write_participants_csv(rows, ATTRIBUTES)
    assert "'=HYPERLINK" in text and "'+1 555 0100" in text and "'-3" in text
    parsed = read(text)
    assert parsed.ok, parsed.errors
    (row,) = parsed.rows
    assert row.name == '=HYPERLINK("x")' and row.phone == "+1 555 0100"
    assert row.attributes == {"years_in_role": -3, "dual_eligible": False}
    assert "email" not in write_participants_csv(rows, contacts=False).splitlines()[0]
