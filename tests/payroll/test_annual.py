"""The annual summary of a worker's year (年度汇算): its figures are the
approved payslips' and the R11 inputs they were calculated with (R11.2
special additional deductions dated per category, R11.4 tax withheld).

The year is 2025, a past year, so the test holds at any instant: February
to April approved (March paid), May only calculated, January without work.
"""

import io
import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.test import Client
from pypdf import PdfReader

from payroll import periods
from payroll.annual import annual_summary
from payroll.engine import LineKind, cumulative_tax, money
from payroll.models import Payslip
from payroll.pdf import money as shown
from tests.factories import calculate, make_park, make_user, make_worker
from workforce.deductions import (
    special_deductions_by_category,
    special_deductions_to_date,
)
from workforce.models import DeductionCategory
from workforce.services import special_deduction_set

pytestmark = pytest.mark.django_db

FEB, MAR, APR, MAY = (date(2025, m, 1) for m in (2, 3, 4, 5))
CHILD, RENT = DeductionCategory.CHILD_EDUCATION, DeductionCategory.HOUSING_RENT


@pytest.fixture
def year():
    """王芳, insured at base 6,000, child education 1,000 since 2024 and
    housing rent 1,500 from April 2025; salaries of 12,000 to 15,000."""
    park = make_park()
    director = make_user("director", park=park)
    officer = make_user("payroll_officer", park=park)
    fang = make_worker(
        park,
        name="王芳",
        hire_date=date(2024, 6, 1),
        with_login=True,
        insured=True,
        si_base=D("6000.00"),
    )
    other = make_worker(park, name="赵六", with_login=True)
    special_deduction_set(
        worker=fang,
        category=CHILD,
        monthly_amount=D("1000.00"),
        valid_from=date(2024, 6, 1),
    )
    special_deduction_set(
        worker=fang, category=RENT, monthly_amount=D("1500.00"), valid_from=APR
    )
    salaries = {FEB: "12000.00", MAR: "15123.37", APR: "13500.50", MAY: "14000.00"}
    for month, amount in salaries.items():
        period = periods.period_get_or_create(park=park, month=month)
        periods.adjustment_add(
            period=period,
            worker=fang,
            kind="bonus",
            amount=D(amount),
            reason="salary",
            actor=officer,
        )
        calculate(period, actor=officer)
        if month != MAY:
            period = periods.period_approve(period=period, actor=director)
        if month == MAR:
            periods.period_mark_paid(period=period, actor=officer)
    return park, director, officer, fang, other


def slips(worker):
    return {
        s.period.month: s
        for s in Payslip.objects.filter(worker=worker)
        .select_related("period")
        .prefetch_related("lines")
    }


def test_the_figures_are_the_payslips_and_the_r11_inputs(year):
    _park, _d, _o, fang, _other = year
    summary = annual_summary(worker=fang, year=2025)
    assert [m.month for m in summary.months] == [date(2025, n, 1) for n in range(1, 13)]
    paid = slips(fang)
    rows = {m.month: m for m in summary.months}
    assert [m.month for m in summary.months if m.payslip] == [FEB, MAR, APR]
    assert not rows[MAY].payslip  # calculated, not approved: not yet a figure
    for month in (FEB, MAR, APR):
        row, slip = rows[month], paid[month]
        lines = {line.kind: -line.amount for line in slip.lines.all()}
        assert row.payslip == slip.number
        assert row.income == slip.taxable and row.tax == slip.tax
        assert row.pension == lines[LineKind.PENSION] > 0
        assert row.medical == lines[LineKind.MEDICAL] > 0
        assert row.unemployment == lines[LineKind.UNEMPLOYMENT] > 0
        assert row.social_insurance == slip.social_insurance
        assert row.ytd_income == slip.ytd_taxable
        assert row.ytd_social_insurance == slip.ytd_social_insurance
        assert row.ytd_tax == slip.ytd_tax
        # R11.2: the special deductions to date the calculation used.
        assert row.ytd_special == special_deductions_to_date(
            worker_ids=[fang.id], month=month
        ).get(fang.id, D(0))
        by_category = special_deductions_by_category(worker_ids=[fang.id], month=month)
        assert {c: a for c, a in by_category[fang.id].items()} == {
            c: sum((rows[m].special.get(c, D(0)) for m in rows if m <= month), D(0))
            + (D("1000.00") if c == CHILD else D(0))  # January, no payslip
            for c in by_category[fang.id]
        }
        # R11.3/R11.4: the cumulative tax of the cumulative taxable income.
        assert money(cumulative_tax(row.ytd_taxable)) == row.ytd_tax
    # Dated per category: rent from April only.
    assert rows[MAR].special == {CHILD: D("1000.00")}
    assert rows[APR].special == {CHILD: D("1000.00"), RENT: D("1500.00")}
    assert rows[APR].ytd_special == D("4000.00") + D("1500.00")
    # January counts for the basic deduction though nothing was earned.
    assert rows[FEB].ytd_basic == D("10000") and rows[APR].ytd_basic == D("20000")
    assert summary.totals["income"] == sum(paid[m].taxable for m in (FEB, MAR, APR))
    assert summary.totals["tax"] == paid[APR].ytd_tax
    assert summary.categories == [CHILD, RENT]


def test_the_worker_sees_her_own_year(year, django_assert_max_num_queries):
    _park, _d, _o, fang, other = year
    client = Client()
    client.force_login(fang.user)
    with django_assert_max_num_queries(15):
        response = client.get("/me/annual/", {"year": 2025})
    assert response.status_code == 200
    page = response.content.decode()
    paid = slips(fang)
    for month in (FEB, MAR, APR):
        assert shown(paid[month].taxable) in page and shown(paid[month].tax) in page
    assert "子女教育" in page and "住房租金" in page
    assert "2025 年度汇总" in page
    # Another worker's page shows nothing of hers.
    client.force_login(other.user)
    page = client.get("/me/annual/", {"year": 2025}).content.decode()
    assert shown(paid[MAR].taxable) not in page
    assert paid[MAR].number not in page
    # Nonsense years are a clear 400, never a 500.
    assert client.get("/me/annual/", {"year": "x"}).status_code == 400
    assert client.get("/me/annual/", {"year": "1999"}).status_code == 400


def test_staff_see_any_worker_of_their_park(year, django_assert_max_num_queries):
    _park, _director, officer, fang, _other = year
    client = Client()
    client.force_login(officer)
    with django_assert_max_num_queries(20):
        response = client.get(
            "/park/annual/", {"employee_no": fang.employee_no, "year": 2025}
        )
    page = response.content.decode()
    assert response.status_code == 200 and "王芳" in page
    assert shown(slips(fang)[APR].ytd_tax) in page
    stranger = make_user("director", park=make_park())
    client.force_login(stranger)
    page = client.get(
        "/park/annual/", {"employee_no": fang.employee_no, "year": 2025}
    ).content.decode()
    assert "王芳" not in page
    assert client.get(f"/park/workers/{fang.pk}/annual/2025.pdf").status_code == 404
    client.force_login(fang.user)
    assert client.get("/park/annual/").status_code == 404
    assert client.get(f"/park/workers/{fang.pk}/annual/2025.pdf").status_code == 404


def test_the_pdf_states_the_same_figures(year):
    _park, director, _o, fang, _other = year
    for user, url in (
        (fang.user, "/me/annual/2025.pdf"),
        (director, f"/park/workers/{fang.pk}/annual/2025.pdf"),
    ):
        client = Client()
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
        paid = slips(fang)
        lines = text.splitlines()
        for month in (FEB, MAR, APR):
            slip = paid[month]
            line = next(x for x in lines if x.startswith(f"{month:%Y-%m}"))
            figures = re.findall(r"-?[\d,]+\.\d\d", line)
            assert figures[0] == shown(slip.taxable)
            assert figures[6] == shown(slip.tax)
            assert figures[7] == shown(slip.ytd_taxable)
            assert figures[-1] == shown(slip.ytd_tax)
        assert "王芳" in text and "2025" in text
