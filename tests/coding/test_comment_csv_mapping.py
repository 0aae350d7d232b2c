"""Column mapping for comment CSV imports: preview, guesses, names in two columns."""

from pathlib import Path

import pytest

from coding.comment_csv import (
    ColumnMapping,
    CommentCSVError,
    preview_csv,
    read_comments_csv,
)

DEMO_CSV = Path(__file__).resolve().parents[2] / "engage/demo_data/usda-2017-0002-comments.csv"

# The shape of a full regulations.gov export (columns abridged).
FULL_EXPORT = (
    "Document ID,Tracking Number,Posted Date,First Name,Last Name,Organization Name,Comment\n"
    "CMS-1-0001,abc-1,2024-01-02,Ana,Ruiz,,\"Keep my doctors, please.\"\n"
    "CMS-1-0002,abc-2,2024-01-02,,,Coastal Health Plan,One plan for duals.\n"
)


def test_preview_guesses_regulations_gov_columns():
    preview = preview_csv(FULL_EXPORT)
    assert preview.total_rows == 2
    assert preview.columns[:2] == ["Document ID", "Tracking Number"]
    assert preview.mapping == ColumnMapping(
        text="Comment", external_id="Document ID", author_name="First Name",
        author_last_name="Last Name", organization="Organization Name")
    assert [c.author_name for c in preview.sample] == ["Ana Ruiz", ""]
    assert preview.sample[1].organization == "Coastal Health Plan"


def test_preview_of_the_real_export_and_a_chosen_mapping():
    preview = preview_csv(DEMO_CSV.read_bytes(), rows=3)
    assert preview.total_rows == 199 and len(preview.rows) == 3
    assert preview.mapping.text == "Text Comment"
    assert preview.mapping.external_id == "Document ID"


def test_read_with_explicit_mapping():
    mapping = ColumnMapping(text="Comment", external_id="Tracking Number")
    comments, errors = read_comments_csv(FULL_EXPORT, mapping=mapping)
    assert errors == []
    assert [(c.external_id, c.author_name) for c in comments] == [("abc-1", ""), ("abc-2", "")]
    round_trip = ColumnMapping.from_dict({**mapping.to_dict(), "email": "", "junk": "x"})
    assert round_trip == mapping


def test_mapping_to_missing_column_and_no_text_column():
    with pytest.raises(CommentCSVError, match="no column named Text"):
        read_comments_csv(FULL_EXPORT, mapping=ColumnMapping(text="Text"))
    assert preview_csv("id,name\n1,x\n").mapping is None
    with pytest.raises(CommentCSVError, match="empty or has no header"):
        preview_csv("")


def test_long_fields_and_long_ids_are_row_errors_not_crashes():
    long_text = "word " * 40_000  # beyond the csv module's default 128 KiB field limit
    data = f"ID,Comment\nA,\"{long_text}\"\n{'B' * 81},fine\n"
    comments, errors = read_comments_csv(data, max_length=500_000)
    assert [c.external_id for c in comments] == ["A"]
    assert errors[0].row == 3 and "longer than 80" in errors[0].message
