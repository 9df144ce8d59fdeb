"""Payslip PDFs (R14): one A4 page per payslip, Chinese first, English beside it.

``render_payslip`` returns the bytes of one payslip; ``render_bundle`` writes
many payslips into one document, one page each, for the director. Both draw
with ``draw_payslip`` on a reportlab canvas, so a payslip looks the same alone
and in the bundle. Rendering reads no database: the caller passes a payslip
with its worker, team and park loaded, and its lines.

A document is deterministic (reportlab's ``invariant`` mode; the time shown is
the payslip's ``generated_at``, when it was calculated, and the run that
calculated it is named): rendering the same payslip twice gives the same bytes,
and a recalculation (R13.1), a new run, always gives a new SHA-256.

The labels are fixed bilingual strings by design (a payslip is one document for
the worker and the officer) rather than gettext.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO
from zoneinfo import ZoneInfo

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from documents.fonts import FONT_NAME, cjk_font, cjk_text_font
from payroll.engine import PENDING_LABEL, LineKind
from payroll.units import unit_label

# Compressed streams stay binary: ASCII85 would make every file a quarter larger
# and cost a fifth of the rendering time (bench/payslips.py).
rl_config.useA85 = 0

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 36
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN

INK = colors.HexColor("#222222")
GREY = colors.HexColor("#666666")
LIGHT = colors.HexColor("#eef2f5")
RULE = colors.HexColor("#bbbbbb")
ACCENT = colors.HexColor("#1f6f8b")
WARN = colors.HexColor("#a04000")

ENGLISH_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip

KIND_LABELS = {
    LineKind.PIECE: ("计件工资", "Piece work"),
    LineKind.LATE: ("补发计件", "Late work"),
    LineKind.CORRECTION: ("更正", "Correction of"),
    LineKind.TOPUP: ("最低工资补差", "Minimum wage top-up"),
    LineKind.BONUS: ("奖金", "Bonus"),
    LineKind.ALLOWANCE: ("津贴", "Allowance"),
    LineKind.PENSION: ("养老保险", "Pension insurance"),
    LineKind.MEDICAL: ("医疗保险", "Medical insurance"),
    LineKind.UNEMPLOYMENT: ("失业保险", "Unemployment insurance"),
    LineKind.TAX: ("个人所得税", "Individual income tax"),
    LineKind.DEDUCTION: ("扣款", "Deduction"),
    LineKind.CARRIED_IN: ("上期结转扣款", "Carried in"),
    LineKind.CARRIED_FORWARD: ("结转下期", "Carried forward to next month"),
}
TIER_LABELS = {
    "excellent": ("优秀", "Excellent"),
    "standard": ("合格", "Standard"),
    "below_standard": ("未达标", "Below standard"),
    "rejected": ("不合格，需返工", "Rejected, rework required"),
    "pending": ("待审核", "Pending review"),
}
CONTRACT_LABELS = {
    "full_time": ("全日制", "Full-time"),
    "part_time": ("非全日制", "Part-time"),
    "training": ("培训协议", "Training agreement"),
}
SKILL_LABELS = {
    "trainee": ("学员", "Trainee"),
    "junior": ("初级", "Junior"),
    "senior": ("高级", "Senior"),
}
SOCIAL_INSURANCE_KINDS = {LineKind.PENSION, LineKind.MEDICAL, LineKind.UNEMPLOYMENT}

# Every character of the fixed labels. They are set in the main font, whose
# subset is then the same in every payslip and built once per process
# (fonts._cache_subsets); any other text (names, projects, reasons) is set in
# the text font. A character missing here only costs speed.
LABEL_SEED = (
    "计件工资补发最低足奖金津贴养老保险医疗失业个人所得税扣款上期结转下优秀合格未达标不，需返待审核全日制非培训协议学员初级高"
    "年月·单作超过小时（劳动法第四十一条）本准以连续天无休息三八每周同六截至起×缴费基数元自…算批次编号生成间姓名技能等量确"
    "率—班组项目位价系额应社会累收入实¥提醒影响页如有疑问请联园区薪专二五"
)
LABEL_CHARS = frozenset(map(chr, range(32, 127))) | frozenset(LABEL_SEED)


def bilingual(pair: tuple[str, str]) -> str:
    return f"{pair[0]} {pair[1]}"


def label_of(table: dict, key: str) -> str:
    """The bilingual label of a code, or the code itself when unknown."""
    pair = table.get(key)
    return bilingual(pair) if pair else key


def money(value: Decimal | None) -> str:
    """Yuan with thousands separators, an ASCII minus: ``-1,234.50``."""
    if value is None:
        return ""
    return f"{value:,.2f}"


def hours_text(minutes: int) -> str:
    return f"{Decimal(minutes) / 60:.2f}"


def month_text(month: date) -> str:
    english = f"{ENGLISH_MONTHS[month.month - 1]} {month.year}"
    return f"{month.year}年{month.month}月 · {english}"


# --- R8 warnings -------------------------------------------------------------


def _h(warning: dict) -> str:
    return hours_text(int(warning.get("minutes") or 0))


WARNING_TITLES = {
    "day_over_11h": (
        "单日工作超过 11 小时（劳动法第四十一条）",
        "Days over 11 hours (Labour Law art. 41)",
    ),
    "month_overtime": (
        "本月工时超过标准工时 36 小时以上",
        "Month more than 36 hours beyond the standard hours",
    ),
    "no_rest_day": (
        "连续 7 天无休息日（劳动法第三十八条）",
        "7 days in a row without a rest day (Labour Law art. 38)",
    ),
    "part_time_week_over_24h": (
        "非全日制每周超过 24 小时（劳动合同法第六十八条）",
        "Part-time week over 24 hours (Labour Contract Law art. 68)",
    ),
}


def _warning_detail(warning: dict) -> str:
    code = warning.get("code")
    if code == "day_over_11h":
        return f"{warning.get('date', '')} {_h(warning)} h"
    if code == "month_overtime":
        return f"本月 this month {_h(warning)} h"
    if code == "no_rest_day":
        return f"截至 up to {warning.get('date', '')}"
    if code == "part_time_week_over_24h":
        return f"{warning.get('date', '')} 起一周 week from: {_h(warning)} h"
    return ", ".join(f"{k}={v}" for k, v in warning.items() if k != "code")


def warning_entries(warnings: Iterable[dict]) -> list[tuple[str, str, str]]:
    """R8 warnings grouped by code: (Chinese title, English title, details)."""
    grouped: dict[str, list[str]] = {}
    for warning in warnings or ():
        grouped.setdefault(str(warning.get("code", "")), []).append(
            _warning_detail(warning)
        )
    entries = []
    for code, details in grouped.items():
        zh, en = WARNING_TITLES.get(code, (code, code))
        entries.append((zh, en, "; ".join(details)))
    return entries


# --- lines -------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One payslip line as shown: a title, a detail line and five figures."""

    title: str
    detail: str
    quantity: str
    unit: str
    rate: str
    multiplier: str
    amount: str


def line_row(line) -> Row:
    kind = line.kind
    title = label_of(KIND_LABELS, kind)
    detail_parts = []
    quantity = unit = rate = multiplier = ""
    if kind in (LineKind.PIECE, LineKind.LATE):
        if line.tier:
            title += " · " + label_of(TIER_LABELS, line.tier)
        if kind == LineKind.LATE and line.ref_period:
            title += f" · {line.ref_period}"
        detail_parts = [line.project, line.task_type]
        pending = getattr(line, "pending_units", 0)
        if pending and line.tier != PENDING_LABEL:
            detail_parts.append(f"其中待审核 {pending:,} pending review")
        quantity = f"{line.quantity:,.0f}" if line.quantity is not None else ""
        unit = unit_label(line.unit)
        rate = f"{line.rate:.4f}" if line.rate is not None else ""
        multiplier = f"× {line.multiplier:.2f}" if line.multiplier is not None else ""
    elif kind == LineKind.CORRECTION:
        title += f" {line.ref_period}"
        if line.tier:
            title += " · " + label_of(TIER_LABELS, line.tier)
        detail_parts = [line.project, line.task_type, line.reason]
        quantity = f"{line.quantity:,.0f}" if line.quantity is not None else ""
        unit = unit_label(line.unit)
        rate = f"{line.rate:.4f}" if line.rate is not None else ""
        multiplier = f"× {line.multiplier:.2f}" if line.multiplier is not None else ""
    elif kind in SOCIAL_INSURANCE_KINDS:
        detail_parts = ["缴费基数 contribution base"]
        quantity = money(line.quantity)
        unit = "元 yuan"
        rate = f"{line.rate * 100:.2f}%" if line.rate is not None else ""
    elif kind == LineKind.CARRIED_IN and line.ref_period:
        detail_parts = [f"自 from {line.ref_period}"]
    elif line.reason:
        detail_parts = [line.reason]
    return Row(
        title=title,
        detail=" · ".join(p for p in detail_parts if p),
        quantity=quantity,
        unit=unit,
        rate=rate,
        multiplier=multiplier,
        amount=money(line.amount),
    )


# --- drawing -----------------------------------------------------------------


def fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis so that it fits ``width``."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line breaking for mixed Chinese and Latin text."""
    lines, current = [], ""
    for token in _tokens(text):
        candidate = current + token
        if current and stringWidth(candidate, font, size) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = candidate
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    """Latin words with their trailing space, and single CJK characters."""
    tokens, word = [], ""
    for char in text:
        if ord(char) > 0x2E7F:  # CJK and full-width: a break is allowed anywhere
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
        else:
            word += char
            if char == " ":
                tokens.append(word)
                word = ""
    if word:
        tokens.append(word)
    return tokens


# Label text (and figures) → its (subset, escaped bytes) in the main font.
_LABEL_CHUNKS: dict[str, list] = {}
LABEL_CACHE_SIZE = 20000


@functools.lru_cache(maxsize=4096)
def _is_label(text: str) -> bool:
    return LABEL_CHARS.issuperset(text)


@functools.lru_cache(maxsize=8192)
def _runs(text: str) -> tuple[tuple[bool, str], ...]:
    """``text`` cut into runs of label characters and of other characters."""
    runs: list[tuple[bool, str]] = []
    for char in text:
        label = char in LABEL_CHARS
        if runs and runs[-1][0] == label:
            runs[-1] = (label, runs[-1][1] + char)
        else:
            runs.append((label, char))
    return tuple(runs)


class _Pen:
    """Text on a canvas in the embedded font: labels in the main font, other
    text in the text font (see ``LABEL_SEED``). The fill colour is set only
    when it changes."""

    def __init__(self, canvas: Canvas, font: str | None = None):
        self.c = canvas
        self.font = font or cjk_font()
        self.free = cjk_text_font() if font is None else font
        self._state = None
        self._faces = (pdfmetrics.getFont(self.font), pdfmetrics.getFont(self.free))
        # With seeded codes a label's encoding is the same in every document.
        self._cache = _LABEL_CHUNKS if _seed_labels(canvas) and font is None else {}

    def fill(self, color) -> None:
        """Set the fill colour for shapes; forget the text state."""
        self.c.setFillColor(color)
        self._state = None

    def text(self, x, y, text, size=9, color=INK, align="left", bold=False):
        c = self.c
        font = self.font if _is_label(text) else self.free
        if bold:
            # The font has one weight; a thin outline in the fill colour
            # thickens the strokes.
            c.saveState()  # the render mode would outlive the text object
            c.setFillColor(color)
            c.setStrokeColor(color)
            c.setLineWidth(size / 40)
            obj = c.beginText()
            obj.setTextRenderMode(2)
            obj.setFont(font, size)
            width = stringWidth(text, font, size)
            start = {"left": x, "right": x - width, "center": x - width / 2}[align]
            obj.setTextOrigin(start, y)
            obj.textOut(text)
            c.drawText(obj)
            c.restoreState()
            self._state = None
            return
        if color is not self._state:
            c.setFillColor(color)
            self._state = color
        if align != "left":
            width = stringWidth(text, font, size)
            x -= width if align == "right" else width / 2
        if not self._faces[0]._dynamicFont:  # the CID fallback
            c.setFont(font, size)
            c.drawString(x, y, text)
            return
        # What reportlab's drawString writes for a TrueType font (as its
        # ttfonts module documents), without a text object per string, which
        # was a third of the drawing time. Runs of label characters are set in
        # the main font, the rest in the text font; Tj moves along either way.
        doc = c._doc
        size_text = fp_str(size)
        ops = [f"BT 1 0 0 1 {fp_str(x)} {fp_str(y)} Tm"]
        label_face, free_face = self._faces
        runs = _runs(text) if free_face is not label_face else ((True, text),)
        for is_label, part in runs:
            if is_label:
                face = label_face
                chunks = self._cache.get(part)
                if chunks is None:
                    chunks = [
                        (subset, escapePDF(chunk))
                        for subset, chunk in face.splitString(part, doc)
                    ]
                    if len(self._cache) < LABEL_CACHE_SIZE:
                        self._cache[part] = chunks
            else:
                face = free_face
                chunks = [
                    (subset, escapePDF(chunk))
                    for subset, chunk in face.splitString(part, doc)
                ]
            for subset, chunk in chunks:
                name = face.getSubsetInternalName(subset, doc)
                ops.append(f"{name} {size_text} Tf ({chunk}) Tj")
        ops.append("ET")
        c._code.append(" ".join(ops))

    def new_page(self) -> None:
        """End the page; the next one starts from reportlab's default state."""
        self.c.showPage()
        self._state = None

    def rule(self, y, x0=MARGIN, x1=PAGE_WIDTH - MARGIN, color=RULE, width=0.6):
        self.c.setStrokeColor(color)
        self.c.setLineWidth(width)
        self.c.line(x0, y, x1, y)


# Columns of the lines table: right edges of the figures.
COL_QTY = MARGIN + 290
COL_UNIT = COL_QTY + 6
COL_RATE = MARGIN + 400
COL_MULT = MARGIN + 446
COL_AMOUNT = PAGE_WIDTH - MARGIN - 4
TITLE_WIDTH = COL_QTY - MARGIN - 40

FOOTER_SPACE = 40


def draw_payslip(
    canvas: Canvas, payslip, lines: Sequence, *, font: str | None = None
) -> int:
    """Draw one payslip from the top of a fresh page; returns the pages used.

    ``payslip`` needs ``worker`` (with ``team``) and ``period.park`` loaded.
    A payslip whose lines do not fit one page continues on another.
    """
    pen = _Pen(canvas, font)
    worker, period = payslip.worker, payslip.period
    park = period.park
    tz = ZoneInfo(park.time_zone or "Asia/Shanghai")
    generated = _local(payslip.generated_at, tz)

    y = PAGE_HEIGHT - MARGIN - 20
    pen.text(MARGIN, y, "工资条  Payslip", size=20, color=ACCENT, bold=True)
    pen.text(PAGE_WIDTH - MARGIN, y + 4, park.name, size=11, align="right")
    pen.text(
        PAGE_WIDTH - MARGIN, y - 12, month_text(period.month), size=10, align="right"
    )
    y -= 30
    # The run makes each calculation's PDF distinct (R13.1) and traceable.
    run = f" · 计算批次 Run #{payslip.run_id}" if payslip.run_id else ""
    pen.text(MARGIN, y, f"编号 No. {payslip.number}{run}", size=8, color=GREY)
    pen.text(
        PAGE_WIDTH - MARGIN,
        y,
        f"生成时间 Generated {generated:%Y-%m-%d %H:%M} ({tz.key})",
        size=8,
        color=GREY,
        align="right",
    )
    y -= 8
    pen.rule(y, color=ACCENT, width=1.2)

    # Who, what contract, how much work.
    team = getattr(worker, "team", None)
    facts = [
        ("姓名 Name", worker.name),
        ("工号 Employee No.", worker.employee_no),
        ("合同 Contract", label_of(CONTRACT_LABELS, payslip.contract)),
        ("技能等级 Skill level", label_of(SKILL_LABELS, payslip.skill_level)),
        ("工时 Hours", hours_text(payslip.minutes)),
        ("计件量 Units", f"{payslip.units:,}"),
        (
            "准确率 Accuracy",
            f"{payslip.accuracy:.2f}%" if payslip.accuracy is not None else "—",
        ),
        ("班组 Team", team.name if team else "—"),
    ]
    column = CONTENT_WIDTH / 4
    for index, (label, value) in enumerate(facts):
        x = MARGIN + (index % 4) * column
        row_y = y - 16 - (index // 4) * 30
        pen.text(x, row_y, label, size=7.5, color=GREY)
        pen.text(x, row_y - 12, fit(str(value), pen.font, 10, column - 8), size=10)
    y -= 16 + 30 + 26

    rows = [line_row(line) for line in lines]
    entries = warning_entries(payslip.warnings)
    pages = 1
    y = _table_header(pen, y)
    notes = carried_sentences(payslip, lines)
    tail = _summary_height(pen, entries, notes)
    for index, row in enumerate(rows):
        height = 22 if row.detail else 14
        remaining_rows = len(rows) - index - 1
        bottom_needed = FOOTER_SPACE + (tail if remaining_rows == 0 else 0)
        if y - height < bottom_needed:
            _footer(pen, payslip, pages, continued=True)
            pen.new_page()
            pages += 1
            y = PAGE_HEIGHT - MARGIN - 10
            pen.text(
                MARGIN, y, f"工资条（续） Payslip, continued · {payslip.number}", size=9
            )
            y = _table_header(pen, y - 12)
        _table_row(pen, y, row)
        y -= height
    if not rows:
        pen.text(
            MARGIN + 4, y - 11, "本月无工资项目 No pay items", size=8.5, color=GREY
        )
        y -= 14
    pen.rule(y, color=RULE)
    if y - tail < FOOTER_SPACE:
        _footer(pen, payslip, pages, continued=True)
        pen.new_page()
        pages += 1
        y = PAGE_HEIGHT - MARGIN
    _summary(pen, y - 10, payslip, entries, notes)
    _footer(pen, payslip, pages, continued=False)
    pen.new_page()
    return pages


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz) if moment.tzinfo else moment


def _table_header(pen: _Pen, y: float) -> float:
    c = pen.c
    pen.fill(LIGHT)
    c.rect(MARGIN, y - 18, CONTENT_WIDTH, 18, stroke=0, fill=1)
    base = y - 12.5
    pen.text(MARGIN + 4, base, "项目 Item", size=8, color=GREY)
    pen.text(COL_QTY, base, "数量 Qty", size=8, color=GREY, align="right")
    pen.text(COL_UNIT, base, "单位 Unit", size=8, color=GREY)
    pen.text(COL_RATE, base, "单价/费率 Rate", size=8, color=GREY, align="right")
    pen.text(COL_MULT, base, "系数 Mult.", size=8, color=GREY, align="right")
    pen.text(COL_AMOUNT, base, "金额 Amount", size=8, color=GREY, align="right")
    return y - 18


def _table_row(pen: _Pen, y: float, row: Row) -> None:
    base = y - 10.5
    pen.text(MARGIN + 4, base, fit(row.title, pen.font, 8.5, TITLE_WIDTH), size=8.5)
    if row.detail:
        pen.text(
            MARGIN + 4,
            base - 10,
            fit(row.detail, pen.font, 7, COL_QTY - MARGIN - 50),
            size=7,
            color=GREY,
        )
    pen.text(COL_QTY, base, row.quantity, size=8.5, align="right")
    pen.text(
        COL_UNIT, base, fit(row.unit, pen.font, 8, COL_RATE - COL_UNIT - 48), size=8
    )
    pen.text(COL_RATE, base, row.rate, size=8.5, align="right")
    pen.text(COL_MULT, base, row.multiplier, size=8.5, align="right")
    pen.text(COL_AMOUNT, base, row.amount, size=8.5, align="right")
    pen.rule(y - (20 if row.detail else 13) - 1, color=LIGHT, width=0.5)


WARNING_WIDTH = CONTENT_WIDTH - 16


def _warning_lines(pen: _Pen, entries) -> list[tuple[str, float, object]]:
    out = []
    for zh, en, details in entries:
        out.append((f"{zh}  {en}", 8, WARN))
        for line in wrap(details, pen.font, 7.5, WARNING_WIDTH):
            out.append((line, 7.5, INK))
    return out


def carried_sentences(payslip, lines) -> list[str]:
    """R12 in words, in Chinese and English: what was carried in or forward
    and why (the page says the same through its translations)."""
    notes = []
    amount = money(payslip.carried_in)
    if payslip.carried_in:
        month = next(
            (
                line.ref_period
                for line in lines
                if line.kind == LineKind.CARRIED_IN and line.ref_period
            ),
            "—",
        )
        notes.append(f"{month} 工资中未能扣除的 {amount} 元从本月工资中扣除。")
        notes.append(
            f"{amount} could not be taken from your pay of {month} and is taken "
            "from this month's pay."
        )
    amount = money(payslip.carried_forward)
    if payslip.carried_forward:
        if payslip.social_insurance + payslip.tax > payslip.taxable:
            zh, en = (
                "社会保险和个人所得税超过本月工资",
                "Social insurance and tax were larger than this month's pay",
            )
        elif payslip.deductions > 0:
            zh, en = (
                "扣款超过本月剩余工资",
                "Deductions were larger than what was left of this month's pay",
            )
        else:
            zh, en = (
                "以前月份结转的扣款超过本月剩余工资",
                "Amounts carried from earlier months were larger than what was "
                "left of this month's pay",
            )
        notes.append(f"{zh}；{amount} 元将从下月工资中扣除。")
        notes.append(f"{en}; {amount} will be taken from your next pay.")
    return notes


def _note_lines(pen: _Pen, notes) -> list[str]:
    return [
        part for note in notes for part in wrap(note, pen.font, 8, CONTENT_WIDTH - 8)
    ]


def _summary_height(pen: _Pen, entries, notes=()) -> float:
    warnings = len(_warning_lines(pen, entries)) if entries else 1
    return 10 + 118 + 30 + warnings * 11 + 12 + len(_note_lines(pen, notes)) * 11


def _summary(pen: _Pen, y: float, payslip, entries, notes=()) -> None:
    half = CONTENT_WIDTH / 2
    right_x = MARGIN + half + 12
    right_end = PAGE_WIDTH - MARGIN - 4

    totals = [
        ("应税合计 Taxable total", payslip.taxable),
        ("社会保险 Social insurance", -payslip.social_insurance),
        ("个人所得税 Income tax", -payslip.tax),
        ("扣款 Deductions", -payslip.deductions),
    ]
    if payslip.carried_in:
        totals.append(("上期结转扣款 Carried in", -payslip.carried_in))
    if payslip.carried_forward:
        totals.append(("结转下期 Carried forward", payslip.carried_forward))
    row_y = y - 2
    for label, value in totals:
        pen.text(right_x, row_y, label, size=8.5)
        pen.text(right_end, row_y, money(value + 0), size=8.5, align="right")
        row_y -= 13

    ytd = [
        ("本年累计应税收入 YTD taxable income", payslip.ytd_taxable),
        ("本年累计社会保险 YTD social insurance", payslip.ytd_social_insurance),
        ("本年累计个人所得税 YTD income tax", payslip.ytd_tax),
    ]
    left_end = MARGIN + half - 12
    pen.text(MARGIN + 4, y - 2, "本年累计 Year to date", size=8.5, color=GREY)
    ytd_y = y - 15
    for label, value in ytd:
        pen.text(MARGIN + 4, ytd_y, label, size=8)
        pen.text(left_end, ytd_y, money(value), size=8, align="right")
        ytd_y -= 13

    # Net pay in large type.
    box_top = min(row_y, ytd_y) - 2
    c = pen.c
    pen.fill(LIGHT)
    c.roundRect(MARGIN, box_top - 44, CONTENT_WIDTH, 44, 4, stroke=0, fill=1)
    pen.text(MARGIN + 12, box_top - 20, "实发工资", size=14, bold=True)
    pen.text(MARGIN + 12, box_top - 35, "Net pay", size=10, color=GREY)
    pen.text(
        right_end - 8,
        box_top - 32,
        f"¥ {money(payslip.net)}",
        size=24,
        color=ACCENT,
        align="right",
        bold=True,
    )

    y = box_top - 62
    for text in _note_lines(pen, notes):
        pen.text(MARGIN + 4, y, text, size=8)
        y -= 11
    pen.text(
        MARGIN + 4,
        y,
        "工时提醒 Working-time warnings (不影响工资 no effect on pay)",
        size=8.5,
        color=GREY,
    )
    y -= 13
    if not entries:
        pen.text(MARGIN + 12, y, "无 None", size=8)
        return
    for text, size, color in _warning_lines(pen, entries):
        pen.text(MARGIN + 12, y, text, size=size, color=color)
        y -= 11


def _footer(pen: _Pen, payslip, page: int, *, continued: bool) -> None:
    y = MARGIN - 8
    pen.rule(y + 12, color=RULE, width=0.4)
    note = "续下页 continued overleaf · " if continued else ""
    pen.text(
        MARGIN,
        y,
        f"{note}ParkPay · {payslip.number} · 第 {page} 页 page {page}",
        size=7,
        color=GREY,
    )
    pen.text(
        PAGE_WIDTH - MARGIN,
        y,
        "如有疑问请联系园区薪资专员 Questions: ask the park's payroll officer",
        size=7,
        color=GREY,
        align="right",
    )


# --- documents ---------------------------------------------------------------


def _seed_labels(canvas: Canvas) -> bool:
    """Give the labels' characters their codes first, in a fixed order, so that
    the main font's subset, and the codes of every label, are the same in
    every document. False when the canvas used the font before (then the codes
    may differ and nothing is cached)."""
    doc = canvas._doc
    if cjk_font() != FONT_NAME:
        return False
    seeded = getattr(doc, "_parkpay_labels", None)
    if seeded is None:
        font = pdfmetrics.getFont(FONT_NAME)
        seeded = doc not in font.state
        font.splitString(LABEL_SEED, doc)
        doc._parkpay_labels = seeded
    return seeded


def _canvas(target: BinaryIO, title: str) -> Canvas:
    canvas = Canvas(target, pagesize=A4, invariant=1, pageCompression=1)
    _seed_labels(canvas)
    canvas.setTitle(title)
    canvas.setAuthor("ParkPay")
    canvas.setCreator("ParkPay")
    return canvas


def render_payslip(payslip, lines: Sequence) -> bytes:
    """One payslip as PDF bytes (one A4 page unless its lines overflow)."""
    buffer = io.BytesIO()
    canvas = _canvas(buffer, f"工资条 Payslip {payslip.number}")
    draw_payslip(canvas, payslip, lines)
    canvas.save()
    return buffer.getvalue()


def render_bundle(
    items: Iterable[tuple[object, Sequence]], target: BinaryIO, *, title: str
) -> int:
    """Write ``(payslip, lines)`` pairs into one PDF on ``target``, each from
    a new page; returns the number of pages."""
    canvas = _canvas(target, title)
    pages = 0
    for payslip, lines in items:
        pages += draw_payslip(canvas, payslip, lines)
    if not pages:
        pen = _Pen(canvas)
        pen.text(MARGIN, PAGE_HEIGHT - MARGIN - 20, "本期无工资条 No payslips", size=14)
        canvas.showPage()
        pages = 1
    canvas.setTitle(title)
    canvas.save()
    return pages
