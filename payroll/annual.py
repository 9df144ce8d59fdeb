"""R17.4: the annual summary of one worker's year (年度汇算): month by month the
figures the annual income tax reconciliation asks for, read from the payslips
of approved or paid months and the R11 inputs they were calculated with.

For each month: income (the R11.1 taxable income), tax-free income (none is
paid at the park), the social insurance items of R10, the special additional
deductions in force per category (R11.2), the tax withheld (R11.4), and the
cumulative figures of R11.2 (income, social insurance, basic deduction,
special additional deductions, tax). Reads only, in a fixed number of queries
whatever the worker's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from payroll.calculation.aggregation import months_employed
from payroll.engine import BASIC_DEDUCTION_MONTHLY, BASIC_DEDUCTION_YEAR, LineKind
from payroll.models import LOCKED_STATUSES, Payslip, PayslipLine
from workforce.deductions import special_deductions_by_month
from workforce.models import FILING_CATEGORIES, DeductionCategory, Worker

ZERO = Decimal("0.00")
SI_KINDS = (LineKind.PENSION, LineKind.MEDICAL, LineKind.UNEMPLOYMENT)
CATEGORIES = [*FILING_CATEGORIES, DeductionCategory.UNSPECIFIED]


@dataclass
class AnnualMonth:
    month: date
    payslip: str = ""  # its number; empty: no approved payslip this month
    income: Decimal = ZERO
    tax_free: Decimal = ZERO
    pension: Decimal = ZERO
    medical: Decimal = ZERO
    unemployment: Decimal = ZERO
    # Category → amount in force this month.
    special: dict[str, Decimal] = field(default_factory=dict)
    tax: Decimal = ZERO
    ytd_income: Decimal = ZERO
    ytd_social_insurance: Decimal = ZERO
    ytd_basic: Decimal = ZERO
    ytd_special: Decimal = ZERO
    ytd_tax: Decimal = ZERO

    @property
    def social_insurance(self) -> Decimal:
        return self.pension + self.medical + self.unemployment

    @property
    def special_total(self) -> Decimal:
        return sum(self.special.values(), ZERO)

    @property
    def ytd_taxable(self) -> Decimal:
        """R11.2: the cumulative taxable income the month's tax was based on."""
        if not self.payslip:
            return ZERO
        return max(
            ZERO,
            self.ytd_income
            - self.ytd_basic
            - self.ytd_social_insurance
            - self.ytd_special,
        )


@dataclass
class AnnualSummary:
    worker: Worker
    year: int
    months: list[AnnualMonth]
    # The categories with an amount in some month, in filing order.
    categories: list[str]

    def total(self, name: str) -> Decimal:
        return sum((getattr(m, name) for m in self.months if m.payslip), ZERO)

    @property
    def totals(self) -> dict[str, Decimal]:
        names = (
            "income",
            "tax_free",
            "pension",
            "medical",
            "unemployment",
            "social_insurance",
            "special_total",
            "tax",
        )
        return {name: self.total(name) for name in names}

    @property
    def category_totals(self) -> dict[str, Decimal]:
        return {
            c: sum((m.special.get(c, ZERO) for m in self.months if m.payslip), ZERO)
            for c in self.categories
        }

    @property
    def paid_months(self) -> int:
        return sum(1 for m in self.months if m.payslip)


def annual_summary(*, worker: Worker, year: int) -> AnnualSummary:
    """The worker's year from her approved or paid payslips (months without
    one are listed empty). Three queries."""
    slips = list(
        Payslip.objects.filter(
            worker=worker,
            period__month__year=year,
            period__status__in=LOCKED_STATUSES,
        )
        .select_related("period")
        .only(
            "number",
            "taxable",
            "tax",
            "ytd_taxable",
            "ytd_social_insurance",
            "ytd_tax",
            "period__month",
        )
    )
    si: dict[int, dict[str, Decimal]] = {}
    for pid, kind, amount in PayslipLine.objects.filter(
        payslip_id__in=[s.id for s in slips], kind__in=SI_KINDS
    ).values_list("payslip_id", "kind", "amount"):
        si.setdefault(pid, {})[kind] = si.get(pid, {}).get(kind, ZERO) - amount
    special = special_deductions_by_month(worker=worker, year=year)
    by_month = {s.period.month: s for s in slips}
    months = []
    for n in range(1, 13):
        month = date(year, n, 1)
        row = AnnualMonth(month=month)
        slip = by_month.get(month)
        if slip is not None:
            items = si.get(slip.id, {})
            in_force = special.get(month, {})
            row.payslip = slip.number
            row.income = slip.taxable
            row.pension = items.get(LineKind.PENSION, ZERO)
            row.medical = items.get(LineKind.MEDICAL, ZERO)
            row.unemployment = items.get(LineKind.UNEMPLOYMENT, ZERO)
            row.special = {c: amounts[0] for c, amounts in in_force.items()}
            row.tax = slip.tax
            # The payslip's year to date includes its own month (R14).
            row.ytd_income = slip.ytd_taxable
            row.ytd_social_insurance = slip.ytd_social_insurance
            row.ytd_tax = slip.ytd_tax
            row.ytd_special = sum((a[1] for a in in_force.values()), ZERO)
            row.ytd_basic = (
                BASIC_DEDUCTION_YEAR
                if worker.full_year_basic_deduction
                else BASIC_DEDUCTION_MONTHLY * months_employed(worker.hire_date, month)
            )
        months.append(row)
    used = {c for m in months for c, amount in m.special.items() if amount}
    return AnnualSummary(
        worker=worker,
        year=year,
        months=months,
        categories=[c for c in CATEGORIES if c in used],
    )
