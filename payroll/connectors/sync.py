"""A pull of a connector: its projects' work into work records, idempotently.

Each page of a tool's answer is written in its own transaction: new records
are created (a record dated in an approved month is late work, paid in the
next open month, R13.3); a record imported before whose units or review
changed is corrected through ``payroll.corrections`` (in an open month the
record changes, audited; in a closed one a correction is booked in the first
open month, R13.5: frozen pay is never edited); an unchanged one is left
alone. A second pull with nothing new changes nothing.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from payroll.connectors.base import ToolError, client_for
from payroll.corrections import (
    record_figures,
    work_record_correct,
    work_record_void,
)
from payroll.earnings import earnings_changed_in_park
from payroll.imports.labelstudio import REJECTED_ACCURACY
from payroll.imports.lookups import Lookups
from payroll.imports.report import MAX_LISTED, ImportReport
from payroll.models import (
    Connector,
    ConnectorProject,
    ConnectorSync,
    SyncStatus,
    WorkRecord,
)

logger = logging.getLogger(__name__)

SOURCE = {"label_studio": "labelstudio", "cvat": "cvat"}
# Problems kept on the status page per pull (the rest are counted).
KEPT = 200

CHANGED_REASON = _("Changed in %(tool)s after it was imported (annotation %(id)s).")
NOT_PAID_NOW = _(
    "Cancelled or made ground truth in %(tool)s after it was imported "
    "(annotation %(id)s)."
)
OTHER_OWNER = _(
    "%(id)s was imported before for another worker or project; left as it was."
)
NO_PROJECTS = _("The connector maps no tool project yet: add one.")


def connector_sync(
    *,
    connector: Connector,
    trigger: str = "schedule",
    tool_project: str | None = None,
    task_ids: list[int] | None = None,
    client=None,
) -> ConnectorSync:
    """Pull the connector's mapped projects (or one, ``tool_project``; or only
    ``task_ids`` of it) and record what came in on a ``ConnectorSync``."""
    sync = ConnectorSync.objects.create(connector=connector, trigger=trigger)
    mappings = list(
        ConnectorProject.objects.filter(connector=connector).select_related(
            "project__park", "task_type"
        )
    )
    if tool_project is not None:
        mappings = [m for m in mappings if m.tool_project == str(tool_project)]
    problems: list[dict] = []
    try:
        if not mappings:
            raise ToolError(str(NO_PROJECTS))
        own = client is None
        client = client or client_for(connector)
        try:
            for mapping in mappings:
                _sync_project(sync, client, mapping, problems, task_ids)
        finally:
            if own:
                client.__exit__(None, None, None)
    except ToolError as exc:
        sync.status, sync.error = SyncStatus.FAILED, str(exc)
    except Exception as exc:  # recorded for the status page, then raised
        sync.status, sync.error = SyncStatus.FAILED, type(exc).__name__
        _finish(sync, problems)
        raise
    else:
        sync.status = SyncStatus.DONE
    _finish(sync, problems)
    if sync.created or sync.corrected:
        park_id = connector.park_id
        transaction.on_commit(lambda: earnings_changed_in_park(park_id=park_id))
    return sync


def _finish(sync, problems):
    sync.finished_at = timezone.now()
    sync.skipped = problems[:KEPT]
    sync.save()


def _sync_project(sync, client, mapping, problems, task_ids):
    lookups = Lookups(mapping.project, mapping.task_type)
    tool = mapping.connector.get_kind_display()
    for page in client.pages(mapping, task_ids=task_ids):
        report = ImportReport(
            format=mapping.connector.kind,
            park=mapping.project.park.code,
            project=mapping.project.code,
            skip_unmatched=True,
        )
        rows = list(
            client.rows(page.items, lookups=lookups, report=report, mapping=mapping)
        )
        source = SOURCE[mapping.connector.kind]
        with transaction.atomic():
            created, unchanged, corrected = _write(
                rows, mapping, report, source=source, tool=tool
            )
            corrected += _void_unpaid(report.unpaid_ids, mapping, source, tool)
        sync.done = page.done
        sync.total = page.total
        sync.read += report.records
        sync.created += created
        sync.unchanged += unchanged
        sync.corrected += corrected
        sync.cancelled += report.cancelled
        sync.ground_truth += report.ground_truth
        sync.rejected += report.rejected
        sync.predicted_units += report.predicted_units
        sync.skipped_count += report.skipped_count + report.error_count
        for problem in [*report.skipped, *report.errors]:
            if len(problems) < KEPT:
                problems.append(
                    {
                        "project": mapping.tool_project,
                        "ref": problem.ref,
                        "field": problem.field,
                        "message": problem.message,
                    }
                )
        # Progress for the status page while the pull goes on.
        ConnectorSync.objects.filter(pk=sync.pk).update(
            done=sync.done, total=sync.total, read=sync.read, created=sync.created
        )


def _write(rows, mapping, report, *, source, tool):
    """Create the new records of a page, correct the changed ones."""
    park_id = mapping.project.park_id
    by_id = {row[8]: row for row in rows}
    existing = {
        record.external_id: record
        for record in WorkRecord.objects.filter(
            park_id=park_id, source=source, external_id__in=list(by_id)
        ).prefetch_related("corrections")
    }
    new = [
        WorkRecord(
            park_id=park_id,
            worker_id=row[2],
            project_id=row[3],
            task_type_id=row[4],
            work_date=row[5],
            units=row[6],
            accuracy=row[7],
            source=source,
            external_id=external_id,
        )
        for external_id, row in by_id.items()
        if external_id not in existing
    ]
    WorkRecord.objects.bulk_create(new, batch_size=MAX_LISTED)
    unchanged = corrected = 0
    for external_id, record in existing.items():
        row = by_id[external_id]
        if (record.worker_id, record.project_id) != (row[2], row[3]):
            report.leave_out(
                row[0], "external_id", OTHER_OWNER % {"id": external_id}, row[1]
            )
            continue
        units, accuracy, voided = record_figures(record)
        if voided:  # voided by the park's staff: stays voided
            unchanged += 1
            continue
        new_accuracy = _review_accuracy(accuracy, row[7])
        if (units, accuracy) == (row[6], new_accuracy):
            unchanged += 1
            continue
        try:
            work_record_correct(
                record=record,
                actor=None,
                units=row[6] if row[6] != units else None,
                accuracy=new_accuracy if new_accuracy != accuracy else None,
                reason=_gettext(CHANGED_REASON)
                % {"tool": tool, "id": external_id.split(":", 1)[-1]},
            )
        except ValidationError as exc:
            report.leave_out(row[0], "units", " ".join(exc.messages), row[1])
            continue
        corrected += 1
    return len(new), unchanged, corrected


def _void_unpaid(external_ids, mapping, source, tool) -> int:
    """Void the records of annotations paid before and now cancelled or
    marked ground truth: deleted in an open month, a void correction booked
    in the next open month once approved (R13.5)."""
    if not external_ids:
        return 0
    voided = 0
    for record in WorkRecord.objects.filter(
        park_id=mapping.project.park_id, source=source, external_id__in=external_ids
    ).prefetch_related("corrections"):
        if record_figures(record)[2]:
            continue  # voided already
        work_record_void(
            record=record,
            actor=None,
            reason=_gettext(NOT_PAID_NOW)
            % {"tool": tool, "id": record.external_id.split(":", 1)[-1]},
        )
        voided += 1
    return voided


def _review_accuracy(current, pulled):
    """The accuracy after a pull. The tool sets only one: rejected in review
    (0.00) or not; an accuracy from a quality report is kept unless a review
    rejects the work, and a lifted rejection leaves it unreviewed."""
    if pulled == REJECTED_ACCURACY:
        return REJECTED_ACCURACY
    if current == REJECTED_ACCURACY:
        return None
    return current
