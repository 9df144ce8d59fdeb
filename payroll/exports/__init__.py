"""R17.2: the files of an approved (or paid) period for the bank and the tax
and social insurance offices, as ``.xlsx`` or CSV.

- ``bank``: the batch payment file, one row per payslip with net pay above 0,
  with the count and total, in the column layout the park chose for its bank
  (``payroll.bank_layouts``; the standard layout unless it chose another).
- ``iit``: the withholding declaration of 正常工资薪金所得 in the column layout
  of the withholding client's import template (``IIT_HEADERS``); its figures
  are the payslips' R11 inputs.
- ``si``: the social insurance contribution list, base and each employee item
  per insured worker.
- ``personnel``: the personnel information list (人员信息采集) of the month's
  new hires and leavers.

The column headers are the receiving systems' file formats, in Chinese
whatever the reader's language. A worker whose resident ID number or bank data
is missing or invalid (or whose special deduction has no category) is listed
as an error and nothing is written: never a row with blanks.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from documents.csv import BOM, csv_writer
from payroll.bank_layouts import STANDARD
from payroll.engine import LineKind
from payroll.integrations import require_park_role
from payroll.models import LOCKED_STATUSES, PayPeriod, Payslip, PayslipLine
from payroll.services import bank_layout_of
from workforce.deductions import special_deductions_by_category
from workforce.identity import validate_account, validate_resident_id
from workforce.models import DeductionCategory, Worker

KIND_LABELS = [
    ("bank", _("bank batch payment")),
    ("iit", _("income tax withholding declaration")),
    ("si", _("social insurance contributions")),
    ("personnel", _("personnel information (new hires and leavers)")),
]
KINDS = tuple(kind for kind, _label in KIND_LABELS)
FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}

NOT_APPROVED = _("Only an approved or paid period can be exported.")
EXPORT_STAFF_ONLY = _("Only the park's director or payroll officer can export.")
UNKNOWN_KIND = _("Unknown export.")
MISSING_ID = _("no resident ID number on record")
INVALID_ID = _("the resident ID number on record is not valid")
MISSING_BANK = _("no bank, account number or account holder on record")
INVALID_ACCOUNT = _("the bank account number on record is not valid")
UNSPECIFIED_DEDUCTION = _(
    "a special additional deduction carried over without a category"
)

BANK_HEADERS = STANDARD.headers
IIT_HEADERS = [
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
IIT_CATEGORIES = [
    DeductionCategory.CHILD_EDUCATION,
    DeductionCategory.CONTINUING_EDUCATION,
    DeductionCategory.HOUSING_LOAN_INTEREST,
    DeductionCategory.HOUSING_RENT,
    DeductionCategory.ELDERLY_CARE,
    DeductionCategory.INFANT_CARE,
    DeductionCategory.PERSONAL_PENSION,
]
SI_HEADERS = [
    "工号",
    "姓名",
    "证件类型",
    "证件号码",
    "缴费基数",
    "基本养老保险(个人)",
    "基本医疗保险(个人)",
    "失业保险(个人)",
    "个人缴费合计",
]
PERSONNEL_HEADERS = [
    "工号",
    "姓名",
    "证件类型",
    "证件号码",
    "国籍(地区)",
    "性别",
    "出生日期",
    "人员状态",
    "任职受雇从业类型",
    "任职受雇从业日期",
    "离职日期",
]
SI_KINDS = (LineKind.PENSION, LineKind.MEDICAL, LineKind.UNEMPLOYMENT)
ID_TYPE = "居民身份证"
GENDERS = {"female": "女", "male": "男"}
ZERO = Decimal("0.00")


@dataclass
class Export:
    kind: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    # The closing rows (count and total), after the data rows.
    summary: list[list] = field(default_factory=list)
    # Rows before the headers (a bank layout's count and total).
    preamble: list[list] = field(default_factory=list)
    count: int = 0
    total: Decimal = ZERO


class ExportRefused(ValidationError):
    """The workers whose data is missing or invalid, one message each."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__(
            [f"{p['employee_no']} {p['name']}: {p['problem']}" for p in problems]
        )


def _problems(worker: Worker, *, bank: bool, categories: dict | None) -> list:
    found = []
    if not worker.resident_id:
        found.append(MISSING_ID)
    else:
        try:
            validate_resident_id(worker.resident_id, worker.birth_year)
        except ValidationError:
            found.append(INVALID_ID)
    if bank:
        if not (worker.bank_name and worker.bank_account and worker.account_holder):
            found.append(MISSING_BANK)
        else:
            try:
                validate_account(worker.bank_account)
            except ValidationError:
                found.append(INVALID_ACCOUNT)
    if categories and categories.get(DeductionCategory.UNSPECIFIED):
        found.append(UNSPECIFIED_DEDUCTION)
    return found


def _si_lines(payslip_ids) -> dict[int, dict[str, tuple[Decimal, Decimal]]]:
    """Per payslip: each social insurance item's (base, amount > 0)."""
    found: dict[int, dict] = {}
    for pid, kind, base, amount in PayslipLine.objects.filter(
        payslip_id__in=payslip_ids,
        kind__in=SI_KINDS,
    ).values_list("payslip_id", "kind", "quantity", "amount"):
        found.setdefault(pid, {})[kind] = (base, -amount)
    return found


def period_export_build(*, period: PayPeriod, kind: str) -> Export:
    """The rows of one export, or ExportRefused listing every worker at fault."""
    if kind not in KINDS:
        raise ValidationError(UNKNOWN_KIND)
    if period.status not in LOCKED_STATUSES:
        raise ValidationError(NOT_APPROVED)
    if kind == "personnel":
        return _personnel(period)
    slips = list(
        Payslip.objects.filter(period=period)
        .select_related("worker")
        .order_by("worker__employee_no")
    )
    if kind == "bank":
        slips = [s for s in slips if s.net > 0]
    elif kind == "si":
        slips = [s for s in slips if s.social_insurance > 0]
    si = _si_lines([s.id for s in slips])
    categories = special_deductions_by_category(
        worker_ids=[s.worker_id for s in slips], month=period.month
    )
    problems = [
        {"employee_no": s.worker.employee_no, "name": s.worker.name, "problem": p}
        for s in slips
        for p in _problems(
            s.worker,
            bank=kind == "bank",
            categories=categories.get(s.worker_id) if kind == "iit" else None,
        )
    ]
    if problems:
        raise ExportRefused(problems)
    layout = bank_layout_of(period.park) if kind == "bank" else None
    headers = {
        "bank": layout.headers if layout else BANK_HEADERS,
        "iit": IIT_HEADERS,
        "si": SI_HEADERS,
    }[kind]
    export = Export(kind=kind, headers=headers)
    for n, slip in enumerate(slips, 1):
        w, items = slip.worker, si.get(slip.id, {})
        amounts = [items.get(k, (None, ZERO))[1] for k in SI_KINDS]
        if kind == "bank":
            remark = f"{period.month:%Y-%m} 工资 {slip.number}"
            row = layout.row(
                seq=n,
                holder=w.account_holder,
                account=w.bank_account,
                bank=w.bank_name,
                amount=slip.net,
                remark=remark,
            )
            export.total += slip.net
        elif kind == "iit":
            cumulative = categories.get(slip.worker_id, {})
            row = [
                w.employee_no,
                w.name,
                ID_TYPE,
                w.resident_id,
                slip.taxable,
                ZERO,
                *amounts,
                ZERO,  # housing fund: not withheld by the park
                *[cumulative.get(c, ZERO) for c in IIT_CATEGORIES],
                ZERO,
                ZERO,
                ZERO,
                "",
            ]
            export.total += slip.taxable
        else:
            base = next((b for b, _a in items.values() if b is not None), ZERO)
            row = [w.employee_no, w.name, ID_TYPE, w.resident_id, base, *amounts]
            row.append(sum(amounts, ZERO))
            export.total += row[-1]
        export.rows.append(row)
    export.count = len(export.rows)
    if kind == "bank":
        closing = layout.summary_rows(export.count, export.total)
        if layout.summary == "header":
            export.preamble = closing
        else:
            export.summary = closing
    return export


def _personnel(period: PayPeriod) -> Export:
    start = period.month
    end = (start + timedelta(days=32)).replace(day=1)
    workers = list(
        Worker.objects.filter(park=period.park)
        .filter(
            Q(hire_date__gte=start, hire_date__lt=end)
            | Q(leave_date__gte=start, leave_date__lt=end)
        )
        .order_by("employee_no")
    )
    problems = [
        {"employee_no": w.employee_no, "name": w.name, "problem": p}
        for w in workers
        for p in _problems(w, bank=False, categories=None)
    ]
    if problems:
        raise ExportRefused(problems)
    export = Export(kind="personnel", headers=PERSONNEL_HEADERS)
    for w in workers:
        rid = w.resident_id
        born = date(int(rid[6:10]), int(rid[10:12]), int(rid[12:14]))
        left = w.leave_date is not None and start <= w.leave_date < end
        export.rows.append(
            [
                w.employee_no,
                w.name,
                ID_TYPE,
                w.resident_id,
                "中国",
                GENDERS.get(w.gender, ""),
                born.isoformat(),
                "非正常" if left else "正常",
                "雇员",
                w.hire_date.isoformat(),
                w.leave_date.isoformat() if left else "",
            ]
        )
    export.count = len(export.rows)
    return export


CENT = Decimal("0.01")


def _csv_cell(value):
    """Money with its two decimals, still a number (so never taken for a
    formula by documents.csv, however negative)."""
    return value.quantize(CENT) if isinstance(value, Decimal) else value


def render(export: Export, fmt: str) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv_writer(out, lineterminator="\r\n")
        for row in [*export.preamble, export.headers, *export.rows, *export.summary]:
            writer.writerow([_csv_cell(v) for v in row])
        return (BOM + out.getvalue()).encode()
    if fmt != "xlsx":
        raise ValidationError(UNKNOWN_KIND)
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = export.kind
    for row in [*export.preamble, export.headers, *export.rows, *export.summary]:
        sheet.append(row)
        if row is export.headers:
            continue
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.00"
            elif isinstance(cell.value, str):
                cell.number_format = "@"  # ID and account numbers stay text
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@transaction.atomic
def period_export(*, period: PayPeriod, kind: str, fmt: str, actor):
    """R17.2: the file of one export, audited (which, how many, the total;
    never a person's data). Returns (filename, content, content type)."""
    require_park_role(
        actor, period.park_id, {"director", "payroll_officer"}, EXPORT_STAFF_ONLY
    )
    if fmt not in FORMATS:
        raise ValidationError(UNKNOWN_KIND)
    export = period_export_build(period=period, kind=kind)
    content = render(export, fmt)
    audit_record(
        actor=actor,
        park=period.park,
        action=f"period.export.{kind}",
        obj=period,
        after={
            "format": fmt,
            "rows": export.count,
            "total": export.total,
        },
    )
    filename = f"{period.park.code}-{period.month:%Y-%m}-{kind}.{fmt}"
    return filename, content, CONTENT_TYPES[fmt]
