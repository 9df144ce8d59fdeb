"""Feeding the pure engine from database aggregates, and writing payslips in bulk.

One chunk of workers costs a fixed number of queries whatever its size: the
records are summed in one SQL ``GROUP BY`` by worker, project, task type,
quality band (R4.2) and stretch of dates with one rate card and skill level,
and each sum is priced here (R3.2, ``priced_groups``); hours, adjustments and
year-to-date figures are one grouped query each. Payslips and their lines are
written with ``COPY`` on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
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


POLICY_FIELDS = tuple(f.name for f in dataclasses.fields(engine.Policy))


def load_policies(park: Park) -> list[tuple[date, engine.Policy]]:
    """The park's policies (R7.1, R10) with their start dates, latest first."""
    return [
        (row.pop("effective_from"), engine.Policy(**row))
        for row in PayPolicy.objects.filter(park=park)
        .order_by("-effective_from")
        .values("effective_from", *POLICY_FIELDS)
    ]


def policy_on(policies: list[tuple[date, engine.Policy]], day: date) -> engine.Policy:
    """The policy in force on ``day`` (the defaults before the first one)."""
    return next(
        (policy for effective_from, policy in policies if effective_from <= day),
        engine.Policy(),
    )


def policy_for(park: Park, day: date) -> engine.Policy:
    return policy_on(load_policies(park), day)


@dataclasses.dataclass
class Catalogue:
    """The park's projects, task types, quality tiers, rate cards and pay
    policies, loaded once per chunk; records are priced against it (R3.2,
    R4.2)."""

    projects: dict[int, Project]
    task_types: dict[int, TaskType]
    # Each project's tiers, highest threshold first.
    tiers: dict[int, list[engine.Tier]]
    # Every tier threshold of the park's projects, ascending: SQL maps each
    # accuracy to the band between two of them, and one band lies inside one
    # tier of every project.
    bounds: list[Decimal]
    band_tiers: dict[tuple[int, int], engine.Tier | None]
    # (project, task type, skill level) → [(from, to or None, rate)] by date.
    cards: dict[tuple[int, int, str], list[tuple[date, date | None, Decimal]]]
    policies: list[tuple[date, engine.Policy]]


def load_catalogue(park: Park) -> Catalogue:
    """Five small queries; tiers and cards as plain values, not model objects."""
    projects = {p.id: p for p in Project.objects.filter(park=park)}
    task_types = {t.id: t for t in TaskType.objects.all()}
    tier_rows = QualityTier.objects.filter(project__park=park).values_list(
        "project_id", "min_accuracy", "multiplier", "label"
    )
    by_project = defaultdict(list)
    for pid, min_accuracy, multiplier, label in tier_rows.order_by(
        "project_id", "-min_accuracy"
    ):
        by_project[pid].append(engine.Tier(min_accuracy, multiplier, label))
    bounds = sorted({t.min_accuracy for tiers in by_project.values() for t in tiers})
    band_tiers = {}
    for pid in projects:
        for band in range(len(bounds) + 1):
            # Band 0 lies below every threshold; band b starts at bounds[b - 1].
            low = bounds[band - 1] if band else None
            match = None
            if low is not None:
                match = next(
                    (t for t in by_project[pid] if t.min_accuracy <= low), None
                )
            band_tiers[pid, band] = match
    cards = defaultdict(list)
    for pid, tid, level, valid_from, valid_to, rate in (
        RateCard.objects.filter(project__park=park)
        .order_by("effective_from")
        .values_list(
            "project_id",
            "task_type_id",
            "skill_level",
            "effective_from",
            "effective_to",
            "rate",
        )
    ):
        cards[pid, tid, level].append((valid_from, valid_to, rate))
    return Catalogue(
        projects,
        task_types,
        {pid: by_project[pid] for pid in projects},
        bounds,
        band_tiers,
        dict(cards),
        load_policies(park),
    )


def load_skills(worker_ids) -> dict[int, list[tuple[date, date | None, str]]]:
    """Each worker's skill history, [(from, to or None, level)] by date."""
    skills = defaultdict(list)
    for wid, level, valid_from, valid_to in (
        SkillPeriod.objects.filter(_id_in(SkillPeriod, "worker_id", worker_ids))
        .order_by("worker_id", "valid_from")
        .values_list("worker_id", "level", "valid_from", "valid_to")
    ):
        skills[wid].append((valid_from, valid_to, level))
    return skills


def _valid_on(intervals, day: date):
    """The value of the [from, to) interval containing ``day``, or None."""
    for valid_from, valid_to, value in intervals:
        if valid_from <= day and (valid_to is None or day < valid_to):
            return value
    return None


def _rate_on(cat: Catalogue, skills: dict, wid: int, pid: int, tid: int, day: date):
    """R3.2: the rate of the card for the worker's skill level on ``day``, or
    None when there is none (R3.3)."""
    level = _valid_on(skills.get(wid, ()), day)
    return _valid_on(cat.cards.get((pid, tid, level), ()), day)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@dataclasses.dataclass
class PricedGroup:
    """Records of one worker priced alike: same project, task type, rate and
    quality tier (and day, when grouped by day)."""

    worker_id: int
    project_id: int
    task_type_id: int
    rate: Decimal | None  # None: no rate card (R3.3)
    tier: engine.Tier | None  # None: no quality tier covers the accuracy
    day: date | None
    units: int = 0
    reviewed_units: int = 0
    accuracy_hundredths: int = 0
    first: date | None = None  # the earliest work date in the group


def priced_groups(
    cat: Catalogue,
    skills: dict,
    where: str,
    params: list,
    *,
    start: date,
    end: date,
    by_day: bool = False,
) -> list[PricedGroup]:
    """Price the records matching ``where`` (R3.2, R4.2, R4.3).

    SQL only sums: by worker, project, task type, quality band, and stretch of
    dates (or day). A worker's stretch number counts the changes before the
    record's date of any rate card and of the worker's own skill level in
    [start, end), so within one stretch all their records have one level and
    one card: each group is priced once here, at its earliest date, instead of
    joining every record to its level and card.
    """
    stretch_sql, stretch_params = "0", []
    if not by_day:
        terms = []
        changes = {
            day
            for intervals in cat.cards.values()
            for valid_from, valid_to, _rate in intervals
            for day in (valid_from, valid_to)
            if day is not None and start < day < end
        }
        for day in sorted(changes):
            terms.append("CASE WHEN r.work_date >= %s THEN 1 ELSE 0 END")
            stretch_params.append(day)
        promoted = defaultdict(set)  # day → workers whose level changes then
        for wid, history in skills.items():
            for valid_from, valid_to, _level in history:
                for day in (valid_from, valid_to):
                    if day is not None and start < day < end:
                        promoted[day].add(wid)
        for day in sorted(promoted):
            terms.append(
                "CASE WHEN r.work_date >= %s AND r.worker_id IN "
                f"({_in_list(sorted(promoted[day]))}) THEN 1 ELSE 0 END"
            )
            stretch_params.append(day)
        if terms:
            stretch_sql = " + ".join(terms)
    bands = " ".join(
        f"WHEN r.accuracy >= %s THEN {len(cat.bounds) - i}"
        for i in range(len(cat.bounds))
    )
    band_sql = f"CASE WHEN r.accuracy IS NULL THEN -1 {bands} ELSE 0 END"
    day_col = ", r.work_date" if by_day else ""
    sql = f"""
        SELECT r.worker_id, r.project_id, r.task_type_id,
               {stretch_sql} AS stretch, {band_sql} AS band{day_col},
               SUM(r.units), CAST(ROUND(SUM(r.units * r.accuracy) * 100) AS BIGINT),
               MIN(r.work_date)
        FROM {_table(WorkRecord)} r
        WHERE {where}
        GROUP BY r.worker_id, r.project_id, r.task_type_id, stretch, band{day_col}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*stretch_params, *reversed(cat.bounds), *params])
        rows = cursor.fetchall()

    def priced():
        for wid, pid, tid, _stretch, band, *rest in rows:
            day = _as_date(rest.pop(0)) if by_day else None
            units, acc_h, first = rest
            first = _as_date(first)
            rate = _rate_on(cat, skills, wid, pid, tid, first)
            if band == -1:  # pending review (R4.3): not in the accuracy
                yield wid, pid, tid, rate, engine.PENDING_TIER, day, units, 0, 0, first
            else:
                tier = cat.band_tiers.get((pid, band))
                yield wid, pid, tid, rate, tier, day, units, units, acc_h or 0, first

    return _merged(priced())


def _merged(items) -> list[PricedGroup]:
    """PricedGroups of (worker, project, task type, rate, tier, day, units,
    reviewed units, accuracy hundredths, first date) items, merged on the
    identity of their rate and tier objects, which every date of a stretch
    (or a day) prices alike."""
    merged: dict[tuple, list] = {}
    for item in items:
        wid, pid, tid, rate, tier, day, units, reviewed, acc_h, first = item
        key = (wid, pid, tid, id(rate), id(tier), day)
        group = merged.get(key)
        if group is None:
            merged[key] = list(item)
            continue
        group[6] += units
        group[7] += reviewed
        group[8] += acc_h
        if first < group[9]:
            group[9] = first
    return [PricedGroup(*group) for group in merged.values()]


def month_priced_groups(
    cat: Catalogue,
    skills: dict,
    worker_ids: list[int],
    month: date,
    snapshot: datetime,
    *,
    by_day: bool = False,
) -> list[PricedGroup]:
    """The workers' records dated in ``month`` and created by ``snapshot``,
    priced; ``by_day`` keeps each day apart (``merge_days`` undoes it)."""
    start, end = month_bounds(month)
    where = (
        f"r.worker_id IN ({_in_list(worker_ids)}) "
        "AND r.work_date >= %s AND r.work_date < %s AND r.created_at <= %s"
    )
    return priced_groups(
        cat, skills, where, [start, end, snapshot], start=start, end=end, by_day=by_day
    )


def merge_days(groups: list[PricedGroup]) -> list[PricedGroup]:
    """Groups by day merged into the groups by stretch ``priced_groups`` gives."""
    return _merged(
        (
            g.worker_id,
            g.project_id,
            g.task_type_id,
            g.rate,
            g.tier,
            None,
            g.units,
            g.reviewed_units,
            g.accuracy_hundredths,
            g.first,
        )
        for g in groups
    )


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


def _id_in(model, column: str, ids) -> RawSQL:
    """A filter ``column IN (ids)`` with the ids written into the SQL: a
    chunk's hundreds of ids as parameters cost more to prepare than to query."""
    table = _table(model)
    return RawSQL(
        f"{table}.{connection.ops.quote_name(column)} IN ({_in_list(ids) or 'NULL'})",
        [],
        output_field=BooleanField(),
    )


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
    ids = _in_list(worker_ids)
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
            day = _as_date(day)
            if (
                _rate_on(cat, skills, wid, pid, tid, day) is not None
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
                FROM {_table(WorkSession)}
                WHERE worker_id IN ({_in_list(worker_ids)})
                  AND work_date >= %s AND work_date < %s AND "end" IS NOT NULL
                GROUP BY worker_id, work_date""",
            [start - timedelta(days=6), end],
        )
        per_day = cursor.fetchall()
    for wid, day, total in per_day:
        day = _as_date(day)
        inputs[wid].day_minutes[day] = int(total)
        if day >= start:
            inputs[wid].minutes += int(total)
    # Sessions crossing a month boundary count only their minutes inside it.
    crossing = WorkSession.objects.filter(
        Q(start__lt=starts_dt, end__gt=starts_dt)
        | Q(start__lt=ends_dt, end__gt=ends_dt),
        _id_in(WorkSession, "worker_id", worker_ids),
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
            _id_in(Payslip, "worker_id", worker_ids),
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
    if connection.vendor == "postgresql":
        # The chunk's records are summed in one hash table, not sorted on disk.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
    result = compute_chunk(
        period=period, worker_ids=worker_ids, snapshot=snapshot, run=run
    )
    # R13.1: replace the chunk's earlier results entirely.
    delete_payslips(period_id=period.id, worker_ids=worker_ids)
    store_payslips(result.payslips, result.lines)
    return len(result.payslips), result.errors, result.totals


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
            w.id: w for w in Worker.objects.filter(_id_in(Worker, "id", worker_ids))
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
    _collect_minutes(period, park, list(workers), inputs)

    adjustments = Adjustment.objects.none()
    if period.pk:  # an estimate may be for a period nobody has opened yet
        adjustments = Adjustment.objects.filter(
            _id_in(Adjustment, "worker_id", workers), period=period
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
        _copy(cursor, f"COPY {_table(Payslip)} ({names}) FROM STDIN", out)
        out = [
            _copy_payslip_line(row["id"], position, line)
            for row in payslips
            for position, line in enumerate(lines_by_number[row["number"]], start=1)
        ]
        _copy(
            cursor,
            f"COPY {_table(PayslipLine)} ({', '.join(LINE_COLUMNS)}) FROM STDIN",
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
        f"{line.tier}\t{line.period or ''}\t{line.reason}\t{line.amount!s}\n"
    )


def _copy_line(values) -> str:
    return "\t".join(map(_copy_value, values)) + "\n"


def _copy(cursor, sql: str, lines: list[str]) -> None:
    """Send rows already in COPY's text format, in one buffer: psycopg's
    per-value ``write_row`` would cost more than the calculation."""
    with cursor.cursor.copy(sql) as copy:
        copy.write("".join(lines))
