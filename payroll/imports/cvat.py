"""A CVAT quality report (``cvat-quality``): accuracy for records already
imported, by job."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q

from payroll.imports.lookups import find_annotator, tool_identities
from payroll.imports.report import (
    BAD_CVAT_ACCURACY,
    CVAT_LOCKED,
    CVAT_OTHER_WORKER,
    MALFORMED_JSON,
    NO_CVAT_RECORDS,
    NO_ID,
    NO_REPORTS,
    NOT_AN_OBJECT,
    NOT_TEXT,
    NOT_TEXT_VALUE,
    NUL_CHARACTER,
    ImportFileError,
    ImportReport,
    shown,
)
from payroll.imports.text import JsonDepth, Text, detect_encoding, has_lone_surrogate
from payroll.models import (
    LOCKED_STATUSES,
    IdentityTool,
    PayPeriod,
    Project,
    WorkRecord,
)
from workforce.models import Worker

CVAT_PREFIX = "cvat-job-"


def import_cvat(file, project: Project, report: ImportReport, *, dry_run: bool):
    encoding, _is_gb = detect_encoding(file)
    with Text(file, encoding) as text:
        try:
            content = text.read()  # bounded: the upload limit
        except UnicodeDecodeError as exc:
            raise ImportFileError(NOT_TEXT % {"position": exc.start}) from exc
    JsonDepth().feed(content)
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            MALFORMED_JSON % {"line": exc.lineno, "column": exc.colno, "error": exc.msg}
        ) from exc
    except ValueError as exc:  # a number of thousands of digits
        raise ImportFileError(
            MALFORMED_JSON
            % {"line": "?", "column": "?", "error": "a number is too long"}
        ) from exc
    del content
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]  # a page of CVAT's report list
    reports = data if isinstance(data, list) else [data]
    if not reports:
        raise ImportFileError(NO_REPORTS)
    identities = tool_identities(IdentityTool.CVAT, project.park_id)
    updates: dict[int, Decimal] = {}
    plans = []
    for number, entry in enumerate(reports, start=1):
        report.records += 1
        plan = _cvat_entry(number, entry, report, identities)
        if plan is not None:
            plans.append(plan)
    records_by_job = _cvat_records(project, [p[1] for p in plans])
    locked = {
        (month.year, month.month): status
        for month, status in PayPeriod.objects.filter(
            park_id=project.park_id, status__in=LOCKED_STATUSES
        ).values_list("month", "status")
    }
    for number, job, ref, accuracy, assignee, who in plans:
        records = records_by_job.get(job, [])
        if not records:
            report.error(
                number,
                "job_id",
                NO_CVAT_RECORDS
                % {"project": project.code, "id": f"{CVAT_PREFIX}{job}"},
                ref,
            )
            continue
        if assignee is not None:
            others = {r.worker_id for r in records} - {assignee[0]}
            if others:
                names = ", ".join(sorted({r.worker.employee_no for r in records}))
                report.error(
                    number,
                    "assignee",
                    CVAT_OTHER_WORKER
                    % {
                        "user": who,
                        "assignee": Worker.objects.get(pk=assignee[0]).employee_no,
                        "job": job,
                        "workers": names,
                    },
                    ref,
                )
                continue
        for record in records:
            status = locked.get((record.work_date.year, record.work_date.month))
            if status is not None:
                report.warn(
                    number,
                    "job_id",
                    CVAT_LOCKED
                    % {
                        "job": job,
                        "status": status,
                        "month": f"{record.work_date:%Y-%m}",
                    },
                    ref,
                )
                continue
            if record.accuracy == accuracy:
                report.unchanged += 1
            else:
                updates[record.pk] = accuracy
    if not report.ok:
        return
    report.updated = len(updates)
    if dry_run or not updates:
        return
    with transaction.atomic():
        changed = list(
            WorkRecord.objects.select_for_update().filter(pk__in=list(updates))
        )
        for record in changed:
            record.accuracy = updates[record.pk]
        WorkRecord.objects.bulk_update(changed, ["accuracy"], batch_size=1000)


def _cvat_entry(number, entry, report, identities):
    if not isinstance(entry, dict):
        report.error(number, "", NOT_AN_OBJECT)
        return None
    if has_lone_surrogate(entry):
        report.error(number, "", NOT_TEXT_VALUE)
        return None
    job = entry.get("job_id")
    ref = f"job {shown(job)}"
    if isinstance(job, bool) or not isinstance(job, int | str) or not str(job).strip():
        report.error(number, "job_id", NO_ID, ref)
        return None
    job = str(job).strip()
    if "\x00" in job:  # the database refuses it in text
        report.error(number, "job_id", NUL_CHARACTER, ref.replace("\x00", "\ufffd"))
        return None
    summary = entry.get("summary")
    raw = summary.get("accuracy") if isinstance(summary, dict) else None
    accuracy = _fraction_to_percent(raw)
    if accuracy is None:
        report.error(
            number,
            "summary.accuracy",
            BAD_CVAT_ACCURACY % {"value": shown(raw)},
            ref,
        )
        return None
    assignee, who = find_annotator(entry.get("assignee"), identities)
    return (number, job, ref, accuracy, assignee, who)


def _fraction_to_percent(value) -> Decimal | None:
    """0.9755 → 97.55 (R2.1: a percentage with 2 decimal places, half up)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        fraction = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not fraction.is_finite() or not 0 <= fraction <= 1:
        return None
    return (fraction * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _cvat_records(project: Project, jobs: list[str]) -> dict[str, list[WorkRecord]]:
    """Records of ``project`` whose external id is ``cvat-job-<id>`` or
    ``cvat-job-<id>/<anything>`` (one record per job, or per job and day)."""
    found: dict[str, list[WorkRecord]] = {}
    for start in range(0, len(jobs), 500):
        chunk = jobs[start : start + 500]
        query = Q()
        for job in chunk:
            query |= Q(external_id=f"{CVAT_PREFIX}{job}") | Q(
                external_id__startswith=f"{CVAT_PREFIX}{job}/"
            )
        for record in (
            WorkRecord.objects.filter(project=project)
            .filter(query)
            .select_related("worker")
            .order_by("id")
        ):
            job = record.external_id[len(CVAT_PREFIX) :].split("/", 1)[0]
            found.setdefault(job, []).append(record)
    return found
