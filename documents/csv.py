"""CSV files for spreadsheet programs, shared by every export.

UTF-8 with a byte-order mark (so that Excel reads Chinese names), and no cell
that a spreadsheet would run as a formula: a text cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (OWASP's
rule against CSV injection). Numbers given as numbers (``int``, ``Decimal``,
``float``) are written as they are, so a negative amount stays a number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` as a spreadsheet should read it: text that a spreadsheet
    would take for a formula is prefixed with ``'``."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)  # lazy translations too
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, out, **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


class _Echo:
    """A file that hands back what is written: for streamed responses."""

    def write(self, value):
        return value


def csv_writer(out=None, **kwargs) -> SafeWriter:
    """A safe CSV writer into ``out``; without ``out``, ``writerow`` returns
    the line (for a streamed response)."""
    return SafeWriter(out if out is not None else _Echo(), **kwargs)
