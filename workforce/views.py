import csv
import hashlib
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.selectors import audit_list
from documents import charts
from payroll.earnings import day_sessions, earnings_history, month_view
from payroll.models import PayPeriod
from workforce.access import home_url_name, role_required, staff_park
from workforce.forms import NewPasswordForm, SessionForm
from workforce.metrics import coverage, park_trends, payslip_warnings, staff_metrics
from workforce.models import Contract, SkillLevel, Worker
from workforce.selectors import (
    user_park_ids,
    user_roles,
    work_session_list,
    worker_list,
)
from workforce.services import (
    work_session_clock_in,
    work_session_clock_out,
    work_session_log,
    work_session_update,
    worker_set_password,
)

STAFF_PAGE_SIZE = 50


@require_GET
def home(request):
    """What ParkPay is, and a way in; a signed-in user goes to their page."""
    if request.user.is_authenticated:
        target = home_url_name(request.user)
        if target:
            return redirect(target)
    return render(request, "home.html")


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def own_worker(request) -> Worker:
    """The signed-in user's worker record with its park (one query), else 404."""
    user = request.user
    if not user.is_authenticated:
        raise Http404
    try:
        return Worker.objects.select_related("park").get(user_id=user.pk)
    except Worker.DoesNotExist:
        raise Http404 from None


def parse_month(value: str | None, default: date | None = None) -> date:
    default = default or timezone.localdate().replace(day=1)
    if not value:
        return default
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return default


def month_options(count: int = 12) -> list[date]:
    first = timezone.localdate().replace(day=1)
    months = []
    for _i in range(count):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return months


# --- worker ----------------------------------------------------------------


CHART_SECONDS = 3600


def history_chart(history, estimate, *, worker: Worker | None = None) -> str:
    """Gross and net pay by month (the current estimate included) as SVG.

    Drawing it costs more than the rest of the page, so with ``worker`` the SVG
    is cached under the worker, the language and the very figures it shows:
    new figures make a new key, so nothing is ever shown stale.
    """
    months = {m: (g, n) for m, g, n in history}
    if estimate.is_estimate and estimate.units:
        months[estimate.month] = (estimate.taxable, estimate.net)
    if not months:
        return ""
    keys = sorted(months)[-12:]
    cache_key = None
    if worker is not None:
        figures = ";".join(f"{m:%Y%m}:{months[m][0]}:{months[m][1]}" for m in keys)
        digest = hashlib.sha256(figures.encode()).hexdigest()[:32]
        cache_key = f"earnings-chart:{worker.id}:{get_language()}:{digest}"
        svg = cache.get(cache_key)
        if svg is not None:
            return svg
    chart = charts.bar_chart(
        categories=[f"{m:%m}" for m in keys],
        series=[
            charts.Series(_("Gross"), tuple(months[m][0] for m in keys)),
            charts.Series(_("Net"), tuple(months[m][1] for m in keys)),
        ],
        title=_("Pay by month (yuan)"),
        width=360,
        height=170,
    )
    svg = chart.svg()
    if cache_key is not None:
        cache.set(cache_key, svg, CHART_SECONDS)
    return svg


@role_required("worker")
@require_GET
def worker_home(request):
    """Today and this month so far; earnings by day and project; 12 months."""
    worker = own_worker(request)
    month = parse_month(request.GET.get("month"))
    view = month_view(worker=worker, month=month)
    today = timezone.localdate()
    today_minutes, open_session = day_sessions(worker=worker, day=today)
    history = earnings_history(worker=worker)
    return render(
        request,
        "worker/home.html",
        {
            "worker": worker,
            "estimate": view.estimate,
            "month_key": view.key,
            "hint": view.hint,
            "breakdown": view.breakdown,
            "today": today,
            "today_hours": today_minutes / 60,
            "history": history,
            "history_chart": history_chart(history, view.estimate, worker=worker),
            "months": month_options(),
            "month": month,
            "open_session": open_session,
        },
    )


@role_required("worker")
@require_http_methods(["GET", "POST"])
def worker_sessions(request):
    """Log a session, clock in or out, and fix own sessions of the last week."""
    worker = own_worker(request)
    form = SessionForm(tz_name=worker.park.time_zone)
    if request.method == "POST":
        action = request.POST.get("action", "log")
        try:
            if action == "clock_in":
                work_session_clock_in(worker=worker)
                messages.success(request, _("Clocked in."))
                return redirect("me:sessions")
            if action == "clock_out":
                session = work_session_clock_out(worker=worker)
                if session is None:
                    messages.info(request, _("Clock-in cancelled."))
                else:
                    messages.success(
                        request,
                        _("Clocked out: %(minutes)s minutes.")
                        % {"minutes": session.minutes},
                    )
                return redirect("me:sessions")
            form = SessionForm(request.POST, tz_name=worker.park.time_zone)
            if form.is_valid():
                work_session_log(
                    worker=worker,
                    start=form.cleaned_data["start_at"],
                    end=form.cleaned_data["end_at"],
                )
                messages.success(request, _("Session saved."))
                return redirect("me:sessions")
        except ValidationError as exc:
            _form_errors(form, exc, request)
    since = timezone.now() - timedelta(days=7)
    sessions = work_session_list(user=request.user, worker=worker).filter(
        start__gte=since
    )
    return render(
        request,
        "worker/sessions.html",
        {
            "form": form,
            "sessions": sessions.order_by("-start"),
            "open_session": worker.sessions.filter(end__isnull=True).first(),
        },
    )


@role_required("worker")
@require_http_methods(["GET", "POST"])
def worker_session_edit(request, pk: int):
    """Fix one of the worker's own sessions of the last 7 days."""
    worker = own_worker(request)
    session = get_object_or_404(
        work_session_list(user=request.user, worker=worker).filter(
            start__gte=timezone.now() - timedelta(days=7)
        ),
        pk=pk,
    )
    tz = worker.park.time_zone
    local_start = timezone.localtime(session.start)
    initial = {"day": local_start.date(), "start": local_start.time().replace(second=0)}
    if session.end:
        initial["end"] = timezone.localtime(session.end).time().replace(second=0)
    form = SessionForm(initial=initial, tz_name=tz)
    if request.method == "POST":
        form = SessionForm(request.POST, tz_name=tz)
        if form.is_valid():
            try:
                work_session_update(
                    session=session,
                    start=form.cleaned_data["start_at"],
                    end=form.cleaned_data["end_at"],
                )
                messages.success(request, _("Session saved."))
                return redirect("me:sessions")
            except ValidationError as exc:
                _form_errors(form, exc, request)
    return render(
        request, "worker/session_edit.html", {"form": form, "session": session}
    )


def _form_errors(form, exc: ValidationError, request) -> None:
    """Show a service's ValidationError on the form, by field where it can."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            if target is None and field in {"start", "end"}:
                target = field
            for error in errors:
                if form.is_bound:
                    form.add_error(target if target in form.fields else None, error)
                else:
                    messages.error(request, error)
    else:
        for error in exc.messages:
            if form.is_bound:
                form.add_error(None, error)
            else:
                messages.error(request, error)


# --- director and payroll officer -----------------------------------------


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
    month = parse_month(request.GET.get("month"))
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


class _Echo:
    def write(self, value):
        return value


@role_required("director", "payroll_officer")
@require_GET
def staff_csv(request):
    """The same table, every row, as CSV (streamed)."""
    park = staff_park(request)
    month = parse_month(request.GET.get("month"))
    rows = _staff_rows(request, park, month)
    writer = csv.writer(_Echo())
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
        yield "\ufeff"  # so that spreadsheet programs read UTF-8 Chinese names
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
    months = [f"{t.month:%Y-%m}" for t in rows]
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
            build = charts.line_chart if kind == "line" else charts.bar_chart
            chart = build(
                categories=months,
                series=[charts.Series(title, tuple(values))],
                title=title,
                legend=False,
            )
            chart_list.append((title, chart.svg()))
    return render(
        request,
        "park/trends.html",
        {"park": park, "trends": rows, "charts": chart_list},
    )


@role_required("director", "payroll_officer")
@require_GET
def coverage_view(request):
    """Hour of day × weekday: how many people work, on average."""
    park = staff_park(request)
    month = parse_month(request.GET.get("month"))
    cov = coverage(park=park, month=month)
    weekdays = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    rows = []
    for name, cells in zip(weekdays, cov.cells, strict=True):
        rows.append(
            (
                name,
                [
                    (value, int(100 * value / cov.peak) if cov.peak else 0)
                    for value in cells
                ],
            )
        )
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


@role_required("director")
@require_http_methods(["GET", "POST"])
def worker_password(request, pk: int):
    """The director sets a temporary password for one of the park's workers."""
    worker = get_object_or_404(worker_list(user=request.user), pk=pk)
    if worker.user is None:
        User = get_user_model()
        worker.user = User(username=worker.employee_no.lower())
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            validate_password(form.cleaned_data["password"], worker.user)
        except ValidationError as exc:
            form.add_error("password", exc)
        else:
            worker_set_password(
                worker=worker,
                password=form.cleaned_data["password"],
                actor=request.user,
            )
            messages.success(
                request,
                _("New password set for %(name)s (login: %(login)s).")
                % {"name": worker.name, "login": worker.user.username},
            )
            return redirect("park:staff")
    return render(
        request, "park/worker_password.html", {"worker": worker, "form": form}
    )


@role_required("director")
@require_GET
def audit(request):
    """Who changed what, when: the park's audit trail (read-only)."""
    park = staff_park(request)
    events = audit_list(
        user=request.user,
        roles=user_roles(request.user),
        park_ids=user_park_ids(request.user),
    ).filter(park=park)
    action = request.GET.get("action")
    if action:
        events = events.filter(action=action)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "park/audit.html",
        {"park": park, "page": page, "query": query.urlencode(), "action": action},
    )


# --- training (R15) ---------------------------------------------------------


@role_required("worker")
@require_GET
def worker_training(request):
    """The worker's own training progress, with the charts of the PDF report."""
    from workforce import training, training_pdf

    worker = own_worker(request)
    try:
        progress = training.trainee_progress(user=request.user, worker_id=worker.id)
    except Worker.DoesNotExist:
        progress = None
    charts_svg = []
    if progress is not None and progress.weeks:
        charts_svg = [c.svg() for c in training_pdf.trainee_charts(progress, web=True)]
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
    from workforce import training, training_pdf

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
                [ch.svg() for ch in training_pdf.cohort_charts(c, web=True)]
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
    from django.http import HttpResponse

    from workforce import training, training_pdf

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
