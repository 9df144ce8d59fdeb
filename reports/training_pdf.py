"""The training progress report (R15.3) as a PDF, and its charts.

A few pages per park: the thresholds and the cohorts (hire months) with their
averaged curves, who is close to qualifying, every trainee in a table, and the
curves of each trainee still in training. ``trainee_charts`` and
``cohort_charts`` give the same charts to a web page (``chart.svg()``).
"""

from __future__ import annotations

import io
from datetime import date

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from documents.charts import THRESHOLD_COLOR, Chart, Series, line_chart, threshold
from documents.fonts import cjk_font
from documents.markup import para
from reports.training import (
    LEFT,
    QUALIFIED,
    THRESHOLDS,
    CohortProgress,
    TraineeProgress,
    TrainingReport,
    training_report,
)
from workforce.models import Park

REPORT_DIR = "training-reports"
STATUS_LABELS = {
    "training": "培训中 In training",
    QUALIFIED: "已合格 Qualified",
    LEFT: "已离职 Left",
}
ACCENT = colors.HexColor("#1f6f8b")
LIGHT = colors.HexColor("#eef2f5")
GREY = colors.HexColor("#666666")

MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
HALF = (WIDTH - 8) / 2


# The charts' words: bilingual in the PDF (one document for everyone), in the
# page's language on the web (``web=True``).
PDF_LABELS = {
    "accuracy": "准确率 Accuracy %",
    "accuracy_title": "准确率 Accuracy (%)",
    "threshold": "合格线 %(value)s",
    "per_hour": "每小时件数 Units/h",
    "per_hour_title": "每小时件数 Units per hour",
    "per_hour_threshold": "合格线 %(share)s%% × 中位数 median",
    "mean_accuracy": "平均准确率 Mean accuracy %",
    "mean_speed": "平均相对速度 Mean speed, % of median",
    "speed_threshold": "合格线 %(share)s%%",
    "cohort": "%(cohort)s 批次 cohort",
    "speed_title": "速度 Speed (% of qualified median)",
}
WEB_LABELS = {
    "accuracy": _("Accuracy %"),
    "accuracy_title": _("Accuracy (%)"),
    "threshold": _("Threshold %(value)s"),
    "per_hour": _("Units/h"),
    "per_hour_title": _("Units per hour"),
    "per_hour_threshold": _("Threshold: %(share)s%% of the median"),
    "mean_accuracy": _("Mean accuracy %"),
    "mean_speed": _("Mean speed relative to the median"),
    "speed_threshold": _("Threshold %(share)s%%"),
    "cohort": _("Cohort %(cohort)s"),
    "speed_title": _("Speed relative to the qualified median"),
}


def _weeks(count: int) -> list[str]:
    return [f"W{i}" for i in range(1, count + 1)]


# An accuracy axis spans at least this many points (90–100 %).
ACCURACY_SPAN = 10


def trainee_charts(
    trainee: TraineeProgress,
    *,
    width: float = HALF,
    height: float = 125,
    web: bool = False,
) -> list[Chart]:
    """Weekly accuracy and units per hour of one trainee, thresholds drawn.

    The same figures as ``trainee.weeks``; ``chart.svg()`` for a page.
    """
    words = {k: str(v) for k, v in (WEB_LABELS if web else PDF_LABELS).items()}
    weeks = trainee.weeks
    categories = _weeks(len(weeks))
    t = THRESHOLDS
    share = f"{t.speed_percent:.0f}"
    accuracy = line_chart(
        categories=categories,
        series=[
            Series(words["accuracy"], tuple(w.accuracy for w in weeks)),
            threshold(
                words["threshold"] % {"value": t.min_accuracy},
                t.min_accuracy,
                len(weeks),
            ),
        ],
        title=f"{trainee.name} · {words['accuracy_title']}",
        width=width,
        height=height,
        y_max=100,
        min_span=ACCURACY_SPAN,
    )
    speed = line_chart(
        categories=categories,
        series=[
            Series(words["per_hour"], tuple(w.units_per_hour for w in weeks)),
            Series(
                words["per_hour_threshold"] % {"share": share},
                tuple(w.threshold_units_per_hour for w in weeks),
                color=THRESHOLD_COLOR,
                dashed=True,
                markers=False,
            ),
        ],
        title=f"{trainee.name} · {words['per_hour_title']}",
        width=width,
        height=height,
        y_min=0,
    )
    return [accuracy, speed]


def cohort_charts(
    cohort: CohortProgress,
    *,
    width: float = HALF,
    height: float = 150,
    web: bool = False,
) -> list[Chart]:
    """A cohort's mean weekly accuracy and speed relative to qualified workers."""
    words = {k: str(v) for k, v in (WEB_LABELS if web else PDF_LABELS).items()}
    weeks = cohort.weeks
    categories = _weeks(len(weeks))
    t = THRESHOLDS
    share = f"{t.speed_percent:.0f}"
    name = words["cohort"] % {"cohort": cohort.cohort}
    accuracy = line_chart(
        categories=categories,
        series=[
            Series(words["mean_accuracy"], tuple(w.accuracy for w in weeks)),
            threshold(
                words["threshold"] % {"value": t.min_accuracy},
                t.min_accuracy,
                len(weeks),
            ),
        ],
        title=f"{name} · {words['accuracy_title']}",
        width=width,
        height=height,
        y_max=100,
        min_span=ACCURACY_SPAN,
    )
    speed = line_chart(
        categories=categories,
        series=[
            Series(words["mean_speed"], tuple(w.relative_speed for w in weeks)),
            threshold(
                words["speed_threshold"] % {"share": share},
                t.speed_percent,
                len(weeks),
            ),
        ],
        title=f"{name} · {words['speed_title']}",
        width=width,
        height=height,
        y_min=0,
    )
    return [accuracy, speed]


# --- the document --------------------------------------------------------------


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "base", fontName=font, fontSize=8.5, leading=11.5, wordWrap="CJK"
    )
    return {
        "base": base,
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=24, textColor=ACCENT
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4
        ),
        "small": ParagraphStyle(
            "small", parent=base, fontSize=7.5, leading=10, textColor=GREY
        ),
        "cell": ParagraphStyle(
            "cell", parent=base, fontSize=7.5, leading=9.5, alignment=TA_LEFT
        ),
    }


def _table(
    rows: list[list], widths: list[float], font: str, *, right_from: int = 2
) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 7.5),
                ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
                ("TEXTCOLOR", (0, 0), (-1, 0), GREY),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#dddddd")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (right_from, 0), (-1, -1), "RIGHT"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def _pair(charts: list[Chart]) -> Table:
    table = Table([[c.drawing for c in charts]], colWidths=[HALF + 4] * len(charts))
    table.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _value(value, suffix: str = "") -> str:
    return "—" if value is None else f"{value}{suffix}"


def _tick(met: bool) -> str:
    # ✗ is not in the embedded font; × is.
    return "✓" if met else "×"


def render_training_report(report: TrainingReport) -> bytes:
    """The report as PDF bytes (A4 portrait)."""
    font = cjk_font()
    s = _styles(font)
    t = report.thresholds
    story = [
        Paragraph("培训进度报告 Training progress report", s["title"]),
        Paragraph(
            f"{para(report.park_name)} · 截至 as of {report.as_of:%Y-%m-%d}"
            + (f" · 批次 cohort {para(report.cohort)}" if report.cohort else ""),
            s["base"],
        ),
        Spacer(1, 4),
        Paragraph(
            f"合格标准（R15.1）：最近 {t.window_working_days} 个工作日内审核件数 ≥ "
            f"{t.min_reviewed_units}，按件加权准确率 ≥ {t.min_accuracy}%，每小时件数 ≥ "
            f"同期同任务类型合格员工中位数的 {t.speed_percent:.0f}%；次日起定为初级。",
            s["small"],
        ),
        Paragraph(
            f"Qualification (R15.1): over the last {t.window_working_days} working "
            f"days at least {t.min_reviewed_units} reviewed units, units-weighted "
            f"accuracy ≥ {t.min_accuracy}%, and units per hour ≥ "
            f"{t.speed_percent:.0f}% of the median of qualified workers on the same "
            "task types in the same days; junior from the next day (R15.2). Weeks "
            "count from the hire date (W1 = the first 7 days).",
            s["small"],
        ),
        Paragraph("入职批次 Cohorts", s["h2"]),
    ]
    rows = [
        [
            "批次\nCohort",
            "人数\nTrainees",
            "已合格\nQualified",
            "培训中\nIn training",
            "离职\nLeft",
            "合格率\nShare qualified",
            "合格天数中位数\nMedian days to qualify",
        ]
    ]
    for c in report.cohorts:
        rows.append(
            [
                c.cohort,
                c.trainees,
                c.qualified,
                c.in_training,
                c.left,
                f"{c.share_qualified}%",
                _value(c.median_days_to_qualify),
            ]
        )
    if not report.cohorts:
        rows.append(["无学员 No trainees", "", "", "", "", "", ""])
    story.append(_table(rows, [60, 60, 70, 75, 50, 60, WIDTH - 375], font))
    for cohort in report.cohorts:
        if not any(w.trainees for w in cohort.weeks):
            continue
        story.append(KeepTogether([Spacer(1, 6), _pair(cohort_charts(cohort))]))

    close = report.close
    story += [
        CondPageBreak(120),
        Paragraph("接近合格 Close to qualifying", s["h2"]),
        Paragraph(
            f"培训中、各项均接近合格线的学员（最近 {t.window_working_days} 个工作日）。"
            " Trainees with every condition near its threshold "
            f"(last {t.window_working_days} working days).",
            s["small"],
        ),
        Spacer(1, 3),
    ]
    rows = [
        [
            "工号\nNo.",
            "姓名\nName",
            "批次\nCohort",
            "培训天数\nDays",
            "审核件数\nReviewed units",
            "准确率\nAccuracy %",
            "速度\nSpeed, % of median",
            "进度\nProgress",
        ]
    ]
    for trainee in close:
        w = trainee.latest
        rows.append(
            [
                trainee.employee_no,
                trainee.name,
                trainee.cohort,
                trainee.days_in_training,
                f"{w.reviewed_units} {_tick(w.units_met)}",
                f"{_value(w.accuracy)} {_tick(w.accuracy_met)}",
                f"{_value(w.relative_speed)} {_tick(w.speed_met)}",
                f"{w.progress * 100:.0f}%",
            ]
        )
    if not close:
        rows.append(["—", "目前没有 None at present", "", "", "", "", "", ""])
    story.append(
        _table(rows, [50, 70, 50, 45, 75, 75, 70, WIDTH - 435], font, right_from=3)
    )

    story += [
        CondPageBreak(120),
        Paragraph("全部学员 All trainees", s["h2"]),
    ]
    rows = [
        [
            "工号\nNo.",
            "姓名\nName",
            "批次\nCohort",
            "状态\nStatus",
            "合格日期\nQualified on",
            "培训天数\nDays",
            "工作日\nWorking days",
            "近10日准确率\nAccuracy %",
            "近10日速度\nSpeed %",
        ]
    ]
    for trainee in report.trainees:
        w = trainee.latest
        rows.append(
            [
                trainee.employee_no,
                trainee.name,
                trainee.cohort,
                STATUS_LABELS.get(trainee.status, trainee.status),
                _value(trainee.qualified_on),
                trainee.days_in_training,
                trainee.working_days,
                _value(w.accuracy if w else None),
                _value(w.relative_speed if w else None),
            ]
        )
    if not report.trainees:
        rows.append(["—", "无学员 No trainees", "", "", "", "", "", "", ""])
    story.append(_table(rows, [42, 52, 42, 72, 62, 45, 58, 62, WIDTH - 435], font))

    in_training = report.in_training
    if in_training:
        story += [
            PageBreak(),
            Paragraph("培训中学员的曲线 Curves of trainees in training", s["h2"]),
        ]
        for trainee in in_training:
            story.append(
                KeepTogether(
                    [
                        Paragraph(
                            f"{para(trainee.employee_no)} {para(trainee.name)} · "
                            f"{para(trainee.team)} · "
                            f"入职 hired {trainee.hire_date:%Y-%m-%d} · 培训 "
                            f"{trainee.days_in_training} 天 days",
                            s["base"],
                        ),
                        _pair(trainee_charts(trainee)),
                        Spacer(1, 6),
                    ]
                )
            )

    buffer = io.BytesIO()
    title = f"培训进度报告 Training report {report.park_code} {report.as_of}"

    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 7)
        canvas.setFillColor(GREY)
        canvas.drawString(
            MARGIN, 8 * mm, f"ParkPay · {report.park_name} · {report.as_of}"
        )
        canvas.drawRightString(
            A4[0] - MARGIN, 8 * mm, f"第 {doc.page} 页 page {doc.page}"
        )
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="ParkPay",
        invariant=1,
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def training_report_name(*, park: Park, as_of: date) -> str:
    return f"{REPORT_DIR}/{park.code}/{park.code}-training-{as_of:%Y-%m-%d}.pdf"


def training_report_store(*, park: Park, as_of: date) -> str:
    """Render the park's report as of ``as_of`` and store it (replacing one of
    the same day); returns the storage name."""
    data = render_training_report(training_report(park=park, as_of=as_of))
    name = training_report_name(park=park, as_of=as_of)
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(data))
