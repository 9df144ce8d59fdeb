"""R17.2: the exports of an approved period, read back with openpyxl.

The period is June 2025, a past month, so the test holds at any instant.
Identity numbers are fictional (region code 990000 does not exist)."""

import csv
import io
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from audit.models import AuditEvent
from payroll import exports, periods
from payroll.models import Payslip
from tests.factories import calculate, make_park, make_user, make_worker
from tests.workforce.test_identity import fake_id
from workforce.models import DeductionCategory
from workforce.services import special_deduction_set, worker_set_identity

pytestmark = pytest.mark.django_db

JUNE = date(2025, 6, 1)
IIT = [
    "工号",
    "姓名",
    "证件类型",
    "证件号码",
    "本期收入",
    "本期免税收入",
    "基本养老保险费",
    "基本医疗保险费",
    "失业保险费",
    "住房公积金",
    "累计子女教育",
    "累计继续教育",
    "累计住房贷款利息",
    "累计住房租金",
    "累计赡养老人",
    "累计3岁以下婴幼儿照护",
    "累计个人养老金",
    "其他",
    "准予扣除的捐赠额",
    "减免税额",
    "备注",
]


def fen(value) -> D:
    return D(str(value)).quantize(D("0.01"))


def rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def approved():
    """Three workers in June 2025: A insured at base 6,000 with 10,000 of
    salary, child education 1,000 since 2024 and housing rent 1,500 from
    April 2025; B not insured, 5,000; C nothing (net 0.00, no bank row)."""
    park = make_park()
    director = make_user("director", park=park)
    officer = make_user("payroll_officer", park=park)
    people = {}
    for key, seq, insured in (
        ("A", "101", True),
        ("B", "102", False),
        ("C", "103", False),
    ):
        worker = make_worker(
            park,
            hire_date=date(2024, 1, 1),
            birth_year=1990,
            insured=insured,
            si_base=D("6000.00"),
        )
        worker_set_identity(
            worker=worker,
            actor=None,
            resident_id=fake_id(seq=seq),
            bank_name="示例银行 (demo)",
            bank_account=f"6200000000000{seq}",
            account_holder=worker.name,
        )
        people[key] = worker
    a = people["A"]
    special_deduction_set(
        worker=a,
        category=DeductionCategory.CHILD_EDUCATION,
        monthly_amount=D("1000.00"),
        valid_from=date(2024, 1, 1),
    )
    special_deduction_set(
        worker=a,
        category=DeductionCategory.HOUSING_RENT,
        monthly_amount=D("1500.00"),
        valid_from=date(2025, 4, 1),
    )
    period = periods.period_get_or_create(park=park, month=JUNE)
    for key, amount in (("A", "10000.00"), ("B", "5000.00")):
        periods.adjustment_add(
            period=period,
            worker=people[key],
            kind="bonus",
            amount=D(amount),
            reason="salary",
            actor=officer,
        )
    calculate(period, actor=officer)
    period = periods.period_approve(period=period, actor=director)
    return period, officer, people


def test_bank_file_has_one_row_per_paid_payslip_and_the_total(approved):
    period, officer, people = approved
    _name, content, _type = exports.period_export(
        period=period, kind="bank", fmt="xlsx", actor=officer
    )
    got = rows(content)
    assert got[0] == ["序号", "账户名", "账号", "开户银行", "金额", "备注"]
    slips = {s.worker_id: s for s in Payslip.objects.filter(period=period)}
    paid = [w for w in people.values() if slips[w.id].net > 0]
    assert [w.employee_no for w in paid] == [
        people["A"].employee_no,
        people["B"].employee_no,
    ]
    body, summary = got[1:-1], got[-1]
    assert len(body) == 2
    for row, worker in zip(body, paid, strict=True):
        assert row[1:4] == [worker.name, worker.bank_account, "示例银行 (demo)"]
        assert fen(row[4]) == slips[worker.id].net
    total = sum(slips[w.id].net for w in paid)
    assert summary[:2] == ["合计", "2 笔"] and fen(summary[4]) == total
    event = AuditEvent.objects.get(action="period.export.bank")
    assert event.actor == officer and event.after == {
        "format": "xlsx",
        "rows": 2,
        "total": str(total),
    }
    assert people["A"].bank_account not in str(event.after)


def test_iit_declaration_carries_the_r11_inputs(approved):
    """A: income 10,000.00, SI on base 6,000: 480.00, 120.00, 30.00; June's
    cumulative child education 6 × 1,000 = 6,000.00, housing rent
    3 × 1,500 = 4,500.00. The ID numbers are decrypted in full."""
    period, officer, people = approved
    _name, content, _type = exports.period_export(
        period=period, kind="iit", fmt="xlsx", actor=officer
    )
    got = rows(content)
    assert got[0] == IIT
    assert len(got) == 1 + Payslip.objects.filter(period=period).count()
    a = dict(zip(IIT, got[1], strict=True))
    slip = Payslip.objects.get(period=period, worker=people["A"])
    assert a["证件号码"] == fake_id(seq="101") and a["证件类型"] == "居民身份证"
    assert fen(a["本期收入"]) == slip.taxable == D("10000.00")
    assert [fen(a[k]) for k in ("基本养老保险费", "基本医疗保险费", "失业保险费")] == [
        D("480.00"),
        D("120.00"),
        D("30.00"),
    ]
    assert sum(fen(a[k]) for k in IIT[6:9]) == slip.social_insurance
    assert fen(a["累计子女教育"]) == D("6000.00")
    assert fen(a["累计住房租金"]) == D("4500.00")
    assert fen(a["累计赡养老人"]) == D("0.00")
    b = dict(zip(IIT, got[2], strict=True))
    assert b["证件号码"] == fake_id(seq="102") and fen(b["本期收入"]) == D("5000.00")
    assert AuditEvent.objects.filter(action="period.export.iit").count() == 1


def test_si_list_and_csv(approved):
    period, officer, people = approved
    _name, content, _type = exports.period_export(
        period=period, kind="si", fmt="csv", actor=officer
    )
    text = content.decode("utf-8-sig")
    got = list(csv.reader(io.StringIO(text)))
    assert got[0][4:] == [
        "缴费基数",
        "基本养老保险(个人)",
        "基本医疗保险(个人)",
        "失业保险(个人)",
        "个人缴费合计",
    ]
    assert got[1:] == [
        [
            people["A"].employee_no,
            people["A"].name,
            "居民身份证",
            fake_id(seq="101"),
            "6000.00",
            "480.00",
            "120.00",
            "30.00",
            "630.00",
        ]
    ]


def test_missing_data_is_listed_and_nothing_written(approved, client, tmp_path):
    """B's account number is cleared: the bank file is refused on the page
    (the list), the command (non-zero) and the API (400 with the list)."""
    period, officer, people = approved
    worker_set_identity(worker=people["B"], actor=None, bank_account="")
    with pytest.raises(exports.ExportRefused) as exc:
        exports.period_export(period=period, kind="bank", fmt="xlsx", actor=officer)
    assert [p["employee_no"] for p in exc.value.problems] == [people["B"].employee_no]
    out = tmp_path / "bank.xlsx"
    with pytest.raises(CommandError, match=people["B"].employee_no):
        call_command(
            "export_payments", str(period.pk), "--kind", "bank", "--output", str(out)
        )
    assert not out.exists()
    client.force_login(officer)
    page = client.get(f"/park/payroll/{period.pk}/export/bank.xlsx")
    assert page.status_code == 400
    assert people["B"].employee_no in page.content.decode()
    api = client.get(f"/api/v1/pay-periods/{period.pk}/exports/bank.csv")
    assert api.status_code == 400
    assert api.json()["errors"][0]["employee_no"] == people["B"].employee_no
    assert not AuditEvent.objects.filter(action__startswith="period.export").exists()
    # The other exports do not need the bank account.
    ok = client.get(f"/api/v1/pay-periods/{period.pk}/exports/iit.xlsx")
    assert ok.status_code == 200 and rows(ok.content)[0] == IIT


def test_page_and_command_export(approved, client, tmp_path):
    period, officer, _people = approved
    client.force_login(officer)
    page = client.get(f"/park/payroll/{period.pk}/")
    assert f"/park/payroll/{period.pk}/export/bank.xlsx" in page.content.decode()
    answer = client.get(f"/park/payroll/{period.pk}/export/si.xlsx")
    assert answer.status_code == 200
    assert rows(answer.content)[1][3] == fake_id(seq="101")
    out = tmp_path / "iit.csv"
    call_command(
        "export_payments",
        str(period.pk),
        "--kind",
        "iit",
        "--format",
        "csv",
        "--output",
        str(out),
        stdout=io.StringIO(),
    )
    assert out.read_bytes().decode("utf-8-sig").splitlines()[0] == ",".join(IIT)
    assert AuditEvent.objects.filter(action__startswith="period.export").count() == 2


def test_only_approved_periods_are_exported():
    park = make_park()
    officer = make_user("payroll_officer", park=park)
    period = periods.period_get_or_create(park=park, month=JUNE)
    with pytest.raises(ValidationError) as exc:
        exports.period_export(period=period, kind="bank", fmt="xlsx", actor=officer)
    assert exc.value.messages == [str(exports.NOT_APPROVED)]
