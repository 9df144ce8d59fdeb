"""The worker's pages over a slow mobile network: ``bench/pages.py --network slow``.

Serves the application as it is deployed (gunicorn with ``--preload``, the
production settings, the static files collected with their hashed names and
gzip copies into a temporary folder) and opens a worker's pages in Chromium
(/usr/bin/chromium through Playwright, a 360×800 phone screen, Chinese) with
the network throttled by the DevTools protocol: 400 kbit/s each way and
300 ms of latency, in the page and in its service worker.

For each page, ``visits`` times (the median is printed):

- first visit: a new browser context (empty cache, no service worker), signed
  in by a session cookie;
- repeat visit: the same context, the page opened again in a new tab, after
  the browser stopped the idle service worker (as it does after 30 s): the
  static files come from the HTTP cache, the page through the service worker
  registered by static/js/offline.js on the first visit.

Bytes are as transferred (compressed, with headers): DevTools'
``Network.loadingFinished.encodedDataLength`` summed over the page's requests
and the service worker's. First contentful paint and load are the page's own
``performance`` entries, from the start of its navigation. The same run
measures two floors served by the same server: a 1 KB page with nothing to
fetch (one round trip) and the same page with the style sheet (two).
"""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.test.utils import override_settings

from payroll.models import PayPeriod, Payslip
from tests.e2e.chromium import ARGS as BROWSER_ARGS
from tests.e2e.chromium import CHROMIUM
from workforce.crypto import configured_keys
from workforce.models import Park, Worker

ROOT = Path(__file__).resolve().parent.parent
LATENCY_MS = 300
THROUGHPUT = 400_000 // 8  # bytes per second, down and up
CONDITIONS = {
    "offline": False,
    "latency": LATENCY_MS,
    "downloadThroughput": THROUGHPUT,
    "uploadThroughput": THROUGHPUT,
}
TARGET_BYTES = 30 * 1024
TARGET_FCP_MS = 1500
VISIT_TIMEOUT_MS = 60_000

FLOOR_TEXT = "<p>工时、计件和工资。今天的工时与本月的收入，按天和项目列出。</p>\n" * 12
FLOOR_HTML = """<!doctype html>
<html lang="zh-hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ParkPay</title><link rel="icon" href="data:,">{head}</head>
<body><main><h1>ParkPay</h1>
{text}</main></body></html>
"""

PAGE_TIMING = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return {
    fcp: fcp ? fcp.startTime : null,
    load: nav.loadEventEnd,
    controlled: !!(navigator.serviceWorker && navigator.serviceWorker.controller),
  };
}"""


def worker_with_payslip(park: Park) -> tuple[Worker, Payslip]:
    """The park's first worker with a payslip, with a worker's login."""
    payslip = (
        Payslip.objects.filter(worker__park=park)
        .select_related("worker", "period")
        .order_by("worker_id", "-period__month")
        .first()
    )
    worker = payslip.worker
    if worker.user is None:
        user, _ = User.objects.get_or_create(username="bench-worker")
        worker.user = user
        worker.save(update_fields=["user"])
    worker.user.groups.add(Group.objects.get_or_create(name="worker")[0])
    return worker, payslip


def write_floor(static_root: Path, stylesheet: str) -> dict[str, str]:
    """The two floor pages, as static files (gzip copies as collectstatic
    makes them would not shorten 1 KB much)."""
    folder = static_root / "bench-floor"
    folder.mkdir()
    pages = {
        "floor: 1 KB page": ("page.html", ""),
        "floor: + style sheet": (
            "styled.html",
            f'<link rel="stylesheet" href="{stylesheet}">',
        ),
    }
    paths = {}
    for label, (filename, head) in pages.items():
        (folder / filename).write_text(
            FLOOR_HTML.format(head=head, text=FLOOR_TEXT), encoding="utf-8"
        )
        paths[label] = f"/static/bench-floor/{filename}"
    return paths


class Visit:
    """What one page load sent over the wire, and when it painted."""

    def __init__(self):
        self.bytes = 0
        self.lines: list[tuple[str, str, int]] = []
        self._urls: dict[str, str] = {}
        self._from_sw: set[str] = set()
        self.fcp = self.load = 0.0
        self.controlled = False

    def sent(self, event, by: str = "page"):
        self._urls[by + event["requestId"]] = event["request"]["url"]

    def received(self, event, by: str = "page"):
        if event["response"].get("fromServiceWorker"):
            self._from_sw.add(by + event["requestId"])

    def finished(self, event, by: str = "page"):
        key = by + event["requestId"]
        if key in self._from_sw or self._urls.get(key, "").startswith("data:"):
            return  # counted where the service worker fetched it; no request
        wire = int(event["encodedDataLength"])
        self.bytes += wire
        source = ("service worker" if by == "sw" else "network") if wire else "cache"
        # A request the worker began before DevTools attached: its script.
        url = self._urls.get(key, "(service worker script)")
        self.lines.append((source, url, wire))

    @property
    def requests(self) -> int:
        """Requests of the page and of its service worker, each page request
        the service worker answered counted once, by the worker's fetch."""
        return len(self.lines)

    @property
    def over_network(self) -> int:
        return sum(1 for _, _, wire in self.lines if wire)


class ServiceWorkers:
    """Every service worker of the browser, throttled as the pages are, its
    requests counted in the visit under way (``self.visit``)."""

    def __init__(self, browser):
        self.visit: Visit | None = None
        self.session = browser.new_browser_cdp_session()
        self.session.on("Target.targetCreated", self._created)
        self.session.on("Target.receivedMessageFromTarget", self._message)
        self.session.send("Target.setDiscoverTargets", {"discover": True})
        self._id = 0

    def _send(self, session_id: str, method: str, params: dict) -> None:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        self.session.send(
            "Target.sendMessageToTarget",
            {"sessionId": session_id, "message": json.dumps(message)},
        )

    def _created(self, event):
        info = event["targetInfo"]
        if info["type"] != "service_worker":
            return
        attached = self.session.send(
            "Target.attachToTarget", {"targetId": info["targetId"], "flatten": False}
        )
        self._send(attached["sessionId"], "Network.enable", {})
        self._send(
            attached["sessionId"], "Network.emulateNetworkConditions", CONDITIONS
        )

    def _message(self, event):
        message = json.loads(event["message"])
        if "error" in message:
            raise RuntimeError(f"service worker: {message['error']}")
        visit, method = self.visit, message.get("method")
        if visit is None:
            return
        params = message.get("params", {})
        if method == "Network.requestWillBeSent":
            visit.sent(params, by="sw")
        elif method == "Network.loadingFinished":
            visit.finished(params, by="sw")


def visit(context, workers: ServiceWorkers, url: str, *, stop_workers: bool) -> Visit:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    result = Visit()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.on("Network.requestWillBeSent", result.sent)
    cdp.on("Network.responseReceived", result.received)
    cdp.on("Network.loadingFinished", result.finished)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", CONDITIONS)
    if stop_workers:
        # Hours later: the idle worker was stopped and starts for this page.
        cdp.send("ServiceWorker.enable")
        cdp.send("ServiceWorker.stopAllWorkers")
        cdp.send("ServiceWorker.disable")
    workers.visit = result
    try:
        response = page.goto(url, wait_until="load", timeout=VISIT_TIMEOUT_MS)
        if response is None or response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response and response.status}")
        # What the page fetches after its load (the service worker's script);
        # if the network never falls idle, the figures show what arrived.
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_load_state("networkidle", timeout=VISIT_TIMEOUT_MS // 2)
        timing = page.evaluate(PAGE_TIMING)
    finally:
        workers.visit = None
    result.fcp = timing["fcp"] or float("nan")
    result.load = timing["load"]
    result.controlled = timing["controlled"]
    cdp.detach()
    page.close()
    return result


def start_server(env: dict, port: int, get) -> subprocess.Popen:
    processes = 2 * (os.cpu_count() or 1) + 1
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(processes),
            "--preload",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            get("/healthz", "")
            return server
        except (OSError, RuntimeError):
            if time.monotonic() > deadline or server.poll() is not None:
                server.terminate()
                raise
            time.sleep(0.3)


def main(park_code: str, visits: int = 3) -> None:
    from bench.pages import PORT, get, session_cookie

    if not CHROMIUM.exists():
        sys.exit(f"bench/pages.py --network slow needs {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    park = Park.objects.get(code=park_code)
    worker, payslip = worker_with_payslip(park)
    month = PayPeriod.objects.filter(park=park).order_by("-month").first().month
    # The server's own secret, so that the session it reads is one it signed.
    secret = os.urandom(48).hex()
    with override_settings(SECRET_KEY=secret):
        cookie = session_cookie(worker.user)
    cookie_name, cookie_value = cookie.split("=", 1)
    base = f"http://127.0.0.1:{PORT}"
    pages = {
        "worker home": f"/me/?month={month:%Y-%m}",
        "hours": f"/me/hours/?month={month:%Y-%m}",
        "payslip list": "/me/payslips/",
        "payslip": f"/payslips/{payslip.number}/",
    }
    with tempfile.TemporaryDirectory(prefix="parkpay-bench-static-") as tmp:
        static_root = Path(tmp)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secret,
            "FIELD_ENCRYPTION_KEYS": ",".join(configured_keys()),
            # Plain HTTP on loopback; HTTPS is the proxy's in production.
            "SECURE_SSL_REDIRECT": "0",
            "STATIC_ROOT": str(static_root),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DEBUG": "0",
        }
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=600,
        )
        manifest = json.loads((static_root / "staticfiles.json").read_text())
        stylesheet = "/static/" + manifest["paths"]["css/parkpay.css"]
        floor = write_floor(static_root, stylesheet)
        server = start_server(env, PORT, get)
        try:
            for path in pages.values():
                for _ in range(12):  # every process's templates and estimate
                    get(path, cookie)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=str(CHROMIUM), args=BROWSER_ARGS
                )
                try:
                    results = measure(
                        browser,
                        base,
                        {**floor, **pages},
                        floor,
                        (cookie_name, cookie_value),
                        visits,
                    )
                    version = browser.version
                finally:
                    browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    report(results, park, worker, month, version, visits)


def measure(browser, base, pages, floor, cookie, visits):
    workers = ServiceWorkers(browser)
    results = {label: ([], []) for label in pages}
    for n in range(visits):  # interleaved, so that noise falls on every page
        for label, path in pages.items():
            context = browser.new_context(
                viewport={"width": 360, "height": 800}, locale="zh-CN"
            )
            context.add_cookies(
                [
                    {"name": cookie[0], "value": cookie[1], "url": base},
                    {"name": "django_language", "value": "zh-hans", "url": base},
                ]
            )
            try:
                for i, stop in ((0, False), (1, True)):
                    url = base + path
                    if label in floor:  # a static file: not from the cache
                        url += f"?visit={n}-{i}"
                    results[label][i].append(
                        visit(context, workers, url, stop_workers=stop)
                    )
            finally:
                context.close()
    return results


def median_visit(visits: list[Visit]) -> Visit:
    """The visit of median first contentful paint (its bytes and load too)."""
    return sorted(visits, key=lambda v: v.fcp)[len(visits) // 2]


def report(results, park, worker, month, version, visits) -> None:
    print(
        f"park {park.code}, worker {worker.employee_no}, month {month:%Y-%m}; "
        f"Chromium {version}, 360×800"
    )
    print(
        f"network: {THROUGHPUT * 8 // 1000} kbit/s down and up, {LATENCY_MS} ms "
        f"latency (DevTools emulation); median of {visits} visits"
    )
    print(
        f"{'':22} {'first visit':^33} | {'repeat visit':^33}\n"
        f"{'page':22} {'KB':>6} {'FCP ms':>7} {'load ms':>8} {'requests':>10} |"
        f" {'KB':>6} {'FCP ms':>7} {'load ms':>8} {'requests':>10}"
    )
    for label, (first, repeat) in results.items():
        row = f"{label:22}"
        for i, runs in enumerate((first, repeat)):
            v = median_visit(runs)
            net = f"{v.requests} ({v.over_network} net)"
            row += f" {v.bytes / 1024:6.1f} {v.fcp:7.0f} {v.load:8.0f} {net:>10}"
            row += " |" if i == 0 else ""
        sw = median_visit(repeat)
        if sw.controlled:
            row += "  service worker"
        print(row)
    home = median_visit(results["worker home"][0])
    floor = median_visit(results["floor: + style sheet"][0])
    print(
        f"worker home first visit / floor with style sheet: "
        f"{home.bytes / max(floor.bytes, 1):.1f}x the bytes, "
        f"{home.fcp / floor.fcp:.2f}x the FCP"
    )
    print("worker home, first visit, request by request:")
    for source, url, wire in home.lines:
        print(f"  {wire / 1024:6.1f} KB  {source:14} {url.split('/', 3)[-1][:60]}")
    ok = home.bytes <= TARGET_BYTES and home.fcp < TARGET_FCP_MS
    print(
        f"target: worker home first visit ≤ {TARGET_BYTES // 1024} KB "
        f"({home.bytes / 1024:.1f} KB), FCP < {TARGET_FCP_MS} ms "
        f"({home.fcp:.0f} ms): {'PASS' if ok else 'FAIL'}"
    )
