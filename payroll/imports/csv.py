"""The ParkPay CSV (``csv``): one work record a row (docs/imports.md)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from django.utils.translation import gettext as _gettext

from payroll.imports.lookups import Lookups, check_record
from payroll.imports.report import (
    BAD_ACCURACY,
    BAD_DATE,
    BAD_UNITS,
    DUPLICATE_COLUMN,
    FILE_EMPTY,
    MISSING_COLUMNS,
    NOT_TEXT,
    REQUIRED,
    TOO_MANY_CELLS,
    ImportFileError,
    ImportReport,
    shown,
)
from payroll.imports.text import clean_cell
from workforce import bounds

# A units cell longer than this is out of range without being parsed.
UNITS_DIGITS = len(str(bounds.MAX_UNITS))

# CSV columns: the canonical name and the other header names accepted.
CSV_COLUMNS = {
    "employee_no": (
        "employee_no",
        "employee_number",
        "employee",
        "工号",
        "员工编号",
        "员工号",
    ),
    "project": ("project", "project_code", "项目", "项目编号", "项目代码"),
    "task_type": ("task_type", "task", "任务类型", "任务", "作业类型"),
    "work_date": ("work_date", "date", "日期", "工作日期", "作业日期"),
    "units": ("units", "quantity", "数量", "件数", "工作量"),
    "accuracy": ("accuracy", "准确率", "正确率", "质检准确率"),
    "external_id": (
        "external_id",
        "id",
        "record_id",
        "外部编号",
        "外部id",
        "记录编号",
    ),
}
CSV_REQUIRED = ("employee_no", "task_type", "work_date", "units", "external_id")
_HEADER_ALIASES = {
    alias: column for column, aliases in CSV_COLUMNS.items() for alias in aliases
}


def _header_key(value: str) -> str:
    key = clean_cell(value).lower()
    return re.sub(r"[\s\-]+", "_", key)


def csv_rows(text, lookups: Lookups, report: ImportReport) -> Iterator[tuple]:
    """The ParkPay CSV; row numbers as a spreadsheet shows them (header = 1)."""
    first_line = text.readline()
    if not first_line.strip():
        raise ImportFileError(FILE_EMPTY)
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    header = next(csv.reader([first_line], delimiter=delimiter))
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        column = _HEADER_ALIASES.get(_header_key(name))
        if column is None:
            report.warn(1, name, _gettext("Unknown column, ignored."))
            continue
        if column in columns:
            raise ImportFileError(DUPLICATE_COLUMN % {"column": name})
        columns[column] = index
    missing = [c for c in CSV_REQUIRED if c not in columns]
    if missing:
        raise ImportFileError(
            MISSING_COLUMNS
            % {"columns": ", ".join(missing), "header": ", ".join(header)}
        )
    width = len(header)
    # Where each column is; a missing optional column reads as empty cells.
    spots = [columns.get(name, width) for name in CSV_COLUMNS]
    workers, blank = lookups.workers, [""]
    row = 1
    reader = csv.reader(text, delimiter=delimiter)
    while True:
        try:
            cells = next(reader, None)
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                NOT_TEXT % {"position": f"{exc.start} (row {row + 1})"}
            ) from exc
        except csv.Error as exc:
            raise ImportFileError(f"row {row + 1}: {exc}") from exc
        if cells is None:
            return
        row += 1
        if len(cells) != width:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > width:
                report.records += 1
                report.error(
                    row, "", TOO_MANY_CELLS % {"cells": len(cells), "columns": width}
                )
                continue
        report.records += 1
        padded = cells + blank * (width + 1 - len(cells))
        no, project, task_type, day, units, accuracy, external_id = (
            clean_cell(padded[i]) for i in spots
        )
        if not (no or task_type or day or units or external_id or project):
            report.records -= 1  # an empty line of commas
            continue
        bad = False
        worker = workers.get(no)
        if worker is None:
            if no:
                lookups.defer_worker(no, row)
            else:
                report.error(row, "employee_no", REQUIRED)
            bad = True
        work_date = None
        if not day:
            report.error(row, "work_date", REQUIRED)
            bad = True
        else:
            work_date = lookups.date_of(day)
            if work_date is None:
                report.error(row, "work_date", BAD_DATE % {"value": shown(day)})
                bad = True
        count = None
        digits = units[1:] if units[:1] == "-" else units
        if not digits.isdecimal():
            report.error(
                row, "units", BAD_UNITS % {"value": shown(units)} if units else REQUIRED
            )
            bad = True
        elif len(digits) <= UNITS_DIGITS:
            count = int(units)
        else:  # out of range whatever its digits: the rules' message
            count = -1 if units[0] == "-" else bounds.MAX_UNITS
        value = None
        if accuracy:
            value = lookups.accuracy_of(accuracy)
            if value is None:
                report.error(row, "accuracy", BAD_ACCURACY % {"value": shown(accuracy)})
                bad = True
        staged = check_record(
            lookups,
            report,
            row,
            "",
            bad,
            worker,
            project,
            task_type,
            work_date,
            count,
            value,
            external_id,
        )
        if staged is not None:
            yield staged
