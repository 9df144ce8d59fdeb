"""Payslips and their lines written in bulk (``COPY`` on PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime

from django.db import connection

from payroll import engine
from payroll.calculation.sql import in_list, table_name
from payroll.models import (
    Payslip,
    PayslipLine,
)

RESULT_FIELDS = (
    "piece_pay",
    "topup",
    "bonuses",
    "allowances",
    "taxable",
    "social_insurance",
    "tax",
    "deductions",
    "carried_in",
    "carried_forward",
    "net",
    "ytd_taxable",
    "ytd_social_insurance",
    "ytd_tax",
)
LINE_COLUMNS = (
    "payslip_id",
    "position",
    "kind",
    "project",
    "task_type",
    "unit",
    "quantity",
    "rate",
    "multiplier",
    "tier",
    "ref_period",
    "reason",
    "amount",
    "pending_units",
)


def _line_row(payslip_id: int, position: int, line) -> tuple:
    """A payslip line's values in LINE_COLUMNS order."""
    return (
        payslip_id,
        position,
        str(line.kind),
        line.project,
        line.task_type,
        line.unit,
        line.quantity,
        line.rate,
        line.multiplier,
        line.tier,
        line.period or "",
        line.reason,
        line.amount,
        line.pending_units,
    )


def _line_rows(payslip_id: int, lines) -> list[tuple]:
    return [
        _line_row(payslip_id, position, line)
        for position, line in enumerate(lines, start=1)
    ]


def delete_payslips(*, period_id: int, worker_ids: list[int]) -> None:
    """Delete payslips and their lines in two statements (the ORM's cascade
    would load every payslip first)."""
    if not worker_ids:
        return
    where = f"period_id = %s AND worker_id IN ({in_list(worker_ids)})"
    payslips, lines = table_name(Payslip), table_name(PayslipLine)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {lines} WHERE payslip_id IN "
            f"(SELECT id FROM {payslips} WHERE {where})",
            [period_id],
        )
        cursor.execute(f"DELETE FROM {payslips} WHERE {where}", [period_id])


def store_payslips(payslips: list[dict], lines_by_number: dict) -> None:
    """Write payslips (as column dicts) and their lines in bulk: ``COPY`` on
    PostgreSQL, where the ORM's per-value preparation would cost more than the
    calculation itself; plain ``bulk_create`` elsewhere."""
    if not payslips:
        return
    if connection.vendor != "postgresql":
        created = Payslip.objects.bulk_create(
            [Payslip(**row) for row in payslips], batch_size=500
        )
        PayslipLine.objects.bulk_create(
            [
                PayslipLine(**dict(zip(LINE_COLUMNS, row, strict=True)))
                for payslip in created
                for row in _line_rows(payslip.id, lines_by_number[payslip.number])
            ],
            batch_size=1000,
        )
        return
    columns = list(payslips[0])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
            "FROM generate_series(1, %s)",
            [Payslip._meta.db_table, len(payslips)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        out = []
        for pk, row in zip(ids, payslips, strict=True):
            row["id"] = pk
            out.append(
                _copy_line(
                    [
                        pk,
                        *(
                            json.dumps(row[c]) if c == "warnings" else row[c]
                            for c in columns
                        ),
                    ]
                )
            )
        names = ", ".join(["id", *columns])
        _copy(cursor, f"COPY {table_name(Payslip)} ({names}) FROM STDIN", out)
        out = [
            _copy_payslip_line(row["id"], position, line)
            for row in payslips
            for position, line in enumerate(lines_by_number[row["number"]], start=1)
        ]
        _copy(
            cursor,
            f"COPY {table_name(PayslipLine)} ({', '.join(LINE_COLUMNS)}) FROM STDIN",
            out,
        )


# COPY's text format: tab-separated, \\N for NULL, backslash escapes.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


_COPY_NULL = "\\N"


def _copy_value(value) -> str:
    if value is None:
        return _COPY_NULL
    if isinstance(value, str):
        return _copy_text(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # int, Decimal, date


_KIND_TEXT = {kind: kind.value for kind in engine.LineKind}


def _copy_payslip_line(payslip_id: int, position: int, line) -> str:
    """``_line_row`` in COPY text, written out for the common case of texts
    that need no escaping. (``!s``: ``format()`` of a Decimal is four times
    slower than ``str()``.)"""
    texts = (line.project, line.task_type, line.unit, line.tier, line.period or "")
    joined = "".join(texts) + line.reason
    if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
        return _copy_line(_line_row(payslip_id, position, line))
    null = _COPY_NULL
    quantity, rate, multiplier = line.quantity, line.rate, line.multiplier
    return (
        f"{payslip_id}\t{position}\t{_KIND_TEXT[line.kind]}\t{line.project}\t"
        f"{line.task_type}\t{line.unit}\t"
        f"{null if quantity is None else quantity!s}\t"
        f"{null if rate is None else rate!s}\t"
        f"{null if multiplier is None else multiplier!s}\t"
        f"{line.tier}\t{line.period or ''}\t{line.reason}\t{line.amount!s}\t"
        f"{line.pending_units}\n"
    )


def _copy_line(values) -> str:
    return "\t".join(map(_copy_value, values)) + "\n"


def _copy(cursor, sql: str, lines: list[str]) -> None:
    """Send rows already in COPY's text format, in one buffer: psycopg's
    per-value ``write_row`` would cost more than the calculation."""
    with cursor.cursor.copy(sql) as copy:
        copy.write("".join(lines))
