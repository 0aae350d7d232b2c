"""Frequencies, co-occurrence and spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import io

from coding.queries import CodedUnit, cooccurrence, frequency, safe_cell, to_csv


def test_frequency_counts_units_once_and_codings_each_time():
    rows = [CodedUnit("mech", "s1", "Health plans"), CodedUnit("mech", "s1", "Health plans"),
            CodedUnit("mech", "s2", "Providers"), CodedUnit("equity", "c1", "Not recorded")]
    table = frequency(rows, columns=["Health plans", "Providers"])
    assert table.units[("mech", "Health plans")] == 1
    assert table.codings[("mech", "Health plans")] == 2
    assert table.row_total("mech") == 2
    # A value that was not in the given columns still gets a column.
    assert table.columns == ("Health plans", "Providers", "Not recorded")
    assert table.codes == ("equity", "mech")


def test_cooccurrence_is_symmetric_with_units_per_code_on_the_diagonal():
    matrix = cooccurrence({"s1": {"a", "b"}, "s2": {"a", "b", "c"}, "s3": {"a"}})
    assert matrix.codes == ("a", "b", "c")
    assert matrix.count("a", "a") == 3 and matrix.count("a", "b") == matrix.count("b", "a") == 2
    assert matrix.count("b", "c") == 1 and matrix.count("c", "c") == 1
    assert matrix.jaccard("a", "b") == 2 / 3
    assert matrix.jaccard("x", "y") is None


def test_csv_cells_never_run_as_formulas():
    assert safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for dangerous in ("+1", "-2+3", "@SUM(A1)", "\tx"):
        assert safe_cell(dangerous).startswith("'")
    text = to_csv(["code", "n"], [["=cmd", -3], ["quote, with \"marks\"\nand lines", 2.5]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["code", "n"], ["'=cmd", "-3"], ["quote, with \"marks\"\nand lines", "2.5"]]
