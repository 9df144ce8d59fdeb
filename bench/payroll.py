"""Payroll at province scale: 10,000 workers in 5 parks, 1,000,000 records a month.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parkpay_bench \
        .venv/bin/python bench/payroll.py [--workers 10000] [--records 1000000]

Generates the data once (kept between runs; ``--regenerate`` to rebuild), then
times the full calculation (R1–R14, payslips and lines stored) of the five
parks' periods, in this process, and compares it with one raw SQL
``GROUP BY worker, project, task type`` over the same records measured in the
same run: a floor no implementation can beat.
"""

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")
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


def _count_queries():
    counter = {"n": 0}

    def count(execute, sql, params, many, context):
        counter["n"] += 1
        return execute(sql, params, many, context)

    return counter, count


def _backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (Linux;
    0 where /proc cannot be read)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def calculate_all(processes: int) -> tuple[float, int]:
    """Start the five parks' runs and process every chunk on ``processes``
    worker processes (1: in this process)."""
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
    child_queries = sum(r[0] for r in results)
    print(f"  runs queued in {queued:.2f} s, chunks done in {elapsed - queued:.2f} s")
    print(
        f"  CPU of the chunks: Python {sum(r[1] for r in results):.1f} s, "
        f"PostgreSQL {sum(r[2] for r in results):.1f} s "
        f"(of {elapsed * (os.cpu_count() or 1):.1f} s on {os.cpu_count()} cores)"
    )
    for run in runs:
        run.refresh_from_db()
        assert run.status == "done", (run.status, run.message)
        assert run.error_count == 0, run.errors[:3]
    return elapsed, counter["n"] + child_queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for the chunks (default: one per core)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/payroll.py needs DATABASE_URL pointing at PostgreSQL")
    call_command("migrate", verbosity=0)
    have = WorkRecord.objects.filter(source="bench").count()
    if (
        args.regenerate
        or have != args.records
        or Worker.objects.count() != args.workers
    ):
        print(f"generating {args.workers:,} workers and {args.records:,} records…")
        generate(args.workers, args.records)
    PayPeriod.objects.filter(month=MONTH).update(status="open")
    for run in PayrollRun.objects.filter(status__in=ACTIVE_RUN_STATUSES):
        periods.payroll_run_fail(run_id=run.pk, message="left by an interrupted bench")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    records = WorkRecord.objects.filter(
        work_date__gte=MONTH, work_date__lt=NEXT
    ).count()
    workers = Worker.objects.count()

    baseline = min(raw_group_by() for _ in range(3))
    elapsed, queries = calculate_all(args.processes)
    payslips = Payslip.objects.filter(period__month=MONTH).count()
    lines = PayslipLine.objects.filter(payslip__period__month=MONTH).count()
    print(f"processes          {args.processes}")
    print(f"workers            {workers:,}")
    print(f"records            {records:,}")
    print(f"payslips / lines   {payslips:,} / {lines:,}")
    print(f"raw GROUP BY       {baseline:.2f} s (best of 3)")
    print(f"full calculation   {elapsed:.2f} s")
    print(f"workers/s          {workers / elapsed:,.0f}")
    print(f"records/s          {records / elapsed:,.0f}")
    print(f"queries issued     {queries:,}")
    print(f"ratio to raw       {elapsed / baseline:.1f}x  (target: ≤ 10x and ≤ 20 s)")


if __name__ == "__main__":
    main()
