"""The PDF of a worker's annual summary (年度汇算): one landscape A4 page,
Chinese and English labels, drawn like the payslips in the embedded CJK font.
Rendering reads no database: the caller passes an ``AnnualSummary``."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4, landscape

from payroll.annual import AnnualSummary
from payroll.pdf import ACCENT, GREY, LIGHT, RULE, _canvas, _Pen, money

WIDTH, HEIGHT = landscape(A4)
MARGIN = 30

CATEGORY_LABELS = {
    "child_education": "子女教育 Child education",
    "continuing_education": "继续教育 Continuing education",
    "housing_loan_interest": "住房贷款利息 Housing loan interest",
    "housing_rent": "住房租金 Housing rent",
    "elderly_care": "赡养老人 Elderly care",
    "infant_care": "3岁以下婴幼儿照护 Infant care",
    "personal_pension": "个人养老金 Personal pension",
    "unspecified": "未分类 Unspecified",
}
COLUMNS = [
    # (Chinese, English, attribute)
    ("收入", "Income", "income"),
    ("免税收入", "Tax-free", "tax_free"),
    ("养老保险", "Pension", "pension"),
    ("医疗保险", "Medical", "medical"),
    ("失业保险", "Unemploym.", "unemployment"),
    ("专项附加扣除", "Special ded.", "special_total"),
    ("已扣缴税额", "Tax withheld", "tax"),
    ("累计收入", "YTD income", "ytd_income"),
    ("累计社保", "YTD soc. ins.", "ytd_social_insurance"),
    ("累计减除费用", "YTD basic ded.", "ytd_basic"),
    ("累计专项附加", "YTD special", "ytd_special"),
    ("累计应纳税所得", "YTD taxable", "ytd_taxable"),
    ("累计已扣缴", "YTD tax", "ytd_tax"),
]
TOTALLED = {
    "income",
    "tax_free",
    "pension",
    "medical",
    "unemployment",
    "special_total",
    "tax",
}


def render_annual(summary: AnnualSummary, *, park_name: str) -> bytes:
    buffer = io.BytesIO()
    worker = summary.worker
    canvas = _canvas(buffer, f"年度收入汇总 Annual summary {summary.year}")
    canvas.setPageSize((WIDTH, HEIGHT))
    pen = _Pen(canvas)
    right = WIDTH - MARGIN

    y = HEIGHT - MARGIN - 16
    pen.text(
        MARGIN,
        y,
        f"{summary.year} 年度收入纳税汇总  "
        f"Annual income and tax summary {summary.year}",
        size=15,
        color=ACCENT,
    )
    pen.text(right, y + 2, park_name, size=10, align="right")
    y -= 18
    pen.text(
        MARGIN,
        y,
        f"姓名 Name: {worker.name}   工号 Employee No.: {worker.employee_no}",
        size=9,
    )
    pen.text(
        right,
        y,
        "供个人所得税综合所得年度汇算参考 For the annual income tax reconciliation",
        size=8,
        color=GREY,
        align="right",
    )
    y -= 8
    pen.rule(y, x0=MARGIN, x1=right, color=ACCENT, width=1.2)
    y -= 6

    month_width = 66
    col = (right - MARGIN - month_width) / len(COLUMNS)
    pen.fill(LIGHT)
    canvas.rect(MARGIN, y - 26, right - MARGIN, 26, stroke=0, fill=1)
    pen.text(MARGIN + 3, y - 11, "月份", size=7.5, color=GREY)
    pen.text(MARGIN + 3, y - 21, "Month", size=7, color=GREY)
    for n, (zh, en, _attr) in enumerate(COLUMNS):
        x = MARGIN + month_width + (n + 1) * col - 3
        pen.text(x, y - 11, zh, size=6.5, color=GREY, align="right")
        pen.text(x, y - 21, en, size=7, color=GREY, align="right")
    y -= 26
    for row in summary.months:
        pen.text(MARGIN + 3, y - 11, f"{row.month:%Y-%m}", size=8)
        if not row.payslip:
            pen.text(
                MARGIN + month_width,
                y - 11,
                "无已审批工资条 No approved payslip",
                size=7.5,
                color=GREY,
            )
        else:
            for n, (_zh, _en, attr) in enumerate(COLUMNS):
                x = MARGIN + month_width + (n + 1) * col - 3
                pen.text(x, y - 11, money(getattr(row, attr)), size=7.5, align="right")
        pen.rule(y - 15, x0=MARGIN, x1=right, color=LIGHT, width=0.5)
        y -= 15
    pen.rule(y - 1, x0=MARGIN, x1=right, color=RULE)
    pen.text(MARGIN + 3, y - 13, "合计 Total", size=8.5)
    totals = summary.totals
    for n, (_zh, _en, attr) in enumerate(COLUMNS):
        if attr in TOTALLED:
            x = MARGIN + month_width + (n + 1) * col - 3
            pen.text(x, y - 13, money(totals[attr]), size=8, align="right")
    y -= 30

    if summary.categories:
        pen.text(
            MARGIN,
            y,
            "专项附加扣除（每月适用金额） "
            "Special additional deductions in force each month",
            size=9,
            color=ACCENT,
        )
        y -= 6
        cat_col = (right - MARGIN - month_width) / max(len(summary.categories), 4)
        pen.fill(LIGHT)
        canvas.rect(MARGIN, y - 16, right - MARGIN, 16, stroke=0, fill=1)
        pen.text(MARGIN + 3, y - 11, "月份 Month", size=7, color=GREY)
        for n, category in enumerate(summary.categories):
            x = MARGIN + month_width + (n + 1) * cat_col - 3
            label = CATEGORY_LABELS.get(category, category)
            pen.text(x, y - 11, label, size=7, color=GREY, align="right")
        y -= 16
        for row in summary.months:
            if not row.payslip:
                continue
            pen.text(MARGIN + 3, y - 10, f"{row.month:%Y-%m}", size=7.5)
            for n, category in enumerate(summary.categories):
                x = MARGIN + month_width + (n + 1) * cat_col - 3
                amount = row.special.get(category)
                text = money(amount) if amount is not None else "—"
                pen.text(x, y - 10, text, size=7.5, align="right")
            y -= 12

    pen.rule(MARGIN + 4, x0=MARGIN, x1=right, color=RULE, width=0.4)
    pen.text(
        MARGIN,
        MARGIN - 6,
        "ParkPay · 数据来自已审批的工资条 Figures from the approved payslips · "
        "免税收入、住房公积金未在园区发放或扣缴 No tax-free income or housing "
        "fund is paid or withheld by the park",
        size=6.5,
        color=GREY,
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
