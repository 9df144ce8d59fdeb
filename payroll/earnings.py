"""What a worker sees of their own pay: today, this month, by day and project.

The month's estimate is computed by the payroll itself (``compute_chunk``, the
same engine and SQL as a run), only not stored; once a period is approved the
worker sees the approved payslip instead.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils import timezone

from payroll import engine
from payroll.calculation import (
    Catalogue,
    PricedGroup,
    compute_chunk,
    load_catalogue,
    load_skills,
    local_midnight,
    merge_days,
    month_priced_groups,
)
from payroll.models import PayPeriod, Payslip
from workforce.models import Park, Worker, WorkSession


@dataclasses.dataclass
class TierHint:
    """The tier a worker's accuracy falls in, and what the next one would pay."""

    accuracy: Decimal | None
    tier: str
    multiplier: Decimal | None
    next_tier: str | None
    next_min_accuracy: Decimal | None
    next_multiplier: Decimal | None
    extra_pay: Decimal  # this month's piece pay at the next tier, minus now


@dataclasses.dataclass
class MonthEstimate:
    month: date
    status: str  # "estimate" or the period status once approved/paid
    minutes: int
    units: int
    accuracy: Decimal | None
    taxable: Decimal
    net: Decimal
    piece_pay: Decimal
    topup: Decimal
    lines: list
    warnings: list
    errors: list
    payslip: Payslip | None
    bonuses: Decimal = engine.ZERO
    allowances: Decimal = engine.ZERO
    social_insurance: Decimal = engine.ZERO
    tax: Decimal = engine.ZERO
    deductions: Decimal = engine.ZERO
    in_progress: bool = False  # the month has not ended yet

    @property
    def hours(self) -> Decimal:
        return engine.money(Decimal(self.minutes) / 60)

    @property
    def is_estimate(self) -> bool:
        return self.status == "estimate"

    @property
    def earned(self) -> Decimal:
        """Pay earned so far: piece pay, bonuses and allowances. A top-up and
        the month's social insurance are settled only when the month ends."""
        return self.piece_pay + self.bonuses + self.allowances

    @property
    def expected_deductions(self) -> Decimal:
        return self.social_insurance + self.tax + self.deductions


ESTIMATE_SECONDS = 300
# How long a process keeps a park's catalogue without hearing of a change (a
# version lost from Redis; without Redis, a change made in another process,
# whose cached months also stay up to ESTIMATE_SECONDS there).
CATALOGUE_SECONDS = 60

_catalogues: dict[int, tuple[int, float, Catalogue]] = {}


def earnings_changed(*, worker_id: int) -> None:
    """Forget a worker's cached estimate (their hours, work, skill level,
    adjustments or details changed)."""
    _bump(f"earnings-version:{worker_id}")


def earnings_changed_in_park(*, park_id: int) -> None:
    """Forget every cached estimate of a park's workers and the park's
    catalogue (work was imported, or prices, tiers or policies changed)."""
    _bump(f"earnings-park-version:{park_id}")


def _bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # not in the cache: a version never seen before
        cache.set(key, secrets.randbits(62), None)


def _versions(worker: Worker) -> tuple[int, int]:
    """The worker's and their park's earnings versions, in one round trip.

    A version starts at a random number, not 0, so that once it is lost from
    the cache it never comes back to one a month or a catalogue was kept at.
    """
    keys = [f"earnings-version:{worker.id}", f"earnings-park-version:{worker.park_id}"]
    versions = cache.get_many(keys)
    if len(versions) < len(keys):
        for key in keys:
            if key not in versions:
                cache.add(key, secrets.randbits(62), None)
        versions = cache.get_many(keys)
    worker_version, park_version = (versions.get(key, 0) for key in keys)
    return worker_version, park_version


def estimate_key(*, worker: Worker, month: date, versions: tuple[int, int]) -> str:
    """The cache key of the worker's month as it stands (``versions`` from
    ``_versions``): it changes whenever their own hours or work change or their
    park's work or prices change."""
    worker_version, park_version = versions
    # "earnings-view": a MonthView, where "earnings:" keys held a tuple.
    return f"earnings-view:{worker.id}:{month:%Y%m}:{worker_version}:{park_version}"


def park_catalogue(park: Park, version: int) -> Catalogue:
    """The park's catalogue, kept in this process while the park's earnings
    version stands, and for at most ``CATALOGUE_SECONDS``: each process reads
    a park's prices once, not once per person."""
    held = _catalogues.get(park.id)
    now = time.monotonic()
    if held is not None and held[0] == version and now - held[1] < CATALOGUE_SECONDS:
        return held[2]
    cat = load_catalogue(park)
    _catalogues[park.id] = (version, now, cat)
    return cat


@dataclasses.dataclass
class MonthView:
    """What the earnings page shows of a month, computed together."""

    estimate: MonthEstimate
    breakdown: Breakdown
    hint: TierHint
    # Names this computation: what is cached from it (the page's rendering of
    # the month) is cached under this, so it never outlives the figures: a
    # month computed again after ESTIMATE_SECONDS has a new one.
    key: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)


def month_view(*, worker: Worker, month: date) -> MonthView:
    """The month's estimate, breakdown and tier hint, cached for a few minutes
    per worker.

    A worker's own session changes, every import into their park and every
    change of its prices, tiers, projects or policies forget it at once;
    anything else (an approval) shows within ``ESTIMATE_SECONDS``. The month's
    records are summed once, by day, for both the estimate and the breakdown.
    """
    versions = _versions(worker)
    key = estimate_key(worker=worker, month=month, versions=versions)
    cached = cache.get(key)
    if cached is None:
        cat = park_catalogue(worker.park, versions[1])
        skills = load_skills([worker.id])
        snapshot = timezone.now()
        by_day = month_priced_groups(
            cat, skills, [worker.id], month, snapshot, by_day=True
        )
        estimate = month_estimate(
            worker=worker,
            month=month,
            cat=cat,
            skills=skills,
            snapshot=snapshot,
            month_groups=merge_days(by_day),
        )
        cached = MonthView(
            estimate=estimate,
            breakdown=breakdown_of(by_day, cat),
            hint=tier_hint(estimate=estimate, cat=cat),
        )
        cache.set(key, cached, ESTIMATE_SECONDS)
    return cached


def month_estimate(
    *,
    worker: Worker,
    month: date | None = None,
    cat: Catalogue | None = None,
    skills: dict | None = None,
    snapshot: datetime | None = None,
    month_groups: list[PricedGroup] | None = None,
) -> MonthEstimate:
    """R1–R14 for ``worker``'s month so far, or the approved payslip.

    ``cat``, ``skills`` and ``month_groups`` (the month's records up to
    ``snapshot``, priced) are read here unless the caller has them.
    """
    today = timezone.localdate()
    start = (month or today).replace(day=1)
    period = (
        PayPeriod.objects.select_related("park")  # compute_chunk reads its park
        .filter(park_id=worker.park_id, month=start)
        .first()
    )
    if period is not None and period.locked:
        slip = Payslip.objects.filter(period=period, worker=worker).first()
        if slip is not None:
            return MonthEstimate(
                month=start,
                status=period.status,
                minutes=slip.minutes,
                units=slip.units,
                accuracy=slip.accuracy,
                taxable=slip.taxable,
                net=slip.net,
                piece_pay=slip.piece_pay,
                topup=slip.topup,
                lines=list(slip.lines.all()),
                warnings=slip.warnings,
                errors=[],
                payslip=slip,
            )
    period = period or PayPeriod(park=worker.park, month=start)
    result = compute_chunk(
        period=period,
        worker_ids=[worker.id],
        snapshot=snapshot or timezone.now(),
        cat=cat,
        workers={worker.id: worker},
        skills=skills,
        month_groups=month_groups,
    )
    in_progress = start == today.replace(day=1)
    if not result.payslips:
        zero = engine.ZERO
        return MonthEstimate(
            start, "estimate", 0, 0, None, zero, zero, zero, zero, [], [],
            result.errors, None, in_progress=in_progress,
        )  # fmt: skip
    row = result.payslips[0]
    return MonthEstimate(
        month=start,
        status="estimate",
        minutes=row["minutes"],
        units=row["units"],
        accuracy=row["accuracy"],
        taxable=row["taxable"],
        net=row["net"],
        piece_pay=row["piece_pay"],
        topup=row["topup"],
        lines=list(result.lines[row["number"]]),
        warnings=row["warnings"],
        errors=result.errors,
        payslip=None,
        bonuses=row["bonuses"],
        allowances=row["allowances"],
        social_insurance=row["social_insurance"],
        tax=row["tax"],
        deductions=row["deductions"],
        in_progress=in_progress,
    )


@dataclasses.dataclass
class Breakdown:
    by_day: list[tuple[date, int, Decimal]]  # day, units, piece pay
    by_project: list[tuple[str, int, Decimal]]  # project, units, piece pay
    today_units: int
    today_pay: Decimal


def breakdown_of(groups: list[PricedGroup], cat: Catalogue) -> Breakdown:
    """Piece pay by day and project of a month's records priced by day.

    Each (day, project, task type, rate, tier) group is rounded once (R2.2),
    so the days can differ from the month's lines by a few fen: an estimate.
    """
    today = timezone.localdate()
    days: dict[date, list] = defaultdict(lambda: [0, Decimal(0)])
    projects: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for group in groups:
        # No rate card or no tier (an error the director sees) counts as 0 here.
        amount = Decimal(0)
        if group.rate is not None and group.tier is not None:
            amount = engine.money(group.units * group.rate * group.tier.multiplier)
        days[group.day][0] += group.units
        days[group.day][1] += amount
        name = cat.projects[group.project_id].name
        projects[name][0] += group.units
        projects[name][1] += amount
    return Breakdown(
        by_day=[(d, v[0], v[1]) for d, v in sorted(days.items())],
        by_project=sorted(
            ((p, v[0], v[1]) for p, v in projects.items()), key=lambda x: -x[2]
        ),
        today_units=days[today][0] if today in days else 0,
        today_pay=days[today][1] if today in days else Decimal("0.00"),
    )


def day_sessions(*, worker: Worker, day: date) -> tuple[int, WorkSession | None]:
    """Minutes worked on a local day (an open session counting until now) and
    the worker's open session if any (the earliest), in one query."""
    tz = worker.park.time_zone
    start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    now = timezone.now()
    total = 0
    open_session = None
    sessions = (
        WorkSession.objects.filter(worker=worker)
        .filter(
            Q(start__lt=end, start__gte=start - timedelta(hours=16))
            | Q(end__isnull=True)
        )
        .order_by("start", "id")
    )
    for session in sessions:
        if session.end is None and open_session is None:
            open_session = session
        if not (start - timedelta(hours=16) <= session.start < end):
            continue
        s_end = session.end or now
        inside = (min(s_end, end) - max(session.start, start)).total_seconds()
        total += max(0, int(inside // 60))
    return total, open_session


def tier_hint(*, estimate: MonthEstimate, cat: Catalogue) -> TierHint:
    """R4.2: the tier of the month's accuracy on the worker's main project, the
    next tier up and what the reviewed work would pay there."""
    piece_lines = [ln for ln in estimate.lines if str(ln.kind) == engine.LineKind.PIECE]
    tiers = []
    if piece_lines:
        by_project = defaultdict(Decimal)
        for line in piece_lines:
            by_project[line.project] += Decimal(line.quantity or 0)
        main = max(by_project, key=by_project.get)
        tiers = next(
            (cat.tiers[pid] for pid, p in cat.projects.items() if p.name == main), []
        )
    if estimate.accuracy is None or not tiers:
        return TierHint(
            estimate.accuracy, "pending", None, None, None, None, Decimal("0.00")
        )
    current = next((t for t in tiers if estimate.accuracy >= t.min_accuracy), tiers[-1])
    higher = [t for t in tiers if t.min_accuracy > current.min_accuracy]
    nxt = higher[-1] if higher else None
    extra = Decimal("0.00")
    if nxt is not None:
        for line in piece_lines:
            if line.tier == current.label and line.project == main:
                extra += engine.money(
                    Decimal(line.quantity)
                    * line.rate
                    * (nxt.multiplier - current.multiplier)
                )
    return TierHint(
        accuracy=estimate.accuracy,
        tier=current.label,
        multiplier=current.multiplier,
        next_tier=nxt.label if nxt else None,
        next_min_accuracy=nxt.min_accuracy if nxt else None,
        next_multiplier=nxt.multiplier if nxt else None,
        extra_pay=extra,
    )


def earnings_history(
    *, worker: Worker, months: int = 12
) -> list[tuple[date, Decimal, Decimal]]:
    """(month, gross, net) of the worker's payslips over the last ``months``."""
    first = (
        timezone.localdate().replace(day=1) - timedelta(days=31 * (months - 1))
    ).replace(day=1)
    rows = (
        Payslip.objects.filter(worker=worker, period__month__gte=first)
        .values_list("period__month")
        .annotate(gross=Sum("taxable"), net=Sum("net"))
        .order_by("period__month")
    )
    return [(m, g, n) for m, g, n in rows]
