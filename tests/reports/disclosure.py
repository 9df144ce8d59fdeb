"""An attacker's audit of the county employment report (R16.4).

What a statistics office does to audit a protected table (τ-ARGUS's audit of
suppressed cells): take every figure that is published together, write down
every linear relation that holds between the true counts behind them, and ask
a solver how far each protected count can move while staying consistent with
all of it. Here the solver is HiGHS (``highspy``), on integer variables, so
the intervals are those of an attacker who also knows that people come in
whole numbers (an LP relaxation would give wider, kinder intervals).

``collect`` reads what a county official can see for a span of months: the
CSV of every month by park and by township, and the page (its table, its
trend of the twelve months up to it, its shares and its income bands) of the
last month and of every month with pay figures, checking on the way that the
page and the CSV agree.

``audit`` builds the relations at the level of each park (a township's or the
total's figure is the sum of its parks' unknowns):

- a shown count ``r`` (rounded to the nearest multiple of ``base``) bounds
  its true value to ``[max(5, r − base//2), r + base//2]``; a cell shown as
  "<5" is unknown (it may be a secondary suppression of any size);
- within a month: women, smaller ethnic groups, monitored households and
  returners at most the employed; earning at least M at most the active; the
  active at most those employed on some day of the month; the bands of the
  histogram add up to the active below and at or above M;
- from one month to the next, per park: employed[m] = employed[m−1] +
  new hires[m] − leavers[m] + s[m] − s[m−1], where s[m] counts the leavers
  whose last day is the month's last day (still employed at its end); the
  people who joined the employed (``in``) are the new hires less those who
  also left within the month before its last day (q[m]), the people who left
  them (``out``) follow the same way; for each attribute, its count moves by
  those of ``in`` who have it less those of ``out`` who have it. s and q are
  *given* to the attacker from the database: an attacker stronger than any
  real one, so that the audit errs on the safe side;
- a share beside its counts adds nothing when it is the share of the
  published (rounded) counts; otherwise it is the linear relation
  share × employed = 100 × count on the true values.

The checks (``Finding``): every count below 5 that the attacker could want —
every published cell, the unpublished complements (men, …, below M), the
income bands, and the flows ``in`` and ``out`` of each park and month — keeps
an interval at least ``PROTECTION`` wide; and no person's attribute is
determined: wherever somebody joined, left or is employed, the relations
allow both that one of them has the attribute and that one of them has not.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import highspy
from django.urls import reverse

from payroll.calculation import month_bounds
from payroll.models import Payslip, WorkRecord
from reports.county import BAND_EDGES, HAN_NAMES, M_BAND, THRESHOLD, trend_months
from reports.county_views import COLUMNS
from tests.factories import make_user
from workforce.models import Worker, WorkSession
from workforce.services import park_create, staff_assign, team_create

# Every count below 5 keeps at least this many values either way open: the
# attacker's interval for it is at least this wide.
PROTECTION = 3
COUNTS = tuple(key for key, _label, kind in COLUMNS if kind == "count")
ATTRIBUTES = ("women", "minorities", "monitored", "returners")
SHARES = {"women": "Women %", "minorities": "Smaller ethnic groups %"}
SHARE_KEYS = {"women": "women_share", "minorities": "minority_share"}
HIDDEN_TEXT = f"<{THRESHOLD}"
INF = highspy.kHighsInf


MONTHS = trend_months(date(2026, 3, 1), 13)  # 2025-03 … 2026-03
BEFORE = date(2024, 1, 1)
_n = itertools.count(1)


# --- what the official sees ---------------------------------------------------


@dataclasses.dataclass
class Published:
    months: list[date]
    townships: dict[str, str]  # park label -> its township's label
    cells: dict[tuple, str]  # (unit, month, measure) -> text; unit ("park", x)
    shares: dict[tuple, str]  # (unit, month, measure) -> share text or "—"
    bands: dict[tuple, str]  # (month, band index) -> text

    def counts_shown(self) -> list[int]:
        return [int(t) for t in self.cells.values() if t.isdigit()]


def _plain(text: str) -> str:
    return text.replace(",", "").strip()


def _share_text(value) -> str:
    return "—" if value is None else f"{value}"


def collect(client, months: list[date]) -> Published:
    """Every figure the signed-in official's ``client`` is shown for
    ``months``, read from the CSV and the page as served."""
    labels = {str(label): key for key, label, _kind in COLUMNS}
    out = Published(list(months), {}, {}, {}, {})

    def put(store, key, text, where):
        text = _plain(text)
        if key in store:
            assert store[key] == text, (key, store[key], text, where)
        store[key] = text

    for month in months:
        for by in ("park", "township"):
            url = reverse("county:report_csv") + f"?month={month:%Y-%m}&by={by}"
            response = client.get(url)
            assert response.status_code == 200, url
            text = response.content.decode().lstrip("\ufeff")
            header, *rows = list(csv.reader(io.StringIO(text)))
            for n, row in enumerate(rows):
                unit = ("total",) if n == 0 else (by, row[1])
                if by == "park" and n:
                    out.townships[row[1]] = row[2]
                for column, text in zip(header, row, strict=True):
                    if labels.get(column) in COUNTS:
                        put(out.cells, (unit, month, labels[column]), text, url)
                    for measure, heading in SHARES.items():
                        if column == heading:
                            put(out.shares, (unit, month, measure), text, url)
        # The page of the last month holds the trend of the others; a page of
        # another month adds only its income bands, when it has pay figures.
        with_pay = any(
            text != "—"
            for (_unit, m, measure), text in out.cells.items()
            if m == month and measure == "at_least_m"
        )
        if month != months[-1] and not with_pay:
            continue
        page = client.get(reverse("county:report") + f"?month={month:%Y-%m}")
        assert page.status_code == 200
        context = page.context
        for row in context["rows"]:
            unit = ("total",) if row["level"] == "total" else ("park", row["label"])
            for (key, _label, kind), (text, _hidden) in zip(
                COLUMNS, row["cells"], strict=True
            ):
                if kind == "count":
                    put(out.cells, (unit, month, key), text, "page")
            for measure in SHARES:
                share = _share_text(row[SHARE_KEYS[measure]])
                put(out.shares, (unit, month, measure), share, "page")
        for i, band in enumerate(context["bands"]):
            put(out.bands, (month, i), band["people"], "page")
        for point in context["trend"]:
            if point["month"] not in months:
                continue
            for key in ("employed", "new_hires", "leavers"):
                put(out.cells, (("total",), point["month"], key), point[key], "trend")
            put(
                out.shares,
                (("total",), point["month"], "women"),
                _share_text(point["women_share"]),
                "trend",
            )
            put(
                out.shares,
                (("total",), point["month"], "minorities"),
                _share_text(point["minority_share"]),
                "trend",
            )
    return out


def inferred_base(published: Published) -> int:
    """The rounding an attacker reads off the figures: 5 when every shown
    count is a multiple of 5, else none (exact counts)."""
    shown = published.counts_shown()
    return 5 if all(n % 5 == 0 for n in shown) else 1


# --- what is true -------------------------------------------------------------


def _employed_on(worker, day: date) -> bool:
    return worker.hire_date <= day and (
        worker.leave_date is None or worker.leave_date >= day
    )


def _has(worker, attribute: str) -> bool:
    if attribute == "women":
        return worker.gender == "female"
    if attribute == "minorities":
        return worker.ethnicity not in ("", *HAN_NAMES)
    if attribute == "monitored":
        return worker.monitored_household
    return worker.returner


@dataclasses.dataclass
class Truth:
    """The true values behind the figures, per park, worked out here from
    the workers' rows by the definitions of R16.1 (not by the report's own
    code), with the flows an attacker would like to know."""

    cells: dict[tuple, int]  # (park label, month, measure) -> count
    flows: dict[tuple, int]  # (park label, month, "in"/"out"[, attribute])
    given: dict[tuple, int]  # (park label, month, "s"/"q"): told the attacker
    bands: dict[tuple, int]  # (month, band index) over all parks


def truth(parks: dict, months: list[date], *, minimum=Decimal("2080.00")) -> Truth:
    """``parks``: park label -> Park."""
    out = Truth({}, {}, {}, defaultdict(int))
    before = months[0] - timedelta(days=1)
    for label, park in parks.items():
        workers = list(Worker.objects.filter(park=park))
        previous = {w.pk for w in workers if _employed_on(w, before)}
        for month in months:
            first, end = month_bounds(month)
            last = end - timedelta(days=1)
            employed = [w for w in workers if _employed_on(w, last)]
            now = {w.pk for w in employed}
            cell = out.cells
            cell[(label, month, "employed")] = len(employed)
            cell[(label, month, "new_hires")] = sum(
                first <= w.hire_date <= last for w in workers
            )
            cell[(label, month, "leavers")] = sum(
                w.leave_date is not None and first <= w.leave_date <= last
                for w in workers
            )
            for attribute in ATTRIBUTES:
                n = sum(_has(w, attribute) for w in employed)
                cell[(label, month, attribute)] = n
                cell[(label, month, f"not_{attribute}")] = len(employed) - n
            during = [
                w
                for w in workers
                if w.hire_date <= last
                and (w.leave_date is None or w.leave_date >= first)
            ]
            minutes = defaultdict(int)
            for worker_id, m in WorkSession.objects.filter(
                worker__park=park, work_date__gte=first, work_date__lt=end
            ).values_list("worker_id", "minutes"):
                minutes[worker_id] += m
            worked = set(
                WorkRecord.objects.filter(
                    worker__park=park, work_date__gte=first, work_date__lt=end
                ).values_list("worker_id", flat=True)
            )
            active = [w for w in during if minutes[w.pk] >= 60 or w.pk in worked]
            gross = dict(
                Payslip.objects.filter(
                    period__park=park, period__month=first
                ).values_list("worker_id", "taxable")
            )
            pay = [gross.get(w.pk, Decimal("0.00")) for w in active]
            cell[(label, month, "active")] = len(active)
            cell[(label, month, "at_least_m")] = sum(v >= minimum for v in pay)
            cell[(label, month, "below_m")] = sum(v < minimum for v in pay)
            for v in pay:
                band = sum(v >= edge * minimum for edge in BAND_EDGES)
                out.bands[(month, band)] += 1
            out.given[(label, month, "s")] = sum(w.leave_date == last for w in workers)
            out.given[(label, month, "q")] = sum(
                first <= w.hire_date <= last
                and w.leave_date is not None
                and w.leave_date < last
                for w in workers
            )
            joined = [w for w in workers if w.pk in now - previous]
            left = [w for w in workers if w.pk in previous - now]
            out.flows[(label, month, "in")] = len(joined)
            out.flows[(label, month, "out")] = len(left)
            for attribute in ATTRIBUTES:
                out.flows[(label, month, "in", attribute)] = sum(
                    _has(w, attribute) for w in joined
                )
                out.flows[(label, month, "out", attribute)] = sum(
                    _has(w, attribute) for w in left
                )
            previous = now
    return out


# --- the attacker's programme ------------------------------------------------------


class Programme:
    """Integer unknowns, linear relations, and the min and max of a linear
    expression over everything consistent with them (HiGHS)."""

    def __init__(self, cap: int):
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.cap = cap
        self.index: dict[tuple, int] = {}
        self.rows: list[tuple[dict, float, float]] = []
        # Solutions found so far (the truth first): a bound that one of them
        # already reaches needs no solving.
        self.pool: list[list[float]] = []

    def var(self, key: tuple) -> int:
        if key not in self.index:
            self.highs.addVar(0, self.cap)
            col = len(self.index)
            self.highs.changeColIntegrality(col, highspy.HighsVarType.kInteger)
            self.index[key] = col
        return self.index[key]

    def expr(self, *terms, const: float = 0) -> tuple[dict, float]:
        """``terms``: (coefficient, key) pairs or further expressions."""
        coefs: dict[int, float] = defaultdict(float)
        for term in terms:
            if isinstance(term[0], dict):
                for col, c in term[0].items():
                    coefs[col] += c
                const += term[1]
            else:
                coefs[self.var(term[1])] += term[0]
        return dict(coefs), const

    def add(self, expression, lo: float = -INF, hi: float = INF) -> None:
        coefs, const = expression
        cols = [c for c, v in coefs.items() if v]
        self.rows.append(({c: coefs[c] for c in cols}, lo - const, hi - const))
        self.highs.addRow(
            lo - const if lo != -INF else -INF,
            hi - const if hi != INF else INF,
            len(cols),
            cols,
            [coefs[c] for c in cols],
        )

    def _solve(self, expression, sense) -> float:
        coefs, const = expression
        n = len(self.index)
        costs = [0.0] * n
        for col, c in coefs.items():
            costs[col] = c
        self.highs.changeColsCost(n, list(range(n)), costs)
        self.highs.changeObjectiveSense(sense)
        self.highs.run()
        status = self.highs.getModelStatus()
        assert status == highspy.HighsModelStatus.kOptimal, (
            "the published figures contradict the relations: "
            f"{self.highs.modelStatusToString(status)}"
        )
        self.pool.append(list(self.highs.getSolution().col_value))
        return self.highs.getInfo().objective_function_value + const

    def interval(self, expression) -> tuple[float, float]:
        return (
            self._solve(expression, highspy.ObjSense.kMinimize),
            self._solve(expression, highspy.ObjSense.kMaximize),
        )

    def value(self, expression, solution: list[float]) -> float:
        coefs, const = expression
        return const + sum(
            v * (solution[c] if c < len(solution) else 0) for c, v in coefs.items()
        )

    def violated(self, solution: list[float]) -> list[dict]:
        """The relations that ``solution`` breaks."""
        out = []
        for coefs, lo, hi in self.rows:
            total = self.value((coefs, 0), solution)
            if not lo - 1e-6 <= total <= hi + 1e-6:
                out.append(coefs)
        return out

    def spread(self, expression, width: float) -> tuple[float, float]:
        """Values of ``expression`` that are consistent with the relations:
        from the solutions found so far when they already span ``width``,
        else its exact minimum and maximum."""
        values = [self.value(expression, s) for s in self.pool]
        if values and max(values) - min(values) >= width - 1e-6:
            return min(values), max(values)
        return self.interval(expression)

    def reaches(self, expression, at_least: float) -> bool:
        """Whether some solution has ``expression`` ≥ ``at_least``."""
        if any(self.value(expression, s) >= at_least - 1e-6 for s in self.pool):
            return True
        return self._solve(expression, highspy.ObjSense.kMaximize) >= at_least - 1e-6


# --- the audit ----------------------------------------------------------------------


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _share_of(part: int, base: int) -> str:
    return f"{(Decimal(100) * part / base).quantize(Decimal('0.1'), ROUND_HALF_UP)}"


@dataclasses.dataclass
class Audit:
    findings: list[str]
    # target -> (lo, hi, truth): values the figures allow, at least; exactly
    # the attacker's minimum and maximum where the protection was in doubt
    intervals: dict[str, tuple[float, float, int]]
    base: int


def neg(expression):
    coefs, const = expression
    return {c: -v for c, v in coefs.items()}, -const


def audit(published: Published, true: Truth, *, base: int | None = None) -> Audit:
    """The attacker's intervals for every protected count and attribute of
    ``published``, checked against ``true``."""
    base = inferred_base(published) if base is None else base
    half = base // 2
    months = published.months
    parks = sorted(published.townships)
    cap = 10 * (max(published.counts_shown(), default=0) + THRESHOLD) + 100
    lp = Programme(cap)
    E = lp.expr

    def members(unit: tuple) -> list[str]:
        if unit[0] == "total":
            return parks
        if unit[0] == "township":
            return [p for p in parks if published.townships[p] == unit[1]]
        return [unit[1]]

    def cell(park, month, measure):
        return E((1, ("cell", park, month, measure)))

    def unit_cell(unit, month, measure):
        if measure.startswith("not_"):
            return E(
                unit_cell(unit, month, "employed"),
                neg(unit_cell(unit, month, measure[4:])),
            )
        if measure == "below_m":
            return E(
                unit_cell(unit, month, "active"),
                neg(unit_cell(unit, month, "at_least_m")),
            )
        return E(*(cell(p, month, measure) for p in members(unit)))

    def given(park, month, what):
        return true.given.get((park, month, what), 0)

    def flow(park, i, way):
        """``in`` or ``out`` of ``park`` in month ``i``: its new hires or
        leavers less what the attacker is given."""
        month, before = months[i], months[i - 1]
        s, s_before = given(park, month, "s"), given(park, before, "s")
        q = given(park, month, "q")
        if way == "in":
            return E(cell(park, month, "new_hires"), const=-q)
        return E(cell(park, month, "leavers"), const=-s + s_before - q)

    def having(park, month, way, attribute):
        return cell(park, month, f"{way}:{attribute}")

    findings: list[str] = []
    # Relations inside each park and month, and between months.
    for park in parks:
        for i, month in enumerate(months):
            employed = cell(park, month, "employed")
            active = cell(park, month, "active")
            leavers = cell(park, month, "leavers")
            s, q = given(park, month, "s"), given(park, month, "q")
            for attribute in ATTRIBUTES:
                lp.add(E(employed, neg(cell(park, month, attribute))), lo=0)
            lp.add(E(active, neg(cell(park, month, "at_least_m"))), lo=0)
            # the active were employed on some day of the month
            lp.add(E(employed, leavers, neg(active)), lo=s)
            lp.add(leavers, lo=s + q)
            lp.add(cell(park, month, "new_hires"), lo=q)
            lp.add(employed, lo=s)
            if i == 0:
                continue
            before = months[i - 1]
            employed_before = cell(park, before, "employed")
            joined, left = flow(park, i, "in"), flow(park, i, "out")
            lp.add(left, lo=0)
            lp.add(E(employed, neg(employed_before), neg(joined), left), lo=0, hi=0)
            lp.add(E(employed, neg(joined)), lo=0)
            lp.add(E(employed_before, neg(left)), lo=0)
            for attribute in ATTRIBUTES:
                now, then = cell(park, month, attribute), cell(park, before, attribute)
                a_in = having(park, month, "in", attribute)
                a_out = having(park, month, "out", attribute)
                lp.add(E(now, neg(then), neg(a_in), a_out), lo=0, hi=0)
                lp.add(E(joined, neg(a_in)), lo=0)
                lp.add(E(left, neg(a_out)), lo=0)
                lp.add(E(now, neg(a_in)), lo=0)
                lp.add(E(then, neg(a_out)), lo=0)
                # those who joined without it are among the employed without it
                lp.add(E(employed, neg(now), neg(joined), a_in), lo=0)
                lp.add(E(employed_before, neg(then), neg(left), a_out), lo=0)

    # What is published.
    for (unit, month, measure), text in published.cells.items():
        r = _number(text)
        if r is not None:
            lp.add(
                unit_cell(unit, month, measure),
                lo=max(THRESHOLD, r - half),
                hi=r + half,
            )
    for (unit, month, measure), text in published.shares.items():
        if text == "—":
            continue
        part = _number(published.cells.get((unit, month, measure), ""))
        whole = _number(published.cells.get((unit, month, "employed"), ""))
        if part is None or whole is None:
            findings.append(f"{measure} share {unit} {month:%Y-%m} without its count")
        elif whole and _share_of(part, whole) == text:
            continue  # a function of the published counts: nothing more
        share = Decimal(text)
        count = unit_cell(unit, month, measure)
        employed = unit_cell(unit, month, "employed")
        for bound, side in (
            (share + Decimal("0.05"), "hi"),
            (share - Decimal("0.05"), "lo"),
        ):
            relation = E(
                ({c: 100 * v for c, v in count[0].items()}, 0),
                ({c: -float(bound) * v for c, v in employed[0].items()}, 0),
            )
            lp.add(relation, **{side: 0})
    for month in sorted({month for month, _i in published.bands}):
        bands = [E((1, ("band", month, i))) for i in range(len(BAND_EDGES) + 1)]
        lp.add(
            E(*bands[M_BAND:], neg(unit_cell(("total",), month, "at_least_m"))),
            lo=0,
            hi=0,
        )
        lp.add(
            E(*bands[:M_BAND], neg(unit_cell(("total",), month, "below_m"))), lo=0, hi=0
        )
        for i, band in enumerate(bands):
            r = _number(published.bands.get((month, i), ""))
            if r is not None:
                lp.add(band, lo=max(THRESHOLD, r - half), hi=r + half)

    # The counts to protect, with their true values.
    targets: dict[str, tuple] = {}
    seen = set()

    def target(name, expression, value):
        key = (frozenset(expression[0].items()), expression[1])
        if key not in seen:
            seen.add(key)
            targets[name] = (expression, value)

    for (unit, month, measure), text in sorted(published.cells.items(), key=str):
        if text == "—":
            continue
        names = [measure]
        if measure in ATTRIBUTES:
            names.append(f"not_{measure}")
        if measure == "at_least_m":
            names.append("below_m")
        for name in names:
            value = sum(true.cells[(p, month, name)] for p in members(unit))
            target(f"{name} {unit} {month:%Y-%m}", unit_cell(unit, month, name), value)
    for month, i in published.bands:
        band = E((1, ("band", month, i)))
        target(f"band {i} {month:%Y-%m}", band, true.bands[(month, i)])
    for park in parks:
        for i, month in enumerate(months[1:], start=1):
            for way in ("in", "out"):
                value = true.flows[(park, month, way)]
                target(f"{way} {park} {month:%Y-%m}", flow(park, i, way), value)

    # The truth satisfies every relation (else the relations, or the
    # figures, are wrong), and is the first solution of the pool.
    solution = [0.0] * len(lp.index)
    for key, col in lp.index.items():
        if key[0] == "band":
            solution[col] = true.bands[(key[1], key[2])]
            continue
        _cell, park, month, measure = key
        if ":" in measure:
            way, attribute = measure.split(":")
            solution[col] = true.flows[(park, month, way, attribute)]
        else:
            solution[col] = true.cells[(park, month, measure)]
    broken = lp.violated(solution)
    if broken:
        names = {col: key for key, col in lp.index.items()}
        for coefs in broken[:5]:
            terms = " + ".join(f"{v:g}·{names[c]}" for c, v in coefs.items())
            findings.append(f"the true counts break {terms}")
        return Audit(findings, {}, base)
    lp.pool.append(solution)

    intervals = {}
    for name, (expression, value) in targets.items():
        width = PROTECTION if value < THRESHOLD else 0
        lo, hi = lp.spread(expression, width)
        intervals[name] = (lo, hi, value)
        if value < THRESHOLD and hi - lo < PROTECTION - 1e-6:
            findings.append(f"{name}: {value} pinned to [{lo:g}, {hi:g}]")

    # People's attributes: of a group with somebody in it, the relations
    # must allow one who has the attribute and one who has not.
    def undetermined(name, group, with_it, size):
        if size < 1:
            return
        if not lp.reaches(E(group, neg(with_it)), 1):
            findings.append(f"{name}: all of them have it")
        if not lp.reaches(with_it, 1):
            findings.append(f"{name}: none of them has it")

    for park in parks:
        for i, month in enumerate(months):
            employed = cell(park, month, "employed")
            size = true.cells[(park, month, "employed")]
            for attribute in ATTRIBUTES:
                name = f"{attribute} among the employed of {park} {month:%Y-%m}"
                undetermined(name, employed, cell(park, month, attribute), size)
                if i == 0:
                    continue
                for way in ("in", "out"):
                    undetermined(
                        f"{attribute} among those {way} {park} {month:%Y-%m}",
                        flow(park, i, way),
                        having(park, month, way, attribute),
                        true.flows[(park, month, way)],
                    )
            if published.cells.get((("park", park), month, "at_least_m"), "—") != "—":
                undetermined(
                    f"earning at least M among the active of {park} {month:%Y-%m}",
                    cell(park, month, "active"),
                    cell(park, month, "at_least_m"),
                    true.cells[(park, month, "active")],
                )
    return Audit(findings, intervals, base)


# --- building parks for the audit -------------------------------------------------


def _last_day(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(
        days=1
    )


def new_park(code=None, township="示例镇"):
    n = next(_n)
    code = code or f"d{n}"
    park = park_create(
        name=f"园区{code}", code=code, county="示例县", township=township
    )
    park.team = team_create(park=park, name=f"Team {code}")
    return park


def person(park, *, hire=BEFORE, leave=None, minority=False, **fields):
    """One worker; ``minority`` gives a smaller ethnic group (with consent),
    otherwise Han (with consent) or none recorded."""
    n = next(_n)
    if minority:
        fields.update(sensitive_consent=True, ethnicity="回族")
    elif fields.pop("han", True):
        fields.update(sensitive_consent=True, ethnicity="汉族")
    return Worker.objects.create(
        park=park,
        team=park.team,
        employee_no=f"X{n:06d}",
        name=f"测试{n}",
        gender=fields.pop("gender", "female"),
        birth_year=1990,
        hire_date=hire,
        leave_date=leave,
        contract="full_time",
        **fields,
    )


def signed_in(client, *parks):
    user = make_user("county_official")
    for park in parks:
        staff_assign(user=user, park=park)
    client.force_login(user)
    return client


def audited(client, parks, months=MONTHS):
    published = collect(client, months)
    labels = {f"园区{p.code}": p for p in parks}
    assert set(published.townships) == set(labels)
    return published, audit(published, truth(labels, months))
