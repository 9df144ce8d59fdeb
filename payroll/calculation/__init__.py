"""Feeding the pure engine from database aggregates, and writing payslips in bulk.

One chunk of workers costs a fixed number of queries whatever its size: the
records are summed in one SQL ``GROUP BY`` by worker, project, task type,
quality band (R4.2) and stretch of dates with one rate card and skill level,
and each sum is priced here (R3.2, ``priced_groups``); hours, adjustments and
year-to-date figures are one grouped query each. Payslips and their lines are
written with ``COPY`` on PostgreSQL.

The package: ``scoping`` (which month, days and workers a period covers),
``pricing`` (policies, rate cards, skill levels, priced sums), ``aggregation``
(the engine's inputs for a chunk of workers, and the engine run) and
``writing`` (payslips and lines in bulk); ``sql`` holds their raw-SQL helpers.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from datetime import datetime

from django.db import connection

from payroll.calculation.aggregation import compute_chunk, earlier_pay, months_employed
from payroll.calculation.pricing import (
    Catalogue,
    PricedGroup,
    load_catalogue,
    load_skills,
    merge_days,
    month_priced_groups,
    policy_for,
)
from payroll.calculation.scoping import (
    late_window,
    local_midnight,
    month_bounds,
    period_workers,
    previous_month,
)
from payroll.calculation.writing import (
    LINE_COLUMNS,
    RESULT_FIELDS,
    delete_payslips,
    store_payslips,
)
from payroll.models import PayPeriod

__all__ = [
    "LINE_COLUMNS",
    "RESULT_FIELDS",
    "Catalogue",
    "PricedGroup",
    "calculate_chunk",
    "compute_chunk",
    "earlier_pay",
    "late_window",
    "load_catalogue",
    "load_skills",
    "local_midnight",
    "merge_days",
    "month_bounds",
    "month_priced_groups",
    "months_employed",
    "period_workers",
    "policy_for",
    "previous_month",
]


def calculate_chunk(
    *, period: PayPeriod, worker_ids: list[int], snapshot: datetime, run=None
):
    """Compute and store the payslips of ``worker_ids`` (R1–R14).

    Replaces the chunk's earlier payslips; must run inside a transaction.
    Returns (payslip count, errors, totals).
    """
    if connection.vendor == "postgresql":
        # The chunk's records are summed in one hash table, not sorted on disk;
        # its queries are too short to repay compiling them (JIT).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
    with cycle_collection_paused():
        result = compute_chunk(
            period=period, worker_ids=worker_ids, snapshot=snapshot, run=run
        )
        # R13.1: replace the chunk's earlier results entirely.
        delete_payslips(period_id=period.id, worker_ids=worker_ids)
        store_payslips(result.payslips, result.lines)
    return len(result.payslips), result.errors, result.totals


@contextmanager
def cycle_collection_paused():
    """A chunk makes and drops hundreds of thousands of small objects (rows,
    Decimals, lines), freed as soon as they are dropped; hardly any is in a
    reference cycle. Python's cycle collector, triggered by the count of new
    objects, would meanwhile scan the whole heap again and again, for about a
    fifth of the chunk's CPU time: it is paused for the chunk (and resumes
    afterwards as it was)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
