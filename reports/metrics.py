"""Staff metrics, trends and coverage for a park's director, computed in SQL."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf

from payroll.calculation import local_midnight, month_bounds
from payroll.models import PayPeriod, Payslip, WorkRecord
from workforce.models import Park, SkillPeriod, Worker, WorkSession

SORTS = {
    "name": "name",
    "employee_no": "employee_no",
    "team": "team__name",
    "contract": "contract",
    "skill": "skill",
    "hours": "minutes",
    "units": "units",
    "uph": "units_per_hour",
    "accuracy": "accuracy",
    "gross": "gross",
}


def _sum_subquery(qs: QuerySet, field, output_field) -> Subquery:
    return Subquery(
        qs.order_by()
        .values("worker_id")
        .annotate(total=Sum(field))
        .values("total")[:1],
        output_field=output_field,
    )


def staff_metrics(
    *,
    park: Park,
    month: date,
    sort: str = "name",
    team: str | None = None,
    skill: str | None = None,
    contract: str | None = None,
    search: str | None = None,
    live: bool = False,
) -> QuerySet[Worker]:
    """Workers of ``month`` with hours, units, units/hour, accuracy, gross pay
    and skill level, sorted and filtered in the database.

    Once the month is calculated the figures are the payslips' (one indexed
    join, fast for a park of thousands); before that they are aggregated live
    from sessions and records. ``live=True`` forces the live figures.
    """
    start, end = month_bounds(month)
    period = PayPeriod.objects.filter(park=park, month=start).first()
    if not live and period is not None and period.calculated_at is not None:
        qs = _from_payslips(period)
        return _filter_and_sort(qs, team, skill, contract, search, sort)
    last_day = end - timedelta(days=1)
    sessions = WorkSession.objects.filter(
        worker=OuterRef("pk"), work_date__gte=start, work_date__lt=end
    )
    records = WorkRecord.objects.filter(
        worker=OuterRef("pk"), work_date__gte=start, work_date__lt=end
    )
    reviewed = records.filter(accuracy__isnull=False)
    dec = DecimalField(max_digits=14, decimal_places=2)
    qs = (
        Worker.objects.filter(park=park, hire_date__lte=last_day)
        .filter(Q(leave_date__isnull=True) | Q(leave_date__gte=start))
        .select_related("team")
        .annotate(
            minutes=Coalesce(_sum_subquery(sessions, "minutes", IntegerField()), 0),
            units=Coalesce(_sum_subquery(records, "units", IntegerField()), 0),
            reviewed_units=_sum_subquery(reviewed, "units", IntegerField()),
            weighted=_sum_subquery(
                reviewed,
                ExpressionWrapper(F("units") * F("accuracy"), output_field=dec),
                dec,
            ),
            skill=Subquery(
                SkillPeriod.objects.filter(
                    worker=OuterRef("pk"), valid_from__lte=last_day
                )
                .order_by("-valid_from")
                .values("level")[:1]
            ),
            gross=Subquery(
                Payslip.objects.filter(
                    worker=OuterRef("pk"), period__park=park, period__month=start
                ).values("taxable")[:1]
            ),
        )
        .annotate(
            accuracy=ExpressionWrapper(
                Cast(F("weighted"), FloatField())
                / Cast(NullIf(F("reviewed_units"), 0), FloatField()),
                output_field=FloatField(),
            ),
            units_per_hour=_per_hour(F("units"), F("minutes")),
        )
    )
    return _filter_and_sort(qs, team, skill, contract, search, sort)


def _per_hour(units, minutes):
    return ExpressionWrapper(
        Cast(units, FloatField())
        * Value(60.0)
        / Cast(NullIf(minutes, 0), FloatField()),
        output_field=FloatField(),
    )


def _from_payslips(period: PayPeriod) -> QuerySet[Worker]:
    return (
        Worker.objects.annotate(
            slip=FilteredRelation("payslips", condition=Q(payslips__period=period))
        )
        .filter(slip__isnull=False)
        .select_related("team")
        .annotate(
            minutes=F("slip__minutes"),
            units=F("slip__units"),
            accuracy=Cast(F("slip__accuracy"), FloatField()),
            gross=F("slip__taxable"),
            skill=F("slip__skill_level"),
            units_per_hour=_per_hour(F("slip__units"), F("slip__minutes")),
        )
    )


def _filter_and_sort(qs, team, skill, contract, search, sort) -> QuerySet[Worker]:
    if team:
        qs = qs.filter(team__name=team)
    if skill:
        qs = qs.filter(skill=skill)
    if contract:
        qs = qs.filter(contract=contract)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(employee_no__icontains=search))
    key = sort.lstrip("-")
    field = SORTS.get(key, "name")
    order = (
        F(field).desc(nulls_last=True)
        if sort.startswith("-")
        else F(field).asc(nulls_last=True)
    )
    return qs.order_by(order, "employee_no")


def payslip_warnings(
    *, park: Park, month: date, worker_ids: list[int]
) -> dict[int, list]:
    """R8 warnings of the month's payslips for the given workers."""
    return dict(
        Payslip.objects.filter(
            period__park=park, period__month=month, worker_id__in=worker_ids
        ).values_list("worker_id", "warnings")
    )


@dataclasses.dataclass
class MonthTrend:
    month: date
    status: str
    headcount: int
    hours: Decimal
    units: int
    accuracy: Decimal | None
    payroll_cost: Decimal


def park_trends(*, park: Park, months: int = 12) -> list[MonthTrend]:
    """Per calculated month: payslips, hours, units, accuracy, gross pay."""
    periods = (
        PayPeriod.objects.filter(park=park)
        .order_by("-month")[:months]
        .values_list("id", "month", "status")
    )
    by_id = {pid: (m, s) for pid, m, s in periods}
    dec = DecimalField(max_digits=16, decimal_places=2)
    rows = (
        Payslip.objects.filter(period_id__in=by_id)
        .values("period_id")
        .annotate(
            headcount=Coalesce(Sum(Value(1)), 0),
            total_minutes=Coalesce(Sum("minutes"), 0),
            total_units=Coalesce(Sum("units"), 0),
            weighted=Sum(
                Case(
                    When(accuracy__isnull=False, then=F("units") * F("accuracy")),
                    output_field=dec,
                )
            ),
            weighted_units=Sum(
                Case(
                    When(accuracy__isnull=False, then=F("units")),
                    output_field=IntegerField(),
                )
            ),
            cost=Coalesce(Sum("taxable"), Decimal(0), output_field=dec),
        )
    )
    out = []
    for row in rows:
        month, status = by_id[row["period_id"]]
        accuracy = None
        if row["weighted_units"]:
            accuracy = (Decimal(row["weighted"]) / row["weighted_units"]).quantize(
                Decimal("0.01")
            )
        out.append(
            MonthTrend(
                month=month,
                status=status,
                headcount=row["headcount"],
                hours=(Decimal(row["total_minutes"]) / 60).quantize(Decimal("0.1")),
                units=row["total_units"],
                accuracy=accuracy,
                payroll_cost=Decimal(row["cost"]).quantize(Decimal("0.01")),
            )
        )
    return sorted(out, key=lambda t: t.month)


@dataclasses.dataclass
class Coverage:
    """Average number of people working in each hour of each weekday."""

    month: date
    cells: list[list[Decimal]]  # [weekday 0=Monday][hour 0–23]
    peak: Decimal


def coverage(*, park: Park, month: date) -> Coverage:
    start, end = month_bounds(month)
    tz = ZoneInfo(park.time_zone)
    begin, finish = (
        local_midnight(start, park.time_zone),
        local_midnight(end, park.time_zone),
    )
    minutes = defaultdict(float)
    for s_start, s_end in WorkSession.objects.filter(
        worker__park=park, start__lt=finish, end__gt=begin, end__isnull=False
    ).values_list("start", "end"):
        t = max(s_start, begin).astimezone(tz)
        stop = min(s_end, finish).astimezone(tz)
        while t < stop:
            hour_end = (t + timedelta(hours=1)).replace(
                minute=0, second=0, microsecond=0
            )
            chunk = (min(hour_end, stop) - t).total_seconds() / 60
            minutes[(t.weekday(), t.hour)] += chunk
            t = hour_end
    weekdays = defaultdict(int)
    day = start
    while day < end:
        weekdays[day.weekday()] += 1
        day += timedelta(days=1)
    cells = [
        [
            (Decimal(minutes[(wd, h)] / 60 / weekdays[wd]).quantize(Decimal("0.1")))
            if weekdays[wd]
            else Decimal(0)
            for h in range(24)
        ]
        for wd in range(7)
    ]
    peak = max((c for row in cells for c in row), default=Decimal(0))
    return Coverage(month=start, cells=cells, peak=peak)
