"""Prices: the park's policies, its catalogue of rate cards and quality
tiers, the workers' skill levels, and records summed and priced (R3.2, R4.2)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from django.db import connection

from payroll import engine
from payroll.calculation.scoping import month_bounds
from payroll.calculation.sql import as_date, id_in, in_list, table_name
from payroll.models import (
    Project,
    QualityTier,
    RateCard,
    TaskType,
    WorkRecord,
)
from workforce.models import Park, PayPolicy, SkillPeriod

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
        SkillPeriod.objects.filter(id_in(SkillPeriod, "worker_id", worker_ids))
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


def rate_on(cat: Catalogue, skills: dict, wid: int, pid: int, tid: int, day: date):
    """R3.2: the rate of the card for the worker's skill level on ``day``, or
    None when there is none (R3.3)."""
    level = _valid_on(skills.get(wid, ()), day)
    return _valid_on(cat.cards.get((pid, tid, level), ()), day)


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
                f"({in_list(sorted(promoted[day]))}) THEN 1 ELSE 0 END"
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
        FROM {table_name(WorkRecord)} r
        WHERE {where}
        GROUP BY r.worker_id, r.project_id, r.task_type_id, stretch, band{day_col}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*stretch_params, *reversed(cat.bounds), *params])
        rows = cursor.fetchall()

    def priced():
        for wid, pid, tid, _stretch, band, *rest in rows:
            day = as_date(rest.pop(0)) if by_day else None
            units, acc_h, first = rest
            first = as_date(first)
            rate = rate_on(cat, skills, wid, pid, tid, first)
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
        f"r.worker_id IN ({in_list(worker_ids)}) "
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
