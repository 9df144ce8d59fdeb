"""Pure payroll computation: one worker, one period.

Implements the pay rules of ``docs/pay-rules.md`` that need no database: R2
(money), R4.2-R4.4 (quality tiers), R5 (piece pay), R7 (minimum wage top-up),
R9 (adjustments), R10 (social insurance), R11 (cumulative income tax) and R12
(net pay and carrying forward). The service layer loads the inputs, prices the
records (R3) and stores the result; this module only computes, so that the same
input always gives the same payslip, to the fen and line order (R13.1).

Standard library only: no Django, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from itertools import pairwise

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# Arithmetic runs in a fixed context so that a caller who changed the thread's
# decimal context cannot change a payslip (R13.1). Rounding to the fen is
# always explicit (R2.2); this context only governs intermediate precision.
_CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

FULL_TIME = "full_time"
PART_TIME = "part_time"
TRAINING = "training"
CONTRACTS = (FULL_TIME, PART_TIME, TRAINING)

_MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

# Error messages are constants so tests and code cannot drift apart.
NEGATIVE_MINUTES_MESSAGE = "minutes must not be negative, got {value}"
NEGATIVE_UNITS_MESSAGE = "units must not be negative, got {value}"
NEGATIVE_RATE_MESSAGE = "rate must not be negative, got {value}"
NEGATIVE_MULTIPLIER_MESSAGE = "multiplier must not be negative, got {value}"
UNKNOWN_CONTRACT_MESSAGE = "unknown contract {value!r}; expected one of {choices}"
UNKNOWN_ADJUSTMENT_KIND_MESSAGE = (
    "unknown adjustment kind {value!r}; expected one of {choices}"
)
NON_POSITIVE_ADJUSTMENT_MESSAGE = (
    "adjustment amount must be greater than 0, got {value}"
)
NEGATIVE_CARRIED_IN_MESSAGE = "carried_in must not be negative, got {value}"
BAD_MONTH_MESSAGE = "{name} must be a month 'YYYY-MM', got {value!r}"
BAD_MONTHS_EMPLOYED_MESSAGE = "months_employed must be between 1 and 12, got {value}"
NEGATIVE_SPECIAL_DEDUCTIONS_MESSAGE = (
    "special_deductions_to_date must not be negative, got {value}"
)
BAD_SI_BOUNDS_MESSAGE = (
    "social insurance base floor {floor} is above the ceiling {ceiling}"
)
ACCURACY_RANGE_MESSAGE = "accuracy must be between 0.00 and 100.00, got {value}"
NO_TIERS_MESSAGE = "no quality tiers given"
DUPLICATE_TIER_MESSAGE = "two quality tiers start at accuracy {value}"
NO_TIER_MATCH_MESSAGE = "no quality tier covers accuracy {value}"


def money(value: Decimal) -> Decimal:
    """Round to the fen, half up (R2.2)."""
    return value.quantize(CENT, ROUND_HALF_UP)  # positional: keywords cost more


class LineKind(StrEnum):
    PIECE = "piece"
    LATE = "late_piece"
    CORRECTION = "correction"
    TOPUP = "topup"
    BONUS = "bonus"
    ALLOWANCE = "allowance"
    PENSION = "pension"
    MEDICAL = "medical"
    UNEMPLOYMENT = "unemployment"
    TAX = "tax"
    DEDUCTION = "deduction"
    CARRIED_IN = "carried_in"
    CARRIED_FORWARD = "carried_forward"


ADJUSTMENT_KINDS = (LineKind.BONUS, LineKind.ALLOWANCE, LineKind.DEDUCTION)


# --- R4 quality -------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """A quality band, inclusive at its lower bound (R4.2)."""

    min_accuracy: Decimal
    multiplier: Decimal
    label: str


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier(Decimal("98.00"), Decimal("1.10"), "excellent"),
    Tier(Decimal("95.00"), Decimal("1.00"), "standard"),
    Tier(Decimal("90.00"), Decimal("0.80"), "below_standard"),
    Tier(Decimal("0.00"), Decimal("0.00"), "rejected"),
)

PENDING_LABEL = "pending"
# R4.3: not yet reviewed records are paid at 1.00. min_accuracy has no meaning
# for this tier; 0.00 keeps the field a Decimal.
PENDING_TIER = Tier(Decimal("0.00"), Decimal("1.00"), PENDING_LABEL)

_ACCURACY_MIN = Decimal("0.00")
_ACCURACY_MAX = Decimal("100.00")


def tier_for(accuracy: Decimal | None, tiers: Iterable[Tier] = DEFAULT_TIERS) -> Tier:
    """The tier for a record's accuracy (R4.2); ``None`` is pending (R4.3).

    ``tiers`` may come in any order. An accuracy outside 0.00-100.00, an empty
    or ambiguous tier table, or an accuracy below every band is a ValueError:
    a misconfigured table must not silently pay a record as 0.
    """
    if accuracy is None:
        return PENDING_TIER
    if not _ACCURACY_MIN <= accuracy <= _ACCURACY_MAX:
        raise ValueError(ACCURACY_RANGE_MESSAGE.format(value=accuracy))
    ordered = sorted(tiers, key=lambda tier: tier.min_accuracy, reverse=True)
    if not ordered:
        raise ValueError(NO_TIERS_MESSAGE)
    for higher, lower in pairwise(ordered):
        if higher.min_accuracy == lower.min_accuracy:
            raise ValueError(DUPLICATE_TIER_MESSAGE.format(value=lower.min_accuracy))
    for tier in ordered:
        if accuracy >= tier.min_accuracy:
            return tier
    raise ValueError(NO_TIER_MATCH_MESSAGE.format(value=accuracy))


def period_accuracy(records: Iterable[tuple[int, Decimal | None]]) -> Decimal | None:
    """Units-weighted mean accuracy of the reviewed records (R4.4).

    ``records`` are ``(units, accuracy)`` pairs; unreviewed ones (accuracy
    ``None``) are left out. Returns 2 decimal places, half up, or ``None`` when
    no reviewed record carries units.
    """
    with localcontext(_CONTEXT):
        total_units = 0
        weighted = Decimal(0)
        for units, accuracy in records:
            if units < 0:
                raise ValueError(NEGATIVE_UNITS_MESSAGE.format(value=units))
            if accuracy is None:
                continue
            total_units += units
            weighted += units * accuracy
        if total_units == 0:
            return None
        return (weighted / total_units).quantize(CENT, rounding=ROUND_HALF_UP)


# --- R7, R10 policy and R11 tax table ------------------------------------------


@dataclass(frozen=True)
class Policy:
    """Park policy in force for the period (R7.1, R7.3, R10). Defaults only."""

    min_monthly: Decimal = Decimal("2080.00")
    min_hourly: Decimal = Decimal("21.00")
    standard_hours: Decimal = Decimal("174")
    training_stipend: Decimal = Decimal("0.00")
    si_base_floor: Decimal = Decimal("4600.00")
    si_base_ceiling: Decimal = Decimal("22900.00")
    pension_rate: Decimal = Decimal("0.08")
    medical_rate: Decimal = Decimal("0.02")
    unemployment_rate: Decimal = Decimal("0.005")


BASIC_DEDUCTION_MONTHLY = Decimal("5000")
BASIC_DEDUCTION_YEAR = Decimal("60000")

# R11.3: (cumulative taxable up to and including, rate, quick deduction);
# ``None`` is the open top band.
TAX_TABLE: tuple[tuple[Decimal | None, Decimal, Decimal], ...] = (
    (Decimal("36000"), Decimal("0.03"), Decimal("0")),
    (Decimal("144000"), Decimal("0.10"), Decimal("2520")),
    (Decimal("300000"), Decimal("0.20"), Decimal("16920")),
    (Decimal("420000"), Decimal("0.25"), Decimal("31920")),
    (Decimal("660000"), Decimal("0.30"), Decimal("52920")),
    (Decimal("960000"), Decimal("0.35"), Decimal("85920")),
    (None, Decimal("0.45"), Decimal("181920")),
)


def cumulative_tax(cumulative_taxable: Decimal) -> Decimal:
    """Tax due on the year's cumulative taxable income (R11.3), unrounded.

    A cumulative taxable income at or below 0 owes no tax.
    """
    if cumulative_taxable <= 0:
        return Decimal(0)
    with localcontext(_CONTEXT):
        for limit, rate, quick_deduction in TAX_TABLE:
            if limit is None or cumulative_taxable <= limit:
                return cumulative_taxable * rate - quick_deduction
    raise AssertionError("TAX_TABLE has no open top band")  # pragma: no cover


# --- inputs and outputs ------------------------------------------------------


@dataclass(frozen=True)
class PieceItem:
    """One priced bucket of work records; the service pre-aggregates (R5)."""

    project: str
    task_type: str
    unit: str
    rate: Decimal
    multiplier: Decimal
    tier: str
    units: int
    late_from: str | None = None  # "YYYY-MM" of late work (R13.3)


@dataclass(frozen=True)
class CorrectionItem:
    """A void or correction of a record of a frozen month (R13.5), priced at
    the record's own date (R13.3): ``units`` × ``rate`` × ``multiplier``, where
    a void or a change of units gives signed units at the record's multiplier
    and a change of accuracy the record's units at the signed difference of
    the multipliers. One line each, in input order."""

    project: str
    task_type: str
    unit: str
    rate: Decimal
    multiplier: Decimal  # signed: new minus old multiplier for accuracy
    tier: str
    units: int  # signed: negative for a void or fewer units
    corrects: str  # "YYYY-MM" of the corrected record
    reason: str = ""


def correction_terms(
    kind: str, old_units: int, new_units: int, old: Tier, new: Tier
) -> tuple[int, Decimal, Tier]:
    """A correction's (signed units, multiplier, tier shown) (R13.5): a void
    or a change of units at the record's old tier, a change of accuracy over
    the units at the difference of the two tiers' multipliers."""
    if kind == "accuracy":
        return new_units, new.multiplier - old.multiplier, new
    return new_units - old_units, old.multiplier, old


@dataclass(frozen=True)
class AdjustmentItem:
    """A bonus, allowance or deduction added by a director or officer (R9)."""

    kind: str  # "bonus" | "allowance" | "deduction"
    amount: Decimal  # > 0; the sign comes from the kind
    reason: str


@dataclass(frozen=True)
class YearToDate:
    """Earlier months of this tax year at the park (R11.2)."""

    taxable: Decimal = ZERO
    social_insurance: Decimal = ZERO
    tax: Decimal = ZERO


@dataclass(frozen=True)
class PayInput:
    contract: str  # "full_time" | "part_time" | "training", on the last day (R7.3)
    minutes: int  # minutes worked in the period (R6.2)
    items: tuple[PieceItem, ...] = ()
    corrections: tuple[CorrectionItem, ...] = ()
    adjustments: tuple[AdjustmentItem, ...] = ()
    policy: Policy = field(default_factory=Policy)
    insured: bool = False
    si_declared_base: Decimal = ZERO
    months_employed: int = 1  # this tax year at the park, incl. this month (R11.2)
    special_deductions_to_date: Decimal = ZERO  # cumulative, incl. this month
    full_year_basic_deduction: bool = False  # R11.5
    ytd: YearToDate = field(default_factory=YearToDate)
    carried_in: Decimal = ZERO  # R12: not taken in earlier periods (>= 0)
    carried_in_from: str | None = None  # "YYYY-MM"


@dataclass(frozen=True)
class Line:
    """One payslip line. ``amount`` is signed: what it adds to net pay."""

    kind: LineKind
    amount: Decimal
    project: str = ""
    task_type: str = ""
    unit: str = ""
    quantity: Decimal | None = None
    rate: Decimal | None = None
    multiplier: Decimal | None = None
    tier: str = ""
    period: str = ""  # late work's month, or the month carried in from
    reason: str = ""
    pending_units: int = 0  # of ``quantity``, not yet reviewed (R4.3)


_LINE_DEFAULTS = {
    name: f.default for name, f in Line.__dataclass_fields__.items() if name != "kind"
}
del _LINE_DEFAULTS["amount"]


@dataclass(frozen=True)
class PayResult:
    """A computed payslip. Totals are positive sums of their lines (R2.2)."""

    lines: tuple[Line, ...]
    hours: Decimal
    piece_pay: Decimal  # on-time and late piece lines, and corrections
    topup: Decimal
    bonuses: Decimal
    allowances: Decimal
    taxable: Decimal
    social_insurance: Decimal
    tax: Decimal
    deductions: Decimal
    carried_in: Decimal
    carried_forward: Decimal
    net: Decimal
    ytd_taxable: Decimal
    ytd_social_insurance: Decimal
    ytd_tax: Decimal


# --- computation -------------------------------------------------------------


def _check_month(name: str, value: str | None) -> None:
    if value is not None and not _MONTH_RE.fullmatch(value):
        raise ValueError(BAD_MONTH_MESSAGE.format(name=name, value=value))


def _validate(inp: PayInput) -> None:
    if inp.contract not in CONTRACTS:
        raise ValueError(
            UNKNOWN_CONTRACT_MESSAGE.format(
                value=inp.contract, choices=", ".join(CONTRACTS)
            )
        )
    if inp.minutes < 0:
        raise ValueError(NEGATIVE_MINUTES_MESSAGE.format(value=inp.minutes))
    for item in inp.items:
        if item.units < 0:
            raise ValueError(NEGATIVE_UNITS_MESSAGE.format(value=item.units))
        if item.rate < 0:
            raise ValueError(NEGATIVE_RATE_MESSAGE.format(value=item.rate))
        if item.multiplier < 0:
            raise ValueError(NEGATIVE_MULTIPLIER_MESSAGE.format(value=item.multiplier))
        _check_month("late_from", item.late_from)
    for correction in inp.corrections:
        if correction.rate < 0:
            raise ValueError(NEGATIVE_RATE_MESSAGE.format(value=correction.rate))
        _check_month("corrects", correction.corrects)
    for adjustment in inp.adjustments:
        if adjustment.kind not in ADJUSTMENT_KINDS:
            raise ValueError(
                UNKNOWN_ADJUSTMENT_KIND_MESSAGE.format(
                    value=adjustment.kind, choices=", ".join(ADJUSTMENT_KINDS)
                )
            )
        if adjustment.amount <= 0:
            raise ValueError(
                NON_POSITIVE_ADJUSTMENT_MESSAGE.format(value=adjustment.amount)
            )
    if inp.carried_in < 0:
        raise ValueError(NEGATIVE_CARRIED_IN_MESSAGE.format(value=inp.carried_in))
    _check_month("carried_in_from", inp.carried_in_from)
    if not 1 <= inp.months_employed <= 12:
        raise ValueError(BAD_MONTHS_EMPLOYED_MESSAGE.format(value=inp.months_employed))
    if inp.special_deductions_to_date < 0:
        raise ValueError(
            NEGATIVE_SPECIAL_DEDUCTIONS_MESSAGE.format(
                value=inp.special_deductions_to_date
            )
        )
    if inp.policy.si_base_floor > inp.policy.si_base_ceiling:
        raise ValueError(
            BAD_SI_BOUNDS_MESSAGE.format(
                floor=inp.policy.si_base_floor, ceiling=inp.policy.si_base_ceiling
            )
        )


def _piece_sort_key(item: PieceItem) -> tuple:
    # On-time work first, then late work by month; within each, (project, task
    # type, rate, multiplier descending). unit and tier break the remaining
    # ties. Two groups never tie on this key: they differ in one of its fields.
    return (
        item.late_from is not None,
        item.late_from or "",
        item.project,
        item.task_type,
        item.rate,
        -item.multiplier,
        item.unit,
        item.tier,
    )


def _new_line(fields: dict) -> Line:
    """A Line without the frozen dataclass's per-field ``__setattr__`` calls:
    a payslip has dozens of lines and a province thousands of payslips."""
    line = object.__new__(Line)
    values = line.__dict__
    values.update(_LINE_DEFAULTS)
    values.update(fields)
    return line


def _piece_lines(items: Iterable[PieceItem]) -> list[Line]:
    """R5: one line per group, amount rounded once (R2.2).

    Pending units at 1.00 join the reviewed units of the same multiplier
    (R4.3): the line keeps the reviewed tier's label and counts its pending
    units, so splitting them could never change pay by a fen.
    """
    groups: dict[tuple, list] = {}  # key → [representative, units, pending]
    for item in items:
        key = (
            item.late_from,
            item.project,
            item.task_type,
            item.unit,
            item.rate,
            item.multiplier,
        )
        pending = item.units if item.tier == PENDING_LABEL else 0
        group = groups.get(key)
        if group is None:
            groups[key] = [item, item.units, pending]
            continue
        group[1] += item.units
        group[2] += pending
        # The line shows a reviewed tier's label over "pending", and of equal
        # Decimals written differently (1.0 and 1.00) the smallest written
        # form, whatever the order of the items.
        first = group[0]
        if (item.tier == PENDING_LABEL, str(item.rate), str(item.multiplier)) < (
            first.tier == PENDING_LABEL,
            str(first.rate),
            str(first.multiplier),
        ):
            group[0] = item
    lines = []
    for first, units, pending in sorted(
        groups.values(), key=lambda group: _piece_sort_key(group[0])
    ):
        lines.append(
            _new_line(
                {
                    "kind": LineKind.PIECE
                    if first.late_from is None
                    else LineKind.LATE,
                    "amount": money(units * first.rate * first.multiplier),
                    "project": first.project,
                    "task_type": first.task_type,
                    "unit": first.unit,
                    "quantity": Decimal(units),
                    "rate": first.rate,
                    "multiplier": first.multiplier,
                    "tier": first.tier,
                    "period": first.late_from or "",
                    "pending_units": pending,
                }
            )
        )
    return lines


def _minimum_floor(contract: str, minutes: int, policy: Policy) -> Decimal:
    """The R7.3 floor, unrounded.

    hours = minutes / 60 is not rounded first; each formula divides once at the
    end so that no intermediate rounding can move the fen.
    """
    if contract == FULL_TIME:
        if minutes >= policy.standard_hours * 60:
            return policy.min_monthly
        return policy.min_monthly * minutes / (policy.standard_hours * 60)
    if contract == PART_TIME:
        return policy.min_hourly * minutes / 60
    return policy.training_stipend


def _sum(lines: Iterable[Line], *kinds: LineKind) -> Decimal:
    """Sum of the lines' amounts, only of ``kinds`` when given."""
    return sum((line.amount for line in lines if not kinds or line.kind in kinds), ZERO)


def _negate(value: Decimal) -> Decimal:
    # 0 - x rather than -x: -Decimal("0.00") is "-0.00", which would show.
    return ZERO - value


def compute_pay(inp: PayInput) -> PayResult:
    """Compute one worker's payslip for one period (R5, R7, R9-R12)."""
    _validate(inp)
    with localcontext(_CONTEXT):
        return _compute(inp)


def _compute(inp: PayInput) -> PayResult:
    policy = inp.policy
    piece = _piece_lines(inp.items)
    corrections = [
        Line(
            kind=LineKind.CORRECTION,
            amount=money(c.units * c.rate * c.multiplier),
            project=c.project,
            task_type=c.task_type,
            unit=c.unit,
            quantity=Decimal(c.units),
            rate=c.rate,
            multiplier=c.multiplier,
            tier=c.tier,
            period=c.corrects,
            reason=c.reason,
        )
        for c in inp.corrections
    ]
    on_time_pay = _sum(piece, LineKind.PIECE)
    piece_pay = _sum(piece, LineKind.PIECE, LineKind.LATE) + _sum(corrections)

    # R9: adjustments in input order within their kind.
    adjustment_lines: dict[LineKind, list[Line]] = {k: [] for k in ADJUSTMENT_KINDS}
    for adjustment in inp.adjustments:
        kind = LineKind(adjustment.kind)
        amount = money(adjustment.amount)
        adjustment_lines[kind].append(
            Line(
                kind=kind,
                amount=_negate(amount) if kind == LineKind.DEDUCTION else amount,
                reason=adjustment.reason,
            )
        )
    bonuses = _sum(adjustment_lines[LineKind.BONUS])
    allowances = _sum(adjustment_lines[LineKind.ALLOWANCE])
    deductions = _negate(_sum(adjustment_lines[LineKind.DEDUCTION]))

    # R7.2: earnings tested are on-time piece pay and bonuses, not allowances.
    # Late work (R13.3) is left out too: its hours belong to the earlier period,
    # whose floor was settled when that period was paid; counting its pay here
    # would let it fill this month's floor with another month's work. So are
    # corrections (R13.5): the floor of the month they correct is not redone.
    tested = on_time_pay + bonuses
    floor = _minimum_floor(inp.contract, inp.minutes, policy)
    topup = money(max(Decimal(0), floor - tested))
    topup_lines = [Line(kind=LineKind.TOPUP, amount=topup)] if topup > 0 else []

    # R10: employee share of social insurance, one line per item.
    si_lines = []
    if inp.insured:
        base = min(
            max(inp.si_declared_base, policy.si_base_floor), policy.si_base_ceiling
        )
        for kind, rate in (
            (LineKind.PENSION, policy.pension_rate),
            (LineKind.MEDICAL, policy.medical_rate),
            (LineKind.UNEMPLOYMENT, policy.unemployment_rate),
        ):
            si_lines.append(
                Line(
                    kind=kind,
                    amount=_negate(money(base * rate)),
                    quantity=base,
                    rate=rate,
                )
            )
    social_insurance = _negate(_sum(si_lines))

    # R11: cumulative withholding.
    taxable = piece_pay + topup + bonuses + allowances
    ytd_taxable = inp.ytd.taxable + taxable
    ytd_si = inp.ytd.social_insurance + social_insurance
    if inp.full_year_basic_deduction:  # R11.5
        basic = BASIC_DEDUCTION_YEAR
    else:
        basic = BASIC_DEDUCTION_MONTHLY * inp.months_employed
    cumulative_taxable = max(
        Decimal(0), ytd_taxable - basic - ytd_si - inp.special_deductions_to_date
    )
    tax = max(ZERO, money(cumulative_tax(cumulative_taxable) - inp.ytd.tax))
    tax_lines = [Line(kind=LineKind.TAX, amount=_negate(tax))] if tax > 0 else []

    # R12: net pay never below 0; what cannot be taken is carried forward.
    carried_in = money(inp.carried_in)
    carried_in_lines = (
        [
            Line(
                kind=LineKind.CARRIED_IN,
                amount=_negate(carried_in),
                period=inp.carried_in_from or "",
            )
        ]
        if carried_in > 0
        else []
    )
    net = taxable - social_insurance - tax - deductions - carried_in
    carried_forward = ZERO
    carried_forward_lines = []
    if net < 0:
        carried_forward = _negate(net)
        carried_forward_lines = [
            Line(kind=LineKind.CARRIED_FORWARD, amount=carried_forward)
        ]
        net = ZERO

    lines = (
        *piece,
        *corrections,
        *topup_lines,
        *adjustment_lines[LineKind.BONUS],
        *adjustment_lines[LineKind.ALLOWANCE],
        *si_lines,
        *tax_lines,
        *adjustment_lines[LineKind.DEDUCTION],
        *carried_in_lines,
        *carried_forward_lines,
    )
    return PayResult(
        lines=lines,
        hours=money(Decimal(inp.minutes) / 60),
        piece_pay=money(piece_pay),
        topup=topup,
        bonuses=money(bonuses),
        allowances=money(allowances),
        taxable=money(taxable),
        social_insurance=money(social_insurance),
        tax=tax,
        deductions=money(deductions),
        carried_in=carried_in,
        carried_forward=money(carried_forward),
        net=money(net),
        ytd_taxable=money(ytd_taxable),
        ytd_social_insurance=money(ytd_si),
        ytd_tax=money(inp.ytd.tax + tax),
    )
