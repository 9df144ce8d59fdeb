"""Load: a payday morning — workers open their earnings, payslips and payslip PDF.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parkpay_bench \
    REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/load.py [--clients 1000] [--arrival 60]

Uses the payroll benchmark's database (run bench/payroll.py first). Starts
gunicorn on 127.0.0.1 (port 8765, ``BENCH_PORT`` to change it) and gives
``--clients`` workers of the park ``--park`` (default bench1, 2,000 workers) a
session each. Every person arrives at a random moment of the first
``--arrival`` seconds (default 60: a thousand people do not all open the app
in the same second) and opens, once, as on payday: their earnings page, their
payslip list, their month's payslip and that payslip's PDF, reading each page
for a random 1–3 s before the next. ``--loop`` makes every person repeat the
four pages until ``--seconds`` have passed instead (``--clients 200 --arrival
3 --loop`` is the earlier steady-load run).

Meanwhile another park's payroll (``--payroll-park``, default bench5, never
one of the clients' parks) is recalculated in another process, again and again
until the last person is done, so that the whole morning has a calculation
running (``--payroll-once``: a single run). A recalculation deletes and
rewrites its own park's payslips only.

A payslip's PDF is rendered by the payroll job before payslips are released;
the benchmark database is generated without them, so the PDFs of the clients'
payslips are rendered (``payslip_pdfs_render``, as the job does) before the
load starts, and their time is printed: the PDF request measures serving a
stored file. The view would render a missing one on request. A PDF response
that does not start with ``%PDF-`` counts as an error, as does any status but
200 and any request taking more than 30 s.

Prints, per page and per 10 s of the run, the number of requests and their
p50/p95/p99 latency, the errors with a sample of their messages, the CPU time
of the server's processes and of their PostgreSQL connections per request, of
this client, of the payroll process and its connection, and of anything else on
the machine (Linux /proc; a run that other work disturbed says so), and a
target line: no errors, p95 of every HTML page under 300 ms, of the PDF under
800 ms. Loopback only.

gunicorn runs as it should be deployed for this CPU-bound application: sync
worker processes, (2 × cores) + 1 of them, no threads (threads of one process
share one core and its interpreter lock), and the application loaded before
the processes fork (``--preload``).

The payroll process runs at a lower CPU priority (``--payroll-nice``, default
19, as a batch job is deployed: ``nice``), so that on a machine it shares with
the web server the people waiting for a page get the CPU first; the payroll
takes longer in exchange (its time is printed). ``--payroll-nice 0`` gives both
the same priority; ``--no-payroll`` leaves it out. A period whose payroll
someone else is running at the start is waited for (at most 60 s), then
skipped.

The simulated people are coroutines of one asyncio loop speaking HTTP/1.1 over
plain sockets, one connection per request: a thousand threads would cost the
client more CPU than the coroutines, on the cores the server needs. Sessions
are written in bulk (a thousand one at a time took seconds).

With ``REDIS_URL`` set the server caches in Redis (estimates, page fragments,
sessions) as in production; every earnings estimate is forgotten at the start
(as an import does), so each run starts from cold estimates. Without it, each
gunicorn process has its own memory cache and computes each person's estimate
again in every process they reach.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
)
from django.contrib.auth.models import Group, User  # noqa: E402
from django.contrib.sessions.backends.base import VALID_KEY_CHARS  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from bench.pages import PORT, get, session_cookie  # noqa: E402
from payroll.earnings import earnings_changed_in_park  # noqa: E402
from payroll.models import PayPeriod, Payslip  # noqa: E402
from payroll.payslip_files import payslip_pdfs_render  # noqa: E402
from workforce import two_factor  # noqa: E402
from workforce.models import Park, Worker  # noqa: E402

PAYROLL = """
import os, sys, time
os.nice({nice})
sys.path.insert(0, {root!r})
os.environ["PAYSLIP_PDF_AFTER_RUN"] = "0"
import django; django.setup()
from django.core.exceptions import ValidationError
from django.db import connection
with connection.cursor() as cursor:  # the connection every run below uses
    cursor.execute("SELECT pg_backend_pid()")
    with open({backend!r}, "w") as f:
        f.write(str(cursor.fetchone()[0]))
from payroll import periods
from payroll.models import PayPeriod
t0 = time.perf_counter()
period = PayPeriod.objects.get(park__code={park!r}, month={month!r})
runs = 0
while True:
    deadline = time.monotonic() + 60
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
    if run is None:
        break
    periods.payroll_run_inline(run=run)
    runs += 1
    if {once} or os.path.exists({stop!r}):
        break
elapsed = time.perf_counter() - t0
print(
    f"payroll of {park} during the load: {{runs}} runs in {{elapsed:.1f}} s, "
    f"{{elapsed / max(runs, 1):.1f}} s each"
)
"""

PAGES = ("earnings", "payslip list", "payslip", "payslip PDF")
HTML_TARGET, PDF_TARGET = 0.300, 0.800  # p95, seconds


def paths(month, slip: str) -> list[str]:
    """What a person opens, in order, one per page of ``PAGES``."""
    return [
        f"/me/?month={month:%Y-%m}",
        "/me/payslips/",
        f"/payslips/{slip}/",
        f"/payslips/{slip}/pdf/",
    ]


def bulk_session_cookies(users: list[User]) -> list[str]:
    """A logged-in session per user, written in two statements (database, and
    the cache for ``cached_db``) rather than a round trip or three per user."""
    engine = settings.SESSION_ENGINE
    if engine not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        return [session_cookie(user) for user in users]
    from importlib import import_module

    store_class = import_module(engine).SessionStore
    store = store_class()
    expire = timezone.now() + timezone.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows, cached, cookies = [], {}, []
    for user in users:
        key = get_random_string(32, VALID_KEY_CHARS)
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            # What logging in stores, so that no page has to write it.
            two_factor.SESSION_KEY: two_factor.two_factor_step(user),
        }
        rows.append(
            Session(
                session_key=key, session_data=store.encode(data), expire_date=expire
            )
        )
        cached[getattr(store, "cache_key_prefix", "") + key] = data
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={key}")
    Session.objects.bulk_create(rows, batch_size=1000)
    if engine.endswith("cached_db"):
        cache.set_many(cached, settings.SESSION_COOKIE_AGE)
    return cookies


def worker_sessions(parks: list[Park], month, count: int) -> list[tuple[str, str, int]]:
    """(cookie, payslip number, payslip id) of ``month`` for ``count`` workers
    of ``parks``, chosen at random among those with a payslip that month."""
    group, _ = Group.objects.get_or_create(name="worker")
    chosen = list(
        Worker.objects.filter(park__in=parks, payslips__period__month=month).order_by(
            "?"
        )[:count]
    )
    if len(chosen) < count:
        sys.exit(
            f"only {len(chosen)} workers of {', '.join(p.code for p in parks)} "
            f"have a payslip of {month:%Y-%m}; fewer --clients or more --park"
        )
    with transaction.atomic():
        missing = [w for w in chosen if w.user_id is None]
        if missing:
            names = [f"load-{w.employee_no}" for w in missing]
            User.objects.bulk_create(
                [User(username=name) for name in names], ignore_conflicts=True
            )
            by_name = User.objects.in_bulk(names, field_name="username")
            for worker, name in zip(missing, names, strict=True):
                worker.user = by_name[name]
            Worker.objects.bulk_update(missing, ["user"], batch_size=1000)
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=w.user_id, group_id=group.id) for w in chosen],
            ignore_conflicts=True,
        )
    users = User.objects.in_bulk([w.user_id for w in chosen])
    cookies = bulk_session_cookies([users[w.user_id] for w in chosen])
    slips = {
        worker_id: (number, pk)
        for worker_id, number, pk in Payslip.objects.filter(
            worker__in=chosen, period__month=month
        ).values_list("worker_id", "number", "id")
    }
    return [(cookie, *slips[w.id]) for w, cookie in zip(chosen, cookies, strict=True)]


def render_pdfs(payslip_ids: list[int]) -> tuple[int, float]:
    """Store the PDFs of these payslips, as the payroll job does before the
    payslips are released; (how many were rendered, seconds)."""
    ids = sorted(payslip_ids)
    t0 = time.perf_counter()
    done = 0
    for start in range(0, len(ids), 200):
        done += payslip_pdfs_render(payslip_ids=ids[start : start + 200])
    return done, time.perf_counter() - t0


async def fetch(path: str, cookie: str) -> tuple[float, bytes]:
    """GET ``path`` on a new connection, as ``bench.pages.get`` does;
    (seconds, body)."""
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        response = await reader.read()  # up to the server's close
        elapsed = time.perf_counter() - t0
    finally:
        writer.close()
    head, _sep, body = response.partition(b"\r\n\r\n")
    parts = head.split(b"\r\n", 1)[0].split()
    if len(parts) < 2 or parts[1] != b"200":
        status = head.split(b"\r\n", 1)[0].decode(errors="replace").strip()
        raise RuntimeError(f"{path}: {status or 'no response'}")
    return elapsed, body


async def visit(page: str, path: str, cookie: str) -> float:
    """One page as a person gets it; the PDF must be one. Seconds."""
    latency, body = await asyncio.wait_for(fetch(path, cookie), 30)
    if page == "payslip PDF" and not body.startswith(b"%PDF-"):
        raise RuntimeError(f"{path}: not a PDF: {body[:40]!r}")
    return latency


async def people(
    sessions, month, args, samples: list, errors: list
) -> tuple[float, list[float]]:
    """Every person's morning; returns the time it took and when each person
    arrived. ``samples`` gets (page, seconds since the start, latency) per
    request, ``errors`` (page, message)."""
    stop_at = time.monotonic() + args.seconds
    t0 = time.perf_counter()
    arrivals = []

    async def person(cookie: str, slip: str) -> None:
        rng = random.Random(slip)
        await asyncio.sleep(rng.uniform(0, args.arrival))
        arrivals.append(time.perf_counter() - t0)
        while True:
            for index, (page, path) in enumerate(
                zip(PAGES, paths(month, slip), strict=True)
            ):
                if args.loop and time.monotonic() >= stop_at:
                    return
                if index:
                    await asyncio.sleep(rng.uniform(1, 3))  # reading the page
                at = time.perf_counter() - t0
                try:
                    samples.append((page, at, await visit(page, path, cookie)))
                except Exception as exc:  # counted and reported
                    errors.append((page, f"{exc!r}"))
            if not args.loop:
                return
            await asyncio.sleep(rng.uniform(1, 3))

    bound = (args.seconds if args.loop else args.arrival) + 4 * 33 + 30
    await asyncio.wait_for(
        asyncio.gather(*(person(cookie, slip) for cookie, slip, _pk in sessions)),
        bound,
    )
    return time.perf_counter() - t0, arrivals


def percentile(values: list[float], p: float) -> float:
    """The ``p`` quantile of sorted ``values``, in ms."""
    return values[min(len(values) - 1, int(p * len(values)))] * 1000


def quantiles(values: list[float]) -> str:
    values = sorted(values)
    return "  ".join(
        f"p{round(p * 100)} {percentile(values, p):5.0f} ms" for p in (0.5, 0.95, 0.99)
    )


async def warm_up(cookie: str, slip: str, month, requests: int) -> None:
    """Each page ``requests`` times at once, for one person outside the
    measured ones: every gunicorn process gets some, and imports the URL
    configuration and compiles the templates on its first (about 0.8 s of CPU
    each), as a server that has been up for a while has done."""
    for page, path in zip(PAGES, paths(month, slip), strict=True):
        await asyncio.gather(*(visit(page, path, cookie) for _ in range(requests)))


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


def machine_busy() -> float:
    """CPU time every core has spent on any process so far (Linux /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def postgres_pids(database: str) -> list[int]:
    """PostgreSQL's connections to ``database`` (their process titles name it),
    not those of the other databases on the machine."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    title = f.read().decode(errors="replace").split()
            except OSError:
                continue
            if title[:1] == ["postgres:"] and database in title:
                pids.append(int(name))
    return pids


class Meter(threading.Thread):
    """CPU time from now until ``stop`` of the server's processes, the
    connections to ``database``, the payroll process, this client, and the
    whole machine, read twice a second: a connection that closes meanwhile
    (persistent ones are closed after ``CONN_MAX_AGE``) keeps what was read of
    it last. ``readings`` are (seconds since the start, machine, ours)."""

    def __init__(
        self, database: str, server: int, payroll: list[int], backend: Path
    ) -> None:
        super().__init__(daemon=True)
        self.backend = backend  # holds the pid of the payroll's connection
        self.groups = {
            "server": lambda: tree(server),
            "postgres": lambda: postgres_pids(database),
            "payroll": lambda: payroll,
        }
        self.before = {name: cpu_seconds(pids()) for name, pids in self.groups.items()}
        self.last = {name: dict(cpu) for name, cpu in self.before.items()}
        self.client0, self.machine0 = time.process_time(), machine_busy()
        self.t0 = time.perf_counter()
        self.readings: list[tuple[float, float, float]] = []
        self.done = threading.Event()

    def read(self) -> dict[str, float]:
        for name, pids in self.groups.items():
            self.last[name].update(cpu_seconds(pids()))
        used = {
            name: cpu_used(self.before[name], self.last[name]) for name in self.groups
        }
        try:
            pid = int(self.backend.read_text())
        except (OSError, ValueError):
            pid = None
        used["payroll postgres"] = self.last["postgres"].get(pid, 0.0) - self.before[
            "postgres"
        ].get(pid, 0.0)
        used["postgres"] -= used["payroll postgres"]
        used["client"] = time.process_time() - self.client0
        used["machine"] = machine_busy() - self.machine0
        self.readings.append(
            (
                time.perf_counter() - self.t0,
                used["machine"],
                sum(v for k, v in used.items() if k != "machine"),
            )
        )
        return used

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.read()

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.join(timeout=5)
        return self.read()

    def other_cores(self, start: float, end: float) -> float:
        """Cores that other work used between these seconds, on average."""
        inside = [r for r in self.readings if start <= r[0] <= end]
        if len(inside) < 2:
            return 0.0
        (t0, machine0, ours0), (t1, machine1, ours1) = inside[0], inside[-1]
        return max(0.0, (machine1 - machine0) - (ours1 - ours0)) / max(t1 - t0, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument(
        "--park",
        default="bench1",
        help="the clients' park, or several separated by commas",
    )
    parser.add_argument(
        "--arrival",
        type=float,
        default=60,
        help="people arrive at random moments of the first this many seconds",
    )
    parser.add_argument(
        "--loop",
        action="store_true",
        help="every person repeats the pages until --seconds (default: once)",
    )
    parser.add_argument(
        "--seconds", type=int, default=40, help="length of a --loop run"
    )
    parser.add_argument(
        "--gunicorn-workers", type=int, default=2 * (os.cpu_count() or 1) + 1
    )
    parser.add_argument("--gunicorn-threads", type=int, default=1)
    parser.add_argument(
        "--payroll-park",
        default="bench5",
        help="the park recalculated during the load (not one of the clients')",
    )
    parser.add_argument(
        "--payroll-once",
        action="store_true",
        help="one recalculation (default: again and again until the load ends)",
    )
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
    codes = [code.strip() for code in args.park.split(",") if code.strip()]
    parks = list(Park.objects.filter(code__in=codes))
    if len(parks) != len(codes):
        sys.exit(f"no park {args.park} (run bench/payroll.py first)")
    if args.payroll and args.payroll_park in codes:
        sys.exit("--payroll-park must not be one of the clients' parks")
    month = (
        PayPeriod.objects.filter(park__in=parks)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    t0 = time.perf_counter()
    *sessions, extra = worker_sessions(parks, month, args.clients + 1)
    print(
        f"sessions           {len(sessions) + 1:,} written in "
        f"{time.perf_counter() - t0:.1f} s, workers of {', '.join(codes)}, "
        f"month {month:%Y-%m}"
    )
    rendered, seconds = render_pdfs([pk for _c, _n, pk in [*sessions, extra]])
    print(
        f"payslip PDFs       {rendered:,} rendered before the load in {seconds:.1f} s"
        + (f" ({rendered / seconds:.0f}/s)" if rendered else " (all stored already)")
    )
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        for park_id in Park.objects.values_list("id", flat=True):
            earnings_changed_in_park(park_id=park_id)  # cold estimates
    database = connection.settings_dict["NAME"]
    connection.close()
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    cache_name = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(
        f"gunicorn           {args.gunicorn_workers} processes × "
        f"{args.gunicorn_threads} threads, cache {cache_name}, "
        f"sessions {settings.SESSION_ENGINE.rsplit('.', 1)[-1]}"
    )
    if not settings.REDIS_URL:
        print(
            "                   (a cache per process: set REDIS_URL, as in production)"
        )
    print(
        f"payroll process    {args.payroll_park}, nice {args.payroll_nice}, "
        + ("one run" if args.payroll_once else "runs until the load ends")
        if args.payroll
        else "payroll process    none (--no-payroll)"
    )
    print(
        f"people             {len(sessions):,}, arriving over {args.arrival:.0f} s, "
        + (f"each looping for {args.seconds} s" if args.loop else "each once")
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
    errors: list[tuple[str, str]] = []
    stop = Path(tempfile.mkdtemp(prefix="parkpay-load-")) / "stop"
    payroll = None
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
            asyncio.run(warm_up(*extra[:2], month, 3 * args.gunicorn_workers))
        if args.payroll:
            payroll = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    PAYROLL.format(
                        root=str(ROOT),
                        park=args.payroll_park,
                        month=str(month),
                        nice=args.payroll_nice,
                        once=args.payroll_once,
                        stop=str(stop),
                        backend=str(stop.parent / "backend"),
                    ),
                ],
                cwd=ROOT,
                env={**os.environ},
            )
        meter = Meter(
            database,
            server.pid,
            tree(payroll.pid) if payroll is not None else [],
            stop.parent / "backend",
        )
        meter.start()
        elapsed, arrived = asyncio.run(people(sessions, month, args, samples, errors))
        used = meter.stop()
        stop.touch()
        if payroll is not None:
            payroll.wait(timeout=600)
    finally:
        stop.touch()
        if payroll is not None and payroll.poll() is None:
            payroll.wait(timeout=600)
        server.terminate()
        server.wait(timeout=30)
        for path in (stop, stop.parent / "backend"):
            path.unlink(missing_ok=True)
        stop.parent.rmdir()
    report(samples, errors, elapsed, arrived, used, meter)


def report(samples, errors, elapsed: float, arrived: list[float], used, meter) -> None:
    latencies = [latency for _page, _at, latency in samples]
    print(f"requests           {len(latencies):,} in {elapsed:.1f} s")
    print(f"requests/s         {len(latencies) / elapsed:.1f}")
    if latencies:
        print(f"latency            {quantiles(latencies)}")
    per_page = {
        page: [latency for name, _at, latency in samples if name == page]
        for page in PAGES
    }
    for page, times in per_page.items():
        if times:
            print(f"  {page:16} {len(times):5} requests  {quantiles(times)}")
    print("  window           requests/s, latency, people arriving, other work")
    for start in range(0, int(elapsed) + 1, 10):
        times = [lat for _p, at, lat in samples if start <= at < start + 10]
        width = min(10.0, elapsed - start)
        come = sum(1 for at in arrived if start <= at < start + 10)
        if times:
            print(
                f"  {start:3}–{start + 10:<3} s       {len(times) / width:5.1f} "
                f"requests/s  {quantiles(times)}  {come:4} arriving  "
                f"{meter.other_cores(start, start + 10):.1f} cores"
            )
    print(f"errors             {len(errors)}")
    for page in PAGES:
        messages = [message for name, message in errors if name == page]
        if messages:
            print(f"  {page:16} {len(messages):5}, e.g. {messages[0]}")
    server, postgres, client, payroll, payroll_pg, machine = (
        used[name]
        for name in (
            "server",
            "postgres",
            "client",
            "payroll",
            "payroll postgres",
            "machine",
        )
    )
    other = max(0.0, machine - server - postgres - client - payroll - payroll_pg)
    print(
        f"CPU during load    gunicorn {server:.1f} s, its PostgreSQL {postgres:.1f} s, "
        f"client {client:.1f} s, payroll {payroll:.1f} s + its PostgreSQL "
        f"{payroll_pg:.1f} s, anything else {other:.1f} s "
        f"(of {elapsed * (os.cpu_count() or 1):.0f} core-seconds)"
    )
    if other > 0.1 * elapsed * (os.cpu_count() or 1):
        print(
            f"                   (other work took {other / elapsed:.1f} cores: "
            "a disturbed run, measure again on a quiet machine)"
        )
    if latencies:
        print(
            f"CPU per request    gunicorn {server / len(latencies) * 1000:.1f} ms, "
            f"its PostgreSQL {postgres / len(latencies) * 1000:.1f} ms, "
            f"client {client / len(latencies) * 1000:.1f} ms"
        )
    verdicts = []
    for page, times in per_page.items():
        limit = PDF_TARGET if page == "payslip PDF" else HTML_TARGET
        p95 = percentile(sorted(times), 0.95) if times else float("inf")
        verdicts.append(p95 < limit * 1000)
        print(
            f"target {page:16} p95 {p95:5.0f} ms < {limit * 1000:.0f} ms  "
            f"{'PASS' if verdicts[-1] else 'FAIL'}"
        )
    verdicts.append(not errors)
    print(f"target errors      {len(errors)} = 0  {'PASS' if not errors else 'FAIL'}")
    print(f"target             {'PASS' if all(verdicts) else 'FAIL'}")


if __name__ == "__main__":
    main()
