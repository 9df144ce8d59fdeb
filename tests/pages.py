"""Helpers for page tests: a small park with work, and query counting."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payroll import periods
from payroll.services import work_record_create
from tests.factories import make_catalogue, make_park, make_user, make_worker
from workforce.services import work_session_log

SH = ZoneInfo("Asia/Shanghai")


def build_park(n_workers: int, *, month: date | None = None):
    """A park with ``n_workers`` who worked 3 days of ``month`` (default: last
    month), a director, a payroll officer and the month calculated."""
    today = timezone.localdate()
    month = month or (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    park = make_park()
    project, task_type = make_catalogue(park, rate=Decimal("0.5000"))
    workers = []
    for i in range(n_workers):
        worker = make_worker(
            park, with_login=True, contract=("full_time", "part_time")[i % 2]
        )
        for day in (2, 3, 4):
            start = datetime(month.year, month.month, day, 8, tzinfo=SH)
            work_session_log(worker=worker, start=start, end=start + timedelta(hours=6))
            work_record_create(
                worker=worker,
                project=project,
                task_type=task_type,
                work_date=date(month.year, month.month, day),
                units=300 + i,
                accuracy=Decimal("96.50"),
                source="t",
                external_id=f"{park.code}-{i}-{day}",
            )
        workers.append(worker)
    director = make_user("director", park=park)
    officer = make_user("payroll_officer", park=park)
    period = periods.period_get_or_create(park=park, month=month)
    run = periods.payroll_run_start(period=period, enqueue=False)
    periods.payroll_run_inline(run=run)
    return park, workers, director, officer, period


def count_queries(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    return response.status_code, len(ctx.captured_queries)
