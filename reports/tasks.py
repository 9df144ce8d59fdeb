"""Celery tasks of the training reports (R15): thin, the logic lives in
reports.training and reports.training_pdf."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from celery import shared_task

from payroll.tasks import RETRY
from reports import training, training_pdf
from workforce.models import Park


@shared_task(name="training.monthly_reports", bind=True, **RETRY)
def training_monthly_reports(self) -> list[str]:
    """Beat, on the 1st: every park's training report as of last month's end."""
    stored = []
    for park in Park.objects.all():
        today = datetime.now(ZoneInfo(park.time_zone)).date()
        as_of = today.replace(day=1) - timedelta(days=1)
        stored.append(training_pdf.training_report_store(park=park, as_of=as_of))
    return stored


@shared_task(name="training.qualify", bind=True, **RETRY)
def training_qualify(self) -> int:
    """Beat, daily: R15.1 for yesterday in every park, promoting who qualified
    (R15.2, junior from today)."""
    promoted = 0
    for park in Park.objects.all():
        yesterday = datetime.now(ZoneInfo(park.time_zone)).date() - timedelta(days=1)
        promoted += len(training.training_qualify(park=park, day=yesterday))
    return promoted
