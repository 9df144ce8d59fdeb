"""documents.csv: one writer for every export, with no formula in a cell."""

import io
from decimal import Decimal

import pytest

from documents.csv import BOM, csv_writer, safe_cell

HOSTILE = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_that_a_spreadsheet_would_run_gets_a_quote(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", [Decimal("-12.50"), -3, -0.5, None, "马小兰", "E1001", "a=b", "<5"]
)
def test_numbers_and_plain_text_are_kept(value):
    assert safe_cell(value) == value


def test_writer_into_a_file_and_streamed():
    out = io.StringIO()
    out.write(BOM)
    csv_writer(out).writerow(["=1+1", Decimal("-2.00"), 3])
    assert out.getvalue() == "\ufeff'=1+1,-2.00,3\r\n"
    assert csv_writer().writerow(["@x", "y"]) == "'@x,y\r\n"
