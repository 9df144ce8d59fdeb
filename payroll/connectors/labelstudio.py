"""The Label Studio client: a project's tasks, with their annotations, through
Label Studio's REST API (``GET /api/tasks/?project=…&fields=all``, page by
page; ``GET /api/tasks/{id}/`` for one task a webhook names).

Built on httpx rather than label-studio-sdk: the SDK (2.x) is generated code
that pins its own pydantic, httpx and other libraries, pulls in the format
converter and its dependencies (numpy, Pillow, …) and changes its surface
between releases, for two GET requests ParkPay needs. httpx gives timeouts,
connection reuse and a test transport, and is pinned in requirements.txt.

Authentication: a legacy API token (``Authorization: Token …``, the one
shown under Account & Settings when legacy tokens are enabled), or a
personal access token (a JWT refresh token), exchanged at
``/api/token/refresh`` for a short-lived access token (``Bearer``).
"""

from __future__ import annotations

import httpx
from django.utils.translation import gettext as _

from payroll.connectors.base import (
    TOOL_BAD_ANSWER,
    TOOL_NOT_JSON,
    TOOL_REFUSED_TOKEN,
    TOOL_UNREACHABLE,
    Page,
    RetryPolicy,
    ToolError,
    register,
)
from payroll.imports.labelstudio import LabelStudioRules, labelstudio_task_rows
from payroll.models import ConnectorKind

PAGE_SIZE = 100


@register(ConnectorKind.LABEL_STUDIO)
class LabelStudioClient:
    def __init__(
        self,
        connector,
        *,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        page_size: int = PAGE_SIZE,
    ):
        self.connector = connector
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self.http = httpx.Client(
            base_url=connector.base_url.rstrip("/"),
            timeout=httpx.Timeout(self.retry.timeout),
            transport=transport,
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )
        self._auth: str | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.http.close()

    # The plug-in interface (payroll/connectors/base.py)

    def pages(self, mapping, *, task_ids=None):
        if task_ids:
            tasks = [
                self._get(f"/api/tasks/{int(t)}/", what=_("a task")) for t in task_ids
            ]
            yield Page(items=tasks, done=len(tasks), total=len(tasks))
            return
        page, done = 1, 0
        while True:
            answer = self._get(
                "/api/tasks/",
                params={
                    "project": mapping.tool_project,
                    "page": page,
                    "page_size": self.page_size,
                    "fields": "all",
                },
                what=_("the task list"),
                missing_ok=page > 1,
            )
            if answer is None:  # Label Studio answers 404 past the last page
                return
            tasks = answer.get("tasks", []) if isinstance(answer, dict) else answer
            total = answer.get("total", 0) if isinstance(answer, dict) else 0
            if not tasks:
                return
            done += len(tasks)
            yield Page(items=tasks, done=done, total=max(total, done))
            if (total and done >= total) or len(tasks) < self.page_size:
                return
            page += 1

    def rows(self, items, *, lookups, report, mapping):
        rules = LabelStudioRules(
            unit_rule=mapping.unit_rule,
            predictions=mapping.prediction_policy,
            namespace=self.connector.namespace,
            connector_id=self.connector.pk,
        )
        return labelstudio_task_rows(items, lookups, report, rules)

    # HTTP

    def _headers(self) -> dict:
        if self._auth is None:
            token = self.connector.access_token or ""
            if token.count(".") == 2:  # a personal access token (JWT refresh)
                answer = self._request(
                    "POST", "/api/token/refresh", json={"refresh": token}, headers={}
                )
                access = answer.json().get("access") if answer is not None else None
                if not access:
                    raise ToolError(str(TOOL_REFUSED_TOKEN % {"status": 401}))
                self._auth = f"Bearer {access}"
            else:
                self._auth = f"Token {token}"
        return {"Authorization": self._auth}

    def _request(self, method, path, *, headers, params=None, json=None):
        last = ""
        for attempt in range(self.retry.tries):
            try:
                response = self.http.request(
                    method, path, params=params, json=json, headers=headers
                )
            except httpx.TimeoutException:
                last = "timeout"
            except httpx.TransportError as exc:
                last = type(exc).__name__
            else:
                if response.status_code < 500:
                    if response.status_code in (401, 403):
                        raise ToolError(
                            str(TOOL_REFUSED_TOKEN % {"status": response.status_code})
                        )
                    return response
                last = f"HTTP {response.status_code}"
            if attempt + 1 < self.retry.tries:
                self.retry.wait(attempt)
        raise ToolError(
            str(TOOL_UNREACHABLE % {"error": last, "tries": self.retry.tries})
        )

    def _get(self, path, *, what, params=None, missing_ok=False):
        response = self._request("GET", path, params=params, headers=self._headers())
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code != 200:
            raise ToolError(
                str(TOOL_BAD_ANSWER % {"status": response.status_code, "what": what})
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ToolError(str(TOOL_NOT_JSON % {"what": what})) from exc
