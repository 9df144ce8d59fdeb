"""Pages of the reports: staff metrics, trends, coverage and training (R15).

The county's employment report (R16) has its own views, ``county_views``.
"""

from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from documents import charts
from documents.csv import BOM, csv_writer
from payroll.models import PayPeriod
from reports import training, training_pdf
from reports.metrics import coverage, park_trends, payslip_warnings, staff_metrics
from workforce.access import role_required, staff_park
from workforce.models import Contract, SkillLevel, Worker
from workforce.selectors import user_roles
from workforce.views import month_options, own_worker, parse_month

STAFF_PAGE_SIZE = 50


def _staff_rows(request, park, month):
    params = request.GET
    return staff_metrics(
        park=park,
        month=month,
        sort=params.get("sort", "name"),
        team=params.get("team") or None,
        skill=params.get("skill") or None,
        contract=params.get("contract") or None,
        search=params.get("q") or None,
        live=params.get("live") == "1",
    )


@role_required("director", "payroll_officer")
@require_GET
def staff(request):
    """Staff metrics for a month: sortable, filterable, searchable, paginated."""
    park = staff_park(request)
    month = parse_month(request.GET.get("month"), parks=[park])
    rows = _staff_rows(request, park, month)
    page = Paginator(rows, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    warnings = payslip_warnings(
        park=park, month=month, worker_ids=[w.id for w in page.object_list]
    )
    for worker in page.object_list:
        worker.warning_list = warnings.get(worker.id, [])
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    period = PayPeriod.objects.filter(park=park, month=month).first()
    return render(
        request,
        "park/staff.html",
        {
            "park": park,
            "month": month,
            "period": period,
            "live": request.GET.get("live") == "1",
            "months": month_options(),
            "page": page,
            "sort": request.GET.get("sort", "name"),
            "columns": [
                ("name", _("Name")),
                ("employee_no", _("Number")),
                ("team", _("Team")),
                ("contract", _("Contract")),
                ("skill", _("Skill level")),
                ("hours", _("Hours")),
                ("units", _("Units")),
                ("uph", _("Units/hour")),
                ("accuracy", _("Accuracy %")),
                ("gross", _("Gross pay")),
            ],
            "numeric": {"hours", "units", "uph", "accuracy", "gross"},
            "can_reset": "director" in user_roles(request.user),
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "teams": park.teams.order_by("name").values_list("name", flat=True),
            "skills": SkillLevel.choices,
            "contracts": Contract.choices,
        },
    )


@role_required("director", "payroll_officer")
@require_GET
def staff_csv(request):
    """The same table, every row, as CSV (streamed)."""
    park = staff_park(request)
    month = parse_month(request.GET.get("month"), parks=[park])
    rows = _staff_rows(request, park, month)
    writer = csv_writer()
    header = [
        _("Employee number"),
        _("Name"),
        _("Team"),
        _("Contract"),
        _("Skill level"),
        _("Hours"),
        _("Units"),
        _("Units per hour"),
        _("Accuracy"),
        _("Gross pay"),
    ]

    def lines():
        yield BOM  # so that spreadsheet programs read UTF-8 Chinese names
        yield writer.writerow(header)
        for w in rows.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    w.employee_no,
                    w.name,
                    w.team.name if w.team else "",
                    w.get_contract_display(),
                    w.skill or "",
                    f"{w.minutes / 60:.2f}",
                    w.units,
                    f"{w.units_per_hour:.1f}" if w.units_per_hour is not None else "",
                    f"{w.accuracy:.2f}" if w.accuracy is not None else "",
                    w.gross if w.gross is not None else "",
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="staff-{park.code}-{month:%Y-%m}.csv"'
    )
    return response


@role_required("director", "payroll_officer")
@require_GET
def trends(request):
    """Headcount, hours, units, accuracy and payroll cost by month, as charts."""
    park = staff_park(request)
    rows = park_trends(park=park)
    # The month in progress is drawn with the others but named "so far", and
    # the page says so: a few days of work next to whole months.
    this_month = timezone.localdate().replace(day=1)
    partial = bool(rows) and rows[-1].month >= this_month
    months = [f"{t.month:%y-%m}" for t in rows]
    if partial:
        months[-1] = _("%(month)s so far") % {"month": months[-1]}
    figures = [
        (_("Headcount (payslips)"), [t.headcount for t in rows], "bar"),
        (_("Hours worked"), [t.hours for t in rows], "bar"),
        (_("Units"), [t.units for t in rows], "bar"),
        (_("Average accuracy (%)"), [t.accuracy for t in rows], "line"),
        (_("Payroll cost, gross (yuan)"), [t.payroll_cost for t in rows], "bar"),
    ]
    chart_list = []
    if rows:
        for title, values, kind in figures:
            options = {}
            if kind == "line":  # accuracy: 90–100 % at least, not 96.4–96.6
                options = {"y_max": 100, "min_span": 10}
            build = charts.line_chart if kind == "line" else charts.bar_chart
            chart = build(
                categories=months,
                series=[charts.Series(title, tuple(values))],
                title=title,
                legend=False,
                width=charts.PAGE_WIDTH,
                height=200,
                **options,
            )
            chart_list.append((title, chart.svg()))
    return render(
        request,
        "park/trends.html",
        {
            "park": park,
            "trends": rows,
            "charts": chart_list,
            "partial": rows[-1].month if partial else None,
        },
    )


COVERAGE_COLOR = "#0b6e4f"  # the accent colour of the pages


@role_required("director", "payroll_officer")
@require_GET
def coverage_view(request):
    """Hour of day × weekday: how many people work, on average."""
    park = staff_park(request)
    month = parse_month(request.GET.get("month"), parks=[park])
    cov = coverage(park=park, month=month)
    weekdays = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    rows = []
    for name, cells in zip(weekdays, cov.cells, strict=True):
        row = []
        for value in cells:
            # The cell's colour and, for its number, black or white, whichever
            # reaches 4.5:1 on it.
            fill = charts.mix(
                COVERAGE_COLOR,
                charts.HEAT_BASE,
                float(value / cov.peak) if cov.peak else 0,
            )
            row.append((value, fill, charts.text_on(fill)))
        rows.append((name, row))
    return render(
        request,
        "park/coverage.html",
        {
            "park": park,
            "month": month,
            "months": month_options(),
            "rows": rows,
            "hours": range(24),
            "peak": cov.peak,
        },
    )


@role_required("worker")
@require_GET
def worker_training(request):
    """The worker's own training progress, with the charts of the PDF report."""
    worker = own_worker(request)
    try:
        progress = training.trainee_progress(user=request.user, worker_id=worker.id)
    except Worker.DoesNotExist:
        progress = None
    charts_svg = []
    if progress is not None and progress.weeks:
        charts_svg = [
            c.svg()
            for c in training_pdf.trainee_charts(
                progress, web=True, width=charts.PAGE_WIDTH, height=210
            )
        ]
    return render(
        request,
        "worker/training.html",
        {
            "worker": worker,
            "progress": progress,
            "charts": charts_svg,
            "thresholds": training.THRESHOLDS,
        },
    )


@role_required("director", "payroll_officer", "trainer")
@require_GET
def park_training(request):
    """Cohort progress, who is close to qualifying, and every trainee."""
    park = staff_park(request)
    cohort = request.GET.get("cohort") or None
    reports = training.training_reports(
        user=request.user, park_id=park.id, cohort=cohort
    )
    report = reports[0] if reports else None
    cohorts = []
    if report is not None:
        for c in report.cohorts:
            svgs = (
                [
                    ch.svg()
                    for ch in training_pdf.cohort_charts(
                        c, web=True, width=charts.PAGE_WIDTH, height=210
                    )
                ]
                if c.weeks
                else []
            )
            cohorts.append((c, svgs))
    return render(
        request,
        "park/training.html",
        {
            "park": park,
            "report": report,
            "cohorts": cohorts,
            "cohort": cohort,
            "thresholds": training.THRESHOLDS,
        },
    )


@role_required("director", "payroll_officer", "trainer")
@require_GET
def park_training_pdf(request):
    park = staff_park(request)
    cohort = request.GET.get("cohort") or None
    report = training.training_report(park=park, cohort=cohort)
    response = HttpResponse(
        training_pdf.render_training_report(report), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="training-{park.code}-{report.as_of:%Y-%m-%d}.pdf"'
    )
    return response
