"""A local HTTP server that answers as CVAT's REST API does, from the files
in ``tests/payroll/fixtures/cvat/`` (CVAT itself cannot run here).

The files copy the fields ParkPay reads from CVAT's own published test
assets (cvat-ai/cvat, ``tests/python/shared/assets/``): ``jobs.json``,
``annotations.json``, ``quality_reports.json``, ``users.json``, as the
serializers of ``cvat/apps/engine/serializers.py`` and
``cvat/apps/quality_control/serializers.py`` write them; the report
download follows ``prepare_report_for_downloading`` in
``cvat/apps/quality_control/quality_reports.py``.

Lists are paginated as CVAT's (Django REST framework's page-number
pagination): ``page`` and ``page_size``, each page ``{"count", "next",
"previous", "results"}`` with an absolute ``next`` link. Lists are served in
the order of the file, which is CVAT's (``ordering = "-id"``: newest first).
A request without ``Authorization: Token <key>`` gets CVAT's 401. Faults are
queued per path: ``("status", 503)`` answers that status once, ``("delay",
1.0)`` answers after that many seconds (a client's timeout).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cvat"
TOKEN = "a6f3c1d2e4b5968778695a4b3c2d1e0f9a8b7c6d"


class CvatReplay:
    def __init__(self, token: str = TOKEN, scheme: str = "Token"):
        self.token, self.scheme = token, scheme
        self.files = {
            name: json.loads((FIXTURES / f"{name}.json").read_text())
            for name in (
                "jobs",
                "annotations",
                "quality_reports",
                "quality_report_data",
                "users",
            )
        }
        self.requests: list[tuple[str, dict, str | None]] = []
        self.faults: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                replay.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def fault(self, path: str, *faults) -> None:
        self.faults[path].extend(faults)

    def count(self, path: str) -> int:
        return sum(1 for p, _q, _a in self.requests if p == path)

    # Answers

    def handle(self, handler) -> None:
        parts = urlsplit(handler.path)
        path, query = parts.path, parse_qs(parts.query)
        auth = handler.headers.get("Authorization")
        with self.lock:
            self.requests.append((path, query, auth))
            fault = self.faults[path].popleft() if self.faults[path] else None
        if fault and fault[0] == "delay":
            time.sleep(fault[1])
        if fault and fault[0] == "status":
            return self.send(handler, fault[1], {"detail": "Service Unavailable"})
        if auth != f"{self.scheme} {self.token}":
            return self.send(handler, 401, {"detail": "Invalid token."})
        return self.route(handler, path, query)

    def route(self, handler, path, query) -> None:
        pieces = path.strip("/").split("/")
        if path.rstrip("/") == "/api/jobs":
            jobs = self.files["jobs"]["results"]
            if "task_id" in query:
                jobs = [j for j in jobs if str(j["task_id"]) == query["task_id"][0]]
            return self.page(handler, path, query, jobs)
        if (
            len(pieces) == 4
            and pieces[:2] == ["api", "jobs"]
            and pieces[3] == ("annotations")
        ):
            found = self.files["annotations"]["job"].get(pieces[2])
            if found is None:
                return self.send(handler, 404, {"detail": "Not found."})
            return self.send(handler, 200, found)
        if path.rstrip("/") == "/api/users":
            return self.page(handler, path, query, self.files["users"]["results"])
        if path.rstrip("/") == "/api/quality/reports":
            reports = self.files["quality_reports"]["results"]
            return self.page(handler, path, query, reports)
        if len(pieces) == 5 and pieces[:3] == ["api", "quality", "reports"]:
            data = self.files["quality_report_data"]
            if pieces[4] == "data" and pieces[3] == str(data["id"]):
                return self.send(handler, 200, data)
        return self.send(handler, 404, {"detail": "Not found."})

    def page(self, handler, path, query, items) -> None:
        size = int(query.get("page_size", ["10"])[0])
        number = int(query.get("page", ["1"])[0])
        start = (number - 1) * size
        if start >= len(items) and number != 1:
            return self.send(handler, 404, {"detail": "Invalid page."})

        def link(n):
            params = {k: v[0] for k, v in query.items()}
            params["page"] = n
            return f"{self.base_url}{path}?{urlencode(params)}"

        body = {
            "count": len(items),
            "next": link(number + 1) if start + size < len(items) else None,
            "previous": link(number - 1) if number > 1 else None,
            "results": items[start : start + size],
        }
        return self.send(handler, 200, body)

    def send(self, handler, status, body) -> None:
        data = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout)
