"""Tests of the pure pay engine (docs/pay-rules.md R2, R4, R5, R7, R9-R12).

Figures are computed by hand in the docstrings or comments; rule numbers are in
the test names.
"""

import dataclasses
import re
from decimal import ROUND_DOWN, Decimal, localcontext
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payroll.engine import (
    ACCURACY_RANGE_MESSAGE,
    BAD_MONTH_MESSAGE,
    BAD_MONTHS_EMPLOYED_MESSAGE,
    BAD_SI_BOUNDS_MESSAGE,
    BASIC_DEDUCTION_MONTHLY,
    BASIC_DEDUCTION_YEAR,
    CENT,
    DEFAULT_TIERS,
    DUPLICATE_TIER_MESSAGE,
    NEGATIVE_CARRIED_IN_MESSAGE,
    NEGATIVE_MINUTES_MESSAGE,
    NEGATIVE_MULTIPLIER_MESSAGE,
    NEGATIVE_RATE_MESSAGE,
    NEGATIVE_SPECIAL_DEDUCTIONS_MESSAGE,
    NEGATIVE_UNITS_MESSAGE,
    NO_TIER_MATCH_MESSAGE,
    NO_TIERS_MESSAGE,
    NON_POSITIVE_ADJUSTMENT_MESSAGE,
    PENDING_LABEL,
    PENDING_TIER,
    TAX_TABLE,
    UNKNOWN_ADJUSTMENT_KIND_MESSAGE,
    UNKNOWN_CONTRACT_MESSAGE,
    ZERO,
    AdjustmentItem,
    Line,
    LineKind,
    PayInput,
    PayResult,
    PieceItem,
    Policy,
    Tier,
    YearToDate,
    compute_pay,
    cumulative_tax,
    money,
    period_accuracy,
    tier_for,
)

D = Decimal
S_MINUTES = 174 * 60  # R7.1 standard monthly hours in minutes


def piece(
    units,
    rate="1.0000",
    multiplier="1.00",
    *,
    project="P1",
    task_type="box",
    unit="image",
    tier="standard",
    late_from=None,
):
    return PieceItem(
        project=project,
        task_type=task_type,
        unit=unit,
        rate=D(rate),
        multiplier=D(multiplier),
        tier=tier,
        units=units,
        late_from=late_from,
    )


def bonus(amount, reason="bonus"):
    return AdjustmentItem(kind="bonus", amount=D(amount), reason=reason)


def allowance(amount, reason="allowance"):
    return AdjustmentItem(kind="allowance", amount=D(amount), reason=reason)


def deduction(amount, reason="deduction"):
    return AdjustmentItem(kind="deduction", amount=D(amount), reason=reason)


def pay(**kwargs):
    kwargs.setdefault("contract", "full_time")
    kwargs.setdefault("minutes", 0)
    for name in ("items", "adjustments"):
        if name in kwargs:
            kwargs[name] = tuple(kwargs[name])
    return compute_pay(PayInput(**kwargs))


def kinds(result):
    return [line.kind for line in result.lines]


def lines_of(result, *wanted):
    return [line for line in result.lines if line.kind in wanted]


def total_of(result, *wanted):
    return sum((line.amount for line in lines_of(result, *wanted)), ZERO)


def assert_consistent(result: PayResult):
    """Lines add up to net and every total is the sum of its lines (R2.2, R12)."""
    assert sum((line.amount for line in result.lines), ZERO) == result.net
    assert result.piece_pay == total_of(result, LineKind.PIECE, LineKind.LATE)
    assert result.topup == total_of(result, LineKind.TOPUP)
    assert result.bonuses == total_of(result, LineKind.BONUS)
    assert result.allowances == total_of(result, LineKind.ALLOWANCE)
    assert result.social_insurance == -total_of(
        result, LineKind.PENSION, LineKind.MEDICAL, LineKind.UNEMPLOYMENT
    )
    assert result.tax == -total_of(result, LineKind.TAX)
    assert result.deductions == -total_of(result, LineKind.DEDUCTION)
    assert result.carried_in == -total_of(result, LineKind.CARRIED_IN)
    assert result.carried_forward == total_of(result, LineKind.CARRIED_FORWARD)
    assert result.taxable == (
        result.piece_pay + result.topup + result.bonuses + result.allowances
    )
    assert result.net >= 0
    for line in result.lines:
        assert line.amount == money(line.amount)
        assert not (line.amount == 0 and line.amount.is_signed()), line


# --- R2 money ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.025", "0.03"),  # half-even would give 0.02
        ("0.0249", "0.02"),
        ("1.004", "1.00"),
        ("-0.005", "-0.01"),
        ("12", "12.00"),
    ],
)
def test_r2_2_money_rounds_half_up_to_the_fen(value, expected):
    """money() quantizes to 0.01 with ROUND_HALF_UP, keeping 2 decimal places."""
    result = money(D(value))
    assert result == D(expected)
    assert result.as_tuple().exponent == -2


def test_r2_constants():
    """ZERO is 0.00 and CENT is 0.01, both with two decimal places."""
    assert str(ZERO) == "0.00"
    assert str(CENT) == "0.01"


# --- R4 quality tiers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("accuracy", "multiplier", "label"),
    [
        ("100.00", "1.10", "excellent"),
        ("98.00", "1.10", "excellent"),
        ("97.99", "1.00", "standard"),
        ("95.00", "1.00", "standard"),
        ("94.99", "0.80", "below_standard"),
        ("90.00", "0.80", "below_standard"),
        ("89.99", "0.00", "rejected"),
        ("0.00", "0.00", "rejected"),
    ],
)
def test_r4_2_tier_bands_are_inclusive_at_lower_bound(accuracy, multiplier, label):
    """Each default band starts at its lower bound: 98.00 is excellent, 97.99 is
    standard, 95.00 standard, 94.99 below standard, 90.00 below standard, 89.99
    rejected."""
    tier = tier_for(D(accuracy))
    assert tier.multiplier == D(multiplier)
    assert tier.label == label


def test_r4_2_default_tier_table():
    """DEFAULT_TIERS is the R4.2 table."""
    expected = (
        Tier(D("98.00"), D("1.10"), "excellent"),
        Tier(D("95.00"), D("1.00"), "standard"),
        Tier(D("90.00"), D("0.80"), "below_standard"),
        Tier(D("0.00"), D("0.00"), "rejected"),
    )
    assert expected == DEFAULT_TIERS


def test_r4_3_unreviewed_record_is_pending_at_one():
    """A record without accuracy is paid at 1.00 and labelled "pending"."""
    tier = tier_for(None)
    assert tier == PENDING_TIER
    assert tier.multiplier == D("1.00")
    assert tier.label == PENDING_LABEL == "pending"


def test_r4_3_pending_ignores_custom_tiers():
    """Even with a custom table, an unreviewed record is pending at 1.00."""
    assert tier_for(None, (Tier(D("0"), D("0.5"), "x"),)) == PENDING_TIER


@pytest.mark.parametrize("accuracy", ["99.50", "98.00", "96.00", "91.00", "10.00"])
def test_r4_2_tiers_may_come_unsorted(accuracy):
    """The tier table may be given in any order; the result is the same."""
    shuffled = (DEFAULT_TIERS[2], DEFAULT_TIERS[0], DEFAULT_TIERS[3], DEFAULT_TIERS[1])
    assert tier_for(D(accuracy), shuffled) == tier_for(D(accuracy))
    assert tier_for(D(accuracy), reversed(DEFAULT_TIERS)) == tier_for(D(accuracy))


def test_r4_2_custom_tiers_are_used():
    """A park's own table (policy) replaces the default."""
    tiers = (
        Tier(D("0.00"), D("0.50"), "poor"),
        Tier(D("80.00"), D("1.20"), "good"),
    )
    assert tier_for(D("80.00"), tiers).label == "good"
    assert tier_for(D("79.99"), tiers).multiplier == D("0.50")


@pytest.mark.parametrize("accuracy", ["-0.01", "100.01"])
def test_r4_1_accuracy_out_of_range_is_an_error(accuracy):
    """Accuracy outside 0.00-100.00 raises ValueError."""
    message = ACCURACY_RANGE_MESSAGE.format(value=D(accuracy))
    with pytest.raises(ValueError, match=re.escape(message)):
        tier_for(D(accuracy))


def test_r4_2_bad_tier_tables_are_errors():
    """An empty table, duplicate bands, or an accuracy below every band raise
    ValueError rather than paying silently at 0."""
    with pytest.raises(ValueError, match=re.escape(NO_TIERS_MESSAGE)):
        tier_for(D("95"), ())
    duplicate = (Tier(D("90"), D("1"), "a"), Tier(D("90"), D("0.8"), "b"))
    with pytest.raises(
        ValueError, match=re.escape(DUPLICATE_TIER_MESSAGE.format(value=D("90")))
    ):
        tier_for(D("95"), duplicate)
    with pytest.raises(
        ValueError, match=re.escape(NO_TIER_MATCH_MESSAGE.format(value=D("50.00")))
    ):
        tier_for(D("50.00"), (Tier(D("60"), D("1"), "ok"),))


def test_r4_4_period_accuracy_is_units_weighted():
    """(100 × 99.00 + 300 × 95.00) / 400 = 96.00, not the plain mean 97.00."""
    assert period_accuracy([(100, D("99.00")), (300, D("95.00"))]) == D("96.00")


def test_r4_4_period_accuracy_ignores_unreviewed_records():
    """Records without accuracy do not weigh in."""
    records = [(100, D("99.00")), (5000, None), (300, D("95.00"))]
    assert period_accuracy(records) == D("96.00")


def test_r4_4_period_accuracy_rounds_half_up():
    """(95.00 + 95.01) / 2 = 95.005 → 95.01 (half up)."""
    assert period_accuracy([(1, D("95.00")), (1, D("95.01"))]) == D("95.01")


def test_r4_4_period_accuracy_rounds_repeating_mean():
    """(1 × 90 + 2 × 100) / 3 = 96.666… → 96.67."""
    result = period_accuracy([(1, D("90.00")), (2, D("100.00"))])
    assert result == D("96.67")
    assert result.as_tuple().exponent == -2


def test_r4_4_period_accuracy_none_without_reviewed_records():
    """No reviewed records (or none at all) gives None, not 0."""
    assert period_accuracy([]) is None
    assert period_accuracy([(10, None), (20, None)]) is None
    assert period_accuracy(iter([(0, D("99.00"))])) is None


def test_r4_4_period_accuracy_rejects_negative_units():
    """Negative units raise ValueError."""
    message = NEGATIVE_UNITS_MESSAGE.format(value=-1)
    with pytest.raises(ValueError, match=re.escape(message)):
        period_accuracy([(-1, D("99.00"))])


# --- R5 piece pay ---------------------------------------------------------------


def test_r5_items_of_one_group_make_one_line():
    """Two buckets with the same (project, task type, unit, rate, multiplier)
    become one line: 30 units × 0.5000 × 1.10 = 16.50."""
    result = pay(
        items=[
            piece(10, "0.5000", "1.10", tier="excellent"),
            piece(20, "0.5000", "1.10", tier="excellent"),
        ]
    )
    assert result.lines == (
        Line(
            kind=LineKind.PIECE,
            amount=D("16.50"),
            project="P1",
            task_type="box",
            unit="image",
            quantity=D(30),
            rate=D("0.5000"),
            multiplier=D("1.10"),
            tier="excellent",
        ),
    )
    assert result.piece_pay == D("16.50")


def test_r2_2_r5_line_is_rounded_once_after_multiplying():
    """3 × 0.0150 × 1.10 = 0.0495 → 0.05. Rounding each unit first would give
    3 × 0.02 = 0.06."""
    result = pay(items=[piece(1, "0.0150", "1.10")] * 3)
    (line,) = result.lines
    assert line.quantity == 3
    assert line.amount == D("0.05")


@pytest.mark.parametrize(
    ("units", "rate", "multiplier", "expected"),
    [
        (1, "0.0250", "1.00", "0.03"),  # 0.025 → 0.03, half-even would be 0.02
        (1, "0.0150", "1.10", "0.02"),  # 0.0165
        (5, "0.0090", "1.00", "0.05"),  # 0.045 → 0.05
        (7, "0.0123", "0.80", "0.07"),  # 0.06888
        (1000, "0.1234", "1.10", "135.74"),  # 135.74
        (3, "0.3333", "0.80", "0.80"),  # 0.79992
    ],
)
def test_r2_2_r5_piece_rounding_half_up(units, rate, multiplier, expected):
    """amount = money(units × rate × multiplier), half up."""
    result = pay(items=[piece(units, rate, multiplier)])
    assert result.lines[0].amount == D(expected)


def test_r5_rejected_group_stays_as_zero_line():
    """A rejected group (multiplier 0.00) is shown as a 0.00 line with its units."""
    result = pay(
        items=[
            piece(100, "0.2000", "1.00"),
            piece(40, "0.2000", "0.00", tier="rejected"),
        ]
    )
    rejected = result.lines[1]
    assert rejected.kind == LineKind.PIECE
    assert rejected.amount == ZERO
    assert rejected.quantity == 40
    assert rejected.tier == "rejected"
    assert result.piece_pay == D("20.00")


def test_r5_lines_sorted_by_project_task_rate_multiplier_desc():
    """Piece lines come in (project, task type, rate, multiplier descending)
    order, whatever the order of the items."""
    items = [
        piece(1, "0.2000", "0.80", project="B", tier="below_standard"),
        piece(1, "0.1000", "0.80", project="A", task_type="seg", tier="below"),
        piece(1, "0.2000", "1.10", project="A", task_type="box", tier="excellent"),
        piece(1, "0.1000", "1.00", project="A", task_type="box"),
        piece(1, "0.1000", "1.10", project="A", task_type="box", tier="excellent"),
    ]
    result = pay(items=items)
    assert [
        (line.project, line.task_type, line.rate, line.multiplier)
        for line in result.lines
    ] == [
        ("A", "box", D("0.1000"), D("1.10")),
        ("A", "box", D("0.1000"), D("1.00")),
        ("A", "box", D("0.2000"), D("1.10")),
        ("A", "seg", D("0.1000"), D("0.80")),
        ("B", "box", D("0.2000"), D("0.80")),
    ]
    assert pay(items=reversed(items)) == result


def test_r4_3_pending_units_join_the_standard_line_and_are_counted():
    """R4.3/R5: pending units at 1.00 are on the standard line of the same
    multiplier, which keeps its tier label and counts its pending units."""
    result = pay(items=[piece(10, tier="standard"), piece(5, tier=PENDING_LABEL)])
    assert [
        (line.tier, line.quantity, line.pending_units) for line in result.lines
    ] == [("standard", 15, 5)]


def test_r4_3_one_rounding_where_two_would_differ_by_a_fen():
    """R2.2: 3 units at 0.0050 each, reviewed and pending: two lines would be
    0.02 + 0.01 = 0.03 (0.015 and 0.005 rounded half up); one line is 0.02."""
    items = [
        piece(3, rate="0.0050", tier="standard"),
        piece(1, rate="0.0050", tier=PENDING_LABEL),
    ]
    separate = sum(
        pay(items=[item]).piece_pay for item in items
    )  # what two lines would pay
    assert separate == D("0.03")
    result = pay(items=items)
    assert result.piece_pay == D("0.02")
    assert [
        (line.quantity, line.amount, line.pending_units) for line in result.lines
    ] == [(4, D("0.02"), 1)]


def test_r4_3_a_line_of_pending_units_only_says_pending():
    result = pay(items=[piece(5, tier=PENDING_LABEL)])
    assert [(line.tier, line.pending_units) for line in result.lines] == [
        (PENDING_LABEL, 5)
    ]


def test_r5_different_units_make_different_lines():
    """The unit is part of the group key."""
    result = pay(items=[piece(10, unit="image"), piece(10, unit="minute")])
    assert [line.unit for line in result.lines] == ["image", "minute"]


def test_r13_3_late_work_lines_come_after_on_time_by_month():
    """Late work is a LATE line per month with period=YYYY-MM, after the on-time
    lines, earlier months first; the same key in two months is two lines."""
    result = pay(
        items=[
            piece(10, late_from="2025-11"),
            piece(20, project="Z"),
            piece(30, late_from="2025-10"),
            piece(40, late_from="2025-11"),
        ]
    )
    assert [(line.kind, line.period, line.quantity) for line in result.lines] == [
        (LineKind.PIECE, "", 20),
        (LineKind.LATE, "2025-10", 30),
        (LineKind.LATE, "2025-11", 50),
    ]
    assert result.piece_pay == D("100.00")
    assert result.taxable == D("100.00")


# --- R7 minimum wage ------------------------------------------------------------


def test_r7_full_time_at_standard_hours_gets_monthly_minimum():
    """174 h exactly with no piece pay: floor = M = 2080.00, all of it top-up."""
    result = pay(minutes=S_MINUTES)
    assert result.hours == D("174.00")
    assert result.topup == D("2080.00")
    assert result.lines == (Line(kind=LineKind.TOPUP, amount=D("2080.00")),)
    assert result.net == D("2080.00")


def test_r7_full_time_floor_is_capped_at_monthly_minimum():
    """200 h > S: floor stays M = 2080.00, not 2080 × 200/174."""
    result = pay(minutes=200 * 60, items=[piece(1000)])
    assert result.hours == D("200.00")
    assert result.topup == D("1080.00")


def test_r7_full_time_floor_is_pro_rata_below_standard_hours():
    """87 h = S/2: floor = 1040.00; piece pay 1000.00 → top-up 40.00."""
    result = pay(minutes=87 * 60, items=[piece(1000)])
    assert result.topup == D("40.00")
    assert kinds(result) == [LineKind.PIECE, LineKind.TOPUP]
    assert result.taxable == D("1040.00")


def test_r7_full_time_floor_uses_unrounded_hours():
    """100 minutes: 2080 × 100 / 10440 = 19.9233… → 19.92; hours show 1.67."""
    result = pay(minutes=100)
    assert result.hours == D("1.67")
    assert result.topup == D("19.92")


def test_r7_part_time_floor_is_hourly_minimum_times_hours():
    """Part time: 10 h × 21.00 = 210.00; 61 minutes → 21 × 61/60 = 21.35."""
    assert pay(contract="part_time", minutes=600).topup == D("210.00")
    assert pay(contract="part_time", minutes=61).topup == D("21.35")
    # Not capped at M: 200 h × 21.00 = 4200.00.
    assert pay(contract="part_time", minutes=200 * 60).topup == D("4200.00")


def test_r7_training_floor_is_the_stipend():
    """Training: default stipend 0.00 → no top-up; a stipend of 500.00 with
    piece pay 120.00 → top-up 380.00, whatever the hours."""
    assert pay(contract="training", minutes=S_MINUTES).lines == ()
    policy = Policy(training_stipend=D("500.00"))
    result = pay(contract="training", minutes=60, items=[piece(120)], policy=policy)
    assert result.topup == D("380.00")


def test_r7_no_topup_line_when_earnings_reach_the_floor():
    """Piece pay above the floor: top-up 0.00 and no TOPUP line."""
    result = pay(minutes=S_MINUTES, items=[piece(2080)])
    assert result.topup == ZERO
    assert LineKind.TOPUP not in kinds(result)


def test_r7_2_bonuses_count_towards_the_floor():
    """87 h: piece 1000.00 + bonus 40.00 = floor 1040.00 → no top-up."""
    result = pay(minutes=87 * 60, items=[piece(1000)], adjustments=[bonus("40.00")])
    assert result.topup == ZERO


def test_r7_2_allowances_do_not_count_towards_the_floor():
    """87 h: piece 1000.00 + allowance 500.00 → top-up still 40.00; taxable
    1540.00."""
    result = pay(
        minutes=87 * 60, items=[piece(1000)], adjustments=[allowance("500.00")]
    )
    assert result.topup == D("40.00")
    assert result.taxable == D("1540.00")


def test_r7_late_work_does_not_count_towards_the_floor():
    """87 h: on-time 1000.00 + late 500.00 → top-up 40.00 (late work's hours
    belong to its own, already settled, period)."""
    result = pay(
        minutes=87 * 60,
        items=[piece(1000), piece(500, late_from="2025-10")],
    )
    assert result.topup == D("40.00")
    assert result.taxable == D("1540.00")


def test_r7_rejected_work_earns_nothing_towards_the_floor():
    """Rejected units (0.00) leave the whole floor to the top-up."""
    result = pay(minutes=S_MINUTES, items=[piece(5000, multiplier="0.00")])
    assert result.topup == D("2080.00")


def test_r7_1_policy_values_are_used():
    """A park's own M and S: M 3000, S 150 h, 75 h worked → floor 1500.00."""
    policy = Policy(min_monthly=D("3000.00"), standard_hours=D("150"))
    assert pay(minutes=75 * 60, policy=policy).topup == D("1500.00")


def test_r7_4_topup_rounded_half_up():
    """Part time 1 minute: 21/60 = 0.35; H=0.10 for 3 minutes: 0.005 → 0.01
    (half up)."""
    assert pay(contract="part_time", minutes=1).topup == D("0.35")
    policy = Policy(min_hourly=D("0.10"))
    assert pay(contract="part_time", minutes=3, policy=policy).topup == D("0.01")


# --- R9 adjustments ------------------------------------------------------------


def test_r9_adjustment_lines_signs_order_and_reasons():
    """Bonuses and allowances add, deductions subtract; each kind keeps the input
    order and its reason; bonuses come before allowances, deductions after tax."""
    result = pay(
        adjustments=[
            deduction("30.00", "canteen"),
            bonus("100.00", "night shift"),
            allowance("50.00", "transport"),
            bonus("20.00", "referral"),
            deduction("10.00", "lost badge"),
        ]
    )
    assert [(line.kind, line.amount, line.reason) for line in result.lines] == [
        (LineKind.BONUS, D("100.00"), "night shift"),
        (LineKind.BONUS, D("20.00"), "referral"),
        (LineKind.ALLOWANCE, D("50.00"), "transport"),
        (LineKind.DEDUCTION, D("-30.00"), "canteen"),
        (LineKind.DEDUCTION, D("-10.00"), "lost badge"),
    ]
    assert result.bonuses == D("120.00")
    assert result.allowances == D("50.00")
    assert result.deductions == D("40.00")
    assert result.taxable == D("170.00")
    assert result.net == D("130.00")


def test_r9_deductions_are_taken_after_tax():
    """A deduction does not reduce taxable income or tax: 10,000 of piece pay in
    January → taxable 10,000, tax (10,000 − 5,000) × 3 % = 150.00, with or
    without a 1,000.00 deduction."""
    without = pay(items=[piece(10000)])
    with_deduction = pay(items=[piece(10000)], adjustments=[deduction("1000.00")])
    assert without.tax == with_deduction.tax == D("150.00")
    assert with_deduction.taxable == D("10000.00")
    assert with_deduction.net == without.net - D("1000.00") == D("8850.00")


@pytest.mark.parametrize("amount", ["0.00", "0", "-5.00"])
def test_r9_non_positive_adjustment_is_an_error(amount):
    """An adjustment amount of 0 or less raises ValueError."""
    message = NON_POSITIVE_ADJUSTMENT_MESSAGE.format(value=D(amount))
    with pytest.raises(ValueError, match=re.escape(message)):
        pay(adjustments=[bonus(amount)])


def test_r9_unknown_adjustment_kind_is_an_error():
    """An adjustment kind other than bonus/allowance/deduction raises ValueError."""
    item = AdjustmentItem(kind="gift", amount=D("1.00"), reason="?")
    message = UNKNOWN_ADJUSTMENT_KIND_MESSAGE.format(
        value="gift", choices="bonus, allowance, deduction"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        pay(adjustments=[item])


def test_r9_adjustment_kind_may_be_a_line_kind():
    """LineKind.BONUS is accepted as the kind "bonus"."""
    item = AdjustmentItem(kind=LineKind.BONUS, amount=D("5.00"), reason="r")
    assert pay(adjustments=[item]).bonuses == D("5.00")


# --- R10 social insurance ------------------------------------------------------


def si_amounts(result):
    return [
        (line.kind, line.amount, line.quantity, line.rate)
        for line in lines_of(
            result, LineKind.PENSION, LineKind.MEDICAL, LineKind.UNEMPLOYMENT
        )
    ]


def test_r10_uninsured_worker_pays_no_social_insurance():
    """Without the insured flag there are no SI lines, whatever the base."""
    result = pay(items=[piece(6000)], si_declared_base=D("6000.00"))
    assert si_amounts(result) == []
    assert result.social_insurance == ZERO


def test_r10_base_within_bounds():
    """Base 6000: pension 480.00, medical 120.00, unemployment 30.00; each line
    has quantity = base and rate = the rate."""
    base = D("6000.00")
    result = pay(items=[piece(6000)], insured=True, si_declared_base=base)
    assert si_amounts(result) == [
        (LineKind.PENSION, D("-480.00"), base, D("0.08")),
        (LineKind.MEDICAL, D("-120.00"), base, D("0.02")),
        (LineKind.UNEMPLOYMENT, D("-30.00"), base, D("0.005")),
    ]
    assert result.social_insurance == D("630.00")


@pytest.mark.parametrize(
    ("declared", "base", "pension", "medical", "unemployment"),
    [
        ("0.00", "4600.00", "368.00", "92.00", "23.00"),
        ("3000.00", "4600.00", "368.00", "92.00", "23.00"),
        ("4600.00", "4600.00", "368.00", "92.00", "23.00"),
        ("22900.00", "22900.00", "1832.00", "458.00", "114.50"),
        ("30000.00", "22900.00", "1832.00", "458.00", "114.50"),
    ],
)
def test_r10_2_base_is_clamped_to_floor_and_ceiling(
    declared, base, pension, medical, unemployment
):
    """The declared base is clamped to 4600.00-22900.00 before the rates."""
    result = pay(items=[piece(30000)], insured=True, si_declared_base=D(declared))
    assert [line.quantity for line in result.lines[1:4]] == [D(base)] * 3
    assert [amount for _, amount, _, _ in si_amounts(result)] == [
        -D(pension),
        -D(medical),
        -D(unemployment),
    ]


def test_r10_3_each_item_rounded_half_up():
    """Base 4733.33: 378.6664 → 378.67, 94.6666 → 94.67, 23.66665 → 23.67."""
    result = pay(insured=True, si_declared_base=D("4733.33"), items=[piece(5000)])
    assert [amount for _, amount, _, _ in si_amounts(result)] == [
        D("-378.67"),
        D("-94.67"),
        D("-23.67"),
    ]
    assert result.social_insurance == D("497.01")


def test_r10_policy_rates_and_bounds_are_used():
    """Custom floor 5000 and rates 10 %/1 %/0 %: base 5000 → 500.00, 50.00, 0.00."""
    policy = Policy(
        si_base_floor=D("5000"),
        pension_rate=D("0.10"),
        medical_rate=D("0.01"),
        unemployment_rate=D("0"),
    )
    result = pay(items=[piece(9000)], insured=True, policy=policy)
    assert [amount for _, amount, _, _ in si_amounts(result)] == [
        D("-500.00"),
        D("-50.00"),
        ZERO,
    ]


def test_r10_social_insurance_accumulates_year_to_date():
    """ytd_social_insurance = earlier months + this month."""
    result = pay(
        items=[piece(6000)],
        insured=True,
        si_declared_base=D("6000"),
        ytd=YearToDate(social_insurance=D("1260.00")),
    )
    assert result.ytd_social_insurance == D("1890.00")


def test_r10_floor_above_ceiling_is_an_error():
    """A policy whose SI floor is above its ceiling raises ValueError."""
    policy = Policy(si_base_floor=D("5000"), si_base_ceiling=D("4000"))
    message = BAD_SI_BOUNDS_MESSAGE.format(floor=D("5000"), ceiling=D("4000"))
    with pytest.raises(ValueError, match=re.escape(message)):
        pay(policy=policy)


# --- R11 income tax --------------------------------------------------------------


def test_r11_constants():
    """Basic deduction 5000 a month / 60000 a year (R11.2, R11.5)."""
    assert D("5000") == BASIC_DEDUCTION_MONTHLY
    assert D("60000") == BASIC_DEDUCTION_YEAR
    assert TAX_TABLE[0] == (D("36000"), D("0.03"), D("0"))
    assert TAX_TABLE[-1] == (None, D("0.45"), D("181920"))


@pytest.mark.parametrize(
    ("cumulative", "expected"),
    [
        ("0", "0"),
        ("-100", "0"),
        ("1000", "30.00"),
        ("36000", "1080.00"),
        ("36000.01", "1080.001"),  # 3600.001 − 2520, the 10 % band
        ("36000.10", "1080.010"),  # 3 % would give 1080.003
        ("144000", "11880.00"),
        ("144000.10", "11880.02"),  # 20 %
        ("300000", "43080.00"),
        ("420000", "73080.00"),
        ("660000", "145080.00"),
        ("960000", "250080.00"),
        ("1000000", "268080.00"),
    ],
)
def test_r11_3_cumulative_tax_table(cumulative, expected):
    """Cumulative tax = cumulative taxable × rate − quick deduction, upper limits
    inclusive, unrounded; nothing at or below 0."""
    assert cumulative_tax(D(cumulative)) == D(expected)


def test_r11_3_tax_table_is_continuous_at_every_limit():
    """At each limit both bands give the same tax (the quick deductions fit)."""
    for (limit, rate, quick), (_, next_rate, next_quick) in pairwise(TAX_TABLE):
        assert limit * rate - quick == limit * next_rate - next_quick


def test_r11_3_tax_at_36000_exactly_through_compute_pay():
    """January, taxable 41,000 → cumulative taxable 36,000 → tax 1080.00; at
    41,000.01 → 36,000.01 → 1080.001 → 1080.00; at 41,000.10 → 1080.01."""
    assert pay(adjustments=[bonus("41000.00")]).tax == D("1080.00")
    assert pay(adjustments=[bonus("41000.01")]).tax == D("1080.00")
    assert pay(adjustments=[bonus("41000.10")]).tax == D("1080.01")


def test_r11_2_basic_deduction_per_month_employed():
    """Third month: ytd taxable 20,000 + 10,000 − 3 × 5,000 = 15,000 → 450.00;
    300.00 withheld earlier → 150.00 this month."""
    result = pay(
        items=[piece(10000)],
        months_employed=3,
        ytd=YearToDate(taxable=D("20000.00"), tax=D("300.00")),
    )
    assert result.tax == D("150.00")
    assert result.ytd_taxable == D("30000.00")
    assert result.ytd_tax == D("450.00")
    assert lines_of(result, LineKind.TAX) == [
        Line(kind=LineKind.TAX, amount=D("-150.00"))
    ]


def test_r11_2_social_insurance_and_special_deductions_reduce_taxable():
    """January, 10,000 taxable, SI 630.00 (base 6000), special 1,000:
    (10,000 − 5,000 − 630 − 1,000) × 3 % = 101.10."""
    result = pay(
        items=[piece(10000)],
        insured=True,
        si_declared_base=D("6000"),
        special_deductions_to_date=D("1000"),
    )
    assert result.tax == D("101.10")


def test_r11_2_no_tax_below_basic_deduction():
    """January, taxable 5,000.00 → cumulative taxable 0 → no TAX line."""
    result = pay(items=[piece(5000)])
    assert result.tax == ZERO
    assert LineKind.TAX not in kinds(result)


def test_r11_4_month_tax_is_never_negative():
    """A low month after a high one: cumulative tax (20,000 × 3 % = 600) is
    below the 750.00 withheld; this month's tax is 0.00, not a refund."""
    result = pay(
        items=[piece(0)],
        months_employed=2,
        ytd=YearToDate(taxable=D("30000.00"), tax=D("750.00")),
    )
    assert result.tax == ZERO
    assert result.ytd_tax == D("750.00")
    assert LineKind.TAX not in kinds(result)


def test_r11_4_month_tax_rounded_half_up():
    """January, taxable 5,000.50 → 0.50 × 3 % = 0.015 → 0.02."""
    assert pay(adjustments=[bonus("5000.50")]).tax == D("0.02")


def test_r11_5_full_year_basic_deduction_flag():
    """January, taxable 6,000: 30.00 tax normally; with the STA 2020 No. 19 flag
    the 60,000 deduction applies at once → no tax."""
    assert pay(items=[piece(6000)]).tax == D("30.00")
    flagged = pay(items=[piece(6000)], full_year_basic_deduction=True)
    assert flagged.tax == ZERO
    # Flag with a high income: (70,000 − 60,000) × 3 % = 300.00.
    high = pay(adjustments=[bonus("70000")], full_year_basic_deduction=True)
    assert high.tax == D("300.00")


def test_r11_6_check_with_cumulative_tax_directly():
    """30,000 a month, SI 4,500, special 2,000: cumulative taxable 18,500,
    37,000, 55,500 → tax 555.00, 625.00, 1,850.00."""
    withheld = ZERO
    expected = [D("555.00"), D("625.00"), D("1850.00")]
    for month, want in enumerate(expected, start=1):
        cumulative = (
            D("30000") * month
            - BASIC_DEDUCTION_MONTHLY * month
            - D("4500") * month
            - D("2000") * month
        )
        tax = money(cumulative_tax(cumulative) - withheld)
        assert tax == want
        withheld += tax


def test_r11_6_check_through_compute_pay():
    """The same check month by month through compute_pay: salary 30,000 as a
    bonus, SI 4,500 (base 30,000 at 10 % + 5 % + 0 %), special 2,000 a month →
    January 555.00, February 625.00, March 1,850.00."""
    policy = Policy(
        si_base_ceiling=D("30000"),
        pension_rate=D("0.10"),
        medical_rate=D("0.05"),
        unemployment_rate=D("0"),
    )
    ytd = YearToDate()
    taxes = []
    for month in (1, 2, 3):
        result = pay(
            minutes=S_MINUTES,
            adjustments=[bonus("30000.00", "salary")],
            policy=policy,
            insured=True,
            si_declared_base=D("30000"),
            months_employed=month,
            special_deductions_to_date=D("2000") * month,
            ytd=ytd,
        )
        assert result.social_insurance == D("4500.00")
        taxes.append(result.tax)
        ytd = YearToDate(
            taxable=result.ytd_taxable,
            social_insurance=result.ytd_social_insurance,
            tax=result.ytd_tax,
        )
    assert taxes == [D("555.00"), D("625.00"), D("1850.00")]
    assert ytd == YearToDate(D("90000.00"), D("13500.00"), D("3030.00"))


# --- R12 net pay ---------------------------------------------------------------


def test_r12_deductions_larger_than_pay_are_carried_forward():
    """Piece 100.00, deduction 300.00: net 0.00, carried forward 200.00, and the
    lines still add up to net."""
    result = pay(items=[piece(100)], adjustments=[deduction("300.00")])
    assert result.net == ZERO
    assert result.carried_forward == D("200.00")
    assert result.lines[-1] == Line(kind=LineKind.CARRIED_FORWARD, amount=D("200.00"))
    assert_consistent(result)


def test_r12_social_insurance_larger_than_pay_is_carried_forward():
    """Insured at base 4600 (SI 483.00) with 100.00 of piece pay: 383.00 is
    carried forward."""
    result = pay(items=[piece(100)], insured=True)
    assert result.social_insurance == D("483.00")
    assert result.carried_forward == D("383.00")
    assert result.net == ZERO


def test_r12_carried_in_is_taken_next_month():
    """Month 1 carries 200.00 forward; month 2 (piece 1000.00) takes it on a
    CARRIED_IN line dated 2025-11 → net 800.00. Nothing is lost or taken twice:
    the two nets add up to pay minus the deduction."""
    first = pay(items=[piece(100)], adjustments=[deduction("300.00")])
    second = pay(
        items=[piece(1000)],
        carried_in=first.carried_forward,
        carried_in_from="2025-11",
    )
    assert lines_of(second, LineKind.CARRIED_IN) == [
        Line(kind=LineKind.CARRIED_IN, amount=D("-200.00"), period="2025-11")
    ]
    assert second.carried_in == D("200.00")
    assert second.net == D("800.00")
    assert second.carried_forward == ZERO
    assert first.net + second.net == D("1100.00") - D("300.00")


def test_r12_carried_in_larger_than_pay_is_carried_on():
    """Carried in 500.00 with pay 120.00: net 0.00, 380.00 carried forward."""
    result = pay(items=[piece(120)], carried_in=D("500.00"), carried_in_from="2025-10")
    assert result.net == ZERO
    assert result.carried_forward == D("380.00")
    assert kinds(result)[-2:] == [LineKind.CARRIED_IN, LineKind.CARRIED_FORWARD]
    assert_consistent(result)


def test_r12_no_carry_lines_when_nothing_to_carry():
    """carried_in 0 gives no CARRIED_IN line; positive net no CARRIED_FORWARD."""
    result = pay(items=[piece(100)])
    assert kinds(result) == [LineKind.PIECE]
    assert result.carried_in == result.carried_forward == ZERO


def test_r12_net_is_taxable_minus_si_tax_deductions_carried_in():
    """Piece 10,000, SI 630.00, tax (10,000 − 5,000 − 630) × 3 % = 131.10,
    deduction 100.00, carried in 50.00 → net 9,088.90."""
    result = pay(
        items=[piece(10000)],
        insured=True,
        si_declared_base=D("6000"),
        adjustments=[deduction("100.00")],
        carried_in=D("50.00"),
        carried_in_from="2025-12",
    )
    assert result.tax == D("131.10")
    assert result.net == D("9088.90")
    assert_consistent(result)


# --- line order and determinism (R13.1) -----------------------------------------


FULL_INPUT = PayInput(
    contract="full_time",
    minutes=S_MINUTES,
    items=(
        piece(100, "0.5000", late_from="2025-09", project="A"),
        piece(50, "0.2000", "0.00", project="B", tier="rejected"),
        piece(100, "0.5000", project="A"),
    ),
    adjustments=(
        deduction("99999.00", "advance"),
        allowance("10.00", "meal"),
        bonus("5.00", "quality"),
    ),
    insured=True,
    si_declared_base=D("5000"),
    ytd=YearToDate(taxable=D("50000"), tax=D("1000")),
    months_employed=2,
    carried_in=D("1.00"),
    carried_in_from="2025-12",
)


def test_r13_1_line_order_is_fixed():
    """Piece (on-time, then late), top-up, bonus, allowance, pension, medical,
    unemployment, tax, deduction, carried in, carried forward."""
    result = compute_pay(FULL_INPUT)
    assert kinds(result) == [
        LineKind.PIECE,
        LineKind.PIECE,
        LineKind.LATE,
        LineKind.TOPUP,
        LineKind.BONUS,
        LineKind.ALLOWANCE,
        LineKind.PENSION,
        LineKind.MEDICAL,
        LineKind.UNEMPLOYMENT,
        LineKind.TAX,
        LineKind.DEDUCTION,
        LineKind.CARRIED_IN,
        LineKind.CARRIED_FORWARD,
    ]
    assert_consistent(result)


def test_r13_1_full_payslip_hand_computed():
    """On time 50.00 + rejected 0.00; late 50.00; floor 2080 − (50 + 5) → top-up
    2025.00; taxable 2140.00; SI on 5000: 400 + 100 + 25 = 525.00; cumulative
    taxable 52,140 − 10,000 − 525 = 41,615 → 4161.50 − 2520 = 1641.50 − 1000 →
    tax 641.50; net before 2140 − 525 − 641.50 − 99,999 − 1 = −99,026.50."""
    result = compute_pay(FULL_INPUT)
    assert result.piece_pay == D("100.00")
    assert result.topup == D("2025.00")
    assert result.taxable == D("2140.00")
    assert result.social_insurance == D("525.00")
    assert result.tax == D("641.50")
    assert result.carried_forward == D("99026.50")
    assert result.net == ZERO
    assert result.ytd_taxable == D("52140.00")
    assert result.ytd_tax == D("1641.50")


def test_r13_1_same_input_same_result_whatever_the_item_order():
    """Reordering items gives an identical result; so does computing twice."""
    reordered = dataclasses.replace(FULL_INPUT, items=FULL_INPUT.items[::-1])
    assert compute_pay(reordered) == compute_pay(FULL_INPUT)
    assert compute_pay(FULL_INPUT) == compute_pay(FULL_INPUT)


def test_r13_1_result_does_not_depend_on_the_callers_decimal_context():
    """A caller's low-precision, round-down decimal context changes nothing."""
    expected = compute_pay(FULL_INPUT)
    with localcontext() as ctx:
        ctx.prec = 4
        ctx.rounding = ROUND_DOWN
        assert compute_pay(FULL_INPUT) == expected
        assert period_accuracy([(1, D("90.00")), (2, D("100.00"))]) == D("96.67")


def test_r13_1_equal_rates_written_differently_give_one_stable_line():
    """Rates 0.5 and 0.5000 are one group; the line shows the same form either
    way round."""
    a = piece(1, "0.5")
    b = piece(1, "0.5000")
    first = pay(items=[a, b])
    second = pay(items=[b, a])
    assert len(first.lines) == 1
    assert str(first.lines[0].rate) == str(second.lines[0].rate)
    assert first.lines[0].amount == D("1.00")


# --- validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"minutes": -1}, NEGATIVE_MINUTES_MESSAGE.format(value=-1)),
        ({"items": (piece(-1),)}, NEGATIVE_UNITS_MESSAGE.format(value=-1)),
        (
            {"items": (piece(1, rate="-0.0001"),)},
            NEGATIVE_RATE_MESSAGE.format(value=D("-0.0001")),
        ),
        (
            {"items": (piece(1, multiplier="-0.10"),)},
            NEGATIVE_MULTIPLIER_MESSAGE.format(value=D("-0.10")),
        ),
        (
            {"contract": "casual"},
            UNKNOWN_CONTRACT_MESSAGE.format(
                value="casual", choices="full_time, part_time, training"
            ),
        ),
        (
            {"carried_in": D("-0.01")},
            NEGATIVE_CARRIED_IN_MESSAGE.format(value=D("-0.01")),
        ),
        (
            {"items": (piece(1, late_from="2025-13"),)},
            BAD_MONTH_MESSAGE.format(name="late_from", value="2025-13"),
        ),
        (
            {"carried_in": D("1"), "carried_in_from": "Nov 2025"},
            BAD_MONTH_MESSAGE.format(name="carried_in_from", value="Nov 2025"),
        ),
        ({"months_employed": 0}, BAD_MONTHS_EMPLOYED_MESSAGE.format(value=0)),
        ({"months_employed": 13}, BAD_MONTHS_EMPLOYED_MESSAGE.format(value=13)),
        (
            {"special_deductions_to_date": D("-1")},
            NEGATIVE_SPECIAL_DEDUCTIONS_MESSAGE.format(value=D("-1")),
        ),
    ],
)
def test_invalid_input_raises_value_error(changes, message):
    """Bad input raises ValueError with the module's message."""
    base = PayInput(contract="full_time", minutes=60)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        compute_pay(dataclasses.replace(base, **changes))


def test_zero_units_and_zero_rate_are_valid():
    """0 units or a 0.0000 rate are allowed and give 0.00 lines."""
    result = pay(items=[piece(0), piece(5, "0.0000", project="B")])
    assert [line.amount for line in result.lines] == [ZERO, ZERO]


def test_empty_period_is_all_zero():
    """No work, no adjustments, training contract: no lines, everything 0.00."""
    result = pay(contract="training")
    assert result.lines == ()
    assert result.net == result.taxable == result.ytd_tax == ZERO
    assert result.hours == ZERO


# --- properties ----------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)

tiers = st.sampled_from([*DEFAULT_TIERS, PENDING_TIER])
cents = st.decimals(min_value=D("0.01"), max_value=D("20000"), places=2)


@st.composite
def piece_items(draw):
    tier = draw(tiers)
    return PieceItem(
        project=draw(st.sampled_from(["A", "B"])),
        task_type=draw(st.sampled_from(["box", "seg"])),
        unit="image",
        rate=draw(st.decimals(min_value=0, max_value=5, places=4)),
        multiplier=tier.multiplier,
        tier=tier.label,
        units=draw(st.integers(min_value=0, max_value=20000)),
        late_from=draw(st.sampled_from([None, None, "2025-10", "2025-11"])),
    )


adjustment_items = st.builds(
    AdjustmentItem,
    kind=st.sampled_from(["bonus", "allowance", "deduction"]),
    amount=cents,
    reason=st.sampled_from(["a", "b", "c"]),
)


@st.composite
def pay_inputs(draw):
    carried_in = draw(
        st.one_of(
            st.just(ZERO), st.decimals(min_value=0, max_value=D("5000"), places=2)
        )
    )
    return PayInput(
        contract=draw(st.sampled_from(["full_time", "part_time", "training"])),
        minutes=draw(st.integers(min_value=0, max_value=20000)),
        items=tuple(draw(st.lists(piece_items(), max_size=8))),
        adjustments=tuple(draw(st.lists(adjustment_items, max_size=5))),
        policy=draw(
            st.sampled_from(
                [Policy(), Policy(training_stipend=D("800.00"), min_hourly=D("23.5"))]
            )
        ),
        insured=draw(st.booleans()),
        si_declared_base=draw(st.decimals(min_value=0, max_value=40000, places=2)),
        months_employed=draw(st.integers(min_value=1, max_value=12)),
        special_deductions_to_date=draw(
            st.decimals(min_value=0, max_value=30000, places=2)
        ),
        full_year_basic_deduction=draw(st.booleans()),
        ytd=YearToDate(
            taxable=draw(st.decimals(min_value=0, max_value=500000, places=2)),
            social_insurance=draw(st.decimals(min_value=0, max_value=30000, places=2)),
            tax=draw(st.decimals(min_value=0, max_value=80000, places=2)),
        ),
        carried_in=carried_in,
        carried_in_from="2025-12" if carried_in else None,
    )


@PROPERTY_SETTINGS
@given(pay_inputs())
def test_property_r2_2_r12_lines_sum_to_net_and_totals_match_lines(inp):
    """For any input: lines sum to net exactly, each total is the sum of its
    lines' kinds, net is never negative, every amount has 2 places."""
    result = compute_pay(inp)
    assert_consistent(result)
    assert result.ytd_taxable == inp.ytd.taxable + result.taxable
    assert result.ytd_tax == inp.ytd.tax + result.tax
    assert result.ytd_social_insurance == (
        inp.ytd.social_insurance + result.social_insurance
    )
    if result.carried_forward:
        assert result.net == ZERO
    for total in (
        result.topup,
        result.tax,
        result.social_insurance,
        result.carried_forward,
    ):
        assert total >= 0


@PROPERTY_SETTINGS
@given(pay_inputs(), st.data())
def test_property_r13_1_result_independent_of_item_order(inp, data):
    """Any permutation of the items gives an equal result; computing twice too."""
    shuffled = data.draw(st.permutations(inp.items))
    result = compute_pay(inp)
    assert compute_pay(dataclasses.replace(inp, items=tuple(shuffled))) == result
    assert compute_pay(inp) == result


@PROPERTY_SETTINGS
@given(pay_inputs(), st.data())
def test_property_more_units_never_lower_gross_or_net(inp, data):
    """Adding units to one item with a positive rate and multiplier never lowers
    taxable income (gross) or net pay."""
    item = data.draw(
        piece_items().filter(lambda i: i.rate > 0 and i.multiplier > 0),
        label="item",
    )
    extra = data.draw(st.integers(min_value=1, max_value=5000), label="extra")
    before = compute_pay(dataclasses.replace(inp, items=(*inp.items, item)))
    bigger = dataclasses.replace(item, units=item.units + extra)
    after = compute_pay(dataclasses.replace(inp, items=(*inp.items, bigger)))
    assert after.taxable >= before.taxable
    assert after.net >= before.net
    assert after.piece_pay >= before.piece_pay


@PROPERTY_SETTINGS
@given(
    st.decimals(min_value=0, max_value=100, places=2),
    st.decimals(min_value=0, max_value=100, places=2),
)
def test_property_r4_2_better_accuracy_never_pays_less(a, b):
    """The multiplier never falls as accuracy rises."""
    low, high = sorted((a, b))
    assert tier_for(low).multiplier <= tier_for(high).multiplier


@PROPERTY_SETTINGS
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=1000),
            st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2)),
        ),
        max_size=10,
    )
)
def test_property_r4_4_period_accuracy_within_reviewed_range(records):
    """The weighted mean lies between the lowest and highest reviewed accuracy
    (of records with units), or is None when there are none."""
    reviewed = [acc for units, acc in records if acc is not None and units > 0]
    result = period_accuracy(records)
    if not reviewed:
        assert result is None
    else:
        assert min(reviewed) <= result <= max(reviewed)


@PROPERTY_SETTINGS
@given(
    st.decimals(min_value=0, max_value=2000000, places=2),
    st.decimals(min_value=0, max_value=2000000, places=2),
)
def test_property_r11_3_cumulative_tax_is_monotone(a, b):
    """More cumulative taxable income never means less cumulative tax, and the
    marginal rate never exceeds 45 %."""
    low, high = sorted((a, b))
    assert cumulative_tax(low) <= cumulative_tax(high)
    assert cumulative_tax(high) - cumulative_tax(low) <= (high - low) * D("0.45")
