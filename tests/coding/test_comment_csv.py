from pathlib import Path

import pytest

from coding.comment_csv import CommentCSVError, read_comments_csv

DEMO_CSV = Path(__file__).resolve().parents[2] / "engage/demo_data/usda-2017-0002-comments.csv"


def test_reads_regulations_gov_export():
    comments, errors = read_comments_csv(DEMO_CSV.read_bytes())
    assert len(comments) == 199 and errors == []
    assert comments[0].external_id == "USDA-2017-0002-2889"
    assert all(c.body == c.body.strip() and c.body for c in comments)


def test_row_errors_name_the_row():
    data = "Document ID,Text Comment\nA-1,First\nA-2,\nA-1,Again\nA-3," + "x" * 50 + "\n"
    comments, errors = read_comments_csv(data, max_length=20)
    assert [c.external_id for c in comments] == ["A-1"]
    assert [(e.row, e.message) for e in errors] == [
        (3, "The comment text is empty."),
        (4, "The ID A-1 already appears on row 2."),
        (5, "The comment is longer than 20 characters."),
    ]


def test_missing_text_column_and_bad_encoding():
    with pytest.raises(CommentCSVError, match="No comment text column"):
        read_comments_csv("id,name\n1,x\n")
    with pytest.raises(CommentCSVError, match="not UTF-8"):
        read_comments_csv(b"Comment\n\xff\xfe bad\n")
