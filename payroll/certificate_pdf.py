"""The PDF of a certificate of income (R17.3): one A4 page, Chinese first and
English beside it, drawn like the payslips (``payroll.pdf``) in the embedded
CJK font.

The page carries the month-by-month figures copied at issue, their totals, the
verification code and a QR code of the public verification address, drawn
here module by module from segno's matrix (no image, nothing fetched).
Rendering reads no database: the caller passes the certificate (with its
``issued_by``) and the worker's masked resident ID number.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import segno
from reportlab.lib import colors

from payroll.certificates import grouped_code
from payroll.pdf import (
    ACCENT,
    CONTENT_WIDTH,
    GREY,
    INK,
    LIGHT,
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    RULE,
    WARN,
    _canvas,
    _Pen,
    fit,
    money,
    month_text,
    wrap,
)

QR_SIZE = 112  # points: about 4 cm, easy for a phone camera
QR_BORDER = 4  # modules of quiet zone, as the standard asks


def qr_matrix(url: str) -> tuple[tuple[int, ...], ...]:
    """The QR code's modules (1 dark), without the quiet zone."""
    return tuple(tuple(row) for row in segno.make(url, error="m").matrix)


def _draw_qr(pen: _Pen, url: str, x: float, y: float) -> None:
    """The QR code with its lower left corner at (x, y): one rectangle per
    run of dark modules in a row."""
    matrix = qr_matrix(url)
    count = len(matrix) + 2 * QR_BORDER
    module = QR_SIZE / count
    c = pen.c
    pen.fill(colors.white)
    c.rect(x, y, QR_SIZE, QR_SIZE, stroke=0, fill=1)
    pen.fill(INK)
    for r, row in enumerate(matrix):
        top = y + QR_SIZE - (r + QR_BORDER + 1) * module
        start = None
        for col, dark in enumerate((*row, 0)):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                left = x + (start + QR_BORDER) * module
                c.rect(left, top, (col - start) * module, module, stroke=0, fill=1)
                start = None


def _issuer(cert) -> str:
    user = cert.issued_by
    if user is None:
        return "ParkPay"
    if cert.worker.user_id == user.pk:
        return "本人申请 requested by the employee"
    return user.get_full_name() or user.get_username()


def render_certificate(cert, *, verify_url: str, masked_id: str) -> bytes:
    """The certificate as PDF bytes."""
    buffer = io.BytesIO()
    canvas = _canvas(buffer, f"收入证明 Certificate of income {cert.pk}")
    pen = _Pen(canvas)
    tz = ZoneInfo(cert.park.time_zone or "Asia/Shanghai")
    issued = cert.issued_at.astimezone(tz)

    y = PAGE_HEIGHT - MARGIN - 20
    pen.text(MARGIN, y, "收入证明  Certificate of Income", size=20, color=ACCENT)
    pen.text(PAGE_WIDTH - MARGIN, y + 4, cert.park_name, size=11, align="right")
    pen.text(
        PAGE_WIDTH - MARGIN,
        y - 12,
        f"签发日期 Issued on {issued:%Y-%m-%d}",
        size=9,
        color=GREY,
        align="right",
    )
    y -= 30
    pen.rule(y, color=ACCENT, width=1.2)

    facts = [
        ("姓名 Name", cert.holder_name),
        ("工号 Employee No.", cert.worker.employee_no),
        ("身份证号 Resident ID", masked_id or "—"),
        ("用人单位 Employer", cert.park_name),
        ("入职日期 Employed since", cert.employed_from.isoformat()),
        (
            "离职日期 Left on",
            cert.employed_until.isoformat() if cert.employed_until else "—",
        ),
        ("证明期间 Period", f"{cert.span_start:%Y-%m} – {cert.span_end:%Y-%m}"),
        ("月数 Months", str(len(cert.months))),
    ]
    column = CONTENT_WIDTH / 4
    for index, (label, value) in enumerate(facts):
        x = MARGIN + (index % 4) * column
        row_y = y - 16 - (index // 4) * 30
        pen.text(x, row_y, label, size=7.5, color=GREY)
        pen.text(x, row_y - 12, fit(str(value), pen.font, 10, column - 8), size=10)
    y -= 16 + 30 + 30

    zh = (
        f"兹证明 {cert.holder_name} 自 {cert.employed_from:%Y年%m月%d日} 起在"
        f"{cert.park_name}工作。以下为其 {cert.span_start:%Y年%m月} 至 "
        f"{cert.span_end:%Y年%m月} 已发放的每月工资收入。"
    )
    en = (
        f"This is to certify that {cert.holder_name} has worked at "
        f"{cert.park_name} since {cert.employed_from:%d %B %Y}. Below is the pay "
        f"paid to them for each month from {cert.span_start:%B %Y} to "
        f"{cert.span_end:%B %Y}."
    )
    for text in (
        *wrap(zh, pen.font, 9.5, CONTENT_WIDTH),
        *wrap(en, pen.font, 9, CONTENT_WIDTH),
    ):
        pen.text(MARGIN, y, text, size=9.5)
        y -= 13
    y -= 8

    # The table of months.
    col_gross = MARGIN + 400
    col_net = PAGE_WIDTH - MARGIN - 4
    pen.fill(LIGHT)
    canvas.rect(MARGIN, y - 18, CONTENT_WIDTH, 18, stroke=0, fill=1)
    pen.text(MARGIN + 4, y - 12.5, "月份 Month", size=8, color=GREY)
    pen.text(MARGIN + 180, y - 12.5, "工资条 Payslip", size=8, color=GREY)
    pen.text(
        col_gross, y - 12.5, "应发工资 Gross pay", size=8, color=GREY, align="right"
    )
    pen.text(col_net, y - 12.5, "实发工资 Net pay", size=8, color=GREY, align="right")
    y -= 18
    for entry in cert.months:
        year, month = (int(p) for p in entry["month"].split("-"))
        pen.text(MARGIN + 4, y - 11, month_text(date(year, month, 1)), size=8.5)
        pen.text(MARGIN + 180, y - 11, entry["payslip"], size=8, color=GREY)
        pen.text(
            col_gross, y - 11, money(Decimal(entry["gross"])), size=9, align="right"
        )
        pen.text(col_net, y - 11, money(Decimal(entry["net"])), size=9, align="right")
        pen.rule(y - 15, color=LIGHT, width=0.5)
        y -= 15
    pen.rule(y - 1, color=RULE)
    pen.text(MARGIN + 4, y - 14, "合计 Total", size=10)
    pen.text(col_gross, y - 14, money(cert.total_gross), size=10, align="right")
    pen.text(
        col_net,
        y - 14,
        f"¥ {money(cert.total_net)}",
        size=10,
        color=ACCENT,
        align="right",
    )
    y -= 30

    notes = [
        "应发工资为当月应税收入合计；实发工资为扣除社会保险、个人所得税及其他扣款后实际发放的金额。",
        "Gross pay is the month's taxable total; net pay is what was paid after "
        "social insurance, income tax and other deductions.",
        "本证明仅列出工资已发放的月份。",
        "Only months whose pay has been paid are listed.",
    ]
    for note in notes:
        for text in wrap(note, pen.font, 8, CONTENT_WIDTH):
            pen.text(MARGIN, y, text, size=8, color=GREY)
            y -= 11

    # Verification: the QR code at the right, the code and address beside it.
    box_top = max(y - 10, MARGIN + QR_SIZE + 40)
    qr_x = PAGE_WIDTH - MARGIN - QR_SIZE
    _draw_qr(pen, verify_url, qr_x, box_top - QR_SIZE)
    text_width = qr_x - MARGIN - 12
    ty = box_top - 12
    pen.text(MARGIN, ty, "核验 Verification", size=11, color=ACCENT)
    ty -= 16
    pen.text(MARGIN, ty, "验证码 Verification code", size=8, color=GREY)
    ty -= 14
    pen.text(MARGIN, ty, grouped_code(cert.code), size=11)
    ty -= 18
    for text in (
        "扫描二维码或打开以下网址核验本证明：",
        "Scan the QR code or open this address to verify this certificate:",
    ):
        pen.text(MARGIN, ty, text, size=8)
        ty -= 11
    for text in wrap(verify_url, pen.font, 8, text_width):
        pen.text(MARGIN, ty, text, size=8, color=ACCENT)
        ty -= 11
    ty -= 4
    for text in wrap(
        "证明被撤销或内容被改动时，核验页面显示为无效。 A revoked or altered "
        "certificate shows as not valid there.",
        pen.font,
        7.5,
        text_width,
    ):
        pen.text(MARGIN, ty, text, size=7.5, color=WARN)
        ty -= 10

    foot = MARGIN - 8
    pen.rule(foot + 12, color=RULE, width=0.4)
    pen.text(
        MARGIN,
        foot,
        f"ParkPay · 签发 Issued {issued:%Y-%m-%d %H:%M} ({tz.key}) · {_issuer(cert)}",
        size=7,
        color=GREY,
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
