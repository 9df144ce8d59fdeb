"""Payroll at province scale: how its cost grows from 1,000 to 100,000 workers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parkpay_bench \
    REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/payroll.py [--workers 100000] [--records 10000000] \
            [--celery 1,2] [--only] [--regenerate] [--record-checksum]

Measures every size from 1,000 workers up to ``--workers``, ten times more at
each step, with ``--records / --workers`` records per worker a month (100 by
default), five parks, three projects, five task types, rate cards changing on
the 16th, one worker in ten promoted mid-month, 8 % of records unreviewed and
26 sessions per worker. Each size has a database of its own (DATABASE_URL's
name with ``_<workers>`` appended, created when missing), generated once and
kept between runs, and is measured in a process of its own, so that peak
memory is per size; ``--only`` measures the size of ``--workers`` alone, on
DATABASE_URL itself.

For each size it prints: the full calculation of the five parks' months
(R1–R14, payslips and lines stored, as the month's first calculation) on
``--processes`` worker processes, its records/s, the queries issued, the peak
resident memory of every process involved (this one, the worker processes,
the PostgreSQL backends), and two floors measured in the same run: one raw
SQL ``GROUP BY worker, project, task type`` over the records (reading) and a
``COPY`` of the same payslip and line rows into empty tables of the same shape
(writing); then a table with each step's ratio to the step before. With
``--celery 1,2`` the same months are calculated again through Redis by 1, then
2, real ``celery worker`` processes, and the speedup is printed.

Every calculation's payslips are summed into one checksum (every amount of
every payslip and line, by employee number) and compared with the one recorded
in bench/payroll_checksums.json, made by ``--record-checksum`` with an earlier
version of the code: a faster calculation must pay everyone the same, to the
fen.
"""

import argparse
import contextlib
import gc
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# As deployed: no query log kept in memory, in this process or the workers.
os.environ.setdefault("DEBUG", "0")
# Time the calculation alone; payslip PDFs have their own benchmark.
os.environ.setdefault("PAYSLIP_PDF_AFTER_RUN", "0")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from payroll import periods  # noqa: E402
from payroll.models import (  # noqa: E402
    ACTIVE_RUN_STATUSES,
    PayPeriod,
    PayrollRun,
    Payslip,
    PayslipLine,
    WorkRecord,
)
from payroll.services import (  # noqa: E402
    client_create,
    project_create,
    rate_card_create,
    task_type_create,
)
from workforce.models import (  # noqa: E402
    Park,
    SkillPeriod,
    SpecialDeduction,
    Worker,
    WorkSession,
)
from workforce.services import park_create  # noqa: E402

MONTH = date(2026, 3, 1)
NEXT = date(2026, 4, 1)
PARKS = 5
TASKS = [
    ("box", "2D box", "box", "0.0800"),
    ("cuboid", "3D cuboid", "cuboid", "0.4000"),
    ("lane", "Lane line", "frame", "0.2500"),
    ("certificate", "Health certificate", "certificate", "0.3000"),
    ("ticket", "Customer ticket", "ticket", "1.2000"),
]
LEVEL_FACTOR = {
    "trainee": Decimal("0.80"),
    "junior": Decimal("1.00"),
    "senior": Decimal("1.15"),
}


def generate(workers: int, records: int) -> None:
    t0 = time.perf_counter()
    call_command("flush", "--no-input", verbosity=0)
    task_types = [task_type_create(code=c, name=n, unit=u) for c, n, u, _ in TASKS]
    clients = [
        client_create(code="drive", name="Autonomous driving client"),
        client_create(code="health", name="Health certificate client"),
        client_create(code="service", name="Cloud service client"),
    ]
    per_park = workers // PARKS
    for p in range(PARKS):
        park = park_create(
            name=f"Bench Park {p + 1}",
            code=f"bench{p + 1}",
            county=f"Bench County {p % 2 + 1}",
            township=f"Bench Township {p + 1}",
        )
        projects = [
            project_create(client=clients[0], park=park, code="drive", name="Driving"),
            project_create(client=clients[1], park=park, code="health", name="Health"),
            project_create(
                client=clients[2], park=park, code="service", name="Service"
            ),
        ]
        pairs = [(projects[0], t) for t in task_types[:3]]
        pairs += [(projects[1], task_types[3]), (projects[2], task_types[4])]
        for project, task_type in pairs:
            base = Decimal(next(r for c, _, _, r in TASKS if c == task_type.code))
            for level, factor in LEVEL_FACTOR.items():
                rate_card_create(
                    project=project,
                    task_type=task_type,
                    skill_level=level,
                    rate=(base * factor).quantize(Decimal("0.0001")),
                    effective_from=date(2025, 1, 1),
                )
                # Prices change mid-month (R3.2).
                rate_card_create(
                    project=project,
                    task_type=task_type,
                    skill_level=level,
                    rate=(base * factor * Decimal("1.05")).quantize(Decimal("0.0001")),
                    effective_from=MONTH + timedelta(days=15),
                )
        rows = []
        for i in range(per_park):
            n = p * per_park + i
            contract = (
                "full_time"
                if n % 10 < 7
                else ("part_time" if n % 10 < 9 else "training")
            )
            rows.append(
                Worker(
                    park=park,
                    employee_no=f"B{n:06d}",
                    name=f"基准{n}",
                    gender="female" if n % 10 < 7 else "male",
                    birth_year=1980 + n % 25,
                    hire_date=date(2025, 1 + n % 12, 1) if n % 20 else MONTH,
                    contract=contract,
                    insured=contract == "full_time",
                    si_base=Decimal("5000.00"),
                )
            )
        Worker.objects.bulk_create(rows, batch_size=2000)
        # R11.2: one in seven has 2,000 a month from the hire month.
        SpecialDeduction.objects.bulk_create(
            (
                SpecialDeduction(
                    worker_id=wid,
                    category="child_education",
                    monthly_amount=Decimal("2000.00"),
                    valid_from=hire_date.replace(day=1),
                )
                for wid, no, hire_date in Worker.objects.filter(park=park).values_list(
                    "id", "employee_no", "hire_date"
                )
                if int(no[1:]) % 7 == 0
            ),
            batch_size=2000,
        )
    print(f"  parks, rate cards, workers: {time.perf_counter() - t0:.1f}s", flush=True)

    # Skill history: one in ten is promoted mid-month (R3.2), one in five is senior.
    skills = []
    for w in Worker.objects.values("id", "hire_date"):
        wid = w["id"]
        if wid % 10 == 0:
            skills.append(
                SkillPeriod(
                    worker_id=wid,
                    level="trainee",
                    valid_from=w["hire_date"],
                    valid_to=MONTH + timedelta(days=11),
                )
            )
            skills.append(
                SkillPeriod(
                    worker_id=wid, level="junior", valid_from=MONTH + timedelta(days=11)
                )
            )
        else:
            level = "senior" if wid % 5 == 0 else "junior"
            skills.append(
                SkillPeriod(worker_id=wid, level=level, valid_from=w["hire_date"])
            )
    SkillPeriod.objects.bulk_create(skills, batch_size=5000)

    per_worker = records // workers
    record_table = WorkRecord._meta.db_table
    session_table = WorkSession._meta.db_table
    project_table = "payroll_project"
    with connection.cursor() as cursor:
        # Each worker works on one project; annotators spread over three task
        # types. ~8 % of records are not yet reviewed.
        cursor.execute(
            f"""
            INSERT INTO {record_table}
              (park_id, worker_id, project_id, task_type_id, work_date, units,
               accuracy, source, external_id, created_at)
            SELECT w.park_id, w.id, pr.id, tt.id,
                   %s::date + ((g.n * 7 + w.id) %% 26)::int,
                   20 + ((w.id * 31 + g.n * 17) %% 180),
                   CASE WHEN (w.id + g.n) %% 13 = 0 THEN NULL
                        ELSE round((86 + ((w.id * 7 + g.n * 11) %% 1400) / 100.0)::numeric, 2)
                   END,
                   'bench', w.id || '-' || g.n, now() - interval '1 day'
            FROM workforce_worker w
            CROSS JOIN generate_series(1, %s) AS g(n)
            JOIN {project_table} pr ON pr.park_id = w.park_id AND pr.code =
                 CASE w.id %% 5 WHEN 3 THEN 'health' WHEN 4 THEN 'service' ELSE 'drive' END
            JOIN payroll_tasktype tt ON tt.code =
                 CASE w.id %% 5 WHEN 3 THEN 'certificate' WHEN 4 THEN 'ticket'
                 ELSE (ARRAY['box', 'cuboid', 'lane'])[1 + (w.id + g.n) %% 3] END
            """,
            [MONTH, per_worker],
        )
        print(
            f"  {cursor.rowcount:,} work records: {time.perf_counter() - t0:.1f}s",
            flush=True,
        )
        # About 6 h a day, 26 days, starting between 07:00 and 10:00 local time.
        cursor.execute(
            f"""
            INSERT INTO {session_table} (worker_id, start, "end", minutes, work_date, created_at)
            SELECT w.id,
                   (%s::date + d.n) + make_interval(mins => (420 + (w.id %% 180))::int)
                       - interval '8 hours',
                   (%s::date + d.n) + make_interval(mins => (420 + (w.id %% 180) + 330 + (w.id + d.n) %% 60)::int)
                       - interval '8 hours',
                   330 + (w.id + d.n) %% 60, %s::date + d.n, now()
            FROM workforce_worker w CROSS JOIN generate_series(0, 25) AS d(n)
            """,
            [MONTH, MONTH, MONTH],
        )
        print(
            f"  {cursor.rowcount:,} sessions: {time.perf_counter() - t0:.1f}s",
            flush=True,
        )
        cursor.execute("ANALYZE")
    print(f"generated in {time.perf_counter() - t0:.1f}s", flush=True)


def raw_group_by() -> float:
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT worker_id, project_id, task_type_id, SUM(units)
                FROM {WorkRecord._meta.db_table}
                WHERE work_date >= %s AND work_date < %s
                GROUP BY worker_id, project_id, task_type_id""",
            [MONTH, NEXT],
        )
        cursor.fetchall()
    return time.perf_counter() - t0


WRITE_FLOOR = (
    (Payslip, "period_id IN (SELECT id FROM payroll_payperiod WHERE month = %s)"),
    (
        PayslipLine,
        "payslip_id IN (SELECT p.id FROM payroll_payslip p JOIN payroll_payperiod "
        "pp ON pp.id = p.period_id WHERE pp.month = %s)",
    ),
)


def write_floor() -> float:
    """Seconds to write this month's payslip and line rows with ``COPY`` into
    empty tables of the same shape (columns, defaults, indexes, unique
    constraints): the least any implementation must spend storing its results.
    The rows are copied out to a file first, untimed."""
    elapsed = 0.0
    raw = connection.connection  # psycopg 3
    with tempfile.TemporaryDirectory() as folder:
        for model, where in WRITE_FLOOR:
            table = model._meta.db_table
            dump = Path(folder) / f"{table}.copy"
            with raw.cursor() as cursor, dump.open("wb") as out:
                query = f"COPY (SELECT * FROM {table} WHERE {where}) TO STDOUT"
                with cursor.copy(query, [MONTH]) as copy:
                    for block in copy:
                        out.write(block)
                cursor.execute(f"DROP TABLE IF EXISTS floor_{table}")
                cursor.execute(
                    f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)"
                )
            raw.commit()
            t0 = time.perf_counter()
            with (
                raw.cursor() as cursor,
                dump.open("rb") as source,
                cursor.copy(f"COPY floor_{table} FROM STDIN") as copy,
            ):
                while block := source.read(1 << 20):
                    copy.write(block)
            raw.commit()
            elapsed += time.perf_counter() - t0
            with raw.cursor() as cursor:
                cursor.execute(f"DROP TABLE floor_{table}")
            raw.commit()
    return elapsed


def payslip_checksum() -> str:
    """One digest of every payslip of the month and all its lines, by employee
    number: any difference of a fen anywhere changes it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT md5(string_agg(d, '' ORDER BY no)) FROM (
              SELECT w.employee_no AS no, md5(concat_ws('|',
                  w.employee_no, p.contract, p.skill_level, p.minutes, p.units,
                  p.accuracy, p.piece_pay, p.topup, p.bonuses, p.allowances,
                  p.taxable, p.social_insurance, p.tax, p.deductions,
                  p.carried_in, p.carried_forward, p.net, p.ytd_taxable,
                  p.ytd_social_insurance, p.ytd_tax, p.warnings::text,
                  (SELECT string_agg(concat_ws(';', l.position, l.kind, l.project,
                          l.task_type, l.unit, l.quantity, l.rate, l.multiplier,
                          l.tier, l.ref_period, l.reason, l.amount,
                          l.pending_units), '/' ORDER BY l.position)
                   FROM payroll_paysliplines l WHERE l.payslip_id = p.id))) AS d
              FROM payroll_payslip p
              JOIN payroll_payperiod pp ON pp.id = p.period_id
              JOIN workforce_worker w ON w.id = p.worker_id
              WHERE pp.month = %s
            ) AS slips
            """.replace("payroll_paysliplines", PayslipLine._meta.db_table),
            [MONTH],
        )
        return cursor.fetchone()[0]


# --- peak memory of every process involved ------------------------------------


def _status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM and RssAnon of ``pid`` in bytes (Linux); {} if it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon"):
            out[key] = int(value.split()[0]) * 1024
    return out


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found = []
        for task in tasks:
            found += [int(c) for c in (task / "children").read_text().split()]
        return found
    except OSError:
        return []


class Peaks:
    """Samples, every 50 ms, the resident memory of this process, its child
    processes (and theirs) and the PostgreSQL backends of this database, and
    keeps each kind's peak. Python processes: VmRSS (their high-water mark too,
    while they live). PostgreSQL backends: their private memory (RssAnon);
    their resident total also counts the server's shared buffers, which are
    configured, not used up by a calculation."""

    def __init__(self):
        self.peak = {"bench": 0, "workers": 0, "postgres": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "Peaks":
        import psycopg

        settings_db = connection.settings_dict
        self._db = psycopg.connect(
            dbname=settings_db["NAME"],
            user=settings_db["USER"],
            host=settings_db["HOST"],
            port=settings_db["PORT"] or 5432,
            autocommit=True,
        )
        gc.collect()
        # The high-water mark from here on, not the floors' or the setup's.
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._db.close()
        me = _status(os.getpid())
        self.peak["bench"] = max(self.peak["bench"], me.get("VmHWM", 0))
        # Children reaped by now: the largest one's high-water mark.
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        self.peak["workers"] = max(self.peak["workers"], children)

    def _sample(self) -> None:
        me = os.getpid()
        self.peak["bench"] = max(self.peak["bench"], _status(me).get("VmRSS", 0))
        todo, seen = _children(me), set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            rss = _status(pid).get("VmRSS", 0)
            self.peak["workers"] = max(self.peak["workers"], rss)
            todo += _children(pid)
        with self._db.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            for (pid,) in cursor.fetchall():
                anon = _status(pid).get("RssAnon", 0)
                self.peak["postgres"] = max(self.peak["postgres"], anon)

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()


# --- the calculation -----------------------------------------------------------


def _count_queries():
    counter = {"n": 0}

    def count(execute, sql, params, many, context):
        counter["n"] += 1
        return execute(sql, params, many, context)

    return counter, count


def _cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` (Linux; 0 where /proc cannot
    be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return _cpu_seconds(cursor.fetchone()[0])


def _run_chunk(job: tuple[int, int]) -> tuple[int, float, float]:
    """One chunk in a worker process, as a Celery prefork child would run it.
    Returns (queries, Python CPU s, PostgreSQL backend CPU s)."""
    run_id, index = job
    counter, count = _count_queries()
    python, database = time.process_time(), _backend_cpu()
    with connection.execute_wrapper(count):
        periods.payroll_run_chunk(run_id=run_id, index=index)
    database = _backend_cpu() - database
    return counter["n"], time.process_time() - python, database


def _reset() -> None:
    PayPeriod.objects.filter(month=MONTH).update(status="open")
    for run in PayrollRun.objects.filter(status__in=ACTIVE_RUN_STATUSES):
        periods.payroll_run_fail(run_id=run.pk, message="left by an interrupted bench")


def _fresh() -> None:
    """Every timed run is the month's first calculation, on vacuumed tables:
    the month's payslips and lines are removed first (untimed)."""
    _reset()
    month = "SELECT id FROM payroll_payperiod WHERE month = %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {PayslipLine._meta.db_table} WHERE payslip_id IN "
            f"(SELECT id FROM {Payslip._meta.db_table} WHERE period_id IN ({month}))",
            [MONTH],
        )
        cursor.execute(
            f"DELETE FROM {Payslip._meta.db_table} WHERE period_id IN ({month})",
            [MONTH],
        )
        cursor.execute("VACUUM ANALYZE")


def _check_runs(runs) -> None:
    for run in runs:
        run.refresh_from_db()
        assert run.status == "done", (run.status, run.message)
        assert run.error_count == 0, run.errors[:3]


def calculate_all(processes: int) -> dict:
    """Start the five parks' runs and process every chunk on ``processes``
    worker processes (1: in this process); after ``_fresh``."""
    counter, count = _count_queries()
    t0 = time.perf_counter()
    with connection.execute_wrapper(count):
        runs, jobs = [], []
        for park in Park.objects.order_by("code"):
            period = periods.period_get_or_create(park=park, month=MONTH)
            run = periods.payroll_run_start(period=period, enqueue=False)
            runs.append(run)
            jobs += [(run.pk, i) for i in periods.payroll_run_dispatch(run_id=run.pk)]
        queued = time.perf_counter() - t0
        if processes == 1:
            results = [_run_chunk(job) for job in jobs]
        else:
            connections.close_all()  # each process opens its own connection
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(processes, mp_context=ctx) as pool:
                results = list(pool.map(_run_chunk, jobs))
    elapsed = time.perf_counter() - t0
    _check_runs(runs)
    return {
        "seconds": elapsed,
        "queued": queued,
        "chunks": len(jobs),
        "queries": counter["n"] + sum(r[0] for r in results),
        "python_cpu": sum(r[1] for r in results),
        "postgres_cpu": sum(r[2] for r in results),
    }


def celery_run(processes: int) -> dict:
    """The same five runs queued through Redis and calculated by ``processes``
    real ``celery worker`` processes (one task at a time each, as on
    ``processes`` one-core machines). Timed from the first run queued to the
    last run done; the workers are started, and ready, before. After
    ``_fresh``."""
    import redis

    from config import celery_app

    if not os.environ.get("REDIS_URL"):
        sys.exit("--celery needs REDIS_URL (the broker the workers share)")
    redis.Redis.from_url(os.environ["REDIS_URL"]).delete("celery")
    logs = Path(tempfile.mkdtemp(prefix="bench-celery-"))
    workers = []
    try:
        for n in range(processes):
            log = logs / f"worker{n}.log"
            env = {**os.environ, "PAYSLIP_PDF_AFTER_RUN": "0"}
            command = [sys.executable, "-m", "celery", "-A", "config", "worker"]
            command += ["--pool=solo", "--without-mingle", "--without-gossip"]
            command += [
                "-n",
                f"bench{n}-{os.getpid()}@%h",
                "-l",
                os.environ.get("BENCH_CELERY_LOG", "warning"),
            ]
            workers.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 60
        replies = []
        while len(replies) < processes:
            replies = celery_app.control.ping(timeout=0.5) or []
            if time.monotonic() > deadline or any(
                w.poll() is not None for w in workers
            ):
                sys.exit("celery workers did not start: see " + str(logs))
        cpu = [_cpu_seconds(w.pid) for w in workers]  # their start-up
        t0 = time.perf_counter()
        runs = []
        for park in Park.objects.order_by("code"):
            period = periods.period_get_or_create(park=park, month=MONTH)
            runs.append(periods.payroll_run_start(period=period))  # queued on commit
        ids = [run.pk for run in runs]
        deadline = time.monotonic() + 3600
        while PayrollRun.objects.filter(
            pk__in=ids, status__in=ACTIVE_RUN_STATUSES
        ).exists():
            if time.monotonic() > deadline:
                sys.exit("the runs did not finish within an hour")
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        cpu = [_cpu_seconds(w.pid) - c for w, c in zip(workers, cpu, strict=True)]
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
    _check_runs(runs)
    return {"seconds": elapsed, "worker_cpu": sum(cpu)}


# --- one size, and the growth table ---------------------------------------------

CHECKSUMS = Path(__file__).with_name("payroll_checksums.json")


def measure(args) -> dict:
    """Everything for one size, on the database of DATABASE_URL."""
    if connection.vendor != "postgresql":
        sys.exit("bench/payroll.py needs DATABASE_URL pointing at PostgreSQL")
    call_command("migrate", verbosity=0)
    have = WorkRecord.objects.filter(source="bench").count()
    if (
        args.regenerate
        or have != args.records
        or Worker.objects.count() != args.workers
    ):
        say(f"generating {args.workers:,} workers and {args.records:,} records…")
        # In a process of its own, so that this one's peak memory is the
        # calculation's.
        command = [sys.executable, __file__, "--generate-only"]
        command += ["--workers", str(args.workers), "--records", str(args.records)]
        subprocess.run(command, check=True, stdout=sys.stderr, timeout=3 * 3600)
    out = {
        "workers": Worker.objects.count(),
        "records": WorkRecord.objects.filter(
            work_date__gte=MONTH, work_date__lt=NEXT
        ).count(),
        "processes": args.processes,
    }
    out["read_floor"] = min(raw_group_by() for _ in range(3))
    _fresh()
    with Peaks() as peaks:
        out.update(calculate_all(args.processes))
    out["peak"] = peaks.peak
    out["payslips"] = Payslip.objects.filter(period__month=MONTH).count()
    out["lines"] = PayslipLine.objects.filter(payslip__period__month=MONTH).count()
    out["checksum"] = payslip_checksum()
    out["write_floor"] = write_floor()
    for n in args.celery:
        _fresh()
        run = celery_run(n)
        if payslip_checksum() != out["checksum"]:
            sys.exit(f"the payslips calculated by {n} celery workers differ")
        out.setdefault("celery", {})[str(n)] = run
    return out


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def check_checksum(result: dict, record: bool) -> str:
    """Compare the payslips with those recorded for this size (bench/
    payroll_checksums.json); ``record`` stores them instead."""
    key = f"{result['workers']}x{result['records']}"
    known = json.loads(CHECKSUMS.read_text()) if CHECKSUMS.exists() else {}
    if record:
        known[key] = result["checksum"]
        CHECKSUMS.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
        return "recorded"
    if key not in known:
        return "none recorded for this size (--record-checksum)"
    if known[key] != result["checksum"]:
        return "DIFFERENT from the recorded payslips"
    return "identical to the recorded payslips"


def report(result: dict, verdict: str) -> None:
    r = result
    floors = r["read_floor"] + r["write_floor"]
    print(f"workers            {r['workers']:,}  ({r['processes']} processes)")
    print(f"records            {r['records']:,}")
    print(f"payslips / lines   {r['payslips']:,} / {r['lines']:,}")
    print(f"full calculation   {r['seconds']:.2f} s  ({r['chunks']} chunks)")
    print(f"records/s          {r['records'] / r['seconds']:,.0f}")
    print(
        f"CPU of the chunks  Python {r['python_cpu']:.1f} s, "
        f"PostgreSQL {r['postgres_cpu']:.1f} s"
    )
    print(f"queries            {r['queries']:,}")
    print(
        f"peak memory        bench {_mb(r['peak']['bench'])}, worker process "
        f"{_mb(r['peak']['workers'])}, PostgreSQL backend {_mb(r['peak']['postgres'])} "
        "(private)"
    )
    print(f"read floor         {r['read_floor']:.2f} s  (raw GROUP BY, best of 3)")
    print(f"write floor        {r['write_floor']:.2f} s  (COPY of the same rows)")
    print(f"ratio to floors    {r['seconds'] / floors:.1f}x  (target: ≤ 4x)")
    for n, run in r.get("celery", {}).items():
        print(
            f"celery, {n} worker{'s' if n != '1' else ' '}  {run['seconds']:.2f} s "
            f"(their CPU {run['worker_cpu']:.1f} s)"
        )
    if {"1", "2"} <= set(r.get("celery", {})):
        speedup = r["celery"]["1"]["seconds"] / r["celery"]["2"]["seconds"]
        print(f"fan-out speedup    {speedup:.2f}x from 1 to 2  (target: ≥ 1.6x)")
    print(f"payslips           {verdict}  (checksum {r['checksum']})")


def growth(args) -> None:
    """One child process per size, each on its own database (DATABASE_URL's
    name with _<workers> appended), so that every size's data is kept and its
    peak memory is its own."""
    import psycopg

    base = connection.settings_dict
    sizes = []
    n = 1_000
    while n < args.workers:
        sizes.append(n)
        n *= 10
    sizes.append(args.workers)
    per_worker = args.records // args.workers
    rows = []
    for workers in sizes:
        name = f"{base['NAME']}_{workers}"
        with psycopg.connect(
            dbname="postgres", user=base["USER"], host=base["HOST"], autocommit=True
        ) as admin:
            if not admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone():
                admin.execute(f'CREATE DATABASE "{name}"')
        url = f"postgres://{base['USER']}@{base['HOST']}:{base['PORT'] or 5432}/{name}"
        say(f"== {workers:,} workers, {workers * per_worker:,} records ({name})")
        command = [sys.executable, __file__, "--only"]
        command += ["--workers", str(workers), "--records", str(workers * per_worker)]
        command += ["--processes", str(args.processes), "--json"]
        command += (
            [f"--celery={','.join(map(str, args.celery))}"] if args.celery else []
        )
        command += ["--regenerate"] if args.regenerate else []
        command += ["--record-checksum"] if args.record_checksum else []
        done = subprocess.run(
            command,
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.PIPE,
            text=True,
            timeout=4 * 3600,
        )
        if done.returncode:
            sys.exit(done.returncode)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print()
    print(
        "   workers      records     time   ×prev  work×prev   records/s  "
        "queries  bench MB  worker MB  pg MB  floors  ×floors  payslips"
    )
    before = None
    for r in rows:
        floors = r["read_floor"] + r["write_floor"]
        step = f"{r['seconds'] / before['seconds']:5.1f}x" if before else "     -"
        work = f"{r['records'] / before['records']:8.1f}x" if before else "        -"
        print(
            f"{r['workers']:>10,} {r['records']:>12,} {r['seconds']:7.2f}s {step} "
            f"{work} {r['records'] / r['seconds']:>11,.0f} {r['queries']:>8,} "
            f"{r['peak']['bench'] / 2**20:>9,.0f} {r['peak']['workers'] / 2**20:>10,.0f} "
            f"{r['peak']['postgres'] / 2**20:>6,.0f} {floors:6.2f}s "
            f"{r['seconds'] / floors:7.1f}x  {r['verdict']}"
        )
        before = r
    last = rows[-1]
    print(
        f"targets: {last['workers']:,} workers ≤ 60 s ({last['seconds']:.1f} s); "
        "≤ 11x per 10x of work; every process ≤ 1 GB; ≤ 4x the floors"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument(
        "--only", action="store_true", help="measure this size alone, no table"
    )
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for the chunks (default: one per core)",
    )
    parser.add_argument(
        "--celery",
        type=lambda s: [int(n) for n in s.split(",") if n],
        default=[],
        metavar="1,2",
        help="also run it through Redis on this many real celery workers",
    )
    parser.add_argument("--record-checksum", action="store_true")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.workers, args.records)
        return
    if not args.only:
        growth(args)
        return
    result = measure(args)
    result["verdict"] = check_checksum(result, args.record_checksum)
    (sys.stderr if args.json else sys.stdout).flush()
    if args.json:
        sys.stdout = sys.stderr
        report(result, result["verdict"])
        sys.stdout = sys.__stdout__
        print(json.dumps(result))
    else:
        report(result, result["verdict"])
    if result["verdict"].startswith("DIFFERENT"):
        sys.exit(1)


if __name__ == "__main__":
    main()
