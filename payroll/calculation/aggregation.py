"""The engine's inputs summed from the database for one chunk of workers:
records, hours, adjustments and earlier pay; then the engine runs (R1-R14)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from payroll import engine
from payroll.calculation.pricing import (
    Catalogue,
    PricedGroup,
    load_catalogue,
    load_skills,
    month_priced_groups,
    policy_on,
    priced_groups,
    rate_on,
)
from payroll.calculation.scoping import (
    late_window,
    local_midnight,
    month_bounds,
    payslip_number,
)
from payroll.calculation.sql import as_date, id_in, in_list, table_name
from payroll.calculation.writing import RESULT_FIELDS
from payroll.models import (
    Adjustment,
    PayPeriod,
    Payslip,
    WorkCorrection,
    WorkRecord,
)
from workforce.deductions import special_deductions_to_date
from workforce.models import Contract, Park, Worker, WorkSession

DAY_LIMIT_MINUTES = 11 * 60  # R8: 劳动法 art. 41, 8 + 3 hours
MONTH_OVERTIME_HOURS = Decimal("36")  # R8: beyond S
PART_TIME_WEEK_MINUTES = 24 * 60  # R8: 劳动合同法 art. 68


@dataclasses.dataclass
class WorkerInputs:
    items: list = dataclasses.field(default_factory=list)
    corrections: list = dataclasses.field(default_factory=list)
    units: int = 0
    reviewed_units: int = 0
    accuracy_hundredths: int = 0
    minutes: int = 0
    day_minutes: dict = dataclasses.field(default_factory=dict)
    adjustments: list = dataclasses.field(default_factory=list)
    errors: list = dataclasses.field(default_factory=list)


def _collect_records(
    period: PayPeriod,
    cat: Catalogue,
    skills: dict,
    worker_ids: list[int],
    snapshot: datetime,
    inputs: dict[int, WorkerInputs],
    workers: dict[int, Worker],
    month_groups: list[PricedGroup] | None = None,
) -> None:
    start, end = month_bounds(period.month)
    ids = in_list(worker_ids)
    if month_groups is None:
        month_groups = month_priced_groups(
            cat, skills, worker_ids, period.month, snapshot
        )
    groups = list(month_groups)
    late = late_window(period)
    if late is not None:
        after, _ = late
        late_where = (
            f"r.worker_id IN ({ids}) AND r.work_date < %s "
            "AND r.created_at > %s AND r.created_at <= %s"
        )
        # Late work is grouped by its own month (R13.3), so by work date here.
        groups += priced_groups(
            cat,
            skills,
            late_where,
            [start, after, snapshot],
            start=start,
            end=end,
            by_day=True,
        )
    missing = []
    for group in groups:
        wid, pid, tid = group.worker_id, group.project_id, group.task_type_id
        target = inputs[wid]
        if group.rate is None:
            missing.append((wid, pid, tid, group.day))
            continue
        project, task_type = cat.projects[pid], cat.task_types[tid]
        if group.tier is None:
            target.errors.append(
                _error(workers[wid], project, task_type, group.first, "no_quality_tier")
            )
            continue
        late_from = f"{group.day:%Y-%m}" if group.day is not None else None
        target.items.append(
            engine.PieceItem(
                project=project.name,
                task_type=task_type.name,
                unit=task_type.unit,
                rate=group.rate,
                multiplier=group.tier.multiplier,
                tier=group.tier.label,
                units=group.units,
                late_from=late_from,
            )
        )
        if late_from is None:
            target.units += group.units
            target.reviewed_units += group.reviewed_units
            target.accuracy_hundredths += group.accuracy_hundredths
    if missing:
        _explain_missing_cards(period, cat, skills, missing, snapshot, inputs, workers)


def _collect_corrections(
    period: PayPeriod,
    cat: Catalogue,
    skills: dict,
    worker_ids: list[int],
    snapshot: datetime,
    inputs: dict[int, WorkerInputs],
    workers: dict[int, Worker],
) -> None:
    """R13.5: corrections booked in the period's month by ``snapshot``, each
    priced at its record's date, tier and skill level (R13.3), one item each."""
    rows = (
        WorkCorrection.objects.filter(
            booked_month=period.month,
            created_at__lte=snapshot,
            record__worker_id__in=worker_ids,
        )
        .order_by("created_at", "id")
        .values_list(
            "record__worker_id",
            "record__project_id",
            "record__task_type_id",
            "record__work_date",
            "kind",
            "old_units",
            "new_units",
            "old_accuracy",
            "new_accuracy",
            "reason",
        )
    )
    for wid, pid, tid, day, kind, old_u, new_u, old_a, new_a, reason in rows:
        project, task_type = cat.projects[pid], cat.task_types[tid]
        rate = rate_on(cat, skills, wid, pid, tid, day)
        if rate is None:  # R3.3
            inputs[wid].errors.append(
                _error(workers[wid], project, task_type, day, "no_rate_card")
            )
            continue
        try:
            old_tier = engine.tier_for(old_a, cat.tiers[pid])
            new_tier = engine.tier_for(new_a, cat.tiers[pid])
        except ValueError:
            inputs[wid].errors.append(
                _error(workers[wid], project, task_type, day, "no_quality_tier")
            )
            continue
        units, multiplier, tier = engine.correction_terms(
            kind, old_u, new_u, old_tier, new_tier
        )
        inputs[wid].corrections.append(
            engine.CorrectionItem(
                project=project.name,
                task_type=task_type.name,
                unit=task_type.unit,
                rate=rate,
                multiplier=multiplier,
                tier=tier.label,
                units=units,
                corrects=f"{day:%Y-%m}",
                reason=reason,
            )
        )


def _error(worker: Worker, project, task_type, day, code: str) -> dict:
    return {
        "code": code,
        "worker_id": worker.id,
        "employee_no": worker.employee_no,
        "worker": worker.name,
        "project": project.code,
        "task_type": task_type.code,
        "date": str(as_date(day)) if day else "",
    }


def _explain_missing_cards(
    period, cat, skills, missing, snapshot, inputs, workers
) -> None:
    """R3.3: list each unpriced record's worker, project, task type and date."""
    start, end = month_bounds(period.month)
    seen = set()
    for wid, pid, tid, late_day in missing:
        days = WorkRecord.objects.filter(
            worker_id=wid, project_id=pid, task_type_id=tid, created_at__lte=snapshot
        )
        if late_day is None:
            days = days.filter(work_date__gte=start, work_date__lt=end)
        else:
            days = days.filter(work_date=late_day)
        for day in (
            days.values_list("work_date", flat=True).distinct().order_by("work_date")
        ):
            day = as_date(day)
            if (
                rate_on(cat, skills, wid, pid, tid, day) is not None
                or (wid, pid, tid, day) in seen
            ):
                continue
            seen.add((wid, pid, tid, day))
            inputs[wid].errors.append(
                _error(
                    workers[wid],
                    cat.projects[pid],
                    cat.task_types[tid],
                    day,
                    "no_rate_card",
                )
            )


def _collect_minutes(period, park, worker_ids, inputs) -> None:
    """R6.2/R1.1 minutes in the period (sessions split at local midnight of the
    1st), and minutes per local day for the R8 warnings."""
    start, end = month_bounds(period.month)
    starts_dt = local_midnight(start, park.time_zone)
    ends_dt = local_midnight(end, park.time_zone)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT worker_id, work_date, SUM(minutes)
                FROM {table_name(WorkSession)}
                WHERE worker_id IN ({in_list(worker_ids)})
                  AND work_date >= %s AND work_date < %s AND "end" IS NOT NULL
                GROUP BY worker_id, work_date""",
            [start - timedelta(days=6), end],
        )
        per_day = cursor.fetchall()
    for wid, day, total in per_day:
        day = as_date(day)
        inputs[wid].day_minutes[day] = int(total)
        if day >= start:
            inputs[wid].minutes += int(total)
    # Sessions crossing a month boundary count only their minutes inside it.
    crossing = WorkSession.objects.filter(
        Q(start__lt=starts_dt, end__gt=starts_dt)
        | Q(start__lt=ends_dt, end__gt=ends_dt),
        id_in(WorkSession, "worker_id", worker_ids),
    ).values_list("worker_id", "start", "end", "minutes")
    for wid, s_start, s_end, minutes in crossing:
        inside = int(
            (min(s_end, ends_dt) - max(s_start, starts_dt)).total_seconds() // 60
        )
        counted = minutes if starts_dt <= s_start < ends_dt else 0
        inputs[wid].minutes += inside - counted


def working_time_warnings(
    *,
    contract: str,
    day_minutes: dict[date, int],
    start: date,
    end: date,
    minutes: int,
    standard_hours: Decimal,
) -> list[dict]:
    """R8: no pay effect; shown to the director and counted in reports."""
    warnings = []
    for day in sorted(day_minutes):
        if start <= day < end and day_minutes[day] > DAY_LIMIT_MINUTES:
            warnings.append(
                {"code": "day_over_11h", "date": str(day), "minutes": day_minutes[day]}
            )
    if Decimal(minutes) / 60 > standard_hours + MONTH_OVERTIME_HOURS:
        warnings.append({"code": "month_overtime", "minutes": minutes})
    # Seven consecutive worked days ending inside the period (劳动法 art. 38).
    worked = {day.toordinal() for day, total in day_minutes.items() if total > 0}
    first, streak = start.toordinal(), 0
    for ordinal in range(first - 6, end.toordinal()):
        streak = streak + 1 if ordinal in worked else 0
        if streak >= 7 and ordinal >= first:
            warnings.append(
                {"code": "no_rest_day", "date": str(date.fromordinal(ordinal))}
            )
            streak = 0
    if contract == Contract.PART_TIME:
        weeks: dict[date, int] = defaultdict(int)
        for day, total in day_minutes.items():
            weeks[day - timedelta(days=day.weekday())] += total
        for monday in sorted(weeks):
            sunday = monday + timedelta(days=6)
            if start <= sunday < end and weeks[monday] > PART_TIME_WEEK_MINUTES:
                warnings.append(
                    {
                        "code": "part_time_week_over_24h",
                        "date": str(monday),
                        "minutes": weeks[monday],
                    }
                )
    return warnings


def months_employed(hire_date: date, month: date) -> int:
    """R11.2: months at the park this year, from the hire month or January."""
    first = max(date(month.year, 1, 1), hire_date.replace(day=1))
    return max(1, (month.year - first.year) * 12 + month.month - first.month + 1)


def earlier_pay(*, worker_ids: list[int], park: Park, start: date):
    """Earlier payslips of the workers at the park: this year's sums of
    (taxable, social insurance, tax) for R11, and the latest payslip's
    (month, carried forward) for R12."""
    ytd = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    carry: dict[int, tuple[date, Decimal]] = {}
    for wid, month, taxable, si, tax, carried in (
        Payslip.objects.filter(
            id_in(Payslip, "worker_id", worker_ids),
            period__park=park,
            period__month__lt=start,
            period__month__gte=date(start.year - 1, start.month, 1),
        )
        .order_by("worker_id", "period__month")
        .values_list(
            "worker_id",
            "period__month",
            "taxable",
            "social_insurance",
            "tax",
            "carried_forward",
        )
    ):
        if month.year == start.year:
            ytd[wid][0] += taxable
            ytd[wid][1] += si
            ytd[wid][2] += tax
        carry[wid] = (month, carried)
    return ytd, carry


@dataclasses.dataclass
class ChunkResult:
    payslips: list[dict]  # Payslip column values
    lines: dict[str, tuple]  # payslip number → engine lines
    errors: list[dict]
    totals: dict[str, Decimal]


def compute_chunk(
    *,
    period: PayPeriod,
    worker_ids: list[int],
    snapshot: datetime,
    run=None,
    cat: Catalogue | None = None,
    workers: dict[int, Worker] | None = None,
    skills: dict | None = None,
    month_groups: list[PricedGroup] | None = None,
) -> ChunkResult:
    """The payslips of ``worker_ids`` for ``period`` as of ``snapshot``,
    computed but not stored (also the estimate shown to a worker).

    A caller that has them already passes the park's ``cat``, the ``workers``
    by id, their ``skills`` and ``month_groups``: the month's records up to
    ``snapshot`` as ``month_groups`` prices them.
    """
    park = period.park
    start, end = month_bounds(period.month)
    last_day = end - timedelta(days=1)
    if workers is None:
        workers = {
            w.id: w for w in Worker.objects.filter(id_in(Worker, "id", worker_ids))
        }
    inputs = {wid: WorkerInputs() for wid in workers}
    cat = cat or load_catalogue(park)
    if skills is None:
        skills = load_skills(list(workers))
    if month_groups is not None and any(g.day is not None for g in month_groups):
        raise ValueError("month_groups are by stretch: merge_days(groups by day)")
    _collect_records(
        period, cat, skills, list(workers), snapshot, inputs, workers, month_groups
    )
    _collect_corrections(period, cat, skills, list(workers), snapshot, inputs, workers)
    _collect_minutes(period, park, list(workers), inputs)

    adjustments = Adjustment.objects.none()
    if period.pk:  # an estimate may be for a period nobody has opened yet
        adjustments = Adjustment.objects.filter(
            id_in(Adjustment, "worker_id", workers), period=period
        )
    for adj in adjustments.order_by("created_at", "id"):
        inputs[adj.worker_id].adjustments.append(
            engine.AdjustmentItem(kind=adj.kind, amount=adj.amount, reason=adj.reason)
        )

    # The level of the last skill period starting by the period's end.
    levels = {
        wid: [level for valid_from, _to, level in history if valid_from <= last_day]
        for wid, history in skills.items()
    }
    levels = {wid: found[-1] for wid, found in levels.items() if found}

    ytd, carry = earlier_pay(worker_ids=list(workers), park=park, start=start)
    special = special_deductions_to_date(worker_ids=list(workers), month=start)

    policy = policy_on(cat.policies, last_day)
    now = timezone.now()
    payslips, lines_by_number, errors = [], {}, []
    totals = defaultdict(Decimal)
    for wid in sorted(workers):
        worker, data = workers[wid], inputs[wid]
        if data.errors:
            errors.extend(data.errors)
            continue
        carried_month, carried = carry.get(wid, (None, Decimal(0)))
        months = months_employed(worker.hire_date, start)
        result = engine.compute_pay(
            engine.PayInput(
                contract=worker.contract,
                minutes=data.minutes,
                items=tuple(data.items),
                corrections=tuple(data.corrections),
                adjustments=tuple(data.adjustments),
                policy=policy,
                insured=worker.insured,
                si_declared_base=worker.si_base,
                months_employed=months,
                special_deductions_to_date=special.get(wid, engine.ZERO),
                full_year_basic_deduction=worker.full_year_basic_deduction,
                ytd=engine.YearToDate(*ytd[wid]) if wid in ytd else engine.YearToDate(),
                carried_in=carried,
                carried_in_from=f"{carried_month:%Y-%m}" if carried else None,
            )
        )
        accuracy = None
        if data.reviewed_units:
            # R4.4: units-weighted mean of reviewed records, 2 dp half-up.
            accuracy = engine.money(
                Decimal(data.accuracy_hundredths) / Decimal(100 * data.reviewed_units)
            )
        number = payslip_number(park, start, worker.employee_no)
        payslips.append(
            {
                "period_id": period.id,
                "worker_id": wid,
                "run_id": getattr(run, "id", None),
                "number": number,
                "contract": worker.contract,
                "skill_level": levels.get(wid, ""),
                "minutes": data.minutes,
                "units": data.units,
                "accuracy": accuracy,
                **{name: getattr(result, name) for name in RESULT_FIELDS},
                "warnings": working_time_warnings(
                    contract=worker.contract,
                    day_minutes=data.day_minutes,
                    start=start,
                    end=end,
                    minutes=data.minutes,
                    standard_hours=policy.standard_hours,
                ),
                "generated_at": now,
                "pdf": "",
                "pdf_sha256": "",
            }
        )
        lines_by_number[number] = result.lines
        for key in ("piece_pay", "topup", "taxable", "social_insurance", "tax", "net"):
            totals[key] += getattr(result, key)

    return ChunkResult(payslips, lines_by_number, errors, dict(totals))
