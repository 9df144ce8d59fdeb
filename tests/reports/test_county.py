"""R16 employment report: figures on hand-built data, R16.3 suppression, scope."""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import TestCase

from payroll import periods
from payroll.services import project_create, work_record_create
from reports.county import (
    BAND_EDGES,
    M_BAND,
    THRESHOLD,
    employment_report,
    suppress,
)
from tests.factories import make_catalogue, make_park, make_user, make_worker
from workforce.models import PayPolicy
from workforce.services import park_create, staff_assign, work_session_log

SH = ZoneInfo("Asia/Shanghai")
MARCH = date(2026, 3, 1)
LAST = date(2026, 3, 31)
_ext = itertools.count(1)


# --- helpers ----------------------------------------------------------------


def official(*parks):
    """A county official assigned to ``parks``."""
    user = make_user("county_official")
    for park in parks:
        staff_assign(user=user, park=park)
    return user


def employ(park, count, **fields):
    return [make_worker(park, **fields) for _i in range(count)]


def add_minutes(worker, day, minutes, hour=8):
    start = datetime(day.year, day.month, day.day, hour, tzinfo=SH)
    return work_session_log(
        worker=worker, start=start, end=start + timedelta(minutes=minutes)
    )


def add_units(worker, project, task_type, day, units, accuracy="97.00"):
    return work_record_create(
        worker=worker,
        project=project,
        task_type=task_type,
        work_date=day,
        units=units,
        accuracy=Decimal(accuracy),
        source="test",
        external_id=f"r{next(_ext)}",
    )


def calculate(park, month=MARCH):
    """Calculate the park's period through the real services."""
    period = periods.period_get_or_create(park=park, month=month)
    with TestCase.captureOnCommitCallbacks(execute=True):
        periods.payroll_run_start(period=period, actor=None)
    return period


def report_for(user, month=MARCH):
    return employment_report(user=user, month=month)


def park_row(report, park):
    return next(
        r for r in report.rows if r.level == "park" and r.park_code == park.code
    )


def values(row, *measures):
    """The published figures of a row, as they would be shown."""
    return {m: str(row.figures[m]) for m in measures}


# --- R16.1/R16.2 figures on hand-built data -----------------------------------


@pytest.mark.django_db
def test_employed_new_hires_and_leavers_at_the_month_boundaries(park):
    """Employed at month end: hired on or before the last day and not left
    before it (the leave date is the last day of employment, so leaving on the
    31st still counts as employed on the 31st). New hires and leavers: hire or
    leave date inside the month. Five workers of each case, so nothing is
    suppressed."""
    cases = {
        "hired_first_day": {"hire_date": date(2026, 3, 1)},
        "hired_last_day": {"hire_date": date(2026, 3, 31)},
        "hired_next_month": {"hire_date": date(2026, 4, 1)},
        "hired_before": {"hire_date": date(2026, 2, 28)},
        "left_last_day": {"leave_date": date(2026, 3, 31)},
        "left_day_before_last": {"leave_date": date(2026, 3, 30)},
        "left_first_day": {"leave_date": date(2026, 3, 1)},
        "left_next_month": {"leave_date": date(2026, 4, 1)},
        "left_last_month": {"leave_date": date(2026, 2, 28)},
    }
    for fields in cases.values():
        employ(park, 5, **{"hire_date": date(2025, 1, 1), **fields})
    report = report_for(official(park))
    row = park_row(report, park)
    # hired_first_day, hired_last_day, hired_before, left_last_day,
    # left_next_month
    assert row.employed.value == 25
    assert row.new_hires.value == 10  # hired_first_day, hired_last_day
    assert row.leavers.value == 15  # left_last_day, left_day_before_last, first
    assert report.total.employed.value == 25
    # February: hired_before and left_last_month are employed on the 28th, as
    # are the four groups leaving in March or later; the March hires are not.
    february = report.trend[-2]
    assert february.month == date(2026, 2, 1)
    assert february.total.employed.value == 30
    assert february.total.new_hires.value == 5  # hired_before (28 Feb)
    assert february.total.leavers.value == 5  # left_last_month


@pytest.mark.django_db
def test_active_needs_one_hour_or_one_unit_while_employed_in_the_month(park):
    """Active: employed on some day of the month and at least 60 minutes or
    one unit in it. A mid-month leaver who worked is active; 59 minutes is
    not; hours are the month's session minutes of the employed."""
    project, task_type = make_catalogue(park)
    for worker in employ(park, 5):
        add_minutes(worker, date(2026, 3, 2), 60)
    for worker in employ(park, 5):
        add_minutes(worker, date(2026, 3, 3), 59)
    for worker in employ(park, 5):
        add_units(worker, project, task_type, date(2026, 3, 4), 1)
    employ(park, 5)  # nothing this month
    for worker in employ(park, 5, leave_date=date(2026, 3, 10)):
        add_minutes(worker, date(2026, 3, 5), 120)
    for worker in employ(park, 5):  # work in other months does not count
        add_minutes(worker, date(2026, 2, 28), 120)
        add_units(worker, project, task_type, date(2026, 4, 1), 3)
    row = park_row(report_for(official(park)), park)
    assert row.active.value == 15
    assert row.employed.value == 25  # the leavers left before the 31st
    # (300 + 295 + 600) / 60 = 19.9, published in whole hours (R16.4); 59
    # minutes too few for "active" still count as hours (without: 15).
    assert row.hours.value == Decimal("20")


@pytest.mark.django_db
def test_women_minorities_monitored_and_returners_among_the_employed(park):
    """Women, smaller ethnic groups (any non-empty ethnicity other than Han,
    written 汉族 or Han), monitored households and returners are counted among
    the employed at month end; an empty ethnicity is not a smaller group.
    Groups of 5, so that each case moves a published (rounded) figure."""
    consent = {"sensitive_consent": True}
    employ(park, 5, gender="male", ethnicity="汉族", **consent)
    employ(park, 5, gender="male", ethnicity="Han", **consent)
    employ(park, 5, gender="female")  # no consent, no ethnicity
    employ(park, 5, ethnicity="东乡族", monitored_household=True, **consent)
    employ(park, 5, ethnicity="保安族", returner=True, **consent)
    employ(park, 5, returner=True, gender="female")
    employ(park, 5, ethnicity="回族", leave_date=date(2026, 3, 20), **consent)
    row = park_row(report_for(official(park)), park)
    assert row.employed.value == 30
    assert row.women.value == 20
    assert row.minorities.value == 10  # 5 东乡族 + 5 保安族
    assert row.monitored.value == 5
    assert row.returners.value == 10
    assert row.women_share == Decimal("66.7")
    assert row.minority_share == Decimal("33.3")


@pytest.mark.django_db
def test_counts_are_rounded_and_shares_come_from_the_rounded_counts(park):
    """R16.4: 26 employed of whom 16 women and 6 of a smaller ethnic group
    are published as 25, 15 and 5, and the shares as 15 of 25 and 5 of 25
    (60.0 % and 20.0 %), not the exact 61.5 % and 23.1 %, which with the
    rounded counts would tell the exact ones."""
    consent = {"sensitive_consent": True}
    employ(park, 10, gender="male", ethnicity="汉族", **consent)
    employ(park, 10, gender="female", ethnicity="汉族", **consent)
    employ(park, 6, gender="female", ethnicity="东乡族", **consent)
    row = park_row(report_for(official(park)), park)
    assert values(row, "employed", "women", "minorities") == {
        "employed": "25",
        "women": "15",
        "minorities": "5",
    }
    assert row.women_share == Decimal("60.0")
    assert row.minority_share == Decimal("20.0")


def _pay_park(amounts, *, rate=Decimal("0.0100")):
    """A park whose part-time workers each earn one of ``amounts`` in March
    (piece pay only: no hours, so no minimum-wage floor)."""
    park = make_park()
    project, task_type = make_catalogue(park, rate=rate)
    for amount in amounts:
        worker = make_worker(park, contract="part_time")
        units = int(amount / rate)
        add_units(worker, project, task_type, date(2026, 3, 2), units)
    return park


@pytest.mark.django_db
def test_median_mean_and_earning_at_least_m_from_the_payslips():
    """Median and mean gross pay (payslip ``taxable``) of the active workers,
    and how many earned at least M (2080.00 here; exactly M counts). An
    active worker whose payslip is missing (an R3.3 error) counts as 0.
    Published rounded (R16.4): counts to 5, pay to 10 yuan; five workers at
    exactly M, so that leaving them out would change the figure."""
    amounts = ["500", "1000", "1500", "2079.99", "2079.99", *["2080"] * 5]
    amounts += ["2500", "3000", "4000", "5000", "6000"]
    park = _pay_park([Decimal(a) for a in amounts])
    # Work on a project without rate cards: an error of the run, no payslip.
    _project, task_type = make_catalogue(park)
    unpriced = project_create(
        client=_project.client, park=park, code="nocard", name="No card"
    )
    add_units(make_worker(park), unpriced, task_type, date(2026, 3, 3), 10)
    calculate(park)
    row = park_row(report_for(official(park)), park)
    assert row.active.value == 15  # 16
    assert row.median_gross.value == Decimal("2080.00")
    # 38,059.98 / 16 = 2,378.75 (without the missing payslip's 0: 2,537.33)
    assert row.mean_gross.value == Decimal("2380.00")
    assert row.at_least_m.value == 10
    assert row.min_wage == Decimal("2080.00")


@pytest.mark.django_db
def test_m_is_the_policy_in_force_on_the_last_day():
    """M is the park's PayPolicy in force on the month's last day: a policy
    from the 31st applies, one from the 1st of the next month does not."""
    amounts = ["100", "200", "300", "400", "2499.99"]
    amounts += ["2500", "2600", "3000", "4000", "5000"]
    park = _pay_park([Decimal(a) for a in amounts])
    PayPolicy.objects.create(
        park=park, effective_from=LAST, min_monthly=Decimal("2500.00")
    )
    PayPolicy.objects.create(
        park=park, effective_from=date(2026, 4, 1), min_monthly=Decimal("9999.00")
    )
    calculate(park)
    report = report_for(official(park))
    row = park_row(report, park)
    assert row.min_wage == Decimal("2500.00")
    assert row.at_least_m.value == 5
    assert report.bands[0].low_yuan == 0
    assert report.bands[1].low_yuan == Decimal("1250.00")  # 0.5 × M


@pytest.mark.django_db
def test_pay_figures_wait_for_the_calculated_payroll(park):
    """Before the month's payroll is calculated there are no pay figures:
    median, mean and "earning at least M" are not available (not 0)."""
    project, task_type = make_catalogue(park)
    for worker in employ(park, 6):
        add_units(worker, project, task_type, date(2026, 3, 2), 100)
    report = report_for(official(park))
    row = park_row(report, park)
    assert row.active.value == 5  # 6, rounded
    assert str(row.median_gross) == "—"
    assert str(row.at_least_m) == "—"
    assert report.bands == []
    assert report.calculated is False


@pytest.mark.django_db
def test_histogram_bands_add_up_and_hide_small_bands():
    """The histogram's bands (multiples of M, M an edge) hold every active
    worker; bands of fewer than 5 people are hidden like any cell."""
    amounts = ["100"] * 5 + ["1100"] * 5 + ["2100"] * 6 + ["9000"] * 2
    park = _pay_park([Decimal(a) for a in amounts])
    calculate(park)
    report = report_for(official(park))
    shown = {str(b.people) for b in report.bands}
    # Below M: 5, 5 and an empty band, which would be 10 − 5 − 5: the first
    # of the equally small others is hidden with it.
    # The 6 are published as 5 (R16.4).
    assert [str(b.people) for b in report.bands[:4]] == ["<5", "5", "<5", "5"]
    assert shown == {"5", "<5"}
    assert report.total.at_least_m.value == 10  # 8
    assert len(report.bands) == len(BAND_EDGES) + 1
    assert [b.at_least_m for b in report.bands].index(True) == M_BAND
    assert report.bands[M_BAND].low_yuan == Decimal("2080.00")
    # 9000 (two people) is in the top band, the three bands between are empty:
    # all four are hidden, which is enough.
    assert [b.people.hidden for b in report.bands[4:]] == [True] * 4


@pytest.mark.django_db
def test_bands_at_or_above_m_add_up_to_earning_at_least_m():
    """The bands from M up hold exactly the workers earning at least M, and
    those below M the others (exactly M is in the first band at or above)."""
    amounts = ["100"] * 5 + ["1100"] * 5 + ["2079.99"] * 5
    amounts += ["2080"] * 5 + ["2700"] * 6
    park = _pay_park([Decimal(a) for a in amounts])
    calculate(park)
    report = report_for(official(park))
    people = [b.people.value or 0 for b in report.bands]
    # 6 and 11 are published as 5 and 10 (R16.4); here the rounded bands
    # still add up to the rounded count.
    assert [str(b.people) for b in report.bands] == [
        "5", "5", "5", "5", "5", "<5", "<5", "<5",
    ]  # fmt: skip
    assert sum(people[M_BAND:]) == report.total.at_least_m.value == 10
    assert sum(people[:M_BAND]) == 15


# --- R16.3 in the report ----------------------------------------------------


@pytest.mark.django_db
def test_small_park_is_hidden_with_the_next_smallest_of_its_township():
    """A park of 3 employed is "<5"; because the township's total would reveal
    it, the other park of the township (the next smallest) is hidden too. The
    township and the total stay shown. Pay figures of a hidden row are
    hidden."""
    small = park_create(name="S", code="small", county="C", township="T1")
    middle = park_create(name="M", code="middle", county="C", township="T1")
    big = park_create(name="B", code="big", county="C", township="T2")
    employ(small, 3)
    employ(middle, 20)
    employ(big, 30)
    report = report_for(official(small, middle, big))
    assert str(park_row(report, small).employed) == "<5"
    assert str(park_row(report, middle).employed) == "<5"
    assert park_row(report, big).employed.value == 30
    town = next(r for r in report.rows if r.level == "township" and r.township == "T1")
    assert town.employed.value == 25  # 23, rounded (R16.4)
    assert report.total.employed.value == 55  # 53
    assert str(park_row(report, small).hours) == "<5"


@pytest.mark.django_db
def test_a_small_complement_hides_the_shown_cell(park):
    """28 women and 2 men: showing 28 of 30 would reveal the 2 men, so the
    women cell is hidden; all 30 in smaller ethnic groups hides that cell too
    (the complement 0 counts fewer than 5)."""
    consent = {"sensitive_consent": True, "ethnicity": "东乡族"}
    employ(park, 28, gender="female", **consent)
    employ(park, 2, gender="male", **consent)
    row = park_row(report_for(official(park)), park)
    assert row.employed.value == 30
    assert str(row.women) == "<5"
    assert str(row.minorities) == "<5"
    assert row.women_share is None


@pytest.mark.django_db
def test_trend_month_matches_the_table_of_that_month(park):
    """The trend's points are suppressed exactly as the table of their month,
    so that switching months reveals nothing; the last point is the table's
    total."""
    employ(park, 7, hire_date=date(2025, 6, 1))
    employ(park, 3, hire_date=date(2025, 12, 15))
    user = official(park)
    report = report_for(user)
    assert len(report.trend) == 12
    assert report.trend[-1].total is report.total
    december = report_for(user, date(2025, 12, 1))
    point = next(p for p in report.trend if p.month == date(2025, 12, 1))
    for measure in ("employed", "new_hires", "leavers", "women", "minorities"):
        assert str(point.total.figures[measure]) == str(december.total.figures[measure])
    assert str(point.total.new_hires) == "<5"
    assert point.total.employed.value == 10


# --- scope --------------------------------------------------------------------


@pytest.mark.django_db
def test_an_official_sees_only_the_parks_of_their_assignments():
    """Only the parks of the official's StaffAssignment rows are counted; an
    official without assignments sees no park at all."""
    mine = make_park()
    other = make_park()
    employ(mine, 6)
    employ(other, 9)
    report = report_for(official(mine))
    assert [p.code for p in report.parks] == [mine.code]
    assert report.total.employed.value == 5  # 6, rounded; with the other: 15
    assert all(r.park_code != other.code for r in report.rows)
    empty = report_for(official())
    assert empty.parks == []
    assert str(empty.total.employed) == "<5"


@pytest.mark.django_db
def test_report_query_count_is_independent_of_the_number_of_workers(
    django_assert_max_num_queries,
):
    """The report costs a fixed number of queries, however many workers."""
    park = make_park()
    project, task_type = make_catalogue(park)
    user = official(park)

    def grow(count):
        for worker in employ(park, count):
            add_units(worker, project, task_type, date(2026, 3, 2), 50)

    def measure():
        fresh = User.objects.get(pk=user.pk)  # nothing cached on the login
        with django_assert_max_num_queries(8) as queries:
            report = report_for(fresh)
        return report, len(queries.captured_queries)

    grow(3)
    calculate(park)
    small_report, small = measure()
    grow(20)
    calculate(park)
    large_report, large = measure()
    assert small == large
    assert (small_report.total.active.hidden, large_report.total.active.value) == (
        True,
        25,  # 23, rounded
    )


# --- the suppression function ---------------------------------------------------


def test_primary_suppression_hides_every_cell_below_five():
    """Every cell counting fewer than 5 people is hidden; 5 is shown."""
    counts = {f"c{n}": n for n in range(10)}
    assert suppress(counts, []) == {f"c{n}" for n in range(THRESHOLD)}


def test_zero_is_suppressed():
    """0 counts fewer than 5 people: hidden like 1–4 (see ``suppress``)."""
    assert suppress({"a": 0}, []) == {"a"}


def test_secondary_suppression_hides_the_next_smallest_part():
    """One small part of a shown total: the smallest other part is hidden."""
    counts = {"total": 40, "a": 3, "b": 20, "c": 9, "d": 8}
    assert suppress(counts, [("total", ["a", "b", "c", "d"])]) == {"a", "d"}


def test_ties_take_the_first_part_in_order():
    """Among equally small candidates, the first in the split's order."""
    counts = {"total": 23, "a": 2, "b": 7, "c": 7, "d": 7}
    assert suppress(counts, [("total", ["a", "b", "c", "d"])]) == {"a", "b"}
    assert suppress(counts, [("total", ["a", "d", "c", "b"])]) == {"a", "d"}


def test_two_small_parts_need_no_secondary():
    """Two hidden parts cannot be told apart from the total: nothing more."""
    counts = {"total": 30, "a": 1, "b": 4, "c": 25}
    assert suppress(counts, [("total", ["a", "b", "c"])]) == {"a", "b"}


def test_small_total_hides_all_its_parts():
    """A total below 5 has all its parts below 5."""
    counts = {"total": 4, "a": 0, "b": 4}
    assert suppress(counts, [("total", ["a", "b"])]) == {"total", "a", "b"}


def test_total_hidden_elsewhere_hides_a_part():
    """A total hidden by another split would be the sum of its shown parts:
    its smallest part is hidden too."""
    counts = {"county": 60, "t1": 3, "t2": 57, "p1": 30, "p2": 27}
    splits = [("county", ["t1", "t2"]), ("t2", ["p1", "p2"])]
    # t1 is small, so t2 is hidden; then t2's smallest park goes with it.
    assert suppress(counts, splits) == {"t1", "t2", "p2"}


def test_only_part_hidden_elsewhere_hides_its_total():
    """A split whose only part is hidden elsewhere hides its total."""
    counts = {"county": 30, "t1": 3, "t2": 27, "x": 27}
    splits = [("county", ["t1", "t2"]), ("x", ["t2"])]
    assert suppress(counts, splits) == {"t1", "t2", "x"}


def test_suppression_cascades_through_the_hierarchy():
    """Park inside township inside county: hiding a cell in one split that
    leaves another split with one hidden cell goes on until none does."""
    counts = {
        "county": 100,
        "t1": 30,
        "t2": 70,
        "p1": 2,
        "p2": 28,
        "p3": 35,
        "p4": 35,
    }
    splits = [("county", ["t1", "t2"]), ("t1", ["p1", "p2"]), ("t2", ["p3", "p4"])]
    assert suppress(counts, splits) == {"p1", "p2"}
    # A township that is itself small drags the other township and a park in.
    counts.update(t1=4, p1=1, p2=3, county=74, t2=70)
    assert suppress(counts, splits) == {"t1", "p1", "p2", "t2", "p3"}


def test_complement_cells_protect_the_shown_cell():
    """men = employed − women is a cell too: when it is small the women cell
    is hidden; when women is small, hiding men (never displayed) is enough."""
    split = [("employed", ["women", "men"])]
    assert suppress({"employed": 30, "women": 28, "men": 2}, split) == {
        "women",
        "men",
    }
    assert suppress({"employed": 30, "women": 3, "men": 27}, split) == {
        "women",
        "men",
    }
    assert suppress({"employed": 30, "women": 15, "men": 15}, split) == set()


def _oracle_single_split(parts):
    """The expected hidden parts of one split whose total is their sum."""
    hidden = {i for i, n in enumerate(parts) if n < THRESHOLD}
    if sum(parts) < THRESHOLD:
        return hidden, True
    if len(hidden) == 1:
        rest = [(n, i) for i, n in enumerate(parts) if i not in hidden]
        if rest:
            hidden.add(min(rest)[1])
    return hidden, False


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_single_split_exhaustively(size):
    """Every split of 1–4 parts with counts 0–7: primary and secondary exactly
    as the rule says, and never exactly one hidden cell in the split."""
    for parts in itertools.product(range(8), repeat=size):
        counts = {"total": sum(parts), **{i: n for i, n in enumerate(parts)}}
        hidden = suppress(counts, [("total", list(range(size)))])
        expected, total_hidden = _oracle_single_split(parts)
        assert (hidden - {"total"}) == expected, parts
        assert ("total" in hidden) == total_hidden, parts
        assert len(hidden) != 1 or (size == 1 and "total" in hidden), parts


def _rank(rows):
    """The rank of a matrix of Fractions (Gaussian elimination)."""
    rows = [list(r) for r in rows if any(r)]
    rank, col = 0, 0
    width = len(rows[0]) if rows else 0
    while rank < len(rows) and col < width:
        pivot = next((r for r in range(rank, len(rows)) if rows[r][col]), None)
        if pivot is None:
            col += 1
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][col]:
                factor = rows[r][col] / rows[rank][col]
                rows[r] = [
                    a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)
                ]
        rank += 1
        col += 1
    return rank


def _derivable(hidden, splits):
    """Hidden cells whose value follows exactly from the shown cells and the
    split equations (each hidden cell is an unknown)."""
    unknowns = sorted(hidden, key=str)
    index = {cell: i for i, cell in enumerate(unknowns)}
    equations = []
    for total, parts in splits:
        row = [Fraction(0)] * len(unknowns)
        if total in index:
            row[index[total]] += 1
        for part in parts:
            if part in index:
                row[index[part]] -= 1
        equations.append(row)
    base = _rank(equations)
    out = set()
    for cell, i in index.items():
        unit = [Fraction(int(j == i)) for j in range(len(unknowns))]
        if _rank([*equations, unit]) == base:
            out.add(cell)
    return out


def test_two_way_table_exhaustively_reveals_no_hidden_cell():
    """A 2 × 3 table with row, column and grand totals, each inner cell one of
    0, 2, 5 or 9 (4,096 tables): every cell below 5 is hidden, no split keeps
    exactly one hidden cell, and no hidden cell can be worked out exactly from
    the shown cells."""
    rows, cols = range(2), range(3)
    splits = [(("r", i), [(i, j) for j in cols]) for i in rows]
    splits += [(("c", j), [(i, j) for i in rows]) for j in cols]
    splits += [("all", [("r", i) for i in rows]), ("all", [("c", j) for j in cols])]
    derivable = {}
    for inner in itertools.product((0, 2, 5, 9), repeat=6):
        counts = {(i, j): inner[i * 3 + j] for i in rows for j in cols}
        for i in rows:
            counts[("r", i)] = sum(counts[(i, j)] for j in cols)
        for j in cols:
            counts[("c", j)] = sum(counts[(i, j)] for i in rows)
        counts["all"] = sum(inner)
        hidden = suppress(counts, splits)
        assert {c for c, n in counts.items() if n < THRESHOLD} <= hidden
        for total, parts in splits:
            assert sum(c in hidden for c in (total, *parts)) != 1, (inner, total)
        # Which cells follow from the shown ones depends only on the pattern.
        pattern = frozenset(hidden)
        if pattern not in derivable:
            derivable[pattern] = _derivable(hidden, splits)
        assert not derivable[pattern], inner


def test_report_shaped_hierarchy_exhaustively_reveals_no_hidden_cell():
    """The report's shape: parks p1, p2 in township t1, park p3 alone in t2,
    all in the total; in each unit employed = women + men. Every combination
    of 0, 2, 5 or 9 women and men per park (4,096): no hidden cell can be
    worked out exactly, and every cell below 5 is hidden."""
    parks = {"p1": "t1", "p2": "t1", "p3": "t2"}
    units = ["total", "t1", "t2", *parks]
    children = {"total": ["t1", "t2"], "t1": ["p1", "p2"], "t2": ["p3"]}
    measures = ("employed", "women", "men")
    splits = [((u, "employed"), [(u, "women"), (u, "men")]) for u in units]
    splits += [
        ((parent, m), [(c, m) for c in kids])
        for parent, kids in children.items()
        for m in measures
    ]
    derivable = {}
    for inner in itertools.product((0, 2, 5, 9), repeat=6):
        counts = {}
        for k, park in enumerate(parks):
            counts[(park, "women")], counts[(park, "men")] = inner[2 * k : 2 * k + 2]
        for unit in ("t1", "t2", "total"):
            for m in ("women", "men"):
                counts[(unit, m)] = sum(counts[(c, m)] for c in children[unit])
        for unit in units:
            counts[(unit, "employed")] = counts[(unit, "women")] + counts[(unit, "men")]
        hidden = suppress(counts, splits)
        assert {c for c, n in counts.items() if n < THRESHOLD} <= hidden
        pattern = frozenset(hidden)
        if pattern not in derivable:
            derivable[pattern] = _derivable(hidden, splits)
        assert not derivable[pattern], inner
