from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.selectors import audit_list, object_events
from workforce import bounds
from workforce.access import home_url_name, role_required, staff_park
from workforce.closing import is_closed
from workforce.forms import NewPasswordForm, SessionCorrectionForm, SessionForm
from workforce.models import Worker
from workforce.selectors import (
    user_park_ids,
    user_roles,
    work_session_list,
    worker_list,
)
from workforce.services import (
    CLOCK_IN_CANCELLED,
    work_session_clock_in,
    work_session_clock_out,
    work_session_correct,
    work_session_log,
    work_session_update,
    worker_set_password,
)


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


def parse_month(value: str | None, default: date | None = None, *, parks=()) -> date:
    """A ``?month=YYYY-MM`` parameter; out of the range of ``parks``' periods
    (see :func:`workforce.bounds.month_range`) is a 400 naming the range."""
    default = default or timezone.localdate().replace(day=1)
    if not value:
        return default
    try:
        year, month = value.split("-")
        day = date(int(year), int(month), 1)
    except ValueError:
        return default
    problem = bounds.month_error(day, parks)
    if problem:
        raise BadRequest(problem)
    return day


def bad_request(request, exception):
    """The 400 page. A refusal raised by our own checks (``BadRequest``, such
    as a month out of range) says what was wrong; other causes say nothing
    of themselves."""
    message = str(exception) if type(exception) is BadRequest else ""
    return render(request, "400.html", {"message": message}, status=400)


def month_options(count: int = 12) -> list[date]:
    first = timezone.localdate().replace(day=1)
    months = []
    for _i in range(count):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return months


@role_required("worker")
@require_http_methods(["GET", "POST"])
def worker_sessions(request):
    """Log a session, clock in or out, and fix own sessions of the last week."""
    worker = own_worker(request)
    form = SessionForm(park=worker.park)
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
                    messages.info(request, CLOCK_IN_CANCELLED)
                else:
                    hours = f"{Decimal(session.minutes) / 60:.2f}"
                    messages.success(
                        request, _("Clocked out: %(hours)s hours.") % {"hours": hours}
                    )
                return redirect("me:sessions")
            form = SessionForm(request.POST, park=worker.park)
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
    initial = SessionForm.initial_of(session, worker.park)
    form = SessionForm(initial=initial, park=worker.park)
    if request.method == "POST":
        form = SessionForm(request.POST, park=worker.park)
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
            try:
                worker_set_password(
                    worker=worker,
                    password=form.cleaned_data["password"],
                    actor=request.user,
                )
            except ValidationError as exc:  # the login name is taken
                form.add_error(None, exc)
                return render(
                    request,
                    "park/worker_password.html",
                    {"worker": worker, "form": form},
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


SESSION_CORRECTIONS = ("work_session.correct", "work_session.correction")


@role_required("director", "payroll_officer")
@require_http_methods(["GET", "POST"])
def session_correct(request, pk: int):
    """Correct one worker's hours (R13.5): in an open month the session
    changes; in a closed one the correction is recorded with its reason and
    the approved pay stays as it is."""
    session = get_object_or_404(
        work_session_list(user=request.user).select_related("worker__park"), pk=pk
    )
    park = session.worker.park
    closed = is_closed(park, session.work_date)
    initial = SessionForm.initial_of(session, park)
    form = SessionCorrectionForm(request.POST or None, initial=initial, park=park)
    if request.method == "POST" and form.is_valid():
        try:
            work_session_correct(
                session=session,
                start=form.cleaned_data["start_at"],
                end=form.cleaned_data["end_at"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as exc:
            _form_errors(form, exc, request)
        else:
            messages.success(
                request,
                _(
                    "The correction is recorded; the approved pay of the month "
                    "stays as it is."
                )
                if closed
                else _("Hours corrected."),
            )
            return redirect("park:session_correct", pk=session.pk)
    corrections = object_events(obj=session, actions=SESSION_CORRECTIONS)
    return render(
        request,
        "park/session_correct.html",
        {
            "session": session,
            "closed": closed,
            "form": form,
            "corrections": [
                {
                    "event": event,
                    "before": _session_text(event.before),
                    "after": _session_text(event.after),
                    "reason": (event.after or {}).get("reason", ""),
                }
                for event in corrections
            ],
        },
    )


def _session_text(figures) -> str:
    """ "2026-11-03 08:00–12:30" from an audit event's figures of a session."""
    figures = figures or {}
    start, end = figures.get("start"), figures.get("end")
    if not start:
        return "—"
    start_at = timezone.localtime(datetime.fromisoformat(start))
    text = f"{start_at:%Y-%m-%d %H:%M}"
    if end:
        text += f"–{timezone.localtime(datetime.fromisoformat(end)):%H:%M}"
    return text


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
