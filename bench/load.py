"""Load: simulated workers checking earnings and payslips during a payroll run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parkpay_bench \
    REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/load.py [--clients 200] [--seconds 40]

Uses the payroll benchmark's database (run bench/payroll.py first). Starts
gunicorn on 127.0.0.1, gives ``--clients`` workers a session each, and lets
every client loop (bounded by ``--seconds``): open their earnings page, their
payslip list and one payslip, reading each page for a random 1–3 s, as people
do. Meanwhile a payroll calculation of all five parks runs in another process.
Prints requests/s, p50/p95/p99 latency and errors, the same per page and per
10 s of the run, and the CPU time the server, PostgreSQL and this client used
(Linux). Loopback only.

gunicorn runs as it should be deployed for this CPU-bound application: sync
worker processes, (2 × cores) + 1 of them, no threads (threads of one process
share one core and its interpreter lock), and the application loaded before
the processes fork (``--preload``).

The payroll process runs at a lower CPU priority (``--payroll-nice``, default
19, as a batch job is deployed: ``nice``), so that on a machine it shares with
the web server the people waiting for a page get the CPU first; the payroll
takes longer in exchange (its time is printed). ``--payroll-nice 0`` gives both
the same priority; ``--no-payroll`` leaves it out. A period whose payroll
someone else is running at the start is waited for (at most ``--seconds``),
then skipped.

The simulated people are coroutines of one asyncio loop speaking HTTP/1.1 over
plain sockets, one connection per request as before: 200 threads cost the
client more CPU than the coroutines, on the cores the server needs.

With ``REDIS_URL`` set the server caches in Redis (estimates, page fragments,
sessions) as in production; every earnings estimate is forgotten at the start
(as an import does), so each run starts from cold estimates. Without it, each
gunicorn process has its own memory cache and computes each person's estimate
again in every process they reach.
"""

import argparse
import asyncio
import functools
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.pages import PORT, get, session_cookie  # noqa: E402
from payroll.earnings import earnings_changed_in_park  # noqa: E402
from payroll.models import PayPeriod, Payslip  # noqa: E402
from workforce.models import Park, Worker  # noqa: E402

PAYROLL = """
import os, sys, time
os.nice({nice})
sys.path.insert(0, {root!r})
os.environ["PAYSLIP_PDF_AFTER_RUN"] = "0"
import django; django.setup()
from django.core.exceptions import ValidationError
from payroll import periods
from payroll.models import PayPeriod
t0 = time.perf_counter()
for period in PayPeriod.objects.filter(month={month!r}).order_by("park__code"):
    deadline = time.monotonic() + {wait}
    while True:
        period.status = "open"; period.save(update_fields=["status"])
        try:
            run = periods.payroll_run_start(period=period, enqueue=False)
            break
        except ValidationError as exc:  # someone else's run of this period
            if time.monotonic() > deadline:
                print(f"payroll of {{period}} skipped: {{exc.messages[0]}}")
                run = None
                break
            time.sleep(0.5)
    if run is not None:
        periods.payroll_run_inline(run=run)
print(
    f"payroll of 5 parks during the load: {{time.perf_counter() - t0:.1f}} s "
    f"({{time.process_time():.1f}} s of CPU in its process)"
)
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


async def fetch(path: str, cookie: str) -> float:
    """GET ``path`` on a new connection, as ``bench.pages.get`` does; seconds."""
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        status_line = await reader.readline()
        await reader.read()  # headers and body, up to the server's close
        elapsed = time.perf_counter() - t0
    finally:
        writer.close()
    parts = status_line.split()
    if len(parts) < 2 or parts[1] != b"200":
        raise RuntimeError(f"{path}: {status_line.decode(errors='replace').strip()}")
    return elapsed


PAGES = ("earnings", "payslip list", "payslip")


async def people(sessions, month, seconds: float, samples: list, errors: list) -> float:
    """Every person's loop until ``seconds`` have passed; returns the time.
    ``samples`` gets (page, seconds since the start, latency) per request."""
    stop_at = time.monotonic() + seconds
    t0 = time.perf_counter()

    async def person(cookie: str, slip: str) -> None:
        rng = random.Random(slip)
        paths = [f"/me/?month={month:%Y-%m}", "/me/payslips/", f"/payslips/{slip}/"]
        await asyncio.sleep(rng.uniform(0, 3))  # people do not all arrive at once
        while time.monotonic() < stop_at:
            for page, path in zip(PAGES, paths, strict=True):
                if time.monotonic() >= stop_at:
                    return
                try:
                    at = time.perf_counter() - t0
                    latency = await asyncio.wait_for(fetch(path, cookie), 30)
                    samples.append((page, at, latency))
                except Exception as exc:  # counted and reported
                    errors.append(f"{path}: {exc!r}")
                await asyncio.sleep(rng.uniform(1, 3))

    await asyncio.wait_for(
        asyncio.gather(*(person(*s) for s in sessions)), seconds + 60
    )
    return time.perf_counter() - t0


def percentile(values: list[float], p: float) -> float:
    """The ``p`` quantile of sorted ``values``, in ms."""
    return values[min(len(values) - 1, int(p * len(values)))] * 1000


async def warm_up(cookie: str, slip: str, month, requests: int) -> None:
    """Each page ``requests`` times at once, for one person outside the
    measured ones: every gunicorn process gets some, and imports the URL
    configuration and compiles the templates on its first (about 0.8 s of CPU
    each), as a server that has been up for a while has done."""
    paths = [f"/me/?month={month:%Y-%m}", "/me/payslips/", f"/payslips/{slip}/"]
    for path in paths:
        await asyncio.gather(*(fetch(path, cookie) for _ in range(requests)))


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU time of each of these processes so far (Linux /proc)."""
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def postgres_pids() -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/comm") as f:
                    if f.read().startswith("postgres"):
                        pids.append(int(name))
            except OSError:
                pass
    return pids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument(
        "--gunicorn-workers", type=int, default=2 * (os.cpu_count() or 1) + 1
    )
    parser.add_argument("--gunicorn-threads", type=int, default=1)
    parser.add_argument(
        "--payroll-nice",
        type=int,
        default=19,
        help="niceness of the payroll process (0: the web server's priority)",
    )
    parser.add_argument(
        "--warm-up",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="warm the server processes up before the load (default) or not",
    )
    parser.add_argument(
        "--payroll",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the payroll calculation during the load (default) or not",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/load.py needs DATABASE_URL pointing at the benchmark database")
    call_command("migrate", verbosity=0)
    month = PayPeriod.objects.order_by("-month").values_list("month", flat=True).first()
    *sessions, extra = worker_sessions(args.clients + 1)
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        for park_id in Park.objects.values_list("id", flat=True):
            earnings_changed_in_park(park_id=park_id)  # cold estimates
    connection.close()
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(
        f"gunicorn           {args.gunicorn_workers} processes × "
        f"{args.gunicorn_threads} threads, cache {cache}, "
        f"sessions {settings.SESSION_ENGINE.rsplit('.', 1)[-1]}"
    )
    if not settings.REDIS_URL:
        print(
            "                   (a cache per process: set REDIS_URL, as in production)"
        )
    print(
        f"payroll process    nice {args.payroll_nice}"
        if args.payroll
        else "payroll process    none (--no-payroll)"
    )
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(args.gunicorn_workers),
            "--threads",
            str(args.gunicorn_threads),
            "--preload",  # Django is loaded once, before the processes fork
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    samples: list[tuple[str, float, float]] = []
    errors: list[str] = []
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
        if args.warm_up:
            asyncio.run(warm_up(*extra, month, 3 * args.gunicorn_workers))
        payroll = None
        if args.payroll:
            payroll = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    PAYROLL.format(
                        root=str(ROOT),
                        month=str(month),
                        nice=args.payroll_nice,
                        wait=args.seconds,
                    ),
                ],
                cwd=ROOT,
                env={**os.environ},
            )
        server0 = cpu_seconds(tree(server.pid))
        pg0 = cpu_seconds(postgres_pids())
        client0 = time.process_time()
        elapsed = asyncio.run(people(sessions, month, args.seconds, samples, errors))
        used = (
            cpu_used(server0, cpu_seconds(tree(server.pid))),
            cpu_used(pg0, cpu_seconds(postgres_pids())),
            time.process_time() - client0,
        )
        if payroll is not None:
            payroll.wait(timeout=600)
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies = sorted(latency for _page, _at, latency in samples)
    pct = functools.partial(percentile, latencies)
    print(f"clients            {len(sessions)}")
    print(f"requests           {len(latencies):,} in {elapsed:.1f} s")
    print(f"requests/s         {len(latencies) / elapsed:.1f}")
    print(f"latency p50        {statistics.median(latencies) * 1000:.0f} ms")
    print(f"latency p95        {pct(0.95):.0f} ms")
    print(f"latency p99        {pct(0.99):.0f} ms")
    print(f"errors             {len(errors)}")
    for error in errors[:5]:
        print(f"  {error}")
    for page in PAGES:
        times = sorted(latency for name, _at, latency in samples if name == page)
        if times:
            print(
                f"  {page:16} {len(times):5} requests, p50 "
                f"{percentile(times, 0.5):5.0f} ms, p95 {percentile(times, 0.95):5.0f} ms"
            )
    for start in range(0, int(elapsed), 10):
        times = sorted(lat for _p, at, lat in samples if start <= at < start + 10)
        if times:
            print(
                f"  {start:3}–{start + 10:<3} s       {len(times) / 10:5.1f} requests/s, "
                f"p50 {percentile(times, 0.5):5.0f} ms, p95 {percentile(times, 0.95):5.0f} ms"
            )
    print(
        "CPU during load    gunicorn {:.1f} s, postgres {:.1f} s, client {:.1f} s "
        "(of {:.0f} core-seconds)".format(*used, elapsed * (os.cpu_count() or 1))
    )
    if latencies:
        print(
            f"gunicorn CPU       {used[0] / len(latencies) * 1000:.1f} ms per request"
        )
    print("target: no errors, p95 under 500 ms")


if __name__ == "__main__":
    main()
