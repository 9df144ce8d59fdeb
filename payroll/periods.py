"""Services of the pay-period lifecycle (R13): runs, approval, payment, adjustments.

The only way to change a period, a run, a payslip or an adjustment. Every
status move happens under ``select_for_update()`` and is audited.
"""

from __future__ import annotations

import logging
import time as clock
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from payroll.calculation import calculate_chunk, month_bounds, period_workers
from payroll.models import (
    ACTIVE_RUN_STATUSES,
    LOCKED_STATUSES,
    Adjustment,
    AdjustmentKind,
    PayPeriod,
    PayrollRun,
    Payslip,
    PeriodStatus,
    RunChunk,
    RunStatus,
    WorkCorrection,
)
from payroll.queue import CALCULATE_PERIOD, RENDER_PERIOD_PAYSLIPS, enqueue_on_commit
from workforce.bounds import park_today
from workforce.closing import check_open, park_close_through
from workforce.models import Park, Worker, WorkSession
from workforce.selectors import user_park_ids, user_roles

logger = logging.getLogger(__name__)

RUN_ALREADY_ACTIVE = _(
    "A payroll calculation for %(period)s is already running; wait for it to finish."
)
PERIOD_LOCKED = _("The period %(period)s is %(status)s and can no longer be changed.")
NOT_CALCULATED = _("The period %(period)s must be calculated before it is approved.")
HAS_ERRORS = _(
    "The period %(period)s has %(count)s calculation errors; fix them and "
    "recalculate before approving."
)
ALREADY_APPROVED = _("The period %(period)s is already %(status)s.")
NOT_APPROVED = _("Only an approved period can be marked paid.")
DIRECTOR_ONLY = _("Only the park's director can approve a period.")
STAFF_ONLY = _("Only the park's director or payroll officer can do this.")
EARLIER_OPEN = _("The earlier period %(period)s must be approved first.")
RUN_IN_PROGRESS = _("A calculation is running for %(period)s; wait for it to finish.")
RUN_TIMED_OUT = _(
    "The calculation made no progress for %(minutes)s minutes and was stopped; "
    "start it again."
)
WORKER_OTHER_PARK = _("The worker does not belong to this period's park.")
MONTH_NOT_OVER = _(
    "%(period)s is not over yet in the park's time zone; it can be approved "
    "from %(day)s."
)
STILL_CLOCKED_IN = _(
    "%(count)s workers are still clocked in since %(period)s; approve once "
    "they have clocked out."
)


def _require_park_role(actor, park: Park, roles: set[str], message) -> None:
    if actor is None or getattr(actor, "is_superuser", False):
        return  # system jobs (beat) and superusers
    if not (user_roles(actor) & roles) or park.id not in user_park_ids(actor):
        raise PermissionDenied(message)


def period_get_or_create(*, park: Park, month: date) -> PayPeriod:
    period, _created = PayPeriod.objects.get_or_create(
        park=park, month=month.replace(day=1)
    )
    return period


def _lock(period: PayPeriod) -> PayPeriod:
    return (
        PayPeriod.objects.select_for_update(of=("self",))
        .select_related("park")
        .get(pk=period.pk)
    )


def payroll_run_start(
    *,
    period: PayPeriod,
    actor=None,
    chunk_size: int | None = None,
    enqueue: bool = True,
):
    """Queue a calculation of ``period`` (R13.1); one active run per period.

    The run and its chunks are written first; the task is queued when the
    transaction commits (``enqueue=False``: the caller runs the chunks).
    """
    chunk_size = chunk_size or settings.PAYROLL_CHUNK_SIZE
    with transaction.atomic():
        period = _lock(period)
        _require_park_role(
            actor, period.park, {"director", "payroll_officer"}, STAFF_ONLY
        )
        if period.locked:
            raise ValidationError(
                PERIOD_LOCKED
                % {"period": period, "status": period.get_status_display()}
            )
        now = timezone.now()
        try:
            with transaction.atomic():
                run = PayrollRun.objects.create(
                    period=period,
                    started_by=actor if getattr(actor, "pk", None) else None,
                    status=RunStatus.QUEUED,
                    snapshot_at=now,
                )
        except IntegrityError as exc:
            raise ValidationError(RUN_ALREADY_ACTIVE % {"period": period}) from exc
        worker_ids = period_workers(period)
        chunks = [
            RunChunk(run=run, index=i, worker_ids=worker_ids[pos : pos + chunk_size])
            for i, pos in enumerate(range(0, len(worker_ids), chunk_size))
        ]
        RunChunk.objects.bulk_create(chunks)
        run.chunks_total = len(chunks)
        run.workers_total = len(worker_ids)
        run.save(update_fields=["chunks_total", "workers_total"])
        audit_record(
            actor=actor,
            park=period.park,
            action="period.calculate",
            obj=period,
            after={"run": run.pk, "workers": len(worker_ids)},
        )
        if enqueue:
            enqueue_on_commit(CALCULATE_PERIOD, run.pk)
    return run


def payroll_run_dispatch(*, run_id: int) -> list[int]:
    """Mark the run running and return the chunk indexes still to do."""
    with transaction.atomic():
        run = PayrollRun.objects.select_for_update().get(pk=run_id)
        if run.status not in ACTIVE_RUN_STATUSES:
            return []
        if run.status == RunStatus.QUEUED:
            run.status = RunStatus.RUNNING
            run.started_at = timezone.now()
            run.save(update_fields=["status", "started_at"])
        todo = list(run.chunks.filter(done=False).values_list("index", flat=True))
    if not todo:
        payroll_run_finish(run_id=run_id)
    return todo


def payroll_run_chunk(*, run_id: int, index: int) -> bool:
    """Calculate one chunk. Idempotent: a chunk already done is skipped, and a
    chunk interrupted mid-way left nothing behind (one transaction)."""
    with transaction.atomic():
        chunk = (
            RunChunk.objects.select_for_update(of=("self",))
            .select_related("run__period__park")
            .get(run_id=run_id, index=index)
        )
        run = chunk.run
        if chunk.done or run.status not in ACTIVE_RUN_STATUSES:
            if chunk.done and run.status in ACTIVE_RUN_STATUSES:
                # A re-delivery after this chunk committed but before the run
                # was closed (a dropped connection): close it now if complete.
                payroll_run_finish(run_id=run_id)
            return False
        count, errors, _totals = calculate_chunk(
            period=run.period,
            worker_ids=chunk.worker_ids,
            snapshot=run.snapshot_at,
            run=run,
        )
        if settings.PAYROLL_CHUNK_DELAY:
            clock.sleep(settings.PAYROLL_CHUNK_DELAY)
        chunk.done = True
        chunk.finished_at = timezone.now()
        chunk.save(update_fields=["done", "finished_at"])
        if connection.vendor == "postgresql":
            # Check the new rows' foreign keys now, not at commit: thousands
            # of lines take a while, and the run row below is held until then.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # The run row is locked last and briefly, so chunks commit one at a time.
        # NO KEY UPDATE: only counters change, so other chunks' foreign-key
        # checks on the run (their payslips' run_id) need not wait for it.
        run = PayrollRun.objects.select_for_update(no_key=True).get(pk=run_id)
        run.chunks_done = F("chunks_done") + 1
        run.workers_done = F("workers_done") + len(chunk.worker_ids)
        run.payslip_count = F("payslip_count") + count
        run.error_count = F("error_count") + len(errors)
        if errors:
            run.errors = [*run.errors, *errors]
        run.save(
            update_fields=[
                "chunks_done",
                "workers_done",
                "payslip_count",
                "error_count",
                "errors",
            ]
        )
        run.refresh_from_db(fields=["chunks_done", "chunks_total"])
        last = run.chunks_done >= run.chunks_total
    if last:
        payroll_run_finish(run_id=run_id)
    return True


@transaction.atomic
def payroll_run_finish(*, run_id: int) -> PayrollRun:
    """Close a run whose chunks are all done: drop payslips of workers no longer
    in the period, sum up, and move the period to ``calculated``."""
    run = (
        PayrollRun.objects.select_for_update(of=("self",))
        .select_related("period")
        .get(pk=run_id)
    )
    if run.status not in ACTIVE_RUN_STATUSES or run.chunks.filter(done=False).exists():
        return run
    period = _lock(run.period)
    in_run = set()
    for ids in run.chunks.values_list("worker_ids", flat=True):
        in_run.update(ids)
    stale = Payslip.objects.filter(period=period).exclude(worker_id__in=in_run)
    stale.delete()
    # Payslips of workers with errors this time must not survive from a past run.
    error_workers = {e["worker_id"] for e in run.errors}
    Payslip.objects.filter(period=period, worker_id__in=error_workers).delete()
    sums = Payslip.objects.filter(period=period).aggregate(
        gross=Sum("taxable"),
        topups=Sum("topup"),
        tax=Sum("tax"),
        social_insurance=Sum("social_insurance"),
        deductions=Sum("deductions"),
        carried_in=Sum("carried_in"),
        carried_forward=Sum("carried_forward"),
        net=Sum("net"),
    )
    # Adds up line by line: gross − social insurance − tax − deductions −
    # carried in + carried forward = net (as each payslip does, R12).
    run.summary = {
        "workers": run.workers_total,
        "payslips": Payslip.objects.filter(period=period).count(),
        "errors": run.error_count,
        **{k: str(v or Decimal("0.00")) for k, v in sums.items()},
    }
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["summary", "status", "finished_at"])
    before = period.status
    period.status = PeriodStatus.CALCULATED
    period.snapshot_at = run.snapshot_at
    period.calculated_at = run.finished_at
    period.error_count = run.error_count
    period.save(update_fields=["status", "snapshot_at", "calculated_at", "error_count"])
    audit_record(
        actor=run.started_by,
        park=period.park,
        action="period.calculated",
        obj=period,
        before={"status": before},
        after={"status": period.status, **run.summary},
    )
    if settings.PAYSLIP_PDF_AFTER_RUN:
        # R14: the PDFs of the new payslips, and the files of removed ones gone.
        period_id = period.pk
        enqueue_on_commit(RENDER_PERIOD_PAYSLIPS, period_id)
    return run


@transaction.atomic
def payroll_run_fail(*, run_id: int, message: str) -> PayrollRun:
    run = PayrollRun.objects.select_for_update().get(pk=run_id)
    if run.status in ACTIVE_RUN_STATUSES:
        run.status = RunStatus.FAILED
        run.message = message
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "message", "finished_at"])
    return run


def _runs_idle_since(cutoff) -> list[int]:
    """Active runs whose last progress is before ``cutoff``: no chunk finished,
    and neither started nor created, since then."""
    return list(
        PayrollRun.objects.filter(status__in=ACTIVE_RUN_STATUSES)
        .annotate(
            progress_at=Coalesce(Max("chunks__finished_at"), "started_at", "created_at")
        )
        .filter(progress_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)
    )


def payroll_runs_expire(*, older_than: timedelta | None = None) -> int:
    """Mark runs with no progress for twice the task time limit as failed, so a
    new run can start. No chunk can legitimately run that long (its hard time
    limit is shorter), so such a run is stuck, not slow; a long run that keeps
    finishing chunks is left alone."""
    limit = older_than or timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)
    count = 0
    for run_id in _runs_idle_since(timezone.now() - limit):
        payroll_run_fail(
            run_id=run_id,
            message=str(RUN_TIMED_OUT % {"minutes": int(limit.total_seconds() // 60)}),
        )
        count += 1
    return count


def payroll_run_resume(*, run_id: int) -> int:
    """Queue the chunks not done of an active run again; returns how many.

    For a run whose queued messages were lost (Redis restarted without
    persistence) or whose last chunk committed but the run was not closed.
    It queues the run's dispatch task, which fans out the chunks still not done
    when it runs, or closes the run when none is left. Safe to repeat: a chunk
    already done, or being calculated elsewhere (its row is locked), is skipped
    by ``payroll_run_chunk``, so a payslip is never written twice. A run no
    longer active is left alone (0).
    """
    with transaction.atomic():
        run = PayrollRun.objects.select_for_update().get(pk=run_id)
        if run.status not in ACTIVE_RUN_STATUSES:
            return 0
        todo = run.chunks.filter(done=False).count()
        enqueue_on_commit(CALCULATE_PERIOD, run_id)
    logger.info("payroll run %s resumed: %s chunks queued again", run_id, todo)
    return todo


def payroll_runs_resume_stalled(*, idle_for: timedelta | None = None) -> list[int]:
    """Resume every active run with no progress for ``idle_for`` (default
    ``PAYROLL_RUN_RESUME_AFTER_MINUTES``); returns their ids. Called by the
    ``payroll.expire_stuck_runs`` beat job after it failed the hopeless ones."""
    if idle_for is None:
        idle_for = timedelta(minutes=settings.PAYROLL_RUN_RESUME_AFTER_MINUTES)
    resumed = []
    for run_id in _runs_idle_since(timezone.now() - idle_for):
        payroll_run_resume(run_id=run_id)
        resumed.append(run_id)
    return resumed


def payroll_run_inline(*, run: PayrollRun, progress=None) -> PayrollRun:
    """Run every chunk of ``run`` in this process (benchmarks, tests); a run
    already processed by its task is left as it is."""
    for index in payroll_run_dispatch(run_id=run.pk):
        payroll_run_chunk(run_id=run.pk, index=index)
        if progress:
            progress(PayrollRun.objects.get(pk=run.pk))
    run.refresh_from_db()
    return run


@transaction.atomic
def period_approve(*, period: PayPeriod, actor) -> PayPeriod:
    """R13.2: a director approves a calculated period with no errors."""
    period = _lock(period)
    _require_park_role(actor, period.park, {"director"}, DIRECTOR_ONLY)
    if period.status in LOCKED_STATUSES:
        raise ValidationError(
            ALREADY_APPROVED % {"period": period, "status": period.get_status_display()}
        )
    if period.status != PeriodStatus.CALCULATED:
        raise ValidationError(NOT_CALCULATED % {"period": period})
    if period.runs.filter(status__in=ACTIVE_RUN_STATUSES).exists():
        raise ValidationError(RUN_IN_PROGRESS % {"period": period})
    if period.error_count:
        raise ValidationError(
            HAS_ERRORS % {"period": period, "count": period.error_count}
        )
    first_after = month_bounds(period.month)[1]
    if park_today(period.park) < first_after:
        raise ValidationError(
            MONTH_NOT_OVER % {"period": period.label, "day": first_after}
        )
    # An open session would end in a frozen month (R13.5): wait for it.
    clocked_in = WorkSession.objects.filter(
        worker__park=period.park, end__isnull=True, work_date__lt=first_after
    ).count()
    if clocked_in:
        raise ValidationError(
            STILL_CLOCKED_IN % {"count": clocked_in, "period": period.label}
        )
    earlier = PayPeriod.objects.filter(
        park=period.park, month__lt=period.month
    ).exclude(status__in=LOCKED_STATUSES)
    # Late work (R13.3) relies on periods being locked in order.
    if earlier.filter(payslips__isnull=False).exists():
        raise ValidationError(EARLIER_OPEN % {"period": earlier.first()})
    period.status = PeriodStatus.APPROVED
    period.approved_at = timezone.now()
    period.approved_by = actor if getattr(actor, "pk", None) else None
    period.save(update_fields=["status", "approved_at", "approved_by"])
    # R13.5: from now on the month's inputs are frozen.
    park_close_through(park=period.park, day=first_after - timedelta(days=1))
    # Corrections booked in this month after its calculation are not on its
    # payslips: they are paid in the next month instead (R13.5).
    WorkCorrection.objects.filter(
        record__worker__park=period.park,
        booked_month=period.month,
        created_at__gt=period.snapshot_at,
    ).update(booked_month=first_after)
    audit_record(
        actor=actor,
        park=period.park,
        action="period.approve",
        obj=period,
        before={"status": PeriodStatus.CALCULATED},
        after={"status": period.status},
    )
    return period


@transaction.atomic
def period_mark_paid(*, period: PayPeriod, actor) -> PayPeriod:
    """R13.4: a paid period is read-only from now on."""
    period = _lock(period)
    _require_park_role(actor, period.park, {"director", "payroll_officer"}, STAFF_ONLY)
    if period.status != PeriodStatus.APPROVED:
        raise ValidationError(NOT_APPROVED)
    period.status = PeriodStatus.PAID
    period.paid_at = timezone.now()
    period.save(update_fields=["status", "paid_at"])
    audit_record(
        actor=actor,
        park=period.park,
        action="period.paid",
        obj=period,
        before={"status": PeriodStatus.APPROVED},
        after={"status": period.status},
    )
    return period


@transaction.atomic
def adjustment_add(
    *, period: PayPeriod, worker: Worker, kind: str, amount: Decimal, reason: str, actor
) -> Adjustment:
    """R9: a bonus, allowance or deduction, with a reason; kept with who and when."""
    period = _lock(period)
    _require_park_role(actor, period.park, {"director", "payroll_officer"}, STAFF_ONLY)
    if period.locked:
        raise ValidationError(
            PERIOD_LOCKED % {"period": period, "status": period.get_status_display()}
        )
    check_open(park=period.park, day=period.month)
    if worker.park_id != period.park_id:
        raise ValidationError({"worker": WORKER_OTHER_PARK})
    if kind not in AdjustmentKind.values:
        raise ValidationError({"kind": _("Unknown kind of adjustment.")})
    adjustment = Adjustment(
        period=period,
        worker=worker,
        kind=kind,
        amount=amount,
        reason=reason,
        created_by=actor,
    )
    adjustment.full_clean()
    adjustment.save()
    audit_record(
        actor=actor,
        park=period.park,
        action="adjustment.add",
        obj=adjustment,
        after={
            "worker": worker.employee_no,
            "kind": kind,
            "amount": amount,
            "reason": reason,
        },
    )
    return adjustment


@transaction.atomic
def adjustment_delete(*, adjustment: Adjustment, actor) -> None:
    """Remove an adjustment of a period still open (R9, R13.5), audited."""
    period = _lock(adjustment.period)
    _require_park_role(actor, period.park, {"director", "payroll_officer"}, STAFF_ONLY)
    if period.locked:
        raise ValidationError(
            PERIOD_LOCKED % {"period": period, "status": period.get_status_display()}
        )
    check_open(park=period.park, day=period.month)
    audit_record(
        actor=actor,
        park=period.park,
        action="adjustment.delete",
        obj=adjustment,
        before={
            "worker": adjustment.worker.employee_no,
            "kind": adjustment.kind,
            "amount": adjustment.amount,
            "reason": adjustment.reason,
        },
    )
    adjustment.delete()


def period_for_month(*, park: Park, month: date) -> PayPeriod:
    return period_get_or_create(park=park, month=month_bounds(month)[0])


def wait_for_run(
    run: PayrollRun, *, timeout: float = 600, poll: float = 0.5, progress=None
):
    """Poll a run queued to the broker until it ends (command line, tests)."""
    deadline = clock.monotonic() + timeout
    while True:
        run.refresh_from_db()
        if progress:
            progress(run)
        if run.status not in ACTIVE_RUN_STATUSES:
            return run
        if clock.monotonic() > deadline:
            raise TimeoutError(
                f"payroll run {run.pk} still {run.status} after {timeout}s"
            )
        clock.sleep(poll)
