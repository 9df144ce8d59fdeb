"""Which month, which days and which workers a pay period covers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from payroll.models import (
    LOCKED_STATUSES,
    Adjustment,
    PayPeriod,
    WorkCorrection,
    WorkRecord,
)
from workforce.models import Park, Worker


def month_bounds(month: date) -> tuple[date, date]:
    """First day of ``month`` and first day of the next month."""
    start = month.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def local_midnight(day: date, tz_name: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name))


def payslip_number(park: Park, month: date, employee_no: str) -> str:
    """R14: stable across recalculations of the same worker and period."""
    return f"{park.code.upper()}-{month:%Y%m}-{employee_no}"


def period_workers(period: PayPeriod) -> list[int]:
    """Workers paid in a period: employed on some day of it (R16.1 dates), or
    with adjustments, corrections (R13.5) or late work to be paid in it."""
    start, end = month_bounds(period.month)
    employed = Worker.objects.filter(park_id=period.park_id, hire_date__lt=end).filter(
        Q(leave_date__isnull=True) | Q(leave_date__gte=start)
    )
    ids = set(employed.values_list("id", flat=True))
    ids.update(
        Adjustment.objects.filter(period=period).values_list("worker_id", flat=True)
    )
    ids.update(
        WorkCorrection.objects.filter(
            record__worker__park_id=period.park_id, booked_month=start
        ).values_list("record__worker_id", flat=True)
    )
    late = late_window(period)
    if late is not None:
        after, _ = late
        ids.update(
            WorkRecord.objects.filter(
                worker__park_id=period.park_id,
                work_date__lt=start,
                created_at__gt=after,
            ).values_list("worker_id", flat=True)
        )
    return sorted(ids)


def late_window(period: PayPeriod) -> tuple[datetime, date] | None:
    """R13.3: late work goes into the period right after the latest locked one.

    Returns (snapshot of that locked period, its month) when ``period`` is that
    next period, else None. Records dated in or before the locked period and
    created after its snapshot are this period's late work.
    """
    locked = (
        PayPeriod.objects.filter(
            park_id=period.park_id, month__lt=period.month, status__in=LOCKED_STATUSES
        )
        .order_by("-month")
        .first()
    )
    if locked is None or locked.snapshot_at is None:
        return None
    if month_bounds(locked.month)[1] != period.month:
        return None
    return locked.snapshot_at, locked.month
