"""R16: the county official's employment report, aggregates only.

Definitions at the boundaries (R16.1; the leave date is the *last* day of
employment, as in ``payroll.calculation.period_workers``):

- employed at month end: hired on or before the month's last day and with no
  leave date, or a leave date on or after that last day (somebody whose last
  day is the 31st is still employed on the 31st);
- new hire: hire date inside the month; leaver: leave date inside the month
  (a leaver on the last day is therefore both a leaver and employed at month
  end);
- women, smaller ethnic groups, monitored households and returners are counted
  among the employed at month end; a smaller ethnic group is any non-empty
  ethnicity other than Han (``HAN_NAMES``); an empty ethnicity (no consent) is
  not counted as one;
- active: employed on at least one day of the month (so a mid-month leaver who
  worked counts) and, in the month, at least 60 minutes of work sessions
  (sessions belong to the month of their local start date, as on the
  director's staff table) or at least one unit of work;
- hours: the session minutes in the month of the workers employed in it;
- gross pay: the ``taxable`` total of the worker's payslip of that month (the
  park's period). Pay figures exist only once the period is calculated
  (status calculated, approved or paid); then an active worker without a
  payslip (an R3.3 error of the run) counts as 0.00. A township or the total
  shows pay figures only when every park in it is calculated;
- ``M``: the park's ``PayPolicy.min_monthly`` in force on the month's last day
  (2080.00 when the park has none).

Only aggregates leave the database: counts by conditional aggregation, one row
per park. The one exception is the median, which needs the gross values of a
month: they are fetched as (park, amount) pairs without any identity, reduced
to median, mean, the count at or above ``M`` and the histogram bands, and
dropped.

Suppression (R16.3) is ``suppress``: see its docstring for the rules.
Disclosure across everything published together (R16.4) is ``round_count``
and ``round_amount``: every count that is shown is rounded to the nearest
multiple of ``ROUNDING_BASE``, shares are worked out from the rounded counts,
and hours and pay are rounded to whole hours and ``MONEY_UNIT`` yuan. It is
applied in ``_table``, the one place every figure of the page, the CSV, the
PDF, the trend and the charts comes from.
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from payroll.calculation import month_bounds, previous_month
from payroll.engine import Policy
from payroll.models import PayPeriod, Payslip, PeriodStatus, WorkRecord
from workforce.models import Gender, Park, PayPolicy, Worker, WorkSession
from workforce.selectors import user_park_ids

THRESHOLD = 5  # R16.3: cells counting fewer people are hidden
ROUNDING_BASE = 5  # R16.4: every shown count is a multiple of this
MONEY_UNIT = Decimal("10")  # R16.4: median and mean gross pay, in yuan
HOURS_UNIT = Decimal("1")  # R16.4: hours of a unit
ACTIVE_MINUTES = 60  # R16.1: at least one hour
HAN_NAMES = ("汉族", "汉", "Han", "han", "HAN", "Han Chinese")
CALCULATED = (PeriodStatus.CALCULATED, PeriodStatus.APPROVED, PeriodStatus.PAID)
TREND_MONTHS = 12
# Histogram band edges as multiples of M; M itself is an edge, so the bands
# from 1.0 up add up to the "earning at least M" count.
BAND_EDGES = (
    Decimal("0.5"),
    Decimal("0.75"),
    Decimal("1"),
    Decimal("1.25"),
    Decimal("1.5"),
    Decimal("2"),
    Decimal("2.5"),
)
# Band i holds [edge i−1, edge i) × M (band 0 starts at 0): the first band at
# or above M is the one right after the edge 1.
M_BAND = BAND_EDGES.index(Decimal("1")) + 1

# Headcount measures, each a cell of its own (R16.3). The complement of a
# measure inside its base (men = employed − women) is published implicitly by
# showing both, so it is a cell too, never displayed.
HEADCOUNTS = (
    "employed",
    "active",
    "new_hires",
    "leavers",
    "women",
    "minorities",
    "monitored",
    "returners",
    "at_least_m",
)
BINARY_SPLITS = {  # measure: (base, implicit complement)
    "women": ("employed", "men"),
    "minorities": ("employed", "not_minorities"),
    "monitored": ("employed", "not_monitored"),
    "returners": ("employed", "not_returners"),
    "at_least_m": ("active", "below_m"),
}
# The measures known for every month of the trend (no activity, no pay).
MONTHLY = (
    "employed",
    "new_hires",
    "leavers",
    "women",
    "minorities",
    "monitored",
    "returners",
)


# --- R16.3 suppression ------------------------------------------------------


def suppress(
    counts: Mapping[Hashable, int],
    splits: Iterable[tuple[Hashable, Sequence[Hashable]]],
    *,
    threshold: int = THRESHOLD,
) -> set[Hashable]:
    """The cells to hide, given every published cell's count and the splits
    (total, parts) whose parts add up to their total.

    - Primary: every cell counting fewer than ``threshold`` people is hidden,
      **including 0**. A zero identifies nobody by itself, but "none of this
      park's 6 workers is from a monitored household", or "all of them are"
      (the complement is 0), tells something about each of them; R16.3 says
      "fewer than 5 people" and 0 is fewer. A zero shows as "<5".
    - Secondary: a split in which exactly one cell is hidden (the total
      counts as a cell of its split) would let that cell be derived, so one
      more cell of the split is hidden: the smallest shown part, the first in
      the split's order on a tie; the total only when no part is shown.
      Repeated until no split has exactly one hidden cell, because hiding a
      cell can expose another split it belongs to (a park row inside a
      township, a township inside the total).

    Cells that are derivable but never displayed (men = employed − women) are
    passed like any other: when one is small, the displayed cell of its split
    is hidden with it; when one is picked as the second cell, its own split
    then has a single hidden cell and hides another, so it stays underivable.
    """
    # A total without parts has nothing to be derived from.
    splits = [(total, tuple(parts)) for total, parts in splits if parts]
    hidden = {cell for cell, n in counts.items() if n < threshold}
    changed = True
    while changed:
        changed = False
        for total, parts in splits:
            members = (total, *parts)
            if sum(cell in hidden for cell in members) != 1:
                continue
            shown = [(counts[p], i, p) for i, p in enumerate(parts) if p not in hidden]
            hidden.add(min(shown)[2] if shown else total)
            changed = True
    return hidden


# --- R16.4 rounding ----------------------------------------------------------


def round_count(n: int, *, base: int = ROUNDING_BASE) -> int:
    """``n`` rounded to the nearest multiple of ``base`` (R16.4).

    Deterministic: the same count is always published as the same figure, in
    every table, month, export and chart, so that asking again or elsewhere
    tells nothing more. A published ``r`` means a true count in
    ``[r - 2, r + 2]`` (for base 5; never a tie, the base being odd); a shown
    cell counts at least ``THRESHOLD`` people, so ``5`` means 5, 6 or 7.

    Rounding is what stops differencing: two months, or a township and its
    shown parks, that differ by one person are published as the same figure
    or as figures 5 apart, and the difference of two rounded counts leaves an
    interval of 9 values for the true difference. Each cell is rounded on its
    own (conventional rounding), so a total may differ from the sum of its
    rounded parts by up to 2 per part.
    """
    return (n + base // 2) // base * base


def round_amount(value: Decimal, unit: Decimal) -> Decimal:
    """``value`` to the nearest multiple of ``unit``, kept with two decimals
    for money (R16.4)."""
    rounded = (value / unit).quantize(Decimal(1), ROUND_HALF_UP) * unit
    return rounded.quantize(Decimal("0.01"))


# --- published values -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Figure:
    """One published value: a number, hidden (shown as "<5"), or not available
    (the payroll of the month is not calculated yet, shown as "—")."""

    value: int | Decimal | None = None
    hidden: bool = False

    @property
    def shown(self) -> bool:
        return not self.hidden and self.value is not None

    def __str__(self) -> str:
        if self.hidden:
            return f"<{THRESHOLD}"
        if self.value is None:
            return "—"
        return str(self.value)


HIDDEN = Figure(hidden=True)
MISSING = Figure()


@dataclasses.dataclass
class ReportRow:
    level: str  # "park", "township" or "total"
    label: str
    county: str
    township: str
    park_code: str
    figures: dict[str, Figure]
    min_wage: Decimal | None  # M, when the row's parks share one

    def __getattr__(self, name: str) -> Figure:
        figures = self.__dict__.get("figures", {})
        if name in figures:
            return figures[name]
        raise AttributeError(name)

    def share(self, measure: str) -> Decimal | None:
        """``measure`` as a percentage of the employed, when both are shown
        (R16.4): from the published, rounded counts, so that a share tells
        nothing the counts beside it do not."""
        part, base = self.figures[measure], self.figures["employed"]
        if not (part.shown and base.shown) or not base.value:
            return None
        return (Decimal(100) * part.value / base.value).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )

    @property
    def women_share(self) -> Decimal | None:
        return self.share("women")

    @property
    def minority_share(self) -> Decimal | None:
        return self.share("minorities")


@dataclasses.dataclass
class Band:
    low: Decimal  # multiples of M
    high: Decimal | None
    low_yuan: Decimal | None  # when the parks share one M
    high_yuan: Decimal | None
    people: Figure

    @property
    def at_least_m(self) -> bool:
        return self.low >= 1


@dataclasses.dataclass
class TrendPoint:
    month: date
    total: ReportRow


@dataclasses.dataclass
class EmploymentReport:
    month: date
    parks: list[Park]
    rows: list[ReportRow]  # total, then each township followed by its parks
    bands: list[Band]  # empty when pay figures are not available
    trend: list[TrendPoint]  # oldest first, ending with ``month``
    calculated: bool  # every park's payroll of the month is calculated
    min_wages: list[Decimal]  # the distinct M of the parks

    @property
    def total(self) -> ReportRow:
        return self.rows[0]

    def rows_by(self, level: str) -> list[ReportRow]:
        return [r for r in self.rows if r.level in (level, "total")]


# --- database aggregates ----------------------------------------------------


def _last_day(month: date) -> date:
    return month_bounds(month)[1] - timedelta(days=1)


def _employed_on(day: date) -> Q:
    return Q(hire_date__lte=day) & (Q(leave_date__isnull=True) | Q(leave_date__gte=day))


def _employed_during(start: date, last: date) -> Q:
    return Q(hire_date__lte=last) & (
        Q(leave_date__isnull=True) | Q(leave_date__gte=start)
    )


MINORITY = ~Q(ethnicity="") & ~Q(ethnicity__in=HAN_NAMES)


def _headcounts(park_ids: list[int], months: list[date]) -> dict[int, dict]:
    """Per park and month, the headcount measures other than ``active``, in
    one grouped query of conditional counts."""
    annotations = {}
    for i, month in enumerate(months):
        start, last = month, _last_day(month)
        employed = _employed_on(last)
        measures = {
            "employed": employed,
            "new_hires": Q(hire_date__gte=start, hire_date__lte=last),
            "leavers": Q(leave_date__gte=start, leave_date__lte=last),
            "women": employed & Q(gender=Gender.FEMALE),
            "minorities": employed & MINORITY,
            "monitored": employed & Q(monitored_household=True),
            "returners": employed & Q(returner=True),
        }
        for name, condition in measures.items():
            annotations[f"{name}_{i}"] = Count("id", filter=condition)
    rows = (
        Worker.objects.filter(park_id__in=park_ids)
        .filter(_employed_during(months[0], _last_day(months[-1])))
        .values("park_id")
        .annotate(**annotations)
        .order_by()
    )
    out: dict[int, dict] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        for i, month in enumerate(months):
            for name in MONTHLY:
                out[row["park_id"]][month][name] = row[f"{name}_{i}"]
    return out


def _active_workers(park_ids: list[int], month: date):
    """Workers employed during ``month``, annotated with its session minutes
    and whether they did any unit of work in it."""
    start, end = month_bounds(month)
    in_month = {"work_date__gte": start, "work_date__lt": end}
    minutes = (
        WorkSession.objects.filter(worker=OuterRef("pk"), **in_month)
        .order_by()
        .values("worker")
        .annotate(total=Sum("minutes"))
        .values("total")
    )
    return (
        Worker.objects.filter(park_id__in=park_ids)
        .filter(_employed_during(start, end - timedelta(days=1)))
        .annotate(
            month_minutes=Coalesce(Subquery(minutes, output_field=IntegerField()), 0),
            worked=Exists(WorkRecord.objects.filter(worker=OuterRef("pk"), **in_month)),
        )
    )


ACTIVE = Q(month_minutes__gte=ACTIVE_MINUTES) | Q(worked=True)


def _activity(park_ids: list[int], month: date) -> dict[int, dict[str, int]]:
    """Per park: active people and session minutes of ``month``."""
    start, end = month_bounds(month)
    out: dict[int, dict[str, int]] = defaultdict(lambda: {"active": 0, "minutes": 0})
    for park_id, active in (
        _active_workers(park_ids, month)
        .filter(ACTIVE)
        .values("park_id")
        .annotate(active=Count("id"))
        .values_list("park_id", "active")
        .order_by()
    ):
        out[park_id]["active"] = active
    for park_id, minutes in (
        WorkSession.objects.filter(
            worker__park_id__in=park_ids, work_date__gte=start, work_date__lt=end
        )
        .filter(
            worker__in=Worker.objects.filter(
                _employed_during(start, end - timedelta(days=1))
            )
        )
        .values("worker__park_id")
        .annotate(total=Sum("minutes"))
        .values_list("worker__park_id", "total")
        .order_by()
    ):
        out[park_id]["minutes"] = minutes or 0
    return out


def _gross_values(park_ids: list[int], month: date) -> dict[int, list[Decimal]]:
    """Per park, the gross pay of each active worker, sorted, without any
    identity (only the park and the amount leave the database)."""
    if not park_ids:
        return {}
    start = month_bounds(month)[0]
    money = DecimalField(max_digits=12, decimal_places=2)
    gross = (
        Payslip.objects.filter(
            worker=OuterRef("pk"), period__park=OuterRef("park_id"), period__month=start
        )
        .order_by()
        .values("taxable")[:1]
    )
    pairs = (
        _active_workers(park_ids, month)
        .filter(ACTIVE)
        .annotate(gross=Coalesce(Subquery(gross), Decimal("0.00"), output_field=money))
        .order_by("park_id", "gross")
        .values_list("park_id", "gross")
    )
    out: dict[int, list[Decimal]] = defaultdict(list)
    for park_id, amount in pairs:
        out[park_id].append(Decimal(amount))
    return out


def _min_wages(park_ids: list[int], day: date) -> dict[int, Decimal]:
    """M per park on ``day`` (R7.1), from one query over the parks' policies."""
    wages = dict.fromkeys(park_ids, Policy().min_monthly)
    for park_id, amount in (
        PayPolicy.objects.filter(park_id__in=park_ids, effective_from__lte=day)
        .order_by("park_id", "effective_from")
        .values_list("park_id", "min_monthly")
    ):
        wages[park_id] = amount  # the latest one in force wins
    return wages


# --- assembling and suppressing ---------------------------------------------


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _band_index(amount: Decimal, minimum: Decimal) -> int:
    index = 0
    for edge in BAND_EDGES:
        if amount >= edge * minimum:
            index += 1
    return index


@dataclasses.dataclass
class _Unit:
    key: tuple
    level: str
    label: str
    county: str
    township: str
    park_code: str
    parks: list[Park]


def _units(parks: list[Park]) -> tuple[list[_Unit], list[tuple[_Unit, list[_Unit]]]]:
    """The units in display order (the total, then each township followed by
    its parks), and the additive splits between them: the total is the sum of
    the townships, a township the sum of its parks."""
    total = _Unit(("total",), "total", "", "", "", "", list(parks))
    townships: dict[tuple, list[Park]] = defaultdict(list)
    for park in parks:
        townships[(park.county, park.township)].append(park)
    units, towns, hierarchy = [total], [], []
    for (county, township), members in sorted(townships.items()):
        town = _Unit(
            ("township", county, township), "township", township, county, township,
            "", members,
        )  # fmt: skip
        children = [
            _Unit(("park", p.id), "park", p.name, county, township, p.code, [p])
            for p in sorted(members, key=lambda p: p.code)
        ]
        units += [town, *children]
        towns.append(town)
        hierarchy.append((town, children))
    return units, [(total, towns), *hierarchy]


def _cells(
    units: list[_Unit],
    hierarchy: list[tuple[_Unit, list[_Unit]]],
    counts: Mapping[int, Mapping[str, int]],
    pay: Mapping[int, list[Decimal]] | None,
    wages: Mapping[int, Decimal],
) -> tuple[dict[tuple, int], list[tuple[tuple, list[tuple]]]]:
    """Every headcount cell of one month (complements included) and the
    splits that tie them together, for ``suppress``."""
    measures = [m for m in HEADCOUNTS if pay is not None or m in MONTHLY]
    cells: dict[tuple, int] = {}
    splits: list[tuple[tuple, list[tuple]]] = []
    for unit in units:
        for measure in measures:
            if measure != "at_least_m":
                n = sum(counts.get(p.id, {}).get(measure, 0) for p in unit.parks)
            elif all(p.id in pay for p in unit.parks):
                n = sum(v >= wages[p.id] for p in unit.parks for v in pay[p.id])
            else:
                continue  # the payroll of a park in it is not calculated
            cells[(unit.key, measure)] = n
        for measure, (base, complement) in BINARY_SPLITS.items():
            if (unit.key, measure) in cells:
                rest = cells[(unit.key, base)] - cells[(unit.key, measure)]
                cells[(unit.key, complement)] = rest
                parts = [(unit.key, measure), (unit.key, complement)]
                splits.append(((unit.key, base), parts))
    complements = [c for _base, c in BINARY_SPLITS.values()]
    for measure in [*measures, *complements]:
        for parent, children in hierarchy:
            keys = [(c.key, measure) for c in children]
            if (
                keys
                and (parent.key, measure) in cells
                and all(k in cells for k in keys)
            ):
                splits.append(((parent.key, measure), keys))
    total = units[0].key
    if (total, "at_least_m") in cells:
        # The histogram: the bands below M add up to "below M", the others to
        # "at least M", so they are suppressed with the table.
        per_band = [0] * (len(BAND_EDGES) + 1)
        for park in units[0].parks:
            for value in pay[park.id]:
                per_band[_band_index(value, wages[park.id])] += 1
        band_keys = [("band", i) for i in range(len(per_band))]
        cells.update(zip(band_keys, per_band, strict=True))
        splits.append(((total, "below_m"), band_keys[:M_BAND]))
        splits.append(((total, "at_least_m"), band_keys[M_BAND:]))
    return cells, splits


def _table(
    parks: list[Park],
    counts: Mapping[int, Mapping[str, int]],
    pay: Mapping[int, list[Decimal]] | None,
    wages: Mapping[int, Decimal],
) -> tuple[list[ReportRow], list[Band]]:
    """The rows of one month, suppressed together (R16.3), and the histogram.

    ``counts`` holds each park's headcounts (and session ``minutes``);
    ``pay``, when given, the sorted gross values of the active workers of each
    park whose payroll is calculated, and adds the activity component:
    active, hours, pay figures, earning at least M and the histogram.
    """
    units, hierarchy = _units(parks)
    cells, splits = _cells(units, hierarchy, counts, pay, wages)
    hidden = suppress(cells, splits)

    def figure(key: tuple) -> Figure:
        if key not in cells:
            return MISSING
        return HIDDEN if key in hidden else Figure(round_count(cells[key]))

    rows = []
    for unit in units:
        figures = {
            m: figure((unit.key, m))
            for m in HEADCOUNTS
            if pay is not None or m in MONTHLY
        }
        if pay is not None:
            figures.update(_activity_figures(unit, counts, pay, figures["active"]))
        unit_wages = {wages[p.id] for p in unit.parks}
        rows.append(
            ReportRow(
                level=unit.level,
                label=unit.label,
                county=unit.county,
                township=unit.township,
                park_code=unit.park_code,
                figures=figures,
                min_wage=unit_wages.pop() if len(unit_wages) == 1 else None,
            )
        )
    bands = []
    if ("band", 0) in cells:
        wage_set = {wages[p.id] for p in parks}
        m = wage_set.pop() if len(wage_set) == 1 else None
        edges = [Decimal(0), *BAND_EDGES, None]
        for i, (low, high) in enumerate(itertools.pairwise(edges)):
            bands.append(
                Band(
                    low=low,
                    high=high,
                    low_yuan=_money(low * m) if m is not None else None,
                    high_yuan=_money(high * m) if m is not None and high else None,
                    people=figure(("band", i)),
                )
            )
    return rows, bands


def _activity_figures(unit, counts, pay, active: Figure) -> dict[str, Figure]:
    """Hours, median and mean gross pay of a unit. Shown only when its active
    count is shown: never of fewer than 5 people, and a hidden row's figures
    cannot be worked out from the total and the other rows. Rounded to whole
    hours and to ``MONEY_UNIT`` yuan (R16.4), so that two months or two
    splits that differ by one person cannot be used to size that person's
    hours or pay from the differences of the figures."""
    if not active.shown:
        return {"hours": HIDDEN, "median_gross": HIDDEN, "mean_gross": HIDDEN}
    minutes = sum(counts.get(p.id, {}).get("minutes", 0) for p in unit.parks)
    out = {
        "hours": Figure(
            round_amount(Decimal(minutes) / 60, HOURS_UNIT).quantize(Decimal(1))
        ),
        "median_gross": MISSING,
        "mean_gross": MISSING,
    }
    if all(p.id in pay for p in unit.parks):
        values = sorted(v for p in unit.parks for v in pay[p.id])
        if values:
            median = statistics.median(values)
            out["median_gross"] = Figure(round_amount(median, MONEY_UNIT))
            mean = sum(values) / len(values)
            out["mean_gross"] = Figure(round_amount(mean, MONEY_UNIT))
    return out


# --- the selector -----------------------------------------------------------


def report_parks(*, user) -> list[Park]:
    """The parks of the user's staff assignments: all a county official sees."""
    return list(
        Park.objects.filter(id__in=user_park_ids(user)).order_by(
            "county", "township", "code"
        )
    )


def trend_months(month: date, count: int = TREND_MONTHS) -> list[date]:
    months = [month.replace(day=1)]
    while len(months) < count:
        months.append(previous_month(months[-1]))
    return months[::-1]


def employment_report(
    *, user, month: date, months: int = TREND_MONTHS
) -> EmploymentReport:
    """R16.2 for ``month`` by park, township and in total over the user's
    parks, suppressed by R16.3, with the ``months`` months up to ``month``
    (headcounts only) for the trend. A fixed number of queries whatever the
    number of workers."""
    month = month.replace(day=1)
    parks = report_parks(user=user)
    park_ids = [p.id for p in parks]
    months_list = trend_months(month, months)
    last = _last_day(month)
    if park_ids:
        counts = _headcounts(park_ids, months_list)
        activity = _activity(park_ids, month)
        calculated = set(
            PayPeriod.objects.filter(
                park_id__in=park_ids, month=month, status__in=CALCULATED
            )
            .order_by()
            .values_list("park_id", flat=True)
        )
        values = _gross_values(sorted(calculated), month)
        pay = {park_id: values.get(park_id, []) for park_id in calculated}
        wages = _min_wages(park_ids, last)
    else:
        counts, activity, calculated, pay, wages = {}, {}, set(), {}, {}

    month_counts = {}
    for park_id in park_ids:
        row = dict(counts.get(park_id, {}).get(month, {}))
        row.update(activity.get(park_id, {"active": 0, "minutes": 0}))
        month_counts[park_id] = row
    rows, bands = _table(parks, month_counts, pay, wages)

    trend = []
    for m in months_list[:-1]:
        m_counts = {pid: counts.get(pid, {}).get(m, {}) for pid in park_ids}
        m_rows, _bands = _table(parks, m_counts, None, wages)
        trend.append(TrendPoint(month=m, total=m_rows[0]))
    trend.append(TrendPoint(month=month, total=rows[0]))

    return EmploymentReport(
        month=month,
        parks=parks,
        rows=rows,
        bands=bands,
        trend=trend,
        calculated=bool(park_ids) and set(park_ids) <= calculated,
        min_wages=sorted(set(wages.values())),
    )
