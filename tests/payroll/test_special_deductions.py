"""R11.2: special additional deductions are dated per category.

All months are in 2025, a past year, so the test holds whatever the clock
says (the suite also runs with ``--fake-now``)."""

from datetime import date
from decimal import Decimal as D

import pytest

from payroll import periods
from payroll.models import Payslip
from tests.factories import calculate, make_park, make_user, make_worker
from workforce.deductions import (
    special_deductions_by_category,
    special_deductions_to_date,
)
from workforce.models import DeductionCategory, SpecialDeduction

pytestmark = pytest.mark.django_db

CHILD = DeductionCategory.CHILD_EDUCATION
RENT = DeductionCategory.HOUSING_RENT


def deduction(worker, category, amount, month):
    row = SpecialDeduction(
        worker=worker, category=category, monthly_amount=D(amount), valid_from=month
    )
    row.full_clean()
    row.save()
    return row


def month_tax(park, worker, month, actor):
    period = periods.period_get_or_create(park=park, month=month)
    periods.adjustment_add(
        period=period,
        worker=worker,
        kind="bonus",
        amount=D("10000.00"),
        reason="salary",
        actor=actor,
    )
    calculate(period, actor=actor)
    return Payslip.objects.get(period=period, worker=worker)


def test_to_date_sums_the_amount_in_force_each_month():
    """Child education 1,000 from January, raised to 3,000 from July; housing
    rent 1,500 from March, ended (0.00) from May. Hired in an earlier year.

    April: 4 × 1,000 + 2 × 1,500 = 7,000;
    June: 6 × 1,000 + 2 × 1,500 = 9,000 (child 6,000, rent 3,000);
    July: 6 × 1,000 + 1 × 3,000 + 3,000 = 12,000;
    August: 6,000 + 2 × 3,000 + 3,000 = 15,000."""
    park = make_park()
    worker = make_worker(park, hire_date=date(2023, 5, 10))
    deduction(worker, CHILD, "1000.00", date(2024, 9, 1))
    deduction(worker, CHILD, "3000.00", date(2025, 7, 1))
    deduction(worker, RENT, "1500.00", date(2025, 3, 1))
    deduction(worker, RENT, "0.00", date(2025, 5, 1))
    ids = [worker.id]
    assert special_deductions_by_category(worker_ids=ids, month=date(2025, 6, 1)) == {
        worker.id: {CHILD: D("6000.00"), RENT: D("3000.00")}
    }
    totals = {
        m: special_deductions_to_date(worker_ids=ids, month=date(2025, m, 1))[worker.id]
        for m in (1, 4, 6, 7, 8)
    }
    assert totals == {
        1: D("1000.00"),
        4: D("7000.00"),
        6: D("9000.00"),
        7: D("12000.00"),
        8: D("15000.00"),
    }


def test_hire_month_bounds_the_year_to_date():
    """Hired 2025-04-20 with 2,000 from April (rows before the hire month do
    not count earlier months): May's figure is 2 × 2,000 = 4,000."""
    park = make_park()
    worker = make_worker(park, hire_date=date(2025, 4, 20))
    deduction(worker, CHILD, "2000.00", date(2025, 1, 1))
    got = special_deductions_to_date(worker_ids=[worker.id], month=date(2025, 5, 1))
    assert got == {worker.id: D("4000.00")}


def test_raise_from_july_changes_july_and_later_only():
    """Not insured, a salary of 10,000 a month (a bonus), child education
    1,000 a month from January, raised to 3,000 from July.

    January–June: cumulative taxable = 10,000 m − 5,000 m − 1,000 m = 4,000 m;
    June 24,000, cumulative tax 720.00, 120.00 withheld each month.
    July: 70,000 − 35,000 − (6 × 1,000 + 3,000) = 26,000, cumulative tax
    780.00, withheld 780 − 720 = 60.00.
    August: 80,000 − 40,000 − (6,000 + 2 × 3,000) = 28,000, tax 840.00,
    withheld 60.00.
    (With one undated amount of 3,000 July would be 70,000 − 35,000 − 21,000 =
    14,000 → 420.00 cumulative, nothing withheld: under-withheld.)

    June is recalculated after the raise is entered and does not change."""
    park = make_park()
    actor = make_user("payroll_officer", park=park)
    worker = make_worker(park, hire_date=date(2024, 3, 1), insured=False)
    deduction(worker, CHILD, "1000.00", date(2024, 3, 1))
    slips = {m: month_tax(park, worker, date(2025, m, 1), actor) for m in range(1, 7)}
    assert [slips[m].tax for m in range(1, 7)] == [D("120.00")] * 6
    assert slips[6].ytd_tax == D("720.00")

    deduction(worker, CHILD, "3000.00", date(2025, 7, 1))
    june = periods.period_get_or_create(park=park, month=date(2025, 6, 1))
    calculate(june, actor=actor)
    again = Payslip.objects.get(period=june, worker=worker)
    assert (again.tax, again.ytd_taxable, again.ytd_tax) == (
        D("120.00"),
        D("60000.00"),
        D("720.00"),
    )

    july = month_tax(park, worker, date(2025, 7, 1), actor)
    assert (july.tax, july.ytd_tax) == (D("60.00"), D("780.00"))
    august = month_tax(park, worker, date(2025, 8, 1), actor)
    assert (august.tax, august.ytd_tax) == (D("60.00"), D("840.00"))


def test_migrated_category_cannot_be_chosen_for_a_new_amount():
    """The carried-over category exists only for amounts migrated from the
    former undated figure."""
    from django.core.exceptions import ValidationError

    park = make_park()
    worker = make_worker(park)
    with pytest.raises(ValidationError) as exc:
        deduction(worker, DeductionCategory.UNSPECIFIED, "100.00", date(2025, 1, 1))
    assert "category" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        deduction(worker, CHILD, "100.00", date(2025, 1, 2))
    assert "valid_from" in exc.value.message_dict
