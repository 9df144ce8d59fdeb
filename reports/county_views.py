"""The county official's employment report (R16): page, CSV and PDF.

Aggregates only, from ``reports.county.employment_report``; every cell goes
through R16.3 suppression there. Nothing here links to a person's record.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from documents import charts
from documents.csv import BOM, csv_writer
from documents.fonts import cjk_font
from documents.markup import para
from reports.county import (
    M_BAND,
    MONEY_UNIT,
    ROUNDING_BASE,
    THRESHOLD,
    EmploymentReport,
    Figure,
    ReportRow,
    employment_report,
    report_parks,
)
from workforce.access import role_required
from workforce.views import parse_month

MONTH_CHOICES = 24
GROUPINGS = {"park": gettext_lazy("Park"), "township": gettext_lazy("Township")}
# (key, heading, kind) of the table, the CSV and the PDF, in order.
COLUMNS = (
    ("employed", gettext_lazy("Employed at month end"), "count"),
    ("active", gettext_lazy("Active in the month"), "count"),
    ("new_hires", gettext_lazy("New hires"), "count"),
    ("leavers", gettext_lazy("Leavers"), "count"),
    ("women", gettext_lazy("Women"), "count"),
    ("minorities", gettext_lazy("Smaller ethnic groups"), "count"),
    ("monitored", gettext_lazy("Monitored households"), "count"),
    ("returners", gettext_lazy("Returners"), "count"),
    ("hours", gettext_lazy("Hours"), "hours"),
    ("median_gross", gettext_lazy("Median gross pay"), "money"),
    ("mean_gross", gettext_lazy("Mean gross pay"), "money"),
    ("at_least_m", gettext_lazy("Earning at least M"), "count"),
)


# --- request parsing --------------------------------------------------------


def _month_options() -> list[date]:
    months, first = [], timezone.localdate().replace(day=1)
    for _i in range(MONTH_CHOICES):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return months


def _default_month() -> date:
    """The last complete month: the current one is neither over nor paid."""
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def _parse(request) -> tuple[date, str]:
    # Out of bounds is a 400 naming the range, as on every page.
    month = parse_month(
        request.GET.get("month"),
        _default_month(),
        parks=report_parks(user=request.user),
    )
    by = request.GET.get("by", "park")
    return month, by if by in GROUPINGS else "park"


# --- presentation -----------------------------------------------------------


def _text(figure: Figure, kind: str, *, plain: bool = False) -> str:
    """A figure as shown: "<5" when hidden, "—" when not available; numbers
    with thousands separators, or ``plain`` for the CSV. The figures are
    already protected (rounded) by ``reports.county``: nothing here adds or
    removes precision."""
    if not figure.shown:
        return str(figure)
    sep = "" if plain else ","
    if kind == "money":
        return f"{figure.value:{sep}.2f}"
    if kind == "hours":
        return f"{figure.value:{sep}.0f}"
    return f"{figure.value:{sep}}"


def _share_text(share) -> str:
    """A share as in the page's table, without the "%" sign (the heading
    has it); "—" where its count is not shown."""
    return "—" if share is None else f"{share}"


def _row_label(row: ReportRow, report: EmploymentReport) -> str:
    if row.level == "total":
        counties = {p.county for p in report.parks}
        county = counties.pop() if len(counties) == 1 else ""
        return (
            _("%(county)s, all parks") % {"county": county}
            if county
            else _("All parks")
        )
    if row.level == "township" and len({p.county for p in report.parks}) > 1:
        return f"{row.label} ({row.county})"
    return row.label


def _display_rows(
    report: EmploymentReport, by: str, *, plain: bool = False
) -> list[dict]:
    rows = []
    for row in report.rows_by(by):
        wage = Figure(row.min_wage)
        rows.append(
            {
                "level": row.level,
                "label": _row_label(row, report),
                "township": row.township,
                "min_wage": _text(wage, "money", plain=plain),
                "cells": [
                    (
                        _text(row.figures[key], kind, plain=plain),
                        row.figures[key].hidden,
                    )
                    for key, _label, kind in COLUMNS
                ],
                "women_share": row.women_share,
                "minority_share": row.minority_share,
            }
        )
    return rows


def _band_label(band) -> str:
    """Yuan when the parks share one M, else multiples of M in per cent."""
    if band.low_yuan is not None:
        low = f"{band.low_yuan:,.0f}"
        return f"≥ {low}" if band.high is None else f"{low}–{band.high_yuan:,.0f}"
    low = f"{band.low * 100:.0f} %"
    return f"≥ {low}" if band.high is None else f"{low}–{band.high * 100:.0f} %"


def _bands(report: EmploymentReport) -> list[dict]:
    return [
        {
            "label": _band_label(band),
            "people": _text(band.people, "count"),
            "hidden": band.people.hidden,
            "at_least_m": band.at_least_m,
        }
        for band in report.bands
    ]


def _band_heading(report: EmploymentReport) -> str:
    if report.total.min_wage is not None:
        return _("Gross pay band (yuan)")
    return _("Gross pay band (share of the park's M)")


def _trend_rows(report: EmploymentReport) -> list[dict]:
    return [
        {
            "month": point.month,
            "employed": _text(point.total.employed, "count"),
            "new_hires": _text(point.total.new_hires, "count"),
            "leavers": _text(point.total.leavers, "count"),
            "women_share": point.total.women_share,
            "minority_share": point.total.minority_share,
        }
        for point in report.trend
    ]


def _value(figure: Figure):
    return figure.value if figure.shown else None


def report_charts(
    report: EmploymentReport, *, width: float = 480, height: float = 180
) -> list[charts.Chart]:
    """Employment over time, women and minority share, and the income
    distribution against M: the same drawings in the page and the PDF.
    Suppressed cells are gaps."""
    months = [f"{p.month:%Y-%m}" for p in report.trend]
    employment = charts.line_chart(
        title=_("Employment over time"),
        categories=months,
        series=[
            charts.Series(
                _("Employed at month end"),
                tuple(_value(p.total.employed) for p in report.trend),
            ),
            charts.Series(
                _("New hires"), tuple(_value(p.total.new_hires) for p in report.trend)
            ),
            charts.Series(
                _("Leavers"), tuple(_value(p.total.leavers) for p in report.trend)
            ),
        ],
        y_min=0,
        y_label=_("people"),
        width=width,
        height=height,
    )
    shares = charts.line_chart(
        title=_("Share of women and of smaller ethnic groups"),
        categories=months,
        series=[
            charts.Series(_("Women"), tuple(p.total.women_share for p in report.trend)),
            charts.Series(
                _("Smaller ethnic groups"),
                tuple(p.total.minority_share for p in report.trend),
            ),
        ],
        y_min=0,
        y_max=100,
        y_label=_("Share of the employed"),
        width=width,
        height=height,
    )
    out = [employment, shares]
    if report.bands:
        m = report.total.min_wage
        marker_label = (
            _("M = %(amount)s yuan") % {"amount": f"{m:,.2f}"} if m else _("M")
        )
        out.append(
            charts.histogram(
                title=_("Gross pay of the active workers, %(month)s")
                % {"month": f"{report.month:%Y-%m}"},
                bands=[_band_label(b) for b in report.bands],
                counts=[_value(b.people) for b in report.bands],
                label=_("people"),
                marker=M_BAND,
                marker_label=marker_label,
                gap_label=f"<{THRESHOLD}",
                y_label=_("people"),
                width=width,
                height=height,
            )
        )
    return out


def _context(request) -> dict:
    month, by = _parse(request)
    report = employment_report(user=request.user, month=month)
    return {
        "report": report,
        "month": month,
        "by": by,
        "groupings": GROUPINGS,
        "months": _month_options(),
        "columns": [(key, label) for key, label, _kind in COLUMNS],
        "rows": _display_rows(report, by),
        "bands": _bands(report),
        "band_heading": _band_heading(report),
        "trend": _trend_rows(report),
        "threshold": THRESHOLD,
        "query": f"month={month:%Y-%m}&by={by}",
        # The page and the PDF say the same.
        "suppression_note": _suppression_note(),
        "pay_note": _pay_note(),
    }


# --- views ------------------------------------------------------------------


@role_required("county_official")
@require_GET
def report(request):
    """R16 for a month, by park or township, with charts; aggregates only."""
    context = _context(request)
    context["charts"] = [
        (chart.title, chart.svg())
        for chart in report_charts(
            context["report"], width=charts.PAGE_WIDTH, height=220
        )
    ]
    return render(request, "county/report.html", context)


def _filename(context: dict, extension: str) -> str:
    return f"employment-{context['month']:%Y-%m}-{context['by']}.{extension}"


@role_required("county_official")
@require_GET
def report_csv(request):
    """The page's table as CSV, suppressed cells as "<5"."""
    context = _context(request)
    out = io.StringIO()
    out.write(BOM)  # so that spreadsheet programs read UTF-8 Chinese
    writer = csv_writer(out)
    level = GROUPINGS[context["by"]]
    writer.writerow(
        [
            _("Month"),
            str(level),
            _("Township"),
            *(str(label) for _key, label, _kind in COLUMNS),
            _("Women %"),
            _("Smaller ethnic groups %"),
            _("Minimum wage M"),
        ]
    )
    for row in _display_rows(context["report"], context["by"], plain=True):
        writer.writerow(
            [
                f"{context['month']:%Y-%m}",
                row["label"],
                row["township"],
                *(text for text, _hidden in row["cells"]),
                _share_text(row["women_share"]),
                _share_text(row["minority_share"]),
                row["min_wage"],
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(context, "csv")}"'
    )
    return response


@role_required("county_official")
@require_GET
def report_pdf(request):
    """The page as a PDF: the table, the notes and the same charts."""
    context = _context(request)
    response = HttpResponse(render_pdf(context), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(context, "pdf")}"'
    )
    return response


def render_pdf(context: dict) -> bytes:
    """The report as PDF bytes, in the embedded CJK font (documents.fonts)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = cjk_font()
    report: EmploymentReport = context["report"]
    title_style = ParagraphStyle("title", fontName=font, fontSize=14, leading=18)
    body = ParagraphStyle("body", fontName=font, fontSize=8, leading=11)
    cell = ParagraphStyle("cell", fontName=font, fontSize=6.5, leading=8)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=_("Employment report"),
        author="ParkPay",
    )
    story = [
        Paragraph(
            para(
                _("Employment report %(month)s, by %(by)s")
                % {
                    "month": f"{report.month:%Y-%m}",
                    "by": str(GROUPINGS[context["by"]]).lower(),
                }
            ),
            title_style,
        ),
        Paragraph(
            para(
                _("Parks: %(parks)s")
                % {"parks": ", ".join(p.name for p in report.parks) or "—"}
            ),
            body,
        ),
        Spacer(1, 3 * mm),
        Paragraph(para(_suppression_note()), body),
    ]
    if not report.calculated:
        story.append(Paragraph(para(_pay_note()), body))
    story.append(Spacer(1, 3 * mm))
    header = [
        Paragraph(para(str(GROUPINGS[context["by"]])), cell),
        *(Paragraph(para(str(label)), cell) for _key, label, _kind in COLUMNS),
        Paragraph(para(_("Minimum wage M")), cell),
        Paragraph(para(_("Women %")), cell),
        Paragraph(para(_("Smaller ethnic groups %")), cell),
    ]
    data = [header]
    for row in context["rows"]:
        data.append(
            [
                Paragraph(para(row["label"]), cell),
                *(text for text, _hidden in row["cells"]),
                row["min_wage"],
                _share_text(row["women_share"]),
                _share_text(row["minority_share"]),
            ]
        )
    table = Table(data, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 7),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.grey),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
                ("BACKGROUND", (0, 1), (-1, 1), colors.HexColor("#eef1f4")),
            ]
        )
    )
    story += [table, Spacer(1, 5 * mm)]
    if context["bands"]:
        band_rows = [[context["band_heading"], _("People")]]
        band_rows += [[b["label"], b["people"]] for b in context["bands"]]
        bands = Table(band_rows, hAlign="LEFT")
        bands.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), font, 7),
                    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.grey),
                ]
            )
        )
        story += [bands, Spacer(1, 5 * mm)]
    for chart in report_charts(report):
        story += [chart.drawing, Spacer(1, 4 * mm)]
    doc.build(story)
    return buffer.getvalue()


def _suppression_note() -> str:
    return _(
        "Aggregates only. A cell counting fewer than %(n)s people (including "
        "none) is shown as <%(n)s with its figures hidden; where such a cell "
        "could be worked out from a total, another cell of the same split is "
        "hidden too. Every count shown is rounded to the nearest %(base)s, "
        "each on its own, so a total can differ a little from the sum of its "
        "parts; shares are worked out from the rounded counts. Hours are "
        "rounded to whole hours and pay to %(unit)s yuan. The same rounding "
        "applies to every month, split and export, so that comparing them "
        "reveals no single person."
    ) % {"n": THRESHOLD, "base": ROUNDING_BASE, "unit": f"{MONEY_UNIT:.0f}"}


def _pay_note() -> str:
    return _(
        "Pay figures appear once the payroll of the month is calculated for every park."
    )
