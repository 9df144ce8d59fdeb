"""Payroll jobs survive faults (issue 7, item 4).

With a real Celery worker, a private Redis and PostgreSQL (CI): Redis restarted
mid-run, the database connection dropped during a chunk, a worker killed while
rendering payslip PDFs. Each ends with every payslip exactly once and the totals
of a clean run. Without the broker: a run stuck past its time limit is failed
and can be started again, a stalled one is resumed.

The broker tests never touch the machine's shared Redis: each starts its own
``redis-server`` on a free port (no persistence) and points the worker and the
publishing subprocess at it. The test process's own Celery app stays on
``REDIS_URL``, so messages are published from a subprocess.
"""

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError, connection
from django.db.models import Sum
from django.utils import timezone

from payroll import periods, tasks
from payroll.models import PayrollRun, Payslip, RunChunk
from payroll.payslip_files import payslip_pdf_folder, payslip_pdf_name
from payroll.services import work_record_create
from tests import broker
from tests.broker import ROOT, WorkerProcess, needs_broker
from tests.factories import make_catalogue, make_park, make_worker
from workforce.services import work_session_log

SH = ZoneInfo("Asia/Shanghai")
MARCH = date(2026, 3, 1)
FAULT_SETTINGS = "tests.payroll.fault_settings"

needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="needs the redis-server binary for a private, restartable Redis",
)


def on_broker(test):
    """PostgreSQL, REDIS_URL (CI) and redis-server; data committed for the worker."""
    for mark in (
        needs_broker,
        needs_redis_server,
        pytest.mark.broker,
        pytest.mark.django_db(transaction=True),
    ):
        test = mark(test)
    return test


# --- helpers -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A ``redis-server`` of this test only, on a free port, without persistence:
    killing it loses every queued message, as a crashed unpersisted broker does."""

    def __init__(self, folder):
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> "PrivateRedis":
        import redis

        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=(self.folder / "redis.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        (self.folder / "redis.log").read_text()
                    ) from None
                time.sleep(0.05)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


def django_run(code: str, *, redis_url: str, **env) -> str:
    """Run ``code`` in a fresh Django process on the test database and ``redis_url``
    (``payroll.periods`` and ``payroll.tasks`` imported); returns its stdout."""
    script = "import django\ndjango.setup()\nfrom payroll import periods, tasks\n"
    result = subprocess.run(
        [sys.executable, "-c", script + code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": FAULT_SETTINGS,
            "DATABASE_URL": broker.test_database_url(),
            "REDIS_URL": redis_url,
            **{k: str(v) for k, v in env.items()},
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def wait_until(predicate, *, timeout: float, poll: float = 0.05, why=""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting: {why}")
        time.sleep(poll)


def chunks_done(run) -> int:
    return PayrollRun.objects.values_list("chunks_done", flat=True).get(pk=run.pk)


def build_park(workers: int, *, days: int = 6):
    """A park whose March has piece work, hours, bonuses and deductions, insured
    and uninsured workers, new hires (so some pay tax) and carried-forward pay."""
    park = make_park()
    project, task_type = make_catalogue(park, rate=Decimal("0.2500"))
    # A superuser: transactional tests flush the groups the migrations create.
    officer = User.objects.create_superuser(f"officer-{park.code}")
    period = periods.period_get_or_create(park=park, month=MARCH)
    for i in range(workers):
        contract = ("full_time", "part_time", "training")[i % 3]
        worker = make_worker(
            park,
            contract=contract,
            hire_date=date(2026, 3, 1) if i % 2 == 0 else date(2025, 1, 1),
            insured=contract == "full_time",
            si_base=Decimal("5300.00"),
        )
        for day in range(2, 2 + days):
            start = datetime(2026, 3, day, 8, tzinfo=SH)
            work_session_log(worker=worker, start=start, end=start + timedelta(hours=6))
            work_record_create(
                worker=worker,
                project=project,
                task_type=task_type,
                work_date=date(2026, 3, day),
                units=(4000 if i % 4 == 0 else 700) + 31 * i + day,
                accuracy=None
                if (i + day) % 7 == 0
                else Decimal(f"{89 + (i + day) % 11}.{i:02d}"),
                source="fault",
                external_id=f"{park.code}-{i}-{day}",
            )
        if i % 3 == 0:
            periods.adjustment_add(
                period=period,
                worker=worker,
                kind="bonus",
                amount=Decimal("300.00"),
                reason="Team goal",
                actor=officer,
            )
        if i % 5 == 1:
            periods.adjustment_add(
                period=period,
                worker=worker,
                kind="deduction",
                amount=Decimal("2500.00"),
                reason="Advance",
                actor=officer,
            )
    return park, period


def result_of(period) -> dict:
    """What a run left: every payslip with its figures and lines, and totals."""
    slips = Payslip.objects.filter(period=period)
    return {
        "count": slips.count(),
        "workers": slips.values("worker").distinct().count(),
        "totals": slips.aggregate(
            Sum("taxable"), Sum("tax"), Sum("social_insurance"), Sum("net")
        ),
        "payslips": [
            (
                s.number,
                s.taxable,
                s.social_insurance,
                s.tax,
                s.carried_forward,
                s.net,
                [(ln.position, ln.kind, ln.amount) for ln in s.lines.all()],
            )
            for s in slips.order_by("number").prefetch_related("lines")
        ],
    }


def clean_result(period) -> dict:
    """The reference: the same data calculated in this process, without faults."""
    run = periods.payroll_run_inline(
        run=periods.payroll_run_start(period=period, enqueue=False)
    )
    assert run.status == "done" and run.error_count == 0
    expected = result_of(period)
    assert expected["totals"]["tax__sum"] > 0
    assert any(p[4] > 0 for p in expected["payslips"])  # something carried forward
    return expected


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.kill()


@pytest.fixture
def start_worker(private_redis, settings):
    """Start real ``celery worker`` processes on the private Redis."""
    settings.PAYSLIP_PDF_AFTER_RUN = False  # the reference runs in this process
    started = []

    def start(**env) -> WorkerProcess:
        proc = WorkerProcess(
            **{
                "DJANGO_SETTINGS_MODULE": FAULT_SETTINGS,
                "REDIS_URL": private_redis.url,
                "MEDIA_ROOT": str(settings.MEDIA_ROOT),
                "PAYSLIP_PDF_AFTER_RUN": "0",
                **env,
            }
        ).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


# --- with a real worker, Redis and PostgreSQL -----------------------------------


@on_broker
def test_redis_restarted_mid_run_the_run_is_resumed(private_redis, start_worker):
    """Redis killed mid-run and started again empty: the queued chunks are lost
    and the run stalls; the beat job's resume queues the chunks not done again
    and the run ends done with one payslip per worker and a clean run's totals."""
    _park, period = build_park(workers=12)
    expected = clean_result(period)
    run = periods.payroll_run_start(period=period, enqueue=False, chunk_size=3)
    assert run.chunks_total == 4
    worker = start_worker(PAYROLL_CHUNK_DELAY=1.0)
    django_run(f"tasks.calculate_period.delay({run.pk})", redis_url=private_redis.url)

    wait_until(lambda: chunks_done(run) >= 1, timeout=30, why=worker.output())
    time.sleep(0.3)  # inside the next chunk's open transaction
    private_redis.kill()
    before = chunks_done(run)
    # The chunk in flight commits while Redis is down (its ack is lost).
    deadline = time.monotonic() + 3
    while chunks_done(run) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    private_redis.start()

    def reconnected() -> bool:
        lines = worker.output().splitlines()
        port = f"127.0.0.1:{private_redis.port}/"
        return sum("Connected to" in ln and port in ln for ln in lines) >= 2

    wait_until(reconnected, timeout=30, why=f"worker reconnecting:\n{worker.output()}")
    stalled = chunks_done(run)
    assert before <= stalled < run.chunks_total
    time.sleep(2.5)  # more than two chunks' time: nothing is left to run them
    run.refresh_from_db()
    assert run.status == "running" and run.chunks_done == stalled

    out = django_run(
        "print(tasks.expire_stuck_runs())",
        redis_url=private_redis.url,
        PAYROLL_RUN_RESUME_AFTER_MINUTES=0,
    )
    assert "'resumed': 1" in out and "'failed': 0" in out
    run = periods.wait_for_run(run, timeout=60)
    assert run.status == "done", worker.output()
    assert run.chunks_done == run.chunks_total == 4
    assert run.workers_done == 12
    assert result_of(period) == expected


@on_broker
def test_database_connection_dropped_during_a_chunk_is_retried(
    private_redis, start_worker
):
    """The worker's PostgreSQL backend terminated while a chunk's transaction is
    open: the chunk rolls back, the task retries it on a new connection, and the
    run ends with every payslip once and a clean run's totals."""
    _park, period = build_park(workers=12)
    expected = clean_result(period)
    run = periods.payroll_run_start(period=period, enqueue=False, chunk_size=3)
    app_name = f"parkpay-fault-{uuid.uuid4().hex[:8]}"
    worker = start_worker(
        PAYROLL_CHUNK_DELAY=1.0,
        DATABASE_URL=f"{broker.test_database_url()}?application_name={app_name}",
    )
    django_run(f"tasks.calculate_period.delay({run.pk})", redis_url=private_redis.url)
    wait_until(lambda: chunks_done(run) >= 1, timeout=30, why=worker.output())

    def open_chunk_backend():
        # Idle inside a transaction for a while: the chunk sleeping before commit.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = %s AND pid <> pg_backend_pid()"
                " AND state = 'idle in transaction'"
                " AND clock_timestamp() - state_change > interval '200 milliseconds'",
                [app_name],
            )
            row = cursor.fetchone()
        return row and row[0]

    pid = wait_until(open_chunk_backend, timeout=30, why=worker.output())
    done_before = chunks_done(run)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True

    run = periods.wait_for_run(run, timeout=60)
    output = worker.output()
    assert run.status == "done", output
    assert done_before < run.chunks_total
    # The chunk whose backend was terminated is retried by autoretry_for.
    assert re.search(
        r"payroll\.calculate_chunk\[[^]]+\] retry: Retry in \S+: "
        r"(OperationalError|InterfaceError)",
        output,
    ), output
    assert run.chunks_done == run.chunks_total == 4
    assert not RunChunk.objects.filter(run=run, done=False).exists()
    assert result_of(period) == expected


@on_broker
def test_worker_killed_while_rendering_pdfs_leaves_one_pdf_per_payslip(
    private_redis, start_worker
):
    """A worker killed while a chunk of payslip PDFs is half written: the chunk
    is re-delivered to another worker, every payslip ends with exactly one PDF
    (file present, its SHA-256 stored) and no file is left that belongs to no
    payslip."""
    park, period = build_park(workers=30, days=2)
    folder = payslip_pdf_folder(park_code=park.code, month=MARCH)
    stale = default_storage.save(f"{folder}/GONE-202603-E999999.pdf", ContentFile(b"x"))
    run = periods.payroll_run_start(period=period, enqueue=False, chunk_size=10)
    first = start_worker(
        PAYSLIP_PDF_AFTER_RUN="1", PAYSLIP_PDF_CHUNK_SIZE="6", SLOW_STORAGE_SECONDS=0.1
    )
    django_run(f"tasks.calculate_period.delay({run.pk})", redis_url=private_redis.url)

    def rendered() -> int:
        return Payslip.objects.filter(period=period).exclude(pdf_sha256="").count()

    def chunk_half_written() -> bool:
        # Files are written inside the chunk's transaction, before its rows are
        # updated: more files than rendered rows means a chunk is open.
        files = set(default_storage.listdir(folder)[1]) - {stale.rsplit("/", 1)[1]}
        return rendered() >= 6 and len(files) > rendered()

    wait_until(chunk_half_written, timeout=60, poll=0.02, why=first.output())
    first.kill()
    assert rendered() < 30
    killed = re.findall(r"render_payslips\[([^]]+)\] received", first.output())[-1]
    assert f"render_payslips[{killed}] succeeded" not in first.output()
    second = start_worker()

    def all_done() -> bool:
        files = set(default_storage.listdir(folder)[1])
        return rendered() == 30 and len(files) == 30

    wait_until(all_done, timeout=60, poll=0.2, why=second.output())
    assert PayrollRun.objects.get(pk=run.pk).status == "done"
    # The killed chunk's message was re-delivered, not lost.
    assert f"render_payslips[{killed}] succeeded" in second.output()
    payslips = list(Payslip.objects.filter(period=period))
    assert len(payslips) == len({p.worker_id for p in payslips}) == 30
    for payslip in payslips:
        name = payslip_pdf_name(park_code=park.code, month=MARCH, number=payslip.number)
        assert payslip.pdf.name == name
        with default_storage.open(name) as stream:
            assert hashlib.sha256(stream.read()).hexdigest() == payslip.pdf_sha256
    assert set(default_storage.listdir(folder)[1]) == {
        p.pdf.name.rsplit("/", 1)[-1] for p in payslips
    }
    # Nothing else anywhere in the park's folder either.
    assert default_storage.listdir(folder.rsplit("/", 1)[0]) == (["2026-03"], [])


# --- without the broker ----------------------------------------------------------


def _small_period(settings):
    settings.PAYSLIP_PDF_AFTER_RUN = False
    park = make_park()
    project, task_type = make_catalogue(park)
    for i in range(3):
        worker = make_worker(park)
        work_record_create(
            worker=worker,
            project=project,
            task_type=task_type,
            work_date=date(2026, 3, 2),
            units=100 + i,
            accuracy=Decimal("96.00"),
            source="fault",
            external_id=f"{park.code}-{i}",
        )
    return periods.period_get_or_create(park=park, month=MARCH)


def _backdate(run, minutes: int) -> None:
    moment = timezone.now() - timedelta(minutes=minutes)
    PayrollRun.objects.filter(pk=run.pk).update(created_at=moment)
    PayrollRun.objects.filter(pk=run.pk, started_at__isnull=False).update(
        started_at=moment
    )
    RunChunk.objects.filter(run=run, done=True).update(finished_at=moment)


@pytest.mark.django_db
def test_run_stuck_past_its_time_limit_is_failed_and_can_be_restarted(settings):
    """A run with no progress for twice the task time limit is failed by the beat
    job with a message saying so; the period can then be calculated again."""
    period = _small_period(settings)
    run = periods.payroll_run_start(period=period, enqueue=False)
    limit = 2 * settings.CELERY_TASK_TIME_LIMIT // 60
    _backdate(run, minutes=limit + 1)

    assert tasks.expire_stuck_runs() == {"failed": 1, "resumed": 0}
    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at is not None
    # Stored in the language active at the time (Chinese by default).
    assert run.message == str(periods.RUN_TIMED_OUT % {"minutes": limit})
    assert str(limit) in run.message
    assert not Payslip.objects.filter(period=period).exists()

    again = periods.payroll_run_inline(
        run=periods.payroll_run_start(period=period, enqueue=False)
    )
    assert again.status == "done"
    assert Payslip.objects.filter(period=period).count() == 3
    assert tasks.expire_stuck_runs() == {"failed": 0, "resumed": 0}


@pytest.mark.django_db
def test_stalled_run_is_resumed_and_a_progressing_one_left_alone(
    settings, django_capture_on_commit_callbacks
):
    """The beat job queues again the chunks of a run idle for longer than
    PAYROLL_RUN_RESUME_AFTER_MINUTES (here it completes in-process); a run
    created long ago that finished a chunk just now is neither resumed nor
    failed, and resuming a finished run does nothing."""
    settings.PAYROLL_RUN_RESUME_AFTER_MINUTES = 10
    stalled_period = _small_period(settings)
    stalled = periods.payroll_run_start(
        period=stalled_period, enqueue=False, chunk_size=1
    )
    periods.payroll_run_dispatch(run_id=stalled.pk)
    periods.payroll_run_chunk(run_id=stalled.pk, index=0)
    _backdate(stalled, minutes=15)

    busy_period = _small_period(settings)
    busy = periods.payroll_run_start(period=busy_period, enqueue=False, chunk_size=1)
    periods.payroll_run_dispatch(run_id=busy.pk)
    periods.payroll_run_chunk(run_id=busy.pk, index=0)
    PayrollRun.objects.filter(pk=busy.pk).update(
        created_at=timezone.now() - timedelta(hours=3)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.expire_stuck_runs() == {"failed": 0, "resumed": 1}
    stalled.refresh_from_db()
    busy.refresh_from_db()
    assert stalled.status == "done" and stalled.chunks_done == 3
    assert Payslip.objects.filter(period=stalled_period).count() == 3
    assert busy.status == "running" and busy.chunks_done == 1
    assert periods.payroll_run_resume(run_id=stalled.pk) == 0


@pytest.mark.django_db
def test_chunk_retried_after_its_run_was_left_open_closes_the_run(settings):
    """The last chunk commits but the connection drops before the run is closed:
    the task's retry finds the chunk done and closes the run (no payslip twice)."""
    period = _small_period(settings)
    run = periods.payroll_run_start(period=period, enqueue=False, chunk_size=2)
    periods.payroll_run_dispatch(run_id=run.pk)
    periods.payroll_run_chunk(run_id=run.pk, index=0)
    real_finish = periods.payroll_run_finish
    calls = []

    def drop_first(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_finish(**kwargs)

    with mock.patch.object(periods, "payroll_run_finish", side_effect=drop_first):
        # In-process, apply() runs the autoretry at once instead of queueing it.
        result = tasks.calculate_chunk.apply((run.pk, 1), throw=False)
    assert result.successful()
    run.refresh_from_db()
    assert len(calls) == 2
    assert run.status == "done" and run.chunks_done == 2
    assert Payslip.objects.filter(period=period).count() == 3
