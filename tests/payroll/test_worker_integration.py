"""Payroll through Redis and real Celery worker processes (CI: PostgreSQL + Redis)."""

import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum

from config import celery_app
from payroll import periods
from payroll.models import PayrollRun, Payslip
from payroll.services import work_record_create
from tests.broker import WorkerProcess, needs_broker, purge_broker
from tests.factories import make_catalogue, make_park, make_worker
from workforce.services import work_session_log

pytestmark = [needs_broker, pytest.mark.broker, pytest.mark.django_db(transaction=True)]
SH = ZoneInfo("Asia/Shanghai")
MARCH = date(2026, 3, 1)


def build_park(workers: int):
    park = make_park()
    project, task_type = make_catalogue(park, rate=Decimal("0.2500"))
    for i in range(workers):
        worker = make_worker(
            park, contract=("full_time", "part_time", "training")[i % 3]
        )
        for day in range(2, 12):
            start = datetime(2026, 3, day, 8, tzinfo=SH)
            work_session_log(worker=worker, start=start, end=start + timedelta(hours=5))
            work_record_create(
                worker=worker,
                project=project,
                task_type=task_type,
                work_date=date(2026, 3, day),
                units=200 + 13 * i + day,
                accuracy=Decimal(f"{88 + (i + day) % 12}.{i % 100:02d}"),
                source="it",
                external_id=f"{park.code}-{i}-{day}",
            )
    return park


def totals(period):
    return (
        Payslip.objects.filter(period=period).count(),
        Payslip.objects.filter(period=period).values("worker").distinct().count(),
        Payslip.objects.filter(period=period).aggregate(
            Sum("taxable"), Sum("tax"), Sum("social_insurance"), Sum("net")
        ),
    )


@pytest.fixture
def worker_factory():
    purge_broker()
    celery_app.conf.task_always_eager = False
    started = []

    def start(**env):
        proc = WorkerProcess(**env).start()
        started.append(proc)
        return proc

    yield start
    celery_app.conf.task_always_eager = True
    for proc in started:
        proc.stop()


def test_a_task_runs_on_a_real_worker_through_redis(worker_factory):
    """A payroll run queued through Redis is executed by a separate worker process."""
    park = build_park(workers=6)
    period = periods.period_get_or_create(park=park, month=MARCH)
    proc = worker_factory()
    run = periods.payroll_run_start(period=period, chunk_size=4)
    run = periods.wait_for_run(run, timeout=90)
    assert run.status == "done", proc.output()
    assert run.chunks_done == run.chunks_total == 2
    assert "payroll.calculate_chunk" in proc.output()
    assert Payslip.objects.filter(period=period).count() == 6


def test_worker_killed_mid_run_ends_with_every_payslip_once(worker_factory):
    """A worker killed mid-chunk: the chunk is re-delivered to another worker and
    the period ends with one payslip per worker and a clean run's totals."""
    park = build_park(workers=24)
    period = periods.period_get_or_create(park=park, month=MARCH)
    clean = periods.payroll_run_start(period=period, enqueue=False)
    clean = periods.payroll_run_inline(run=clean)
    assert clean.status == "done"
    expected = totals(period)
    assert expected[0] == 24

    first = worker_factory(PAYROLL_CHUNK_DELAY=1.0)
    run = periods.payroll_run_start(period=period, chunk_size=3)
    deadline = time.monotonic() + 60
    while PayrollRun.objects.get(pk=run.pk).chunks_done < 2:
        assert time.monotonic() < deadline, first.output()
        time.sleep(0.1)
    time.sleep(0.4)  # inside the next chunk's open transaction
    first.kill()
    run.refresh_from_db()
    assert run.status == "running" and run.chunks_done < run.chunks_total

    worker_factory()
    run = periods.wait_for_run(run, timeout=120)
    assert run.status == "done"
    assert run.chunks_done == run.chunks_total == 8
    assert run.workers_done == 24
    assert totals(period) == expected
