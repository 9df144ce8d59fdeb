"""Page latency on the payroll benchmark's database (run bench/payroll.py first).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/parkpay_bench \
        .venv/bin/python bench/pages.py [--requests 20] [--clients 20]

Starts gunicorn on 127.0.0.1 against that database and times, through HTTP,
a worker's home page and a director's staff table for one park of 2,000
workers sorted by units: median and p95 of ``--requests`` requests, alone and
while ``--clients`` other clients load the same pages. Loopback only; every
loop is bounded. The server listens on port 8765 (``BENCH_PORT`` to change it,
as for bench/load.py).

    ... bench/pages.py --network slow [--visits 3]

opens the worker's pages in Chromium over a throttled network instead: bytes
transferred, first contentful paint and load, first and repeat visit
(bench/slow_network.py).
"""

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from importlib import import_module
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

from payroll.models import PayPeriod  # noqa: E402
from workforce.models import Park, Worker  # noqa: E402
from workforce.services import staff_assign  # noqa: E402

PORT = int(os.environ.get("BENCH_PORT", "8765"))
TIME_LIMIT = 120  # seconds for the whole load phase at most


def session_cookie(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    # The server's own session engine (the database, or the cache and database).
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def logins(park: Park) -> dict[str, str]:
    director, _ = User.objects.get_or_create(username="bench-director")
    director.groups.add(Group.objects.get_or_create(name="director")[0])
    staff_assign(user=director, park=park)
    worker = Worker.objects.filter(park=park).order_by("id").first()
    if worker.user is None:
        user, _ = User.objects.get_or_create(username="bench-worker")
        user.groups.add(Group.objects.get_or_create(name="worker")[0])
        worker.user = user
        worker.save(update_fields=["user"])
    return {"worker": session_cookie(worker.user), "director": session_cookie(director)}


def get(path: str, cookie: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - t0
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}")
    return elapsed


def measure(path: str, cookie: str, n: int) -> tuple[float, float]:
    times = sorted(get(path, cookie) for _ in range(n))
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    return statistics.median(times), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--network",
        choices=["slow"],
        help="the worker's pages in Chromium over a throttled network "
        "(bench/slow_network.py) instead of the server's latency",
    )
    parser.add_argument(
        "--visits", type=int, default=3, help="with --network: visits of each page"
    )
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--park", default="bench1")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="seconds each background client waits between its requests "
        "(a person reading the page); 0 for a closed loop",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/pages.py needs DATABASE_URL pointing at the benchmark database")
    if args.network == "slow":
        from bench.slow_network import main as slow_network

        slow_network(args.park, args.visits)
        return
    call_command("migrate", verbosity=0)
    park = Park.objects.get(code=args.park)
    month = PayPeriod.objects.filter(park=park).order_by("-month").first().month
    cookies = logins(park)
    connection.close()
    pages = {
        "worker home": (f"/me/?month={month:%Y-%m}", cookies["worker"]),
        "staff table by units": (
            f"/park/staff/?month={month:%Y-%m}&sort=-units",
            cookies["director"],
        ),
    }
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
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
        workers = Worker.objects.filter(park=park).count()
        print(f"park {park.code}: {workers:,} workers, month {month:%Y-%m}")
        for name, (path, cookie) in pages.items():
            for _ in range(8):  # every gunicorn worker compiles its templates once
                get(path, cookie)
            median, p95 = measure(path, cookie, args.requests)
            print(
                f"{name:22} alone:        median {median * 1000:6.0f} ms  p95 {p95 * 1000:6.0f} ms"
            )

        stop = threading.Event()
        load_errors = []
        load_count = [0]

        def load():
            end = time.monotonic() + TIME_LIMIT
            paths = list(pages.values())
            i = 0
            while not stop.is_set() and time.monotonic() < end:
                path, cookie = paths[i % len(paths)]
                try:
                    get(path, cookie)
                    load_count[0] += 1
                except Exception as exc:  # counted and reported
                    load_errors.append(repr(exc))
                i += 1
                stop.wait(args.think)

        threads = [
            threading.Thread(target=load, daemon=True) for _ in range(args.clients)
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        try:
            for name, (path, cookie) in pages.items():
                median, p95 = measure(path, cookie, args.requests)
                print(
                    f"{name:22} +{args.clients} clients: median {median * 1000:6.0f} ms"
                    f"  p95 {p95 * 1000:6.0f} ms  (think time {args.think:g} s)"
                )
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        elapsed = time.perf_counter() - t0
        print(
            f"background load: {load_count[0]} requests in {elapsed:.1f} s "
            f"({load_count[0] / elapsed:.1f}/s), {len(load_errors)} errors"
        )
        print("target: median and p95 under 300 ms")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
