"""What a worker sees of their own pay: today, this month, by day and project.

The month's estimate is computed by the payroll itself (``compute_chunk``, the
same engine and SQL as a run), only not stored; once a period is approved the
worker sees the approved payslip instead.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils import timezone

from payroll import engine
from payroll.calculation import (
    Catalogue,
    compute_chunk,
    load_catalogue,
    load_skills,
    local_midnight,
    month_bounds,
    priced_groups,
)
from payroll.models import PayPeriod, Payslip, QualityTier
from workforce.models import Worker, WorkSession


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

    @property
    def hours(self) -> Decimal:
        return engine.money(Decimal(self.minutes) / 60)

    @property
    def is_estimate(self) -> bool:
        return self.status == "estimate"


ESTIMATE_SECONDS = 300


def earnings_changed(*, worker_id: int) -> None:
    """Forget a worker's cached estimate (their hours or work changed)."""
    key = f"earnings-version:{worker_id}"
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, None)


def earnings_changed_in_park(*, park_id: int) -> None:
    """Forget every cached estimate of a park's workers (work was imported)."""
    key = f"earnings-park-version:{park_id}"
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, None)


def estimate_key(*, worker: Worker, month: date) -> str:
    """The cache key of the worker's month as it stands: it changes whenever
    their own hours or work change or work is imported into their park."""
    worker_key = f"earnings-version:{worker.id}"
    park_key = f"earnings-park-version:{worker.park_id}"
    versions = cache.get_many([worker_key, park_key])  # one round trip
    # "earnings-view": a MonthView, where "earnings:" keys held a tuple.
    return (
        f"earnings-view:{worker.id}:{month:%Y%m}:"
        f"{versions.get(worker_key, 0)}:{versions.get(park_key, 0)}"
    )


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

    A worker's own session changes and every import into their park forget it
    at once; anything else shows within ``ESTIMATE_SECONDS``.
    """
    key = estimate_key(worker=worker, month=month)
    cached = cache.get(key)
    if cached is None:
        cat = load_catalogue(worker.park)  # the park's prices, read once
        estimate = month_estimate(worker=worker, month=month, cat=cat)
        cached = MonthView(
            estimate=estimate,
            breakdown=piece_breakdown(worker=worker, month=month, cat=cat),
            hint=tier_hint(worker=worker, estimate=estimate),
        )
        cache.set(key, cached, ESTIMATE_SECONDS)
    return cached


def month_estimate(
    *, worker: Worker, month: date | None = None, cat: Catalogue | None = None
) -> MonthEstimate:
    """R1–R14 for ``worker``'s month so far, or the approved payslip."""
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
        period=period, worker_ids=[worker.id], snapshot=timezone.now(), cat=cat
    )
    if not result.payslips:
        return MonthEstimate(
            start,
            "estimate",
            0,
            0,
            None,
            engine.ZERO,
            engine.ZERO,
            engine.ZERO,
            engine.ZERO,
            [],
            [],
            result.errors,
            None,
        )
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
    )


@dataclasses.dataclass
class Breakdown:
    by_day: list[tuple[date, int, Decimal]]  # day, units, piece pay
    by_project: list[tuple[str, int, Decimal]]  # project, units, piece pay
    today_units: int
    today_pay: Decimal


def piece_breakdown(
    *, worker: Worker, month: date | None = None, cat: Catalogue | None = None
) -> Breakdown:
    """Piece pay (R5, before top-up and deductions) by day and by project.

    Each (day, project, task type, rate, tier) group is rounded once (R2.2),
    so the days can differ from the month's lines by a few fen: an estimate.
    """
    today = timezone.localdate()
    start, end = month_bounds((month or today).replace(day=1))
    cat = cat or load_catalogue(worker.park)
    where = "r.worker_id = %s AND r.work_date >= %s AND r.work_date < %s"
    groups = priced_groups(
        cat,
        load_skills([worker.id]),
        where,
        [worker.id, start, end],
        start=start,
        end=end,
        by_day=True,
    )
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


def tier_hint(*, worker: Worker, estimate: MonthEstimate) -> TierHint:
    """R4.2: the tier of the month's accuracy on the worker's main project, the
    next tier up and what the reviewed work would pay there."""
    piece_lines = [ln for ln in estimate.lines if str(ln.kind) == engine.LineKind.PIECE]
    main = None
    if piece_lines:
        by_project = defaultdict(Decimal)
        for line in piece_lines:
            by_project[line.project] += Decimal(line.quantity or 0)
        main = max(by_project, key=by_project.get)
    tiers = list(
        QualityTier.objects.filter(
            project__park=worker.park, project__name=main
        ).order_by("-min_accuracy")
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
