"""R11.2: special additional deductions to date, summed month by month.

Each category's amount applies from its ``valid_from`` month until the same
category's next row. The year-to-date figure of a month adds up, for each
month the worker was employed this year (from the hire month, or January for a
worker hired in an earlier year), the amounts in force in that month; so an
amount changed from July changes July and later months only.

Reads only: one query for a chunk of workers, whatever its size. The payroll
engine receives the totals as plain values.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from workforce.models import SpecialDeduction

ZERO = Decimal("0.00")


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _worker_in(ids) -> RawSQL:
    # The ids are written into the SQL, as the payroll chunk's other queries do.
    table = SpecialDeduction._meta.db_table
    listed = ", ".join(str(int(i)) for i in ids) or "NULL"
    return RawSQL(
        f'"{table}"."worker_id" IN ({listed})', [], output_field=BooleanField()
    )


def special_deductions_by_category(
    *, worker_ids, month: date
) -> dict[int, dict[str, Decimal]]:
    """For each worker with any amount in force this year up to ``month``:
    the year-to-date sum per category, including ``month`` itself."""
    month = month.replace(day=1)
    last = _month_index(month)
    rows = (
        SpecialDeduction.objects.filter(_worker_in(worker_ids), valid_from__lte=month)
        .order_by("worker_id", "category", "valid_from")
        .values_list(
            "worker_id", "worker__hire_date", "category", "valid_from", "monthly_amount"
        )
    )
    spans: dict[tuple[int, str], list] = defaultdict(list)
    hires: dict[int, date] = {}
    for wid, hire_date, category, valid_from, amount in rows:
        hires[wid] = hire_date
        spans[(wid, category)].append((_month_index(valid_from), amount))
    result: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for (wid, category), changes in spans.items():
        first = max(_month_index(date(month.year, 1, 1)), _month_index(hires[wid]))
        total = Decimal(0)
        for n, (starts, amount) in enumerate(changes):
            ends = changes[n + 1][0] - 1 if n + 1 < len(changes) else last
            months = min(ends, last) - max(starts, first) + 1
            if months > 0:
                total += amount * months
        if total:
            result[wid][category] = total
    return dict(result)


def special_deductions_to_date(*, worker_ids, month: date) -> dict[int, Decimal]:
    """R11.2: each worker's special additional deductions this year to date,
    all categories together; workers without any are left out (0.00)."""
    return {
        wid: sum(by_category.values(), ZERO)
        for wid, by_category in special_deductions_by_category(
            worker_ids=worker_ids, month=month
        ).items()
    }


def special_deductions_by_month(
    *, worker, year: int
) -> dict[date, dict[str, tuple[Decimal, Decimal]]]:
    """R11.2 for one worker's year, month by month: per category the amount
    in force that month and the year-to-date sum (as
    ``special_deductions_by_category`` gives it for that month). One query."""
    december = date(year, 12, 1)
    changes: dict[str, list] = defaultdict(list)
    for category, valid_from, amount in (
        SpecialDeduction.objects.filter(worker=worker, valid_from__lte=december)
        .order_by("category", "valid_from")
        .values_list("category", "valid_from", "monthly_amount")
    ):
        changes[category].append((_month_index(valid_from), amount))
    first = max(_month_index(date(year, 1, 1)), _month_index(worker.hire_date))
    result: dict[date, dict[str, tuple[Decimal, Decimal]]] = {
        date(year, m, 1): {} for m in range(1, 13)
    }
    for category, rows in changes.items():
        total = Decimal(0)
        for month in result:
            index = _month_index(month)
            in_force = ZERO
            if index >= first:
                for starts, amount in rows:
                    if starts <= index:
                        in_force = amount
                total += in_force
            if total:
                result[month][category] = (in_force, total)
    return result
