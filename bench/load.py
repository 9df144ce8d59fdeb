"""Load: simulated workers checking earnings and payslips during a payroll run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parkpay_bench \
        .venv/bin/python bench/load.py [--clients 200] [--seconds 40]

Uses the payroll benchmark's database (run bench/payroll.py first). Starts
gunicorn on 127.0.0.1, gives ``--clients`` workers a session each, and lets
every client loop (bounded by ``--seconds``): open their earnings page, their
payslip list and one payslip, reading each page for a random 1–3 s, as people
do. Meanwhile a payroll calculation of all five parks runs in another process.
Prints requests/s, p50/p95/p99 latency and errors. Loopback only.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.pages import PORT, get, session_cookie  # noqa: E402
from payroll.models import PayPeriod, Payslip  # noqa: E402
from workforce.models import Worker  # noqa: E402

PAYROLL = """
import os, sys, time
sys.path.insert(0, {root!r})
os.environ["PAYSLIP_PDF_AFTER_RUN"] = "0"
import django; django.setup()
from payroll import periods
from payroll.models import PayPeriod
t0 = time.perf_counter()
for period in PayPeriod.objects.filter(month={month!r}).order_by("park__code"):
    period.status = "open"; period.save(update_fields=["status"])
    run = periods.payroll_run_start(period=period, enqueue=False)
    periods.payroll_run_inline(run=run)
print(f"payroll of 5 parks during the load: {{time.perf_counter() - t0:.1f}} s")
"""


def worker_sessions(count: int) -> list[tuple[str, str]]:
    """(cookie, payslip number) for ``count`` workers spread over the parks."""
    group, _ = Group.objects.get_or_create(name="worker")
    chosen = list(
        Worker.objects.filter(payslips__isnull=False).distinct().order_by("?")[:count]
    )
    out = []
    for worker in chosen:
        if worker.user is None:
            user, _ = User.objects.get_or_create(username=f"load-{worker.employee_no}")
            user.groups.add(group)
            worker.user = user
            worker.save(update_fields=["user"])
        slip = (
            Payslip.objects.filter(worker=worker)
            .values_list("number", flat=True)
            .first()
        )
        out.append((session_cookie(worker.user), slip))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/load.py needs DATABASE_URL pointing at the benchmark database")
    call_command("migrate", verbosity=0)
    month = PayPeriod.objects.order_by("-month").values_list("month", flat=True).first()
    sessions = worker_sessions(args.clients)
    connection.close()
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(args.gunicorn_workers),
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get("/healthz", "")
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        payroll = subprocess.Popen(
            [sys.executable, "-c", PAYROLL.format(root=str(ROOT), month=str(month))],
            cwd=ROOT,
            env={**os.environ},
        )
        stop_at = time.monotonic() + args.seconds

        def client(cookie: str, slip: str) -> None:
            rng = random.Random(slip)
            paths = [f"/me/?month={month:%Y-%m}", "/me/payslips/", f"/payslips/{slip}/"]
            time.sleep(rng.uniform(0, 3))  # people do not all arrive at once
            while time.monotonic() < stop_at:
                for path in paths:
                    if time.monotonic() >= stop_at:
                        return
                    try:
                        elapsed = get(path, cookie)
                        with lock:
                            latencies.append(elapsed)
                    except Exception as exc:  # counted and reported
                        with lock:
                            errors.append(f"{path}: {exc!r}")
                    time.sleep(rng.uniform(1, 3))

        threads = [
            threading.Thread(target=client, args=s, daemon=True) for s in sessions
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 60)
        elapsed = time.perf_counter() - t0
        payroll.wait(timeout=600)
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print(f"clients            {len(sessions)}")
    print(f"requests           {len(latencies):,} in {elapsed:.1f} s")
    print(f"requests/s         {len(latencies) / elapsed:.1f}")
    print(f"latency p50        {statistics.median(latencies) * 1000:.0f} ms")
    print(f"latency p95        {pct(0.95):.0f} ms")
    print(f"latency p99        {pct(0.99):.0f} ms")
    print(f"errors             {len(errors)}")
    for error in errors[:5]:
        print(f"  {error}")
    print("target: no errors, p95 under 500 ms")


if __name__ == "__main__":
    main()
