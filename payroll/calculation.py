"""Feeding the pure engine from database aggregates, and writing payslips in bulk.

One chunk of workers costs a fixed number of queries whatever its size: the
records are priced in one SQL ``GROUP BY`` that joins each record to the skill
level and the rate card valid on its date (R3.2) and maps its accuracy to a
quality tier (R4.2); hours, adjustments and year-to-date figures are one
grouped query each.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from payroll import engine
from payroll.models import (
    LOCKED_STATUSES,
    Adjustment,
    PayPeriod,
    Payslip,
    PayslipLine,
    Project,
    QualityTier,
    RateCard,
    TaskType,
    WorkRecord,
)
from workforce.models import Contract, Park, PayPolicy, SkillPeriod, Worker, WorkSession

DAY_LIMIT_MINUTES = 11 * 60  # R8: 劳动法 art. 41, 8 + 3 hours
MONTH_OVERTIME_HOURS = Decimal("36")  # R8: beyond S
PART_TIME_WEEK_MINUTES = 24 * 60  # R8: 劳动合同法 art. 68


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
    with adjustments or late work to be paid in it."""
    start, end = month_bounds(period.month)
    employed = Worker.objects.filter(park_id=period.park_id, hire_date__lt=end).filter(
        Q(leave_date__isnull=True) | Q(leave_date__gte=start)
    )
    ids = set(employed.values_list("id", flat=True))
    ids.update(
        Adjustment.objects.filter(period=period).values_list("worker_id", flat=True)
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


def policy_for(park: Park, day: date) -> engine.Policy:
    row = (
        PayPolicy.objects.filter(park=park, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )
    if row is None:
        return engine.Policy()
    return engine.Policy(
        min_monthly=row.min_monthly,
        min_hourly=row.min_hourly,
        standard_hours=row.standard_hours,
        training_stipend=row.training_stipend,
        si_base_floor=row.si_base_floor,
        si_base_ceiling=row.si_base_ceiling,
        pension_rate=row.pension_rate,
        medical_rate=row.medical_rate,
        unemployment_rate=row.unemployment_rate,
    )


@dataclasses.dataclass
class Catalogue:
    """The park's projects, task types and tiers, loaded once per chunk."""

    projects: dict[int, Project]
    task_types: dict[int, TaskType]
    tiers: dict[int, QualityTier]
    tier_case_sql: str
    tier_case_params: list


def load_catalogue(park: Park) -> Catalogue:
    projects = {p.id: p for p in Project.objects.filter(park=park)}
    task_types = {t.id: t for t in TaskType.objects.all()}
    tiers = {
        t.id: t
        for t in QualityTier.objects.filter(project__park=park).order_by(
            "project_id", "-min_accuracy"
        )
    }
    whens, params = [], []
    for tier in tiers.values():
        whens.append("WHEN r.project_id = %s AND r.accuracy >= %s THEN %s")
        params += [tier.project_id, tier.min_accuracy, tier.id]
    # NULL accuracy → -1 (pending, R4.3); no matching band → -2 (an error).
    case_sql = (
        "CASE WHEN r.accuracy IS NULL THEN -1 " + " ".join(whens) + " ELSE -2 END"
    )
    return Catalogue(projects, task_types, tiers, case_sql, params)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _priced_groups_sql(cat: Catalogue, where: str, extra_cols: str) -> str:
    return f"""
        SELECT r.worker_id, r.project_id, r.task_type_id, rc.rate,
               {cat.tier_case_sql} AS tier_id{extra_cols},
               SUM(r.units) AS units,
               SUM(CASE WHEN r.accuracy IS NULL THEN 0 ELSE r.units END),
               SUM(CASE WHEN r.accuracy IS NULL THEN 0
                        ELSE r.units * ROUND(r.accuracy * 100) END),
               MIN(r.work_date), COUNT(rc.id)
        FROM {_table(WorkRecord)} r
        LEFT JOIN {_table(SkillPeriod)} s
          ON s.worker_id = r.worker_id AND s.valid_from <= r.work_date
         AND (s.valid_to IS NULL OR s.valid_to > r.work_date)
        LEFT JOIN {_table(RateCard)} rc
          ON rc.project_id = r.project_id AND rc.task_type_id = r.task_type_id
         AND rc.skill_level = s.level AND rc.effective_from <= r.work_date
         AND (rc.effective_to IS NULL OR rc.effective_to > r.work_date)
        WHERE {where}
        GROUP BY r.worker_id, r.project_id, r.task_type_id, rc.rate, tier_id{extra_cols}
    """


@dataclasses.dataclass
class WorkerInputs:
    items: list = dataclasses.field(default_factory=list)
    units: int = 0
    reviewed_units: int = 0
    accuracy_hundredths: int = 0
    minutes: int = 0
    day_minutes: dict = dataclasses.field(default_factory=dict)
    adjustments: list = dataclasses.field(default_factory=list)
    errors: list = dataclasses.field(default_factory=list)


def _in_list(ids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)


def _collect_records(
    period: PayPeriod,
    cat: Catalogue,
    worker_ids: list[int],
    snapshot: datetime,
    inputs: dict[int, WorkerInputs],
    workers: dict[int, Worker],
) -> None:
    start, end = month_bounds(period.month)
    ids = _in_list(worker_ids)
    where = (
        f"r.worker_id IN ({ids}) AND r.work_date >= %s AND r.work_date < %s "
        "AND r.created_at <= %s"
    )
    sql = _priced_groups_sql(cat, where, "")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cat.tier_case_params, start, end, snapshot])
        rows = [(*row[:5], None, *row[5:]) for row in cursor.fetchall()]
        late = late_window(period)
        if late is not None:
            after, _ = late
            late_where = (
                f"r.worker_id IN ({ids}) AND r.work_date < %s "
                "AND r.created_at > %s AND r.created_at <= %s"
            )
            # Late work is grouped by its own month (R13.3), so by work date here.
            cursor.execute(
                _priced_groups_sql(cat, late_where, ", r.work_date"),
                [*cat.tier_case_params, start, after, snapshot],
            )
            rows += cursor.fetchall()
    missing = []
    for row in rows:
        (
            wid,
            pid,
            tid,
            rate,
            tier_id,
            late_day,
            units,
            rev_units,
            acc_h,
            first,
            cards,
        ) = row
        target = inputs[wid]
        if rate is None or not cards:
            missing.append((wid, pid, tid, late_day))
            continue
        project, task_type = cat.projects[pid], cat.task_types[tid]
        if tier_id == -1:
            tier = engine.PENDING_TIER
        elif tier_id == -2 or tier_id not in cat.tiers:
            target.errors.append(
                _error(workers[wid], project, task_type, first, "no_quality_tier")
            )
            continue
        else:
            row_tier = cat.tiers[tier_id]
            tier = engine.Tier(
                row_tier.min_accuracy, row_tier.multiplier, row_tier.label
            )
        late_from = None
        if late_day is not None:
            late_day = _as_date(late_day)
            late_from = f"{late_day:%Y-%m}"
        target.items.append(
            engine.PieceItem(
                project=project.name,
                task_type=task_type.name,
                unit=task_type.unit,
                rate=rate if isinstance(rate, Decimal) else Decimal(str(rate)),
                multiplier=tier.multiplier,
                tier=tier.label,
                units=int(units),
                late_from=late_from,
            )
        )
        if late_from is None:
            target.units += int(units)
            target.reviewed_units += int(rev_units or 0)
            target.accuracy_hundredths += int(acc_h or 0)
    if missing:
        _explain_missing_cards(period, cat, missing, snapshot, inputs, workers)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _error(worker: Worker, project, task_type, day, code: str) -> dict:
    return {
        "code": code,
        "worker_id": worker.id,
        "employee_no": worker.employee_no,
        "worker": worker.name,
        "project": project.code,
        "task_type": task_type.code,
        "date": str(_as_date(day)) if day else "",
    }


def _explain_missing_cards(period, cat, missing, snapshot, inputs, workers) -> None:
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
            days = days.filter(work_date=_as_date(late_day))
        for day in (
            days.values_list("work_date", flat=True).distinct().order_by("work_date")
        ):
            level_ok = RateCard.objects.filter(
                project_id=pid,
                task_type_id=tid,
                effective_from__lte=day,
                skill_level__in=SkillPeriod.objects.filter(
                    worker_id=wid, valid_from__lte=day
                )
                .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
                .values("level"),
            ).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=day))
            if level_ok.exists() or (wid, pid, tid, day) in seen:
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
    per_day = (
        WorkSession.objects.filter(
            worker_id__in=worker_ids,
            work_date__gte=start - timedelta(days=6),
            work_date__lt=end,
            end__isnull=False,
        )
        .values_list("worker_id", "work_date")
        .annotate(total=Sum("minutes"))
        .order_by()
    )
    for wid, day, total in per_day:
        inputs[wid].day_minutes[day] = int(total)
        if day >= start:
            inputs[wid].minutes += int(total)
    # Sessions crossing a month boundary count only their minutes inside it.
    crossing = WorkSession.objects.filter(
        Q(start__lt=starts_dt, end__gt=starts_dt)
        | Q(start__lt=ends_dt, end__gt=ends_dt),
        worker_id__in=worker_ids,
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
    for day in sorted(d for d in day_minutes if start <= d < end):
        if day_minutes[day] > DAY_LIMIT_MINUTES:
            warnings.append(
                {"code": "day_over_11h", "date": str(day), "minutes": day_minutes[day]}
            )
    if Decimal(minutes) / 60 > standard_hours + MONTH_OVERTIME_HOURS:
        warnings.append({"code": "month_overtime", "minutes": minutes})
    # Seven consecutive worked days ending inside the period (劳动法 art. 38).
    day, streak = start - timedelta(days=6), 0
    while day < end:
        streak = streak + 1 if day_minutes.get(day, 0) > 0 else 0
        if streak >= 7 and day >= start:
            warnings.append({"code": "no_rest_day", "date": str(day)})
            streak = 0
        day += timedelta(days=1)
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
            worker_id__in=worker_ids,
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


def calculate_chunk(
    *, period: PayPeriod, worker_ids: list[int], snapshot: datetime, run=None
):
    """Compute and store the payslips of ``worker_ids`` (R1–R14).

    Replaces the chunk's earlier payslips; must run inside a transaction.
    Returns (payslip count, errors, totals).
    """
    result = compute_chunk(
        period=period, worker_ids=worker_ids, snapshot=snapshot, run=run
    )
    # R13.1: replace the chunk's earlier results entirely.
    delete_payslips(period_id=period.id, worker_ids=worker_ids)
    store_payslips(result.payslips, result.lines)
    return len(result.payslips), result.errors, result.totals


def compute_chunk(
    *, period: PayPeriod, worker_ids: list[int], snapshot: datetime, run=None
) -> ChunkResult:
    """The payslips of ``worker_ids`` for ``period`` as of ``snapshot``,
    computed but not stored (also the estimate shown to a worker)."""
    park = period.park
    start, end = month_bounds(period.month)
    last_day = end - timedelta(days=1)
    workers = {w.id: w for w in Worker.objects.filter(id__in=worker_ids)}
    inputs = {wid: WorkerInputs() for wid in workers}
    cat = load_catalogue(park)
    _collect_records(period, cat, list(workers), snapshot, inputs, workers)
    _collect_minutes(period, park, list(workers), inputs)

    adjustments = Adjustment.objects.none()
    if period.pk:  # an estimate may be for a period nobody has opened yet
        adjustments = Adjustment.objects.filter(period=period, worker_id__in=workers)
    for adj in adjustments.order_by("created_at", "id"):
        inputs[adj.worker_id].adjustments.append(
            engine.AdjustmentItem(kind=adj.kind, amount=adj.amount, reason=adj.reason)
        )

    levels = {}
    for wid, level in (
        SkillPeriod.objects.filter(worker_id__in=workers, valid_from__lte=last_day)
        .order_by("worker_id", "valid_from")
        .values_list("worker_id", "level")
    ):
        levels[wid] = level  # the last one starting by the period's end wins

    ytd, carry = earlier_pay(worker_ids=list(workers), park=park, start=start)

    policy = policy_for(park, last_day)
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
                adjustments=tuple(data.adjustments),
                policy=policy,
                insured=worker.insured,
                si_declared_base=worker.si_base,
                months_employed=months,
                special_deductions_to_date=worker.special_deduction_monthly * months,
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
)


def _line_rows(payslip_id: int, lines) -> list[tuple]:
    return [
        (
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
        )
        for position, line in enumerate(lines, start=1)
    ]


def delete_payslips(*, period_id: int, worker_ids: list[int]) -> None:
    """Delete payslips and their lines in two statements (the ORM's cascade
    would load every payslip first)."""
    if not worker_ids:
        return
    where = f"period_id = %s AND worker_id IN ({_in_list(worker_ids)})"
    payslips, lines = _table(Payslip), _table(PayslipLine)
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
        pg = cursor.cursor  # the psycopg cursor under Django's wrapper
        names = ", ".join(["id", *columns])
        with pg.copy(f"COPY {_table(Payslip)} ({names}) FROM STDIN") as copy:
            for pk, row in zip(ids, payslips, strict=True):
                values = [
                    json.dumps(row[c]) if c == "warnings" else row[c] for c in columns
                ]
                copy.write_row([pk, *values])
                row["id"] = pk
        with pg.copy(
            f"COPY {_table(PayslipLine)} ({', '.join(LINE_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in payslips:
                for line in _line_rows(row["id"], lines_by_number[row["number"]]):
                    copy.write_row(line)
