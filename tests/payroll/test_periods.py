"""The period lifecycle on the real database (R1, R3, R4, R5, R6, R8, R12–R14)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.utils import timezone

from payroll import periods
from payroll.earnings import month_view
from payroll.models import Adjustment, PayrollRun, Payslip, PeriodStatus
from payroll.services import rate_card_create, task_type_create
from tests.factories import (
    add_hours,
    add_record,
    calculate,
    make_catalogue,
    make_park,
    make_user,
    make_worker,
)
from workforce.services import work_session_log, worker_set_skill_level

SH = ZoneInfo("Asia/Shanghai")
MARCH = date(2026, 3, 1)
pytestmark = pytest.mark.django_db(transaction=False)


def payslip_of(worker, period):
    return Payslip.objects.get(worker=worker, period=period)


@pytest.fixture
def director(park):
    return make_user("director", park=park)


@pytest.fixture
def march(park):
    return periods.period_get_or_create(park=park, month=MARCH)


def test_piece_pay_lines_and_totals(park, march):
    """R5: one line per (project, task type, rate, multiplier); lines add up (R2.2)."""
    worker = make_worker(park, contract="part_time")
    project, task_type = make_catalogue(park, rate=Decimal("0.5000"))
    add_record(worker, project, task_type, date(2026, 3, 2), 100, "98.00")  # 1.10
    add_record(worker, project, task_type, date(2026, 3, 3), 50, "97.99")  # 1.00
    add_record(worker, project, task_type, date(2026, 3, 4), 40, "90.00")  # 0.80
    add_record(worker, project, task_type, date(2026, 3, 5), 30, "89.99")  # 0.00
    add_record(worker, project, task_type, date(2026, 3, 6), 20, None)  # pending 1.00
    add_hours(worker, date(2026, 3, 2), 2)
    run = calculate(march)
    assert run.status == "done" and run.error_count == 0
    slip = payslip_of(worker, march)
    pieces = [
        (ln.tier, ln.quantity, ln.multiplier, ln.amount, ln.pending_units)
        for ln in slip.lines.filter(kind="piece")
    ]
    # R4.3: the pending 20 units share the standard line, and are counted on it.
    assert sorted(pieces) == sorted(
        [
            ("excellent", Decimal("100"), Decimal("1.10"), Decimal("55.00"), 0),
            ("standard", Decimal("70"), Decimal("1.00"), Decimal("35.00"), 20),
            ("below_standard", Decimal("40"), Decimal("0.80"), Decimal("16.00"), 0),
            ("rejected", Decimal("30"), Decimal("0.00"), Decimal("0.00"), 0),
        ]
    )
    assert slip.piece_pay == Decimal("106.00")
    # R4.4: (100×98 + 50×97.99 + 40×90 + 30×89.99) / 220 = 95.4509…
    assert slip.accuracy == Decimal("95.45")
    assert slip.minutes == 120 and slip.units == 240
    # R7.3 part-time floor 21 × 2 h = 42 < 106: no top-up.
    assert slip.topup == 0
    assert sum(ln.amount for ln in slip.lines.all()) == slip.net == Decimal("106.00")
    assert slip.number == f"{park.code.upper()}-202603-{worker.employee_no}"


def _juniors_paid_more_from_the_20th(park):
    """Every level at 0.30 a unit; juniors at 0.40 from 20 March (R3.2)."""
    project, task_type = make_catalogue(park, rate=Decimal("0.3000"))
    rate_card_create(
        project=project,
        task_type=task_type,
        skill_level="junior",
        rate=Decimal("0.4000"),
        effective_from=date(2026, 3, 20),
    )
    return project, task_type


def test_mid_month_rate_and_skill_changes_price_each_day(park, march):
    """R3.2: a record is priced at the card and skill level valid on its date."""
    worker = make_worker(park, contract="part_time", skill_level="trainee")
    project, task_type = _juniors_paid_more_from_the_20th(park)
    worker_set_skill_level(worker=worker, level="junior", valid_from=date(2026, 3, 10))
    add_record(worker, project, task_type, date(2026, 3, 5), 10)  # trainee 0.30
    add_record(worker, project, task_type, date(2026, 3, 12), 10)  # junior 0.30
    add_record(worker, project, task_type, date(2026, 3, 25), 10)  # junior 0.40
    calculate(march)
    slip = payslip_of(worker, march)
    lines = {(ln.rate, ln.quantity) for ln in slip.lines.filter(kind="piece")}
    assert lines == {
        (Decimal("0.3000"), Decimal("20")),
        (Decimal("0.4000"), Decimal("10")),
    }
    assert slip.skill_level == "junior"


def test_workers_promoted_on_different_days_are_each_priced_by_their_own_dates(
    park, march
):
    """R3.2 in one chunk: one worker's promotion day must not split or reprice
    another's work, and a card change applies to everyone on its date."""
    project, task_type = _juniors_paid_more_from_the_20th(park)
    early = make_worker(park, contract="part_time", skill_level="trainee")
    late = make_worker(park, contract="part_time", skill_level="trainee")
    steady = make_worker(park, contract="part_time", skill_level="trainee")
    worker_set_skill_level(worker=early, level="junior", valid_from=date(2026, 3, 8))
    worker_set_skill_level(worker=late, level="junior", valid_from=date(2026, 3, 22))
    for worker in (early, late, steady):
        for day in (5, 10, 21, 25):
            add_record(worker, project, task_type, date(2026, 3, day), 10)
    calculate(march)

    def piece(worker):
        slip = payslip_of(worker, march)
        return sorted(
            (ln.rate, ln.quantity, ln.amount) for ln in slip.lines.filter(kind="piece")
        )

    # Tier "standard" (97.00 %): multiplier 1.00.
    assert piece(early) == [  # trainee 5th; junior 10th at 0.30, 21st-25th at 0.40
        (Decimal("0.3000"), Decimal("20"), Decimal("6.00")),
        (Decimal("0.4000"), Decimal("20"), Decimal("8.00")),
    ]
    assert piece(late) == [  # trainee until the 22nd; junior 0.40 on the 25th
        (Decimal("0.3000"), Decimal("30"), Decimal("9.00")),
        (Decimal("0.4000"), Decimal("10"), Decimal("4.00")),
    ]
    assert piece(steady) == [(Decimal("0.3000"), Decimal("40"), Decimal("12.00"))]


def test_a_workers_estimate_sums_their_days_into_the_payslips_lines(park, march):
    """The earnings page sums a worker's records once, by day, for its daily
    breakdown and its estimate alike (``merge_days``): the estimate's lines
    are the run's, across a promotion, a card change, tiers and pending work."""
    project, task_type = _juniors_paid_more_from_the_20th(park)
    workers = [
        make_worker(park, contract=contract, skill_level="trainee")
        for contract in ("part_time", "full_time")
    ]
    worker_set_skill_level(
        worker=workers[0], level="junior", valid_from=date(2026, 3, 8)
    )
    for i, worker in enumerate(workers):
        for day, accuracy in (
            (5, "99.00"),
            (6, "99.50"),
            (10, "97.50"),
            (21, None),
            (24, "91.00"),
            (25, "99.00"),
            (26, "98.00"),
        ):
            add_record(worker, project, task_type, date(2026, 3, day), 10 + i, accuracy)
        add_hours(worker, date(2026, 3, 5), 4)
    calculate(march)

    def rows(lines):
        return [
            (
                str(ln.kind),
                ln.rate,
                ln.multiplier,
                ln.tier,
                None if ln.quantity is None else Decimal(ln.quantity),
                ln.amount,
            )
            for ln in lines
        ]

    for worker in workers:
        estimate = month_view(worker=worker, month=MARCH).estimate
        slip = payslip_of(worker, march)
        assert estimate.is_estimate
        assert rows(estimate.lines) == rows(slip.lines.order_by("position"))
        assert (estimate.units, estimate.accuracy, estimate.net) == (
            slip.units,
            slip.accuracy,
            slip.net,
        )
    # Days 5 and 6 (trainee, 0.30, "excellent") are one line for the first
    # worker, not one per day; days 25 and 26 (junior 0.40) another.
    piece = [
        ln for ln in rows(payslip_of(workers[0], march).lines.all()) if ln[0] == "piece"
    ]
    assert (Decimal("0.3000"), Decimal("1.10"), Decimal("20")) in [
        (rate, mult, qty) for _k, rate, mult, _t, qty, _a in piece
    ]


def test_missing_rate_card_is_an_error_and_blocks_approval(park, march, director):
    """R3.3: listed with worker, project, task type and date; others still paid."""
    good = make_worker(park)
    bad = make_worker(park)
    project, task_type = make_catalogue(park)
    unpriced = task_type_create(code="cuboid", name="3D cuboid", unit="cuboid")
    add_record(good, project, task_type, date(2026, 3, 2), 10)
    add_record(bad, project, task_type, date(2026, 3, 2), 10)
    add_record(bad, project, unpriced, date(2026, 3, 5), 10)
    run = calculate(march, actor=director)
    assert run.error_count == 1
    error = run.errors[0]
    assert (
        error["employee_no"],
        error["project"],
        error["task_type"],
        error["date"],
    ) == (bad.employee_no, project.code, "cuboid", "2026-03-05")
    assert not Payslip.objects.filter(period=march, worker=bad).exists()
    assert Payslip.objects.filter(period=march, worker=good).exists()
    with pytest.raises(ValidationError, match="errors"):
        periods.period_approve(period=march, actor=director)
    march.refresh_from_db()
    assert march.status == PeriodStatus.CALCULATED


def test_second_run_for_the_same_period_is_refused(
    park, march, director, django_capture_on_commit_callbacks
):
    """Only one run per period at a time, enforced by a partial unique index."""
    make_worker(park)
    with django_capture_on_commit_callbacks(execute=False):
        first = periods.payroll_run_start(period=march, actor=director)
    with pytest.raises(ValidationError) as exc:
        periods.payroll_run_start(period=march, actor=director)
    assert "already running" in exc.value.messages[0]
    assert PayrollRun.objects.filter(period=march).count() == 1
    periods.payroll_run_inline(run=first)
    assert calculate(march, actor=director).status == "done"


def test_recalculation_is_identical_and_replaces(park, march):
    """R13.1: same inputs → same payslips, to the fen and line order; no duplicates."""
    workers = [make_worker(park) for _ in range(10)]  # chunk size in tests is 7
    project, task_type = make_catalogue(park)
    for i, worker in enumerate(workers):
        add_record(
            worker, project, task_type, date(2026, 3, 2 + i), 100 + 37 * i, f"9{i}.50"
        )
        add_hours(worker, date(2026, 3, 2 + i), 5)

    def snapshot():
        return [
            (
                s.number,
                s.net,
                s.tax,
                [(ln.position, ln.kind, ln.amount) for ln in s.lines.all()],
            )
            for s in Payslip.objects.filter(period=march).order_by("number")
        ]

    calculate(march)
    first = snapshot()
    calculate(march)
    assert snapshot() == first
    assert Payslip.objects.filter(period=march).count() == 10


def test_approve_pay_and_lock(park, march, director):
    """R13.2–R13.4: approve once, pay once; a paid period refuses every change."""
    worker = make_worker(park)
    project, task_type = make_catalogue(park)
    add_record(worker, project, task_type, date(2026, 3, 2), 10)
    calculate(march, actor=director)
    periods.period_approve(period=march, actor=director)
    with pytest.raises(ValidationError, match="already"):
        periods.period_approve(period=march, actor=director)
    officer = make_user("payroll_officer", park=park)
    periods.period_mark_paid(period=march, actor=officer)
    march.refresh_from_db()
    assert march.status == PeriodStatus.PAID
    with pytest.raises(ValidationError, match="can no longer be changed"):
        periods.payroll_run_start(period=march, actor=director)
    with pytest.raises(ValidationError, match="can no longer be changed"):
        periods.adjustment_add(
            period=march,
            worker=worker,
            kind="bonus",
            amount=Decimal("10"),
            reason="late",
            actor=director,
        )
    assert not Adjustment.objects.exists()
    assert march.runs.count() == 1


def test_only_a_director_of_the_park_approves(park, march):
    make_worker(park)
    calculate(march)
    officer = make_user("payroll_officer", park=park)
    with pytest.raises(PermissionDenied):
        periods.period_approve(period=march, actor=officer)
    other_park_director = make_user("director", park=make_park())
    with pytest.raises(PermissionDenied):
        periods.period_approve(period=march, actor=other_park_director)


def test_negative_bonus_is_refused(park, march, director, worker):
    """R9: the amount is positive; nothing is saved."""
    with pytest.raises(ValidationError) as exc:
        periods.adjustment_add(
            period=march,
            worker=worker,
            kind="bonus",
            amount=Decimal("-5"),
            reason="oops",
            actor=director,
        )
    assert "amount" in exc.value.message_dict
    assert not Adjustment.objects.exists()


def test_adjustments_and_carried_forward_deduction(park, march, director):
    """R9 and R12: a deduction larger than the pay is carried to the next period."""
    worker = make_worker(park, contract="part_time")
    project, task_type = make_catalogue(park, rate=Decimal("1.0000"))
    add_record(worker, project, task_type, date(2026, 3, 2), 100, "96.00")
    periods.adjustment_add(
        period=march,
        worker=worker,
        kind="bonus",
        amount=Decimal("20.00"),
        reason="Team goal",
        actor=director,
    )
    periods.adjustment_add(
        period=march,
        worker=worker,
        kind="deduction",
        amount=Decimal("150.00"),
        reason="Lost badge",
        actor=director,
    )
    calculate(march, actor=director)
    slip = payslip_of(worker, march)
    assert slip.taxable == Decimal("120.00")
    assert slip.net == 0 and slip.carried_forward == Decimal("30.00")
    periods.period_approve(period=march, actor=director)
    april = periods.period_get_or_create(park=park, month=date(2026, 4, 1))
    add_record(worker, project, task_type, date(2026, 4, 2), 100, "96.00")
    calculate(april, actor=director)
    slip = payslip_of(worker, april)
    carried = slip.lines.get(kind="carried_in")
    assert (carried.amount, carried.ref_period) == (Decimal("-30.00"), "2026-03")
    assert slip.net == Decimal("70.00")


def test_late_work_is_paid_in_the_next_open_period(park, march, director):
    """R13.3: work arriving for an approved period is paid next, at its own rates."""
    worker = make_worker(park, contract="part_time")
    project, task_type = make_catalogue(park, rate=Decimal("1.0000"))
    add_record(worker, project, task_type, date(2026, 3, 2), 10)
    calculate(march, actor=director)
    periods.period_approve(period=march, actor=director)
    # The March price goes up after approval; late March work keeps March's price.
    rate_card_create(
        project=project,
        task_type=task_type,
        skill_level="junior",
        rate=Decimal("2.0000"),
        effective_from=date(2026, 4, 1),
    )
    add_record(worker, project, task_type, date(2026, 3, 30), 5)
    add_record(worker, project, task_type, date(2026, 4, 2), 5)
    april = periods.period_get_or_create(park=park, month=date(2026, 4, 1))
    calculate(april, actor=director)
    slip = payslip_of(worker, april)
    late = slip.lines.get(kind="late_piece")
    assert (late.ref_period, late.quantity, late.rate, late.amount) == (
        "2026-03",
        Decimal("5"),
        Decimal("1.0000"),
        Decimal("5.00"),
    )
    assert slip.lines.get(kind="piece").amount == Decimal("10.00")
    # March's own payslip is untouched.
    assert payslip_of(worker, march).piece_pay == Decimal("10.00")


def test_minimum_wage_top_up_for_full_time(park, march):
    """R7: full-time floor M × min(1, hours/S); the top-up is its own line."""
    worker = make_worker(park, contract="full_time")
    project, task_type = make_catalogue(park, rate=Decimal("0.1000"))
    for day in range(2, 31):  # 29 days × 6 h = 174 h = S exactly
        add_hours(worker, date(2026, 3, day), 6)
    add_record(worker, project, task_type, date(2026, 3, 2), 1000, "96.00")
    calculate(march)
    slip = payslip_of(worker, march)
    assert slip.minutes == 174 * 60
    assert slip.topup == Decimal("2080.00") - Decimal("100.00")
    assert slip.lines.filter(kind="topup").count() == 1
    codes = {w["code"] for w in slip.warnings}
    assert "no_rest_day" in codes  # R8: 29 days in a row


def test_session_across_month_end_is_split(park, march):
    """R1.1: a session counts in each period by its minutes inside it."""
    worker = make_worker(park, contract="part_time")
    start = datetime(2026, 3, 31, 22, 0, tzinfo=SH)
    work_session_log(worker=worker, start=start, end=start + timedelta(hours=3))
    calculate(march)
    assert payslip_of(worker, march).minutes == 120
    april = periods.period_get_or_create(park=park, month=date(2026, 4, 1))
    calculate(april)
    assert payslip_of(worker, april).minutes == 60


def test_day_over_eleven_hours_warns(park, march):
    """R8: a day over 11 hours worked is a warning, with no pay effect."""
    worker = make_worker(park, contract="part_time")
    add_hours(worker, date(2026, 3, 3), 12, start_hour=6)
    calculate(march)
    warnings = payslip_of(worker, march).warnings
    assert {"code": "day_over_11h", "date": "2026-03-03", "minutes": 720} in warnings
    assert any(w["code"] == "part_time_week_over_24h" for w in warnings) is False


def test_leavers_and_future_hires_are_not_paid(park, march):
    left = make_worker(park, hire_date=date(2025, 1, 1))
    left.leave_date = date(2026, 2, 28)
    left.save()
    later = make_worker(park, hire_date=date(2026, 4, 1))
    calculate(march)
    assert not Payslip.objects.filter(worker__in=[left, later]).exists()


def test_beat_schedule_calculates_last_month():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["payroll-last-month"]
    assert entry["task"] == "payroll.calculate_last_month"
    schedule = entry["schedule"]
    assert (
        schedule.hour == {2} and schedule.minute == {0} and schedule.day_of_month == {1}
    )


def test_beat_task_starts_runs_for_every_park(park):
    from payroll.tasks import calculate_last_month

    make_worker(park)
    with TestCase.captureOnCommitCallbacks(execute=True):
        started = calculate_last_month()
    assert len(started) == 1
    run = PayrollRun.objects.get(pk=started[0])
    today = timezone.localdate()
    assert run.period.month == (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    assert run.status == "done"


def test_the_period_summary_adds_up_line_by_line(db):
    """The calculation's summary on the period page shows every step from
    gross to net (social insurance included), and the steps add up: gross −
    social insurance − tax − deductions − carried in + carried forward = net."""
    from decimal import Decimal

    from django.test import Client

    from payroll.models import PayrollRun
    from tests.pages import build_park

    park, _workers, director, *_ = build_park(4)
    run = PayrollRun.objects.filter(period__park=park).latest("id")
    s = {
        k: Decimal(v)
        for k, v in run.summary.items()
        if k not in ("workers", "payslips", "errors")
    }
    assert s["social_insurance"] > 0
    assert (
        s["gross"]
        - s["social_insurance"]
        - s["tax"]
        - s["deductions"]
        - s["carried_in"]
        + s["carried_forward"]
        == s["net"]
    )
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(director)
    page = client.get(f"/park/payroll/{run.period_id}/").content.decode()
    assert "− Social insurance" in page
    assert f"¥{s['social_insurance']:,.2f}" in page


def test_a_chunk_is_computed_with_the_cycle_collector_paused(park, march, monkeypatch):
    """A chunk runs without Python's cycle collector (about a fifth of its CPU
    time), which is back on afterwards, even when the chunk fails; a caller
    that had it off keeps it off."""
    import gc

    from payroll import calculation
    from payroll.calculation import aggregation

    worker = make_worker(park)
    project, task_type = make_catalogue(park)
    add_record(worker, project, task_type, date(2026, 3, 2), 100, "95.00")
    seen = []
    real = aggregation.compute_chunk

    def watched(**kwargs):
        seen.append(gc.isenabled())
        return real(**kwargs)

    monkeypatch.setattr(calculation, "compute_chunk", watched)
    assert gc.isenabled()
    run = calculate(march)
    assert run.status == "done" and seen == [False]
    assert gc.isenabled()

    with pytest.raises(RuntimeError), calculation.cycle_collection_paused():
        assert not gc.isenabled()
        raise RuntimeError("a failing chunk")
    assert gc.isenabled()
    gc.disable()
    try:
        with calculation.cycle_collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
