"""Invariants of the services under random input (issue 7, item 5), on the real
database: R6 sessions, R2 rounding and sums, R12 net pay and carrying forward
over two periods, R13 recalculation and the paid period's lock, and bad input
that never half-saves.

Every example runs in a savepoint rolled back at its end, so examples never see
each other's rows.
"""

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from payroll import periods
from payroll.calculation import RESULT_FIELDS, compute_chunk, local_midnight
from payroll.models import (
    Adjustment,
    PayrollRun,
    Payslip,
    RateCard,
    TaskType,
    WorkRecord,
)
from payroll.services import (
    client_create,
    project_create,
    rate_card_create,
    task_type_create,
    work_record_create,
)
from tests.factories import make_catalogue, make_park, make_user, make_worker
from workforce.models import WorkSession
from workforce.services import work_session_log

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
CENT = Decimal("0.01")
LEVELS = ("trainee", "junior", "senior")
EARNINGS = ("piece", "late_piece", "topup", "bonus", "allowance")
SOCIAL = ("pension", "medical", "unemployment")


def examples(n: int):
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
        ],
    )


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def decimals(low: str, high: str, places: int = 2):
    return st.decimals(
        min_value=Decimal(low),
        max_value=Decimal(high),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


_ext = iter(range(1, 10**9))


# --- R6 work sessions -------------------------------------------------------------

WINDOW_START = datetime(2026, 2, 27, tzinfo=SH)  # four days around 1 March
past_session = st.tuples(
    st.just("past"),
    st.integers(0, 4 * 24 * 3600),
    st.one_of(
        st.integers(-3600, 17 * 3600),
        st.sampled_from([0, 59, 60, 61, 16 * 3600, 16 * 3600 + 1]),
    ),
)
future_session = st.tuples(
    st.just("future"), st.integers(120, 3 * 24 * 3600), st.integers(60, 3600)
)


@examples(40)
@given(sessions=st.lists(st.one_of(past_session, future_session), max_size=12))
def test_sessions_never_overlap_and_count_their_minutes(park, sessions):
    """R6: a session of 1 minute to 16 hours, not in the future and overlapping
    no other session of the worker is stored, anything else refused with nothing
    saved; stored sessions never overlap, their minutes are whole minutes, and a
    period's minutes are the minutes inside it (R1.1, split at local midnight)."""
    with rolled_back():
        worker = make_worker(park, contract="part_time")
        accepted = []
        for when, offset, seconds in sessions:
            base = WINDOW_START if when == "past" else timezone.now()
            start = base + timedelta(seconds=offset)
            end = start + timedelta(seconds=seconds)
            allowed = (
                when == "past"
                and 60 <= seconds <= 16 * 3600
                and not any(start < e and s < end for s, e in accepted)
            )
            before = WorkSession.objects.count()
            try:
                work_session_log(worker=worker, start=start, end=end)
            except ValidationError:
                assert not allowed, (start, end)
                assert WorkSession.objects.count() == before
            else:
                assert allowed, (start, end)
                accepted.append((start, end))

        stored = list(worker.sessions.order_by("start"))
        assert [(s.start, s.end) for s in stored] == sorted(accepted)
        for earlier, later in pairwise(stored):
            assert earlier.end <= later.start
        for session in stored:
            length = session.end - session.start
            assert session.minutes == int(length.total_seconds() // 60)
            assert 1 <= session.minutes <= 16 * 60

        march = periods.period_get_or_create(park=park, month=MARCH)
        (slip,) = compute_chunk(
            period=march, worker_ids=[worker.id], snapshot=timezone.now()
        ).payslips
        first, last = (
            local_midnight(MARCH, "Asia/Shanghai"),
            local_midnight(APRIL, "Asia/Shanghai"),
        )
        inside = 0
        for start, end in accepted:
            overlap = (min(end, last) - max(start, first)).total_seconds()
            inside += int(overlap // 60) if overlap > 0 else 0
        assert slip["minutes"] == inside


# --- R2, R12, R13 through a period calculation -----------------------------------

record = st.tuples(
    st.integers(1, 28),  # day
    st.integers(1, 3000),  # units
    st.one_of(st.none(), decimals("0", "100")),  # accuracy
    st.integers(0, 1),  # project
)
month_input = st.fixed_dictionaries(
    {
        "records": st.lists(record, max_size=4),
        "hours": st.lists(
            st.tuples(st.integers(1, 28), st.integers(1, 720)),
            max_size=4,
            unique_by=lambda h: h[0],
        ),
        "adjustments": st.lists(
            st.tuples(
                st.sampled_from(["bonus", "allowance", "deduction"]),
                st.one_of(decimals("0.01", "50"), decimals("0.01", "9000")),
            ),
            max_size=3,
        ),
    }
)
worker_input = st.fixed_dictionaries(
    {
        "contract": st.sampled_from(["full_time", "part_time", "training"]),
        "level": st.sampled_from(LEVELS),
        "insured": st.booleans(),
        "si_base": decimals("0", "30000"),
        "special": decimals("0", "3000"),
        "full_year": st.booleans(),
        "new_hire": st.booleans(),
        3: month_input,
        4: month_input,
    }
)
scenario = st.fixed_dictionaries(
    {
        "rates": st.lists(decimals("0.0001", "5", 4), min_size=3, max_size=3),
        "april_rate": st.one_of(st.none(), decimals("0.0001", "5", 4)),
        "multipliers": st.lists(decimals("0", "2.5"), min_size=3, max_size=3),
        "workers": st.lists(worker_input, min_size=1, max_size=3),
        "late_units": st.integers(1, 500),
    }
)


def build(data):
    """The scenario through the real services; returns (park, workers, officer)."""
    park = make_park()
    officer = make_user("payroll_officer", park=park)
    default_project, task_type = make_catalogue(park, rate=data["rates"][1])
    client = default_project.client
    bands = (Decimal("98.00"), Decimal("95.00"), Decimal("90.00"))
    random_tiers = [
        (band, mult, f"band{i}")
        for i, (band, mult) in enumerate(zip(bands, data["multipliers"], strict=True))
    ] + [(Decimal("0.00"), Decimal("0.00"), "rejected")]
    other = project_create(
        client=client,
        park=park,
        code=f"q{park.pk}",
        name=f"Lanes {park.pk}",
        tiers=random_tiers,
    )
    for level, rate in zip(LEVELS, data["rates"], strict=True):
        rate_card_create(
            project=other,
            task_type=task_type,
            skill_level=level,
            rate=rate,
            effective_from=date(2020, 1, 1),
        )
        if data["april_rate"] is not None:  # a price change from 10 April
            rate_card_create(
                project=other,
                task_type=task_type,
                skill_level=level,
                rate=data["april_rate"],
                effective_from=date(2026, 4, 10),
            )
    projects = (default_project, other)
    workers = []
    for spec in data["workers"]:
        worker = make_worker(
            park,
            contract=spec["contract"],
            skill_level=spec["level"],
            hire_date=MARCH if spec["new_hire"] else date(2025, 1, 1),
            insured=spec["insured"],
            si_base=spec["si_base"],
            special_deduction_monthly=spec["special"],
            full_year_basic_deduction=spec["full_year"],
        )
        workers.append(worker)
        for month in (3, 4):
            period = periods.period_get_or_create(park=park, month=date(2026, month, 1))
            for day, units, accuracy, project in spec[month]["records"]:
                work_record_create(
                    worker=worker,
                    project=projects[project],
                    task_type=task_type,
                    work_date=date(2026, month, day),
                    units=units,
                    accuracy=accuracy,
                    source="prop",
                    external_id=f"p{next(_ext)}",
                )
            for day, minutes in spec[month]["hours"]:
                start = datetime(2026, month, day, 6, tzinfo=SH)
                work_session_log(
                    worker=worker, start=start, end=start + timedelta(minutes=minutes)
                )
            for kind, amount in spec[month]["adjustments"]:
                periods.adjustment_add(
                    period=period,
                    worker=worker,
                    kind=kind,
                    amount=amount,
                    reason=f"{kind} {amount}",
                    actor=officer,
                )
    return park, workers, officer, projects, task_type


def calculate(period):
    run = periods.payroll_run_inline(
        run=periods.payroll_run_start(period=period, enqueue=False)
    )
    assert run.status == "done" and run.error_count == 0, run.errors
    return run


def snapshot(period) -> list:
    """Everything a payslip shows, in order; not when or by which run."""
    return [
        (
            s.number,
            s.worker_id,
            s.contract,
            s.skill_level,
            s.minutes,
            s.units,
            s.accuracy,
            *(getattr(s, f) for f in RESULT_FIELDS),
            s.warnings,
            [
                (
                    ln.position,
                    ln.kind,
                    ln.project,
                    ln.task_type,
                    ln.quantity,
                    ln.rate,
                    ln.multiplier,
                    ln.tier,
                    ln.ref_period,
                    ln.reason,
                    ln.amount,
                )
                for ln in s.lines.all()
            ],
        )
        for s in Payslip.objects.filter(period=period)
        .order_by("number")
        .prefetch_related("lines")
    ]


def assert_payslip_invariants(period) -> dict:
    """R2 and R12 on every payslip of ``period``; returns them by worker id."""
    slips = {}
    for slip in Payslip.objects.filter(period=period).prefetch_related("lines"):
        lines = list(slip.lines.all())

        def total(*kinds, lines=lines):
            return sum((ln.amount for ln in lines if ln.kind in kinds), Decimal(0))

        assert [ln.position for ln in lines] == list(range(1, len(lines) + 1))
        for ln in lines:
            assert ln.amount == money(ln.amount)  # R2.2: rounded to the fen
            if ln.kind in ("piece", "late_piece"):
                # R2.2: rounded once, after multiplying the unrounded factors.
                assert ln.amount == money(ln.quantity * ln.rate * ln.multiplier)
            if ln.kind in SOCIAL:
                assert ln.amount == -money(ln.quantity * ln.rate)
        # R2.2: totals are sums of the rounded lines; the lines add up to net.
        assert slip.piece_pay == total("piece", "late_piece")
        assert slip.topup == total("topup")
        assert slip.bonuses == total("bonus")
        assert slip.allowances == total("allowance")
        assert slip.taxable == total(*EARNINGS)
        assert slip.social_insurance == -total(*SOCIAL)
        assert slip.tax == -total("tax")
        assert slip.deductions == -total("deduction")
        assert slip.carried_in == -total("carried_in")
        assert slip.carried_forward == total("carried_forward")
        assert slip.net == sum((ln.amount for ln in lines), Decimal(0))
        # R12: never below 0; what could not be taken is carried forward.
        owed = (
            slip.taxable
            - slip.social_insurance
            - slip.tax
            - slip.deductions
            - slip.carried_in
        )
        assert slip.net >= 0
        assert slip.net == max(Decimal(0), owed)
        assert slip.carried_forward == max(Decimal(0), -owed)
        slips[slip.worker_id] = slip
    return slips


@examples(24)
@given(data=scenario)
def test_payslips_round_add_up_and_carry_over_two_periods(db, data):
    """R2: every line rounded to the fen once, totals are sums of lines, lines
    add up to net. R12: net never negative, what could not be taken is carried
    into the next period exactly once, and over March and April nothing is lost
    (net paid + still owed = earnings - insurance - tax - deductions). R13.1:
    recalculating gives identical payslips and line order."""
    with rolled_back():
        park, workers, _officer, _projects, _task_type = build(data)
        march = periods.period_get_or_create(park=park, month=MARCH)
        april = periods.period_get_or_create(park=park, month=APRIL)

        calculate(march)
        first = snapshot(march)
        assert len(first) == len(workers)
        calculate(march)
        assert snapshot(march) == first  # R13.1
        in_march = assert_payslip_invariants(march)

        calculate(april)
        in_april = assert_payslip_invariants(april)
        assert set(in_march) == set(in_april) == {w.id for w in workers}
        for worker in workers:
            m, a = in_march[worker.id], in_april[worker.id]
            assert a.carried_in == m.carried_forward  # carried exactly once
            if m.carried_forward:
                (line,) = [ln for ln in a.lines.all() if ln.kind == "carried_in"]
                assert line.ref_period == "2026-03"
            due = sum(
                (s.taxable - s.social_insurance - s.tax - s.deductions for s in (m, a)),
                Decimal(0),
            )
            assert m.net + a.net - a.carried_forward == due


@examples(10)
@given(data=scenario)
def test_paid_period_refuses_every_change_and_keeps_its_payslips(db, data):
    """R13.4: once paid, a period refuses a new calculation, adjustments,
    approving and paying again, and its payslips never change; work arriving
    for it later is paid in April on a "late work" line at its own date's
    rate (R13.3)."""
    with rolled_back():
        park, workers, officer, projects, task_type = build(data)
        march = periods.period_get_or_create(park=park, month=MARCH)
        april = periods.period_get_or_create(park=park, month=APRIL)
        calculate(march)
        periods.period_approve(period=march, actor=None)
        periods.period_mark_paid(period=march, actor=None)
        paid = snapshot(march)
        counts = (
            PayrollRun.objects.filter(period=march).count(),
            Adjustment.objects.filter(period=march).count(),
        )

        refused = [
            lambda: periods.payroll_run_start(period=march, enqueue=False),
            lambda: periods.adjustment_add(
                period=march,
                worker=workers[0],
                kind="bonus",
                amount=Decimal("10.00"),
                reason="too late",
                actor=officer,
            ),
            lambda: periods.period_approve(period=march, actor=None),
            lambda: periods.period_mark_paid(period=march, actor=None),
        ]
        for attempt in refused:
            with pytest.raises(ValidationError):
                attempt()
        late = work_record_create(
            worker=workers[0],
            project=projects[0],
            task_type=task_type,
            work_date=date(2026, 3, 31),
            units=data["late_units"],
            accuracy=Decimal("96.00"),
            source="prop",
            external_id=f"late{next(_ext)}",
        )
        calculate(april)
        march.refresh_from_db()
        assert march.status == "paid"
        assert snapshot(march) == paid
        assert counts == (
            PayrollRun.objects.filter(period=march).count(),
            Adjustment.objects.filter(period=march).count(),
        )
        slip = Payslip.objects.get(period=april, worker=workers[0])
        (line,) = slip.lines.filter(kind="late_piece")
        assert (line.ref_period, line.quantity) == ("2026-03", late.units)
        assert line.rate == data["rates"][1]  # March's price on the default card
        assert_payslip_invariants(april)


# --- bad input never half-saves ----------------------------------------------------

reason_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=210
)


@examples(60)
@given(
    kind=st.sampled_from(["bonus", "allowance", "deduction", "fine", ""]),
    amount=st.one_of(decimals("-100", "100"), decimals("0.01", "99999")),
    reason=st.one_of(reason_text, st.sampled_from(["", "   ", "Team goal"])),
    other_park=st.booleans(),
)
def test_adjustment_is_saved_whole_or_not_at_all(
    park, kind, amount, reason, other_park
):
    """R9: an adjustment of a known kind, a positive amount and a reason of at
    most 200 characters for a worker of the period's park is saved with its
    audit record; anything else is a ValidationError and saves nothing."""
    with rolled_back():
        officer = make_user("payroll_officer", park=park)
        worker = make_worker(make_park() if other_park else park)
        march = periods.period_get_or_create(park=park, month=MARCH)
        valid = (
            kind in ("bonus", "allowance", "deduction")
            and amount > 0
            and len(reason.strip()) > 0
            and len(reason) <= 200
            and not other_park
        )
        before = (Adjustment.objects.count(), AuditEvent.objects.count())
        try:
            periods.adjustment_add(
                period=march,
                worker=worker,
                kind=kind,
                amount=amount,
                reason=reason,
                actor=officer,
            )
        except ValidationError as exc:
            assert not valid, exc
            assert exc.messages
            assert (Adjustment.objects.count(), AuditEvent.objects.count()) == before
        else:
            assert valid
            after = (Adjustment.objects.count(), AuditEvent.objects.count())
            assert after == (before[0] + 1, before[1] + 1)


@examples(40)
@given(
    units=st.integers(-3, 3),
    accuracy=st.one_of(st.none(), decimals("-5", "105")),
    other_park=st.booleans(),
)
def test_work_record_is_saved_whole_or_not_at_all(park, units, accuracy, other_park):
    """R4.1: a record of a positive whole number of units, an accuracy from 0.00
    to 100.00 or none, on a project of the worker's park is saved; anything
    else is a ValidationError naming the field, and nothing is saved."""
    with rolled_back():
        worker = make_worker(park)
        project, task_type = make_catalogue(make_park() if other_park else park)
        valid = (
            units >= 1
            and (accuracy is None or Decimal(0) <= accuracy <= Decimal(100))
            and not other_park
        )
        before = WorkRecord.objects.count()
        try:
            work_record_create(
                worker=worker,
                project=project,
                task_type=task_type,
                work_date=date(2026, 3, 2),
                units=units,
                accuracy=accuracy,
                source="prop",
                external_id=f"bad{next(_ext)}",
            )
        except ValidationError as exc:
            assert not valid
            assert set(exc.message_dict) <= {"units", "accuracy", "project"}
            assert WorkRecord.objects.count() == before
        else:
            assert valid
            assert WorkRecord.objects.count() == before + 1


@examples(40)
@given(
    rate=decimals("-1", "3", 4),
    start=st.integers(-40, 40),
    length=st.one_of(st.none(), st.integers(-5, 60)),
)
def test_rate_card_is_saved_whole_or_not_at_all(park, rate, start, length):
    """R3.1: a card with a rate of at least 0 that ends after it starts and
    overlaps no other card of its key is saved (closing an open card it starts
    after); otherwise a ValidationError, and neither the new card nor any change
    to the existing ones is saved."""
    with rolled_back():
        task_type = TaskType.objects.filter(code="box").first() or task_type_create(
            code="box", name="2D box", unit="box"
        )
        project = project_create(
            client=client_create(code=f"c{next(_ext)}", name="Client"),
            park=park,
            code=f"r{next(_ext)}",
            name="Rates",
        )
        existing = [
            (date(2026, 1, 1), date(2026, 2, 1)),
            (date(2026, 2, 1), None),
        ]
        for effective_from, effective_to in existing:
            rate_card_create(
                project=project,
                task_type=task_type,
                skill_level="junior",
                rate=Decimal("1.0000"),
                effective_from=effective_from,
                effective_to=effective_to,
            )
        cards = RateCard.objects.filter(project=project)
        before = (
            sorted(cards.values_list("effective_from", "effective_to")),
            AuditEvent.objects.count(),
        )
        effective_from = date(2026, 2, 1) + timedelta(days=start)
        effective_to = None if length is None else effective_from + timedelta(length)
        try:
            rate_card_create(
                project=project,
                task_type=task_type,
                skill_level="junior",
                rate=rate,
                effective_from=effective_from,
                effective_to=effective_to,
            )
        except ValidationError as exc:
            assert exc.messages
            after = (
                sorted(cards.values_list("effective_from", "effective_to")),
                AuditEvent.objects.count(),
            )
            assert after == before
        else:
            assert rate >= 0 and (length is None or length > 0)
            assert cards.count() == 3
            assert AuditEvent.objects.count() == before[1] + 1
            spans = sorted(cards.values_list("effective_from", "effective_to"))
            for (_f1, t1), (f2, _t2) in pairwise(spans):
                assert t1 is not None and t1 <= f2  # never overlapping (R3.1)
