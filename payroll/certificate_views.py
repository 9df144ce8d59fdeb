"""Pages of the certificates of income (R17.3): the worker's own, the park
staff's, the PDF, and the public verification page (no login)."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from payroll import certificates
from payroll.certificate_pdf import render_certificate
from payroll.models import Payslip, PeriodStatus
from payroll.selectors import certificate_list
from payroll.views import add_errors
from workforce import bounds
from workforce.access import role_required, staff_park
from workforce.selectors import worker_list
from workforce.views import own_worker

_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")
MONTH_FORMAT = gettext_lazy("Enter a month as YYYY-MM, for example 2025-06.")
NO_SUCH_WORKER = gettext_lazy("No worker with this number in this park.")
TOO_MANY_CHECKS = gettext_lazy(
    "Too many verifications from your address; try again in a few minutes."
)
# The public page: at most this many look-ups per address and window.
VERIFY_LIMIT = 30
VERIFY_WINDOW = 300  # seconds


def _month(value: str) -> date:
    match = _MONTH_RE.fullmatch((value or "").strip())
    if not match:
        raise forms.ValidationError(MONTH_FORMAT)
    try:
        day = date(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise forms.ValidationError(MONTH_FORMAT) from None
    problem = bounds.month_error(day)
    if problem:
        raise forms.ValidationError(problem)
    return day


class SpanForm(forms.Form):
    span_start = forms.CharField(label=gettext_lazy("From (month)"), max_length=7)
    span_end = forms.CharField(label=gettext_lazy("To (month)"), max_length=7)

    def __init__(self, *args, months=None, **kwargs):
        super().__init__(*args, **kwargs)
        if months is not None:
            # The worker picks among her paid months.
            choices = [(f"{m:%Y-%m}", f"{m:%Y-%m}") for m in months]
            for name in ("span_start", "span_end"):
                self.fields[name] = forms.ChoiceField(
                    label=self.fields[name].label, choices=choices
                )
            if choices:
                self.initial.setdefault("span_start", choices[-1][0])
                self.initial.setdefault("span_end", choices[0][0])
        else:
            for name in ("span_start", "span_end"):
                self.fields[name].widget = forms.TextInput(
                    attrs={"type": "month", "placeholder": "YYYY-MM"}
                )

    def clean_span_start(self):
        return _month(self.cleaned_data["span_start"])

    def clean_span_end(self):
        return _month(self.cleaned_data["span_end"])


class StaffIssueForm(SpanForm):
    employee_no = forms.CharField(label=gettext_lazy("Employee number"), max_length=20)
    field_order = ["employee_no", "span_start", "span_end"]


class RevokeForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


def _issue(request, form, worker):
    try:
        cert = certificates.certificate_issue(
            worker=worker,
            span_start=form.cleaned_data["span_start"],
            span_end=form.cleaned_data["span_end"],
            actor=request.user,
        )
    except PermissionDenied as exc:
        raise Http404 from exc
    except ValidationError as exc:
        add_errors(form, exc)
        return None
    messages.success(
        request,
        _("Certificate issued for %(start)s to %(end)s.")
        % {"start": f"{cert.span_start:%Y-%m}", "end": f"{cert.span_end:%Y-%m}"},
    )
    return cert


# --- the worker ------------------------------------------------------------


@role_required("worker")
@require_http_methods(["GET", "POST"])
def my_certificates(request):
    """Her certificates, and a new one over her paid months."""
    worker = own_worker(request)
    months = list(
        Payslip.objects.filter(worker=worker, period__status=PeriodStatus.PAID)
        .order_by("-period__month")
        .values_list("period__month", flat=True)
    )
    form = SpanForm(request.POST or None, months=months)
    submitted = request.method == "POST" and form.is_valid()
    if submitted and _issue(request, form, worker) is not None:
        return redirect("me:certificates")
    issued = certificate_list(user=request.user).filter(worker=worker)[:50]
    return render(
        request,
        "worker/certificates.html",
        {"form": form, "certificates": issued, "paid_months": months},
    )


@require_GET
def certificate_pdf(request, pk: int):
    """The PDF of a certificate still in force, for its worker and her park's
    pay staff; anybody else, or a revoked certificate: 404."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    cert = get_object_or_404(
        certificate_list(user=request.user), pk=pk, revoked_at__isnull=True
    )
    url = request.build_absolute_uri(reverse("verify_code", args=[cert.code]))
    content = render_certificate(
        cert,
        verify_url=url,
        masked_id=cert.worker.identity_masked()["resident_id"],
    )
    response = HttpResponse(content, content_type="application/pdf")
    filename = (
        f"income-certificate-{cert.worker.employee_no}-"
        f"{cert.span_start:%Y%m}-{cert.span_end:%Y%m}.pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- park staff ------------------------------------------------------------


@role_required("director", "payroll_officer")
@require_http_methods(["GET", "POST"])
def park_certificates(request):
    """The park's certificates; issue one for a worker, revoke one."""
    park = staff_park(request)
    form = StaffIssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        worker = (
            worker_list(user=request.user)
            .filter(park=park, employee_no=form.cleaned_data["employee_no"])
            .first()
        )
        if worker is None:
            form.add_error("employee_no", NO_SUCH_WORKER)
        elif _issue(request, form, worker) is not None:
            return redirect(f"{reverse('park:certificates')}?park={park.code}")
    qs = (
        certificate_list(user=request.user)
        .filter(park=park)
        .select_related("revoked_by")
        .order_by("-issued_at", "-id")
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "park/certificates.html",
        {
            "park": park,
            "form": form,
            "page": page,
            "revoke_form": RevokeForm(),
            "query": f"park={park.code}",
        },
    )


@role_required("director", "payroll_officer")
@require_POST
def park_certificate_revoke(request, pk: int):
    cert = get_object_or_404(certificate_list(user=request.user), pk=pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for revoking the certificate."))
    else:
        try:
            certificates.certificate_revoke(
                certificate=cert, actor=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("The certificate has been revoked."))
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect(f"{reverse('park:certificates')}?park={cert.park.code}")


# --- the public verification page -------------------------------------------


def _over_limit(request) -> bool:
    key = f"certificate-verify:{request.META.get('REMOTE_ADDR', '')}"
    if cache.add(key, 1, VERIFY_WINDOW):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired in between
        cache.add(key, 1, VERIFY_WINDOW)
        return False
    return count > VERIFY_LIMIT


@require_GET
def verify(request, code: str | None = None):
    """Anybody with a certificate's code: whether it is valid, and only the
    park, the span, the totals and the masked name."""
    code = code if code is not None else request.GET.get("code")
    result = None
    if code:
        if _over_limit(request):
            response = render(
                request,
                "verify.html",
                {"limited": True, "message": TOO_MANY_CHECKS},
                status=429,
            )
            response["Retry-After"] = str(VERIFY_WINDOW)
            return _private(response)
        result = certificates.certificate_verify(code)
    response = render(
        request,
        "verify.html",
        {"result": result, "statuses": certificates.Status},
    )
    return _private(response)


def _private(response):
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
