"""Celery tasks: thin, by id; the logic lives in payroll.periods."""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError

from payroll import payslip_files, periods
from payroll.calculation import previous_month
from payroll.connectors.sync import connector_sync as pull_connector
from payroll.models import Connector
from workforce.models import Park

logger = logging.getLogger(__name__)

# A dropped database connection or a lost broker is retried; the chunk is
# idempotent, so a retry never duplicates a payslip.
TRANSIENT = (OperationalError, InterfaceError)
RETRY = dict(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)


@shared_task(name="payroll.calculate_period", bind=True, **RETRY)
def calculate_period(self, run_id: int) -> int:
    """Fan a run out into one task per chunk of workers."""
    todo = periods.payroll_run_dispatch(run_id=run_id)
    for index in todo:
        calculate_chunk.delay(run_id, index)
    return len(todo)


@shared_task(
    name="payroll.calculate_chunk",
    bind=True,
    soft_time_limit=20 * 60,
    time_limit=25 * 60,
    **RETRY,
)
def calculate_chunk(self, run_id: int, index: int) -> bool:
    try:
        return periods.payroll_run_chunk(run_id=run_id, index=index)
    except TRANSIENT:
        raise
    except SoftTimeLimitExceeded:
        periods.payroll_run_fail(
            run_id=run_id, message=f"chunk {index} exceeded its time limit"
        )
        raise
    except Exception as exc:
        logger.exception("payroll run %s chunk %s failed", run_id, index)
        periods.payroll_run_fail(run_id=run_id, message=f"chunk {index}: {exc}")
        raise


@shared_task(name="payroll.calculate_last_month")
def calculate_last_month() -> list[int]:
    """Beat, on the 1st at 02:00 park time: calculate every park's last month."""
    started = []
    periods.payroll_runs_expire()
    for park in Park.objects.all():
        today = datetime.now(ZoneInfo(park.time_zone)).date()
        period = periods.period_get_or_create(park=park, month=previous_month(today))
        try:
            started.append(periods.payroll_run_start(period=period).pk)
        except ValidationError as exc:
            logger.info("park %s: %s", park.code, exc.messages[0])
    return started


@shared_task(name="payroll.expire_stuck_runs")
def expire_stuck_runs() -> dict[str, int]:
    """Beat, every 10 minutes: fail runs with no progress for twice the task time
    limit, then queue again the chunks of runs with no progress for
    ``PAYROLL_RUN_RESUME_AFTER_MINUTES`` (their messages may have been lost with
    a restarted broker; queueing twice is harmless)."""
    failed = periods.payroll_runs_expire()
    resumed = periods.payroll_runs_resume_stalled()
    return {"failed": failed, "resumed": len(resumed)}


@shared_task(name="payroll.refresh_current_month")
def refresh_current_month() -> list[int]:
    """Beat, nightly: recalculate every park's current month, so estimates and
    the staff table's figures are at most a day old."""
    started = []
    for park in Park.objects.all():
        today = datetime.now(ZoneInfo(park.time_zone)).date()
        period = periods.period_get_or_create(park=park, month=today.replace(day=1))
        try:
            started.append(periods.payroll_run_start(period=period).pk)
        except ValidationError as exc:
            logger.info("park %s: %s", park.code, exc.messages[0])
    return started


# --- payslip PDFs (R14) ------------------------------


@shared_task(name="payroll.render_period_payslips", bind=True, **RETRY)
def render_period_payslips(self, period_id: int) -> int:
    """After a run: one render task per chunk of the period's payslips without
    a PDF; with none left, clean the period's folder at once."""
    chunks = payslip_files.payslip_pdf_chunks(
        period_id=period_id, chunk_size=settings.PAYSLIP_PDF_CHUNK_SIZE
    )
    for ids in chunks:
        render_payslips.delay(ids, period_id)
    if not chunks:
        payslip_files.payslip_pdfs_finish(period_id=period_id)
    return len(chunks)


@shared_task(
    name="payroll.render_payslips",
    bind=True,
    soft_time_limit=10 * 60,
    time_limit=12 * 60,
    **RETRY,
)
def render_payslips(self, payslip_ids: list[int], period_id: int | None = None) -> int:
    """Render and store a chunk of payslip PDFs. Idempotent: payslips deleted
    since are skipped, stored ones are not rendered again."""
    count = payslip_files.payslip_pdfs_render(payslip_ids=payslip_ids)
    if period_id is not None:
        payslip_files.payslip_pdfs_finish(period_id=period_id)
    return count


@shared_task(
    name="payroll.render_payslip_bundle",
    bind=True,
    soft_time_limit=20 * 60,
    time_limit=25 * 60,
    **RETRY,
)
def render_payslip_bundle(self, period_id: int) -> str | None:
    """The director's bundle of a period's payslips (None while PDFs pending)."""
    return payslip_files.payslip_bundle_build(period_id=period_id)


@shared_task(
    name="payroll.connector_sync",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    max_retries=3,
    soft_time_limit=20 * 60,
    time_limit=25 * 60,
)
def connector_sync(
    connector_id: int,
    trigger: str = "schedule",
    tool_project: str | None = None,
    task_ids: list[int] | None = None,
) -> int | None:
    """Pull one connector (idempotent: a rerun changes nothing)."""
    connector = Connector.objects.filter(pk=connector_id).first()
    if connector is None:
        return None
    return pull_connector(
        connector=connector,
        trigger=trigger,
        tool_project=tool_project,
        task_ids=task_ids,
    ).pk


@shared_task(name="payroll.sync_connectors")
def sync_connectors() -> list[int]:
    """Beat: queue a pull of every enabled connector, one task each."""
    ids = list(Connector.objects.filter(enabled=True).values_list("pk", flat=True))
    for pk in ids:
        connector_sync.delay(pk, "schedule")
    return ids
