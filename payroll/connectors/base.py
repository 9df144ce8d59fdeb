"""Connectors: a park's annotation tool servers, and what a tool client is.

A :class:`~payroll.models.Connector` is one tool server of one park (``kind``
``label_studio`` or ``cvat``): its address, its access token (encrypted at
rest, never shown back), its webhook secret, and its project mappings
(:class:`~payroll.models.ConnectorProject`: tool project id → ParkPay project
and task type, with the unit rule and the pre-annotation policy). A pull
(:func:`payroll.connectors.sync.connector_sync`) asks the connector's
*tool client* for each mapped project's work and writes it the way a file
import does, idempotently; every pull is a
:class:`~payroll.models.ConnectorSync` row (the status page).

The plug-in interface
=====================

A tool client is a class registered in :data:`CLIENTS` under its connector
kind (``@register(ConnectorKind.CVAT)`` in the module named in
:data:`MODULES`, imported on first use), built as ``Client(connector)``
and used as a context manager (it holds an HTTP connection). It has two
methods:

``pages(mapping, *, task_ids=None) -> Iterator[Page]``
    The work of one mapped tool project, a page at a time (``task_ids``: only
    these tool tasks or jobs, as a webhook names them). Each :class:`Page`
    holds the tool's own objects (``items``: Label Studio tasks, CVAT jobs
    with their annotations) and the progress so far (``done`` of ``total``).
    Network failures are retried inside (see :class:`RetryPolicy`); what
    still fails raises :class:`ToolError` with a message a director can act
    on (no token in it).

``rows(items, *, lookups, report, mapping) -> Iterator[tuple]``
    The work records of a page, as the import writer stages them
    (``payroll.imports.writer.Writer.COLUMNS`` without ``seq``): ``(row,
    ref, worker_id, project_id, task_type_id, work_date, units, accuracy,
    external_id)``. Build them with ``payroll.imports.lookups.check_record``
    so that every rule of a work record applies. ``external_id`` must start
    with ``connector.namespace`` (``c<id>:``), so that two servers' ids
    never meet. The annotator is found with
    ``payroll.imports.lookups.tool_identities(tool, park, connector.pk)``:
    the connector's user ids and the park's e-mails.

    Whatever is not paid is said on ``report`` (an ``ImportReport`` made
    with ``skip_unmatched=True``), never silently dropped:
    ``report.skip(row, field, message, ref)`` for what cannot be matched (an
    unmapped or deleted user), ``report.leave_out(...)`` for what the
    project's rules do not pay, ``report.error(...)`` for a malformed object;
    counters such as ``report.cancelled`` for the expected cases. A pull
    imports the good rows and lists the others, with their reason, on the
    status page. Messages name only the park's own workers and projects.

The sync does the rest for every kind: new records are created (in a closed
month they are late work, R13.3), a record whose units or review changed is
corrected through ``payroll.corrections`` (changed in an open month, a
correction booked in the next open month once approved, R13.5), an
unchanged one is left alone, so a second pull changes nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

TOOL_UNREACHABLE = _(
    "The tool server did not answer (%(error)s) after %(tries)s tries: check "
    "its address and that it is running."
)
TOOL_REFUSED_TOKEN = _(
    "The tool server refused the access token (HTTP %(status)s): enter a valid token."
)
TOOL_BAD_ANSWER = _("The tool server answered HTTP %(status)s to %(what)s.")
TOOL_NOT_JSON = _("The tool server's answer to %(what)s is not JSON.")
NO_CLIENT = _("ParkPay cannot pull from %(kind)s servers yet.")


class ToolError(Exception):
    """A pull that cannot go on; the message is for the director."""


@dataclass
class Page:
    items: list
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of a request that timed out, could not connect or got a 5xx:
    ``tries`` in all, waiting ``backoff``, then twice as long each time."""

    tries: int = 4
    backoff: float = 0.5
    timeout: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def wait(self, attempt: int) -> None:
        self.sleep(self.backoff * 2**attempt)


# Connector kind → client class, filled by ``@register(kind)`` when the
# kind's module (``MODULES``) is imported: ``payroll/connectors/cvat.py``
# plugs in with ``@register(ConnectorKind.CVAT)`` on its client class.
CLIENTS: dict[str, type] = {}
MODULES = {
    "label_studio": "payroll.connectors.labelstudio",
    "cvat": "payroll.connectors.cvat",
}


def register(kind: str):
    def decorator(cls):
        CLIENTS[kind] = cls
        return cls

    return decorator


def client_for(connector, **kwargs):
    if connector.kind not in CLIENTS and connector.kind in MODULES:
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(MODULES[connector.kind])
    try:
        cls = CLIENTS[connector.kind]
    except KeyError:
        raise ToolError(NO_CLIENT % {"kind": connector.get_kind_display()}) from None
    return cls(connector, **kwargs)
