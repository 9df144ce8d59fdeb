"""A client of CVAT's REST API: the work of accepted jobs and their quality
reports, as plain values (docs/cvat.md).

httpx, not CVAT's SDK (``cvat-sdk``): the SDK pins its own versions of
urllib3 and attrs and generates a client for the whole API, while ParkPay
reads four list endpoints; httpx gives timeouts, connection reuse and a
transport that tests can point at a local replay server.

The client sends ``Authorization: Token <key>`` (or ``Bearer`` for a
personal access token) and follows CVAT's
pagination (``page``/``page_size``, the ``next`` link of each page) only
while it stays on the configured server, so the token never leaves it. A
timeout, a dropped connection or a 5xx/429 answer is retried with
exponential backoff; any other answer is a :class:`CvatError` with a message
for the connector's status page. Nothing here touches the database: the
import functions of ``payroll.imports.cvat`` write what it returns.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import httpx
from django.utils.translation import gettext_lazy as _

from payroll.connectors.base import Page, RetryPolicy, ToolError, register
from payroll.imports.cvat import (
    BAD_TRACK_RULE,
    CVAT_PREFIX,
    TRACK_RULES,
    TRACKS_AS_FRAMES,
    CvatJobWork,
    CvatPull,
    CvatSkip,
    cvat_job_rows,
    import_cvat_reports,
    job_skip_reason,
    job_units,
    parse_timestamp,
)
from payroll.imports.lookups import tool_identities
from payroll.imports.report import ImportFileError
from payroll.imports.text import JsonDepth
from payroll.models import ConnectorKind, IdentityTool, WorkRecord

CVAT_UNREACHABLE = _(
    "CVAT at %(url)s did not answer after %(tries)s tries (%(error)s); the "
    "next sync tries again."
)
CVAT_REFUSED_TOKEN = _(
    "CVAT refused the access token (HTTP %(status)s): check the connector's "
    "token and that its user may see the project."
)
CVAT_HTTP_ERROR = _("CVAT answered HTTP %(status)s to %(path)s.")
CVAT_BAD_ANSWER = _(
    "CVAT's answer to %(path)s is not what its API returns: %(reason)s."
)
CVAT_FOREIGN_NEXT = _(
    "CVAT's next page %(url)s is on another server than %(base)s: not followed."
)
CVAT_TOO_LARGE = _("CVAT's answer to %(path)s is larger than %(max)s: stopped.")
CVAT_TOO_MANY_PAGES = _("More than %(max)s pages at %(path)s: stopped.")
CVAT_BAD_PROJECT = _(
    "The CVAT project id %(project)s is not a number: map the project by its id."
)

# "Token": CVAT's API key (``POST /api/auth/login`` answers it; deprecated);
# "Bearer": a personal access token (Profile → Security, CVAT 2.48 and later).
AUTH_SCHEMES = ("Token", "Bearer")
# Seconds: to connect, and for each read of an answer.
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# The annotations of one job of thousands of frames stay well below this.
MAX_ANSWER_BYTES = 256 * 2**20
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class CvatError(Exception):
    """The sync cannot go on; ``str(error)`` says why, for a director."""


class CvatClient:
    """CVAT's API at ``base_url`` (``https://cvat.park.example``), as the user
    whose access token is ``token``, sent as ``Authorization: <scheme>
    <token>`` (``AUTH_SCHEMES``).

    ``http`` is the caller's :class:`httpx.Client` (its connection pool and
    transport; tests give one bound to a replay server). ``sleep`` waits
    between retries; backoff is ``backoff × 2^n`` seconds (n = 0, 1, …),
    at most ``retries`` retries, or the ``Retry-After`` of a 429/503 when
    shorter than a minute.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        http: httpx.Client,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff: float = 1.0,
        page_size: int = 100,
        max_pages: int = 10_000,
        max_bytes: int = MAX_ANSWER_BYTES,
        organization: str | None = None,
        scheme: str = "Token",
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.origin = _origin(self.base_url)
        self.http = http
        if scheme not in AUTH_SCHEMES:
            raise ValueError(f"scheme must be one of {', '.join(AUTH_SCHEMES)}")
        self.headers = {
            "Authorization": f"{scheme} {token}",
            "Accept": "application/json",
        }
        if organization:
            self.headers["X-Organization"] = organization
        self.timeout = timeout
        self.retries, self.backoff = retries, backoff
        self.page_size, self.max_pages = page_size, max_pages
        self.max_bytes = max_bytes
        self.sleep = sleep

    # HTTP

    def get(self, path_or_url: str, params: dict | None = None):
        """The JSON of one GET, retried on timeouts, dropped connections and
        5xx/429 answers; an answer larger than ``max_bytes`` or nested deeper
        than any CVAT answer is refused."""
        url = urljoin(self.base_url, path_or_url.lstrip("/"))
        shown_path = urlsplit(url).path
        error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self._delay(attempt))
            try:
                with self.http.stream(
                    "GET",
                    url,
                    params=params,
                    headers=self.headers,
                    timeout=self.timeout,
                ) as answer:
                    status = answer.status_code
                    if status in RETRY_STATUSES:
                        error = f"HTTP {status}"
                        self._retry_after = answer.headers.get("Retry-After")
                        continue
                    if status in (401, 403):
                        raise CvatError(str(CVAT_REFUSED_TOKEN % {"status": status}))
                    if status != 200:
                        raise CvatError(
                            str(
                                CVAT_HTTP_ERROR % {"status": status, "path": shown_path}
                            )
                        )
                    body = self._read(answer, shown_path)
            except httpx.TimeoutException:
                error = "timeout"
                continue
            except httpx.TransportError as exc:
                error = type(exc).__name__
                continue
            return self._json(body, shown_path)
        raise CvatError(
            str(
                CVAT_UNREACHABLE
                % {"url": self.origin, "tries": self.retries + 1, "error": error}
            )
        )

    def _read(self, answer: httpx.Response, path: str) -> bytes:
        too_large = CvatError(
            str(CVAT_TOO_LARGE % {"path": path, "max": f"{self.max_bytes:,} bytes"})
        )
        declared = answer.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        chunks, size = [], 0
        for chunk in answer.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    def _json(self, body: bytes, path: str):
        try:
            text = body.decode("utf-8")
            JsonDepth().feed(text)
            return json.loads(text)
        except (ValueError, ImportFileError) as exc:  # UnicodeDecodeError too
            raise CvatError(
                str(CVAT_BAD_ANSWER % {"path": path, "reason": "not JSON"})
            ) from exc

    _retry_after: str | None = None

    def _delay(self, attempt: int) -> float:
        delay = self.backoff * 2 ** (attempt - 1)
        hint, self._retry_after = self._retry_after, None
        if hint and hint.strip().isdigit() and int(hint) < 60:
            delay = max(delay, float(hint))
        return delay

    def pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every item of a paginated CVAT list, page by page (DRF's
        ``{"count", "next", "previous", "results"}``)."""
        query = {"page_size": self.page_size, **(params or {})}
        url: str | None = path
        for number in range(self.max_pages):
            page = self.get(url, query if number == 0 else None)
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise CvatError(
                    str(CVAT_BAD_ANSWER % {"path": path, "reason": "no results[] list"})
                )
            yield from page["results"]
            url = page.get("next")
            if not url:
                return
            if not isinstance(url, str) or _origin(url) != self.origin:
                raise CvatError(
                    str(
                        CVAT_FOREIGN_NEXT % {"url": str(url)[:200], "base": self.origin}
                    )
                )
        raise CvatError(
            str(CVAT_TOO_MANY_PAGES % {"max": self.max_pages, "path": path})
        )

    # CVAT's resources

    def jobs(self, *, task_id: int | None = None, project_id: int | None = None):
        params = {}
        if task_id is not None:
            params["task_id"] = task_id
        if project_id is not None:
            params["project_id"] = project_id
        return self.pages("/api/jobs", params)

    def annotations(self, job_id: int) -> dict:
        data = self.get(f"/api/jobs/{int(job_id)}/annotations")
        if not isinstance(data, dict):
            raise CvatError(
                str(
                    CVAT_BAD_ANSWER
                    % {
                        "path": f"/api/jobs/{int(job_id)}/annotations",
                        "reason": "not an object",
                    }
                )
            )
        return data

    def users(self) -> dict[int, dict]:
        """CVAT's users by id (their e-mails: a job's assignee carries none).
        Empty when the token may not list users."""
        try:
            return {
                u["id"]: u
                for u in self.pages("/api/users")
                if isinstance(u, dict) and isinstance(u.get("id"), int)
            }
        except CvatError:
            return {}

    def quality_reports(
        self, *, task_id: int | None = None, project_id: int | None = None
    ) -> list[dict]:
        """Quality reports, newest first as CVAT lists them, task and project
        reports included (``import_cvat_reports`` skips them)."""
        params = {}
        if task_id is not None:
            params["task_id"] = task_id
        if project_id is not None:
            params["project_id"] = project_id
        return list(self.pages("/api/quality/reports", params))

    def report_data(self, report_id: int) -> dict:
        """A report's download (``comparison_summary``), as the UI's
        Download button gives it."""
        return self.get(f"/api/quality/reports/{int(report_id)}/data")

    def work(
        self,
        *,
        task_id: int | None = None,
        project_id: int | None = None,
        tracks: str = TRACKS_AS_FRAMES,
        updated_since: datetime | None = None,
    ) -> CvatPull:
        """The work of every accepted job with an assignee (``jobs``), and
        every other job with the reason it is left out (``skipped``).

        With ``updated_since`` (an aware datetime: the last sync), jobs not
        changed since are left out unread; a job whose date cannot be read
        is read."""
        if tracks not in TRACK_RULES:
            raise ValueError(BAD_TRACK_RULE % {"rule": tracks})
        pull = CvatPull()
        users: dict[int, dict] | None = None
        for job in self.jobs(task_id=task_id, project_id=project_id):
            if not isinstance(job, dict) or not isinstance(job.get("id"), int):
                raise CvatError(
                    str(
                        CVAT_BAD_ANSWER
                        % {"path": "/api/jobs", "reason": "a job has no id"}
                    )
                )
            if updated_since is not None:
                changed = parse_timestamp(job.get("updated_date"))
                if changed is not None and changed <= updated_since:
                    continue
            reason = job_skip_reason(job)
            if reason is not None:
                pull.skipped.append(CvatSkip(job["id"], reason))
                continue
            annotations = self.annotations(job["id"])
            stop = job.get("stop_frame")
            units, shapes, track_units, tags = job_units(
                annotations,
                stop_frame=stop if isinstance(stop, int) else None,
                tracks=tracks,
            )
            assignee = (
                dict(job["assignee"])
                if isinstance(job["assignee"], dict)
                else {"username": str(job["assignee"])}
            )
            if "email" not in assignee and isinstance(assignee.get("id"), int):
                if users is None:
                    users = self.users()
                email = users.get(assignee["id"], {}).get("email")
                if email:
                    assignee["email"] = email
            pull.jobs.append(
                CvatJobWork(
                    job_id=job["id"],
                    assignee={
                        k: assignee[k]
                        for k in ("id", "username", "email")
                        if k in assignee
                    },
                    updated=job.get("updated_date") or "",
                    units=units,
                    shapes=shapes,
                    tracks=track_units,
                    tags=tags,
                    task_id=job.get("task_id"),
                )
            )
        return pull


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# --- the connector's tool client (payroll/connectors/base.py) ---------------


@dataclass(frozen=True)
class QualityReports:
    """The last page of a CVAT pull: the project's quality reports."""

    reports: list


@register(ConnectorKind.CVAT)
class CvatConnectorClient:
    """A CVAT connector's pull: the accepted jobs of the mapped CVAT project
    (``mapping.tool_project``, a CVAT project id), each job's units from its
    annotations (tracks as frames), keyed ``c<connector>:cvat-job-<id>`` so
    that two servers never meet. Jobs left out (not accepted, no assignee, a
    ground-truth job) are listed with their reason on the status page. The
    accuracy comes from the project's quality reports, read after the work:
    a job's newest report sets it; without one it stays pending review."""

    def __init__(
        self,
        connector,
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        page_size: int = 100,
    ):
        self.connector = connector
        self.retry = retry or RetryPolicy()
        self.http = httpx.Client(transport=transport, follow_redirects=False)
        self.client = CvatClient(
            connector.base_url,
            connector.access_token or "",
            self.http,
            timeout=httpx.Timeout(self.retry.timeout, connect=5.0),
            retries=max(self.retry.tries - 1, 0),
            backoff=self.retry.backoff,
            page_size=page_size,
            sleep=self.retry.sleep,
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.http.close()

    def pages(self, mapping, *, task_ids=None):
        try:
            project_id = int(mapping.tool_project)
        except ValueError:
            raise ToolError(
                str(CVAT_BAD_PROJECT % {"project": mapping.tool_project})
            ) from None
        try:
            pull = self.client.work(project_id=project_id)
        except (CvatError, ImportFileError) as exc:
            raise ToolError(str(exc)) from None
        wanted = {int(t) for t in task_ids} if task_ids else None
        jobs = [j for j in pull.jobs if wanted is None or j.job_id in wanted]
        skipped = [s for s in pull.skipped if wanted is None or s.job_id in wanted]
        items = [*jobs, *skipped]
        yield Page(items=items, done=len(items), total=len(items) + 1)
        # Once the jobs' work is written: their quality reports, newest per
        # job, which set the records' accuracy (pending until then).
        try:
            reports = self.client.quality_reports(project_id=project_id)
        except (CvatError, ImportFileError) as exc:
            raise ToolError(str(exc)) from None
        if wanted is not None:
            reports = [r for r in reports if r.get("job_id") in wanted]
        yield Page(
            items=[QualityReports(reports)], done=len(items) + 1, total=len(items) + 1
        )

    def rows(self, items, *, lookups, report, mapping):
        identities = tool_identities(IdentityTool.CVAT, lookups.park, self.connector.pk)
        for item in items:
            if isinstance(item, QualityReports):
                # Accuracies are set on the records pulled before (all or
                # nothing, like a report file); nothing new is staged. Only
                # the reports of jobs paid here: the others (jobs not
                # accepted, task and project reports) have nothing to set.
                paid = _pulled_jobs(mapping.project, self.connector.namespace)
                import_cvat_reports(
                    [r for r in item.reports if r.get("job_id") in paid],
                    mapping.project,
                    report,
                    dry_run=False,
                    source="cvat",
                    identities=identities,
                    namespace=self.connector.namespace,
                )
        for item in items:
            if isinstance(item, CvatSkip):
                report.leave_out(None, "job", item.reason, f"job {item.job_id}")
        jobs = [item for item in items if isinstance(item, CvatJobWork)]
        namespace = self.connector.namespace
        # An unmapped assignee is a problem of its job only: the sync lists
        # it on the status page and imports the other jobs.
        for staged in cvat_job_rows(
            jobs, lookups, report, skip_unmapped=False, identities=identities
        ):
            yield (*staged[:-1], f"{namespace}{staged[-1]}")


def _pulled_jobs(project, namespace: str) -> set[int]:
    """The CVAT job ids of ``project``'s records pulled under ``namespace``."""
    prefix = f"{namespace}{CVAT_PREFIX}"
    jobs = set()
    for external_id in WorkRecord.objects.filter(
        project=project, external_id__startswith=prefix
    ).values_list("external_id", flat=True):
        number = external_id[len(prefix) :].split("/", 1)[0]
        if number.isdigit():
            jobs.add(int(number))
    return jobs
