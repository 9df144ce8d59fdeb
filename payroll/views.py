import hashlib
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents import charts
from payroll import corrections as correction_services
from payroll import exports, payslip_files
from payroll import periods as period_services
from payroll.earnings import day_sessions, earnings_history, month_view
from payroll.models import AdjustmentKind, PayPeriod, Payslip, PayslipLine, TaskType
from payroll.selectors import (
    PARK_STAFF,
    adjustment_list,
    correction_list,
    payslip_list,
    period_list,
    project_list,
    rate_card_list,
    run_list,
    work_record_list,
)
from payroll.services import rate_card_create, rate_card_problems
from workforce import bounds
from workforce.access import role_required, staff_park
from workforce.forms import IsoDateInput
from workforce.models import SkillLevel, Worker
from workforce.selectors import user_roles, work_session_list, worker_list
from workforce.views import month_options, own_worker, parse_month

# --- worker: earnings ---------------------------------------------------


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
        figures += f";{estimate.in_progress}"
        digest = hashlib.sha256(figures.encode()).hexdigest()[:32]
        cache_key = f"earnings-chart:{worker.id}:{get_language()}:{digest}"
        svg = cache.get(cache_key)
        if svg is not None:
            return svg
    labels = [f"{m:%y-%m}" for m in keys]
    if estimate.is_estimate and keys[-1] == estimate.month and estimate.in_progress:
        labels[-1] = _("%(month)s so far") % {"month": labels[-1]}
    chart = charts.bar_chart(
        categories=labels,
        series=[
            charts.Series(_("Gross"), tuple(months[m][0] for m in keys)),
            charts.Series(_("Net"), tuple(months[m][1] for m in keys)),
        ],
        title=_("Pay by month (yuan)"),
        width=charts.PAGE_WIDTH,
        height=200,
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
    month = parse_month(request.GET.get("month"), parks=[worker.park])
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


# --- worker: payslips -------------------------------------------------------


@role_required("worker")
@require_GET
def my_payslips(request):
    # Only what the list shows: the number, month, status and net pay.
    payslips = list(
        payslip_list(user=request.user)
        .select_related(None)
        .select_related("period")
        .only("number", "net", "period__month", "period__status")
        .order_by("-period__month")
    )
    user = request.user
    if not payslips or user.is_superuser or user_roles(user) & PARK_STAFF:
        # A login without a worker record answers 404; a worker's own payslips
        # (the only ones a plain worker is shown) prove theirs exists.
        own_worker(request)
    return render(request, "worker/payslips.html", {"payslips": payslips})


@require_GET
def payslip_detail(request, number: str):
    """A payslip on the page, by its number (stable across recalculations, R14);
    anybody but its worker and the park's staff gets 404."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    payslip = get_object_or_404(payslip_list(user=request.user), number=number)
    # Read only if the page's cached lines are missing; in their order, without
    # the default ordering's joins through the payslip, period, park and worker.
    lines = PayslipLine.objects.filter(payslip=payslip).order_by("position")
    return render(request, "payroll/payslip.html", {"payslip": payslip, "lines": lines})


@require_GET
def payslip_pdf(request, number: str):
    """Download one payslip's PDF (rendered now if its task has not run yet)."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    payslip = get_object_or_404(payslip_list(user=request.user), number=number)
    try:
        filename, handle = payslip_files.payslip_pdf_for_user(
            user=request.user, pk=payslip.pk
        )
    except Payslip.DoesNotExist as exc:
        raise Http404 from exc
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/pdf"
    )


@role_required("director", "payroll_officer")
@require_GET
def period_bundle(request, pk: int):
    """The park-wide PDF of a period's payslips; queued on first request."""
    try:
        status = payslip_files.payslip_bundle_for_user(user=request.user, period_id=pk)
    except PayPeriod.DoesNotExist as exc:
        raise Http404 from exc
    if status.ready:
        return FileResponse(
            default_storage.open(status.name),
            as_attachment=True,
            filename=status.filename,
            content_type="application/pdf",
        )
    if status.pending:
        messages.info(
            request,
            _("%(count)s payslip PDFs are still being generated; try again shortly.")
            % {"count": status.pending},
        )
    else:
        messages.info(
            request, _("The PDF of all payslips is being prepared; try again shortly.")
        )
    return redirect("park:period", pk=pk)


@role_required("director", "payroll_officer")
@require_GET
def period_export_file(request, pk: int, kind: str, fmt: str):
    """R17.2: an export of an approved period, or the list of workers whose
    identity or bank data must be completed first."""
    period = _staff_period(request, pk)
    try:
        filename, content, content_type = exports.period_export(
            period=period, kind=kind, fmt=fmt, actor=request.user
        )
    except exports.ExportRefused as exc:
        return render(
            request,
            "park/export_errors.html",
            {"period": period, "problems": exc.problems},
            status=400,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("park:period", pk=pk)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- director and payroll officer: payroll ---------------------------------


def add_errors(form, exc: ValidationError) -> None:
    """A service's refusal shown on the form, by field where it names one."""
    for field, errors in getattr(
        exc, "message_dict", {"__all__": exc.messages}
    ).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


class AdjustmentForm(forms.Form):
    employee_no = forms.CharField(label=gettext_lazy("Employee number"), max_length=20)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=AdjustmentKind.choices)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (yuan)"), max_digits=12, decimal_places=2
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


@role_required("director", "payroll_officer")
@require_GET
def payroll_periods(request):
    park = staff_park(request)
    periods = (
        period_list(user=request.user, park_id=park.id)
        .annotate(payslip_count=Count("payslips"))
        .order_by("-month")
    )
    return render(
        request,
        "park/payroll.html",
        {"park": park, "periods": periods, "months": month_options(6)},
    )


def _staff_period(request, pk: int):
    return get_object_or_404(period_list(user=request.user), pk=pk)


@role_required("director", "payroll_officer")
@require_POST
def payroll_calculate(request):
    """Start a calculation of a month (creating the period if needed)."""
    park = staff_park(request)
    month = parse_month(request.POST.get("month"), parks=[park])
    period = period_services.period_get_or_create(park=park, month=month)
    try:
        run = period_services.payroll_run_start(period=period, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("park:period", pk=period.pk)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("park:payroll")
    return redirect(f"{reverse('park:period', args=[period.pk])}?run={run.pk}")


PERIOD_PAGE_SIZE = 50


@role_required("director", "payroll_officer")
@require_http_methods(["GET", "POST"])
def period_detail(request, pk: int):
    """A period: its latest run (with a live progress bar), errors, approval,
    payment, adjustments and payslips."""
    period = _staff_period(request, pk)
    form = AdjustmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        worker = (
            worker_list(user=request.user)
            .filter(employee_no=form.cleaned_data["employee_no"], park=period.park)
            .first()
        )
        if worker is None:
            form.add_error("employee_no", _("No worker with this number in this park."))
        else:
            try:
                period_services.adjustment_add(
                    period=period,
                    worker=worker,
                    kind=form.cleaned_data["kind"],
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ValidationError as exc:
                add_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Adjustment added; recalculate to apply it.")
                )
                return redirect("park:period", pk=period.pk)
    run = period.runs.order_by("-created_at").first()
    payslips = payslip_list(user=request.user, period=period).order_by(
        "worker__employee_no"
    )
    payslip_total = payslips.count()
    search = request.GET.get("q", "").strip()[:50]
    if search:
        payslips = payslips.filter(
            Q(worker__employee_no__icontains=search) | Q(worker__name__icontains=search)
        )
    page = Paginator(payslips, PERIOD_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "park/period.html",
        {
            "period": period,
            "run": run,
            "form": form,
            "export_kinds": exports.KIND_LABELS,
            "adjustments": adjustment_list(user=request.user).filter(period=period),
            "corrections": correction_list(user=request.user).filter(
                record__worker__park=period.park,
                record__work_date__gte=period.month,
                record__work_date__lt=month_end(period.month),
            ),
            "page": page,
            "payslips": page.object_list,
            "payslip_total": payslip_total,
            "search": search,
            "query": urlencode({"q": search}) if search else "",
            "can_approve": "director" in user_roles(request.user),
            "pdf_status": payslip_files.period_pdf_status(period=period),
            "bundle_url": reverse("park:bundle", args=[period.pk]),
        },
    )


@role_required("director", "payroll_officer")
@require_GET
def run_status(request, pk: int):
    """JSON for the progress bar."""
    run = get_object_or_404(run_list(user=request.user), pk=pk)
    return JsonResponse(
        {
            "id": run.pk,
            "status": run.status,
            "status_display": run.get_status_display(),
            "progress": run.progress,
            "workers_done": run.workers_done,
            "workers_total": run.workers_total,
            "error_count": run.error_count,
            "message": run.message,
            "summary": run.summary,
        }
    )


@role_required("director", "payroll_officer")
@require_http_methods(["GET", "POST"])
def period_action(request, pk: int, action: str):
    """Approve or mark paid, after a confirmation page (no JavaScript needed):
    only a POST with ``confirm`` acts."""
    period = _staff_period(request, pk)
    services = {
        "approve": period_services.period_approve,
        "paid": period_services.period_mark_paid,
    }
    if action not in services:
        raise Http404
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        return render(
            request,
            "park/period_confirm.html",
            {
                "period": period,
                "action": action,
                "payslip_total": payslip_list(user=request.user, period=period).count(),
            },
        )
    try:
        services[action](period=period, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(
            request, exc.messages[0] if hasattr(exc, "messages") else str(exc)
        )
    else:
        messages.success(
            request,
            _("Period %(period)s approved.") % {"period": period.label}
            if action == "approve"
            else _("Period %(period)s marked paid.") % {"period": period.label},
        )
    return redirect("park:period", pk=period.pk)


# --- corrections of work records (R13.5) -------------------------------------


def month_end(month):
    """The first day of the month after ``month``."""
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


@role_required("director", "payroll_officer")
@require_GET
def period_records(request, pk: int):
    """A worker's work records and hours of a period's month, each with its
    figures after corrections and a link to correct it."""
    period = _staff_period(request, pk)
    employee_no = (request.GET.get("employee_no") or "").strip()
    records, sessions = [], []
    if employee_no:
        for record in (
            work_record_list(user=request.user)
            .filter(
                worker__park=period.park,
                worker__employee_no=employee_no,
                work_date__gte=period.month,
                work_date__lt=month_end(period.month),
            )
            .prefetch_related("corrections")
            .order_by("work_date", "id")[:500]
        ):
            units, accuracy, voided = correction_services.record_figures(record)
            records.append((record, units, accuracy, voided))
        sessions = (
            work_session_list(user=request.user)
            .filter(
                worker__park=period.park,
                worker__employee_no=employee_no,
                work_date__gte=period.month,
                work_date__lt=month_end(period.month),
            )
            .order_by("start")[:500]
        )
    return render(
        request,
        "park/period_records.html",
        {
            "period": period,
            "employee_no": employee_no,
            "records": records,
            "sessions": sessions,
        },
    )


class CorrectionForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("What to do"),
        choices=[
            ("correct", gettext_lazy("Correct the units or the accuracy")),
            ("void", gettext_lazy("Void the record")),
        ],
        initial="correct",
        widget=forms.RadioSelect,
    )
    units = forms.IntegerField(
        label=gettext_lazy("New units"),
        required=False,
        validators=[bounds.validate_units],
    )
    accuracy = forms.DecimalField(
        label=gettext_lazy("New accuracy (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


@role_required("director", "payroll_officer")
@require_http_methods(["GET", "POST"])
def record_correct(request, pk: int):
    """Void or correct one work record (R13.5): in an open month the record
    changes; in a closed one a correction is booked in the next open month."""
    record = get_object_or_404(work_record_list(user=request.user), pk=pk)
    units, accuracy, voided = correction_services.record_figures(record)
    form = CorrectionForm(request.POST or None)
    period = PayPeriod.objects.filter(
        park=record.worker.park, month=record.work_date.replace(day=1)
    ).first()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "void":
                correction_services.work_record_void(
                    record=record, reason=data["reason"], actor=request.user
                )
            else:
                correction_services.work_record_correct(
                    record=record,
                    units=data["units"],
                    accuracy=data["accuracy"],
                    reason=data["reason"],
                    actor=request.user,
                )
        except ValidationError as exc:
            add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Correction saved; recalculate the open month to apply it.")
            )
            if period is None:
                return redirect("park:payroll")
            return redirect("park:period", pk=period.pk)
    return render(
        request,
        "park/record_correct.html",
        {
            "record": record,
            "units": units,
            "accuracy": accuracy,
            "voided": voided,
            "period": period,
            "form": form,
            "corrections": record.corrections.select_related("created_by"),
        },
    )


# --- rate cards and quality tiers ----------------------------------------


class RateCardForm(forms.Form):
    project = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Project"))
    task_type = forms.ModelChoiceField(
        queryset=TaskType.objects.all(), label=gettext_lazy("Task type")
    )
    skill_level = forms.ChoiceField(
        choices=SkillLevel.choices, label=gettext_lazy("Skill level")
    )
    rate = forms.DecimalField(
        max_digits=12,
        decimal_places=4,
        min_value=Decimal("0"),
        label=gettext_lazy("Rate per unit (yuan)"),
    )
    effective_from = forms.DateField(
        label=gettext_lazy("Valid from"), widget=IsoDateInput()
    )

    def __init__(self, *args, projects=None, park=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        if park is not None:
            # The phone's date picker offers only the days a card may start.
            self.fields["effective_from"].widget.attrs.update(
                min=bounds.earliest_day(park).isoformat(),
                max=(bounds.park_today(park) + bounds.RATE_CARD_AHEAD).isoformat(),
            )

    def clean(self):
        data = super().clean()
        if data.get("project") is not None:
            for field, problem in rate_card_problems(
                project=data["project"],
                rate=data.get("rate"),
                effective_from=data.get("effective_from"),
            ).items():
                self.add_error(field, problem)
        return data


@role_required("director", "payroll_officer")
@require_http_methods(["GET", "POST"])
def rates(request):
    """Current and past rate cards and quality tiers; a new card."""
    park = staff_park(request)
    projects = project_list(user=request.user).filter(park=park)
    form = RateCardForm(
        request.POST or None,
        projects=projects,
        park=park,
        initial={"effective_from": timezone.localdate() + timedelta(days=1)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            rate_card_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, InvalidOperation) as exc:
            for field, errors in getattr(
                exc, "message_dict", {"__all__": [str(exc)]}
            ).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Rate card added."))
            return redirect("park:rates")
    cards = list(
        rate_card_list(user=request.user)
        .filter(project__park=park)
        .order_by("project__name", "task_type__name", "skill_level", "-effective_from")
    )
    today = timezone.localdate()
    for card in cards:
        card.current = card.effective_from <= today and (
            card.effective_to is None or today < card.effective_to
        )
    return render(
        request,
        "park/rates.html",
        {
            "park": park,
            "form": form,
            "cards": cards,
            "projects": projects.prefetch_related("quality_tiers"),
        },
    )
