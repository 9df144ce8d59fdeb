"""Imports of completed work from files (docs/imports.md).

Four formats: the ParkPay CSV (``csv``), a Label Studio JSON or JSON-MIN
export (``labelstudio``), a CVAT quality report (``cvat-quality``) and a CVAT
job's "CVAT for images 1.1" export (``cvat-xml``). The connectors
(``payroll.connectors``) pull the same records from the tools' APIs through
the same readers.

Every import is all-or-nothing per file, in one transaction (with
``skip_unmatched``, records naming no worker of the park are listed as
skipped and the rest is imported). Records are read
as a stream, in batches, and checked as they come (the rules of
``payroll.services.work_record_errors``, shared with ``work_record_create``).
Each good batch goes into a temporary staging table (``COPY`` on PostgreSQL)
and into the work records, the database writing one batch while Python reads
the next. At the end the staging table shows what a row-by-row reader could
only find by holding the whole file: ids repeated inside it and records
imported before. If any record is bad the transaction is rolled back and
nothing is saved; the report lists every bad record. Memory stays flat
whatever the size of the file (``bench/import.py``).

Idempotent on (park, source, external id): a record imported before is
skipped; one imported before for another worker or project is an error (an
id clash, never silently skipped). Another park's ids, workers, projects and
identities are never seen: an import tells nothing of another park.

One module per source (``csv``, ``labelstudio``, ``cvat``), and what they
share: ``text`` (reading the file), ``lookups`` (what a record names, and its
rules), ``writer`` (the staging table and the batch writes) and ``report``
(what an import says). This module runs an import from end to end.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_record
from payroll.earnings import earnings_changed_in_park
from payroll.imports.csv import csv_rows
from payroll.imports.cvat import import_cvat, import_cvat_work
from payroll.imports.labelstudio import (
    LabelStudioRules,
    iter_json_array,
    labelstudio_rows,
    region_count,
)
from payroll.imports.lookups import Lookups, only_task_type, resolve_project
from payroll.imports.report import (
    ENCODING_USED,
    FILE_EMPTY,
    NOT_TEXT,
    NUL_CHARACTER,
    UNKNOWN_FORMAT,
    UNKNOWN_PROJECT,
    UNKNOWN_PROJECT_ANY,
    UNKNOWN_TASK_TYPE,
    ImportFileError,
    ImportReport,
    human_size,
    too_large_message,
)
from payroll.imports.text import Text, detect_encoding
from payroll.imports.writer import Writer, finish_import
from payroll.integrations import IMPORT_FORBIDDEN, IMPORTERS, require_park_role
from payroll.models import Project, TaskType

__all__ = [
    "ENCODING_USED",
    "FILE_EMPTY",
    "FORMATS",
    "NUL_CHARACTER",
    "UNKNOWN_PROJECT",
    "UNKNOWN_PROJECT_ANY",
    "UNKNOWN_TASK_TYPE",
    "ImportFileError",
    "ImportReport",
    "LabelStudioRules",
    "file_size",
    "human_size",
    "import_work",
    "iter_json_array",
    "region_count",
    "resolve_project",
    "too_large_message",
]

FORMATS = ("csv", "labelstudio", "cvat-quality", "cvat-xml")
SOURCES = {"csv": "csv", "labelstudio": "labelstudio"}
BATCH = 5000
PROGRESS_EVERY = 100_000


def file_size(file) -> int | None:
    size = getattr(file, "size", None)
    if size is not None:
        return size
    try:
        here = file.tell()
        end = file.seek(0, io.SEEK_END)
        file.seek(here)
        return end - here
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def import_work(
    *,
    file,
    fmt: str,
    project: Project,
    task_type: TaskType | None = None,
    dry_run: bool = False,
    actor=None,
    max_bytes: int | None = None,
    progress: Callable[[int], None] | None = None,
    skip_unmatched: bool = False,
    rules: LabelStudioRules | None = None,
) -> ImportReport:
    """Import ``file`` (a binary file object) into ``project``'s park.

    ``project`` is the project of records that name none; CSV rows may name
    another project of the same park. Returns the report; nothing is written
    unless ``report.ok`` and not ``dry_run``. The actor must be the park's
    director, payroll officer or integration (``None``: the command line).

    ``skip_unmatched``: a record whose annotator or employee number matches
    no worker of the park (or whose Label Studio user was deleted) is left
    out and listed in ``report.skipped``, and the rest is imported; by
    default it is an error and nothing is imported. ``rules``: how Label
    Studio annotations count (a connector's project mapping).
    """
    if fmt not in FORMATS:
        raise ValidationError(
            {"format": UNKNOWN_FORMAT % {"format": fmt, "formats": ", ".join(FORMATS)}}
        )
    require_park_role(actor, project.park_id, IMPORTERS, IMPORT_FORBIDDEN)
    park = project.park
    report = ImportReport(
        format=fmt,
        park=park.code,
        project=project.code,
        dry_run=dry_run,
        skip_unmatched=skip_unmatched,
    )
    size = file_size(file)
    limit = max_bytes
    if fmt == "cvat-quality":
        # Read whole, unlike the other two: always bounded.
        limit = min(
            max_bytes or settings.IMPORT_MAX_UPLOAD_BYTES,
            settings.IMPORT_MAX_UPLOAD_BYTES,
        )
    if limit and size is not None and size > limit:
        report.error(None, "file", too_large_message(size, limit))
        return report
    if size == 0:
        report.error(None, "file", FILE_EMPTY)
        return report
    try:
        if fmt == "cvat-quality":
            import_cvat(file, project, report, dry_run=dry_run)
        elif fmt == "cvat-xml":
            import_cvat_work(file, project, task_type, report, dry_run=dry_run)
        else:
            _import_records(
                file,
                fmt,
                project,
                task_type,
                report,
                dry_run=dry_run,
                progress=progress,
                rules=rules,
            )
    except ImportFileError as exc:
        report.error(None, "file", str(exc))
    except UnicodeDecodeError as exc:  # met while reading, past the first checks
        report.error(None, "file", str(NOT_TEXT % {"position": exc.start}))
    if report.ok and not dry_run and (report.created or report.updated):
        audit_record(
            actor=actor,
            park=park,
            action="work.import",
            obj=project,
            after={
                "format": fmt,
                "file": os.path.basename(str(getattr(file, "name", "") or "")),
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "skipped": report.skipped_count,
            },
        )
        # Workers see imported work on their earnings page at once.
        transaction.on_commit(lambda: earnings_changed_in_park(park_id=park.id))
    return report


def _batches(records: Iterator[tuple]) -> Iterator[list[tuple]]:
    """Numbered batches of staged records (``seq`` first)."""
    batch: list[tuple] = []
    for seq, record in enumerate(records, start=1):
        batch.append((seq, *record))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _import_records(
    file, fmt, project, task_type, report, *, dry_run, progress, rules=None
):
    source = SOURCES[fmt]
    if fmt == "labelstudio" and task_type is None:
        task_type = only_task_type(project)
    lookups = Lookups(project, task_type)
    encoding, is_gb = detect_encoding(file)
    if is_gb:
        report.warn(None, "file", ENCODING_USED)
    if fmt == "csv":
        reader = csv_rows
    else:

        def reader(text, lookups, report):
            return labelstudio_rows(text, lookups, report, rules)

    # All or nothing: on a bad row (or an exception) the transaction, the
    # staging table included, is rolled back.
    with transaction.atomic():
        writer = Writer(park_id=project.park_id, source=source, dry_run=dry_run)
        shown = 0
        with Text(file, encoding) as text:
            batches = _batches(reader(text, lookups, report))
            batch = next(batches, None)
            while batch is not None:
                writer.stage(batch)
                with writer.meanwhile():
                    writer.write()
                    batch = next(batches, None)  # read while the database writes
                if progress and report.records - shown >= PROGRESS_EVERY:
                    shown = report.records
                    progress(shown)
        if progress:
            progress(report.records)
        lookups.report_elsewhere(report)
        finish_import(writer, report, dry_run=dry_run)
