"""Importing 1,000,000 CSV rows (payroll/imports/) on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parkpay_api \
        .venv/bin/python bench/import.py [--rows 1000000] [--workers 2000]

Writes a ParkPay CSV of ``--rows`` rows to a temporary file and imports it
the way ``manage.py import_work`` does, each import in a process of its own
so that its peak memory (``ru_maxrss``) is its own. Prints, measured in the
same run:

- two floors no import can beat: only reading the file with the csv module
  (no checks, no database), and only the database's own work, an ``INSERT
  ... SELECT`` of the same rows from a table already in the database into
  the work records, with their eight indexes and three foreign keys checked
  at commit;
- a tenth of the file imported, then the whole file: rows/s and peak memory.
  Flat memory means the whole file needs about what a tenth needs;
- the whole file again: idempotent, it creates nothing.

Targets (issue 6): at least 20,000 rows/s on PostgreSQL; peak memory flat and
under 500 MB. The bench's park, project and records are replaced on each run;
nothing else in the database is touched.
"""

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from payroll import imports  # noqa: E402
from payroll.models import Client, Project, TaskType, WorkRecord  # noqa: E402
from payroll.services import (  # noqa: E402
    client_create,
    project_create,
    rate_card_create,
    task_type_create,
)
from workforce.models import Park, SkillPeriod, Worker  # noqa: E402
from workforce.services import park_create, team_create  # noqa: E402

PARK, PROJECT = "bench-import", "bench-csv"
TASKS = (("box", "2D box", "box"), ("lane", "Lane line", "frame"))
HEADER = ["employee_no", "project", "task_type", "work_date", "units", "accuracy",
          "external_id"]  # fmt: skip


def maxrss_mb() -> float:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(workers: int) -> Project:
    """The bench park with ``workers`` workers and a priced project; earlier
    bench records are deleted."""
    call_command("migrate", verbosity=0)
    park = Park.objects.filter(code=PARK).first() or park_create(
        name="Bench import park", code=PARK, county="Bench", township="Bench"
    )
    client = Client.objects.filter(code="bench").first() or client_create(
        code="bench", name="Bench client"
    )
    task_types = [
        TaskType.objects.filter(code=code).first()
        or task_type_create(code=code, name=name, unit=unit)
        for code, name, unit in TASKS
    ]
    project = Project.objects.filter(park=park, code=PROJECT).first()
    if project is None:
        project = project_create(client=client, park=park, code=PROJECT, name="Bench")
        for task_type in task_types:
            rate_card_create(
                project=project,
                task_type=task_type,
                skill_level="junior",
                rate=Decimal("0.1000"),
                effective_from=date(2020, 1, 1),
            )
    deleted, _ = WorkRecord.objects.filter(project__park=park).delete()
    have = Worker.objects.filter(park=park).count()
    if have < workers:
        team = park.teams.first() or team_create(park=park, name="Bench team")
        new = Worker.objects.bulk_create(
            Worker(
                park=park,
                team=team,
                employee_no=f"BI{n:07d}",
                name=f"Bench {n}",
                gender="female",
                birth_year=1990,
                hire_date=date(2025, 1, 1),
            )
            for n in range(have, workers)
        )
        SkillPeriod.objects.bulk_create(
            SkillPeriod(worker=w, level="junior", valid_from=date(2025, 1, 1))
            for w in new
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE payroll_workrecord")
    print(f"setup: park {PARK}, {workers:,} workers, {deleted:,} old records deleted")
    return project


def write_csv(path: Path, rows: int, workers: int) -> int:
    """A ParkPay CSV with ``rows`` rows over March 2026; returns its size."""
    first = date(2026, 3, 1)
    days = [(first + timedelta(days=d)).isoformat() for d in range(31)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(
                (
                    f"BI{n % workers:07d}",
                    PROJECT,
                    TASKS[n % 2][0],
                    days[n % 31],
                    1 + n % 97,
                    "" if n % 5 == 0 else f"{90 + n % 10}.{n % 100:02d}",
                    f"bench-{n:08d}",
                )
            )
    return path.stat().st_size


def child(path: str, dry_run: bool) -> None:
    """One import in this process; prints its figures as JSON."""
    project = Project.objects.get(park__code=PARK, code=PROJECT)
    before = maxrss_mb()
    started = time.perf_counter()
    with open(path, "rb") as handle:
        report = imports.import_work(
            file=handle, fmt="csv", project=project, dry_run=dry_run
        )
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "ok": report.ok,
                "records": report.records,
                "created": report.created,
                "unchanged": report.unchanged,
                "errors": [vars(p) for p in report.errors[:5]],
                "seconds": seconds,
                "rss_before_mb": before,
                "rss_peak_mb": maxrss_mb(),
            }
        )
    )


def run_child(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if not result["ok"]:
        raise SystemExit(f"import failed: {result['errors']}")
    return result


def parse_only(path: Path) -> float:
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        count = sum(1 for _ in csv.reader(handle)) - 1
    return count / (time.perf_counter() - started)


def database_floor(rows: int) -> float:
    """Rows/s of the database alone: the imported rows inserted once more
    (another source) from a copy, committed, then deleted."""
    record = WorkRecord._meta.db_table
    columns = "park_id, worker_id, project_id, task_type_id, work_date, units, accuracy"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE bench_floor AS SELECT {columns}, external_id "
            f"FROM {record} WHERE project_id = "
            f"(SELECT id FROM payroll_project WHERE code = %s)",
            [PROJECT],
        )
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE bench_floor")
        started = time.perf_counter()
        with transaction.atomic():
            cursor.execute(
                f"INSERT INTO {record} ({columns}, source, external_id, "
                f"created_at) SELECT {columns}, 'bench-floor', external_id, "
                f"%s FROM bench_floor",
                [timezone.now()],
            )
        seconds = time.perf_counter() - started
        cursor.execute(f"DELETE FROM {record} WHERE source = 'bench-floor'")
        cursor.execute("DROP TABLE bench_floor")
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dry_run)
        return
    if connection.vendor != "postgresql":
        print("note: not PostgreSQL: set DATABASE_URL for the figures that count")
    setup(args.workers)
    with tempfile.TemporaryDirectory(prefix="parkpay-bench-") as tmp:
        small, large = Path(tmp) / "tenth.csv", Path(tmp) / "whole.csv"
        tenth = max(1, args.rows // 10)
        write_csv(small, tenth, args.workers)
        size = write_csv(large, args.rows, args.workers)
        print(f"file: {args.rows:,} rows, {size / 2**20:.1f} MB")
        floor = parse_only(large)
        print(f"floor (csv module only): {floor:,.0f} rows/s")

        results, sizes = {}, {}
        for label, path, rows in (
            ("tenth", small, tenth),
            ("whole", large, args.rows),
            ("again", large, args.rows),
        ):
            if label == "whole":
                # The tenth's rows are other ids: start from an empty table.
                setup(args.workers)
            results[label], sizes[label] = run_child(path), rows
            if label == "whole":
                db_floor = database_floor(rows)
                print(
                    f"floor (database only, same rows, indexes and foreign "
                    f"keys): {db_floor:,.0f} rows/s"
                )
        for label, result in results.items():
            rows = sizes[label]
            rate = rows / result["seconds"]
            print(
                f"import {label:>5}: {rows:>9,} rows in {result['seconds']:6.1f} s "
                f"= {rate:>9,.0f} rows/s ({rate / db_floor:.2f} of the database "
                f"floor); created {result['created']:,}, already there "
                f"{result['unchanged']:,}; peak memory "
                f"{result['rss_peak_mb']:.0f} MB (Django loaded: "
                f"{result['rss_before_mb']:.0f} MB)"
            )
        whole = results["whole"]
        growth = results["whole"]["rss_peak_mb"] / results["tenth"]["rss_peak_mb"]
        rate = args.rows / whole["seconds"]
        print(
            f"summary: {rate:,.0f} rows/s (target 20,000: "
            f"{'met' if rate >= 20_000 else 'MISSED'}); peak memory "
            f"{whole['rss_peak_mb']:.0f} MB (target < 500 MB: "
            f"{'met' if whole['rss_peak_mb'] < 500 else 'MISSED'}); ten times the "
            f"rows needs {growth:.2f}× the memory (flat: ≈ 1)"
        )
    setup(args.workers)  # leave no bench records behind


if __name__ == "__main__":
    main()
