"""Pages and PDFs of the annual summary (年度汇算) of a worker's year: her own,
or any worker of their park for its director and payroll officer."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from payroll.annual import annual_summary
from payroll.annual_pdf import render_annual
from payroll.models import Payslip
from workforce.access import role_required, staff_park
from workforce.models import DeductionCategory
from workforce.selectors import worker_list
from workforce.views import own_worker

FIRST_YEAR = 2000
BAD_YEAR = gettext_lazy("The year must be a number from 2000 to next year.")
NO_SUCH_WORKER = gettext_lazy("No worker with this number in this park.")


def _year(value, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise BadRequest(BAD_YEAR) from None
    if not FIRST_YEAR <= year <= timezone.localdate().year + 1:
        raise BadRequest(BAD_YEAR)
    return year


def _years(worker) -> list[int]:
    years = {
        d.year
        for d in Payslip.objects.filter(worker=worker).dates("period__month", "year")
    }
    years.add(timezone.localdate().year)
    return sorted(years, reverse=True)


def _pdf(summary, worker) -> HttpResponse:
    content = render_annual(summary, park_name=worker.park.name)
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"annual-summary-{worker.employee_no}-{summary.year}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _context(summary, **extra) -> dict:
    labels = dict(DeductionCategory.choices)
    return {
        "summary": summary,
        "categories": [(c, labels.get(c, c)) for c in summary.categories],
        "totals": summary.totals,
        "special_rows": [
            (m.month, [m.special.get(c) for c in summary.categories])
            for m in summary.months
            if m.payslip
        ],
        **extra,
    }


@role_required("worker")
@require_GET
def my_annual(request):
    worker = own_worker(request)
    year = _year(request.GET.get("year"), timezone.localdate().year)
    summary = annual_summary(worker=worker, year=year)
    return render(
        request,
        "payroll/annual.html",
        _context(summary, years=_years(worker), pdf_url=None),
    )


@role_required("worker")
@require_GET
def my_annual_pdf(request, year: int):
    worker = own_worker(request)
    summary = annual_summary(worker=worker, year=_year(year, year))
    return _pdf(summary, worker)


@role_required("director", "payroll_officer")
@require_GET
def park_annual(request):
    """A worker of the park chosen by employee number, and a year."""
    park = staff_park(request)
    employee_no = (request.GET.get("employee_no") or "").strip()[:20]
    year = _year(request.GET.get("year"), timezone.localdate().year)
    context = {"park": park, "employee_no": employee_no, "year": year}
    if employee_no:
        worker = (
            worker_list(user=request.user)
            .filter(park=park, employee_no=employee_no)
            .first()
        )
        if worker is None:
            context["error"] = NO_SUCH_WORKER
        else:
            summary = annual_summary(worker=worker, year=year)
            context.update(_context(summary, years=_years(worker)))
    return render(request, "park/annual.html", context)


@role_required("director", "payroll_officer")
@require_GET
def park_annual_pdf(request, pk: int, year: int):
    worker = get_object_or_404(worker_list(user=request.user), pk=pk)
    summary = annual_summary(worker=worker, year=_year(year, year))
    return _pdf(summary, worker)
