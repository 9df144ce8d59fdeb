"""Imports of completed work from files (docs/imports.md).

Three formats: the ParkPay CSV (``csv``), a Label Studio JSON export
(``labelstudio``) and a CVAT quality report (``cvat-quality``).

Every import is all-or-nothing per file, in one transaction. Records are read
as a stream, in batches, and checked as they come (the rules of
``payroll.services.work_record_errors``, shared with ``work_record_create``).
Each good batch goes into a temporary staging table (``COPY`` on PostgreSQL)
and into the work records, the database writing one batch while Python reads
the next. At the end the staging table shows what a row-by-row reader could
only find by holding the whole file: ids repeated inside it and records
imported before. If any record is bad the transaction is rolled back and
nothing is saved; the report lists every bad record. Memory stays flat
whatever the size of the file (``bench/import.py``).

Idempotent on (source, external id): a record imported before is skipped; one
imported before for another worker or project is an error (an id clash,
never silently skipped).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from payroll.earnings import earnings_changed_in_park
from payroll.integrations import IMPORT_FORBIDDEN, IMPORTERS, require_park_role
from payroll.models import (
    LOCKED_STATUSES,
    IdentityTool,
    PayPeriod,
    Project,
    RateCard,
    TaskType,
    WorkerIdentity,
    WorkRecord,
    normalise_external_user,
)
from payroll.services import work_record_errors
from workforce.models import Park, Worker

FORMATS = ("csv", "labelstudio", "cvat-quality")
SOURCES = {"csv": "csv", "labelstudio": "labelstudio"}
# The report lists this many problems of each kind and counts the rest.
MAX_LISTED = 1000
BATCH = 5000
PROGRESS_EVERY = 100_000
# One Label Studio task larger than this is refused (the stream holds one task).
MAX_JSON_ITEM_CHARS = 64 * 2**20

# Messages that tests check (STYLE: module-level constants).
UNKNOWN_FORMAT = _("Unknown format %(format)s: use one of %(formats)s.")
UNKNOWN_PROJECT = _("Unknown project %(project)s in park %(park)s.")
UNKNOWN_PROJECT_ANY = _("Unknown project %(project)s.")
AMBIGUOUS_PROJECT = _(
    "Project code %(project)s exists in several parks (%(parks)s): name the park."
)
UNKNOWN_PARK = _("Unknown park %(park)s.")
UNKNOWN_WORKER = _("Unknown employee number %(value)s.")
UNKNOWN_TASK_TYPE = _("Unknown task type %(value)s.")
UNKNOWN_ANNOTATOR = _(
    "Unknown annotator: %(tool)s user %(user)s is mapped to no worker; add a "
    "worker identity for them."
)
TASK_TYPE_NEEDED = _(
    "Label Studio exports carry no task type and project %(project)s has "
    "%(count)s task types with rate cards: name the task type."
)
FILE_TOO_LARGE = _(
    "The file is %(size)s; the limit is %(limit)s. Split it into smaller "
    "files (each file is imported all-or-nothing)."
)
FILE_EMPTY = _("The file is empty.")
NOT_TEXT = _(
    "The file is neither UTF-8 nor GB18030 text (at byte %(position)s): save it "
    "as CSV UTF-8."
)
MISSING_COLUMNS = _(
    "Missing column(s) %(columns)s. The header names %(header)s; see "
    "docs/imports.md for the columns and their Chinese names."
)
DUPLICATE_COLUMN = _("Column %(column)s appears twice in the header.")
TOO_MANY_CELLS = _("The row has %(cells)s cells; the header has %(columns)s.")
REQUIRED = _("This cell is required.")
BAD_DATE = _("%(value)s is not a date: write YYYY-MM-DD.")
BAD_UNITS = _("%(value)s is not a whole number of units.")
BAD_ACCURACY = _(
    "%(value)s is not an accuracy: write a percentage from 0 to 100 with at "
    "most 2 decimal places, such as 97.5."
)
TOO_LONG = _("At most %(max)s characters.")
NUL_CHARACTER = _("Contains a NUL character (code 0), which text cannot hold.")
DUPLICATE_IN_FILE = _("External id %(id)s appears already in record %(first)s.")
CLASH = _(
    "External id %(id)s was imported before for %(worker)s, project "
    "%(project)s: ids must be unique per source."
)
CHANGED_SINCE = _(
    "External id %(id)s was imported before with other data (%(what)s); the "
    "earlier record is kept. Corrections are adjustments."
)
MALFORMED_JSON = _("Malformed JSON at line %(line)s, column %(column)s: %(error)s.")
NOT_A_LIST = _(
    "A Label Studio export is a JSON list of tasks; this file starts with %(start)s."
)
NOT_AN_OBJECT = _("Each entry must be a JSON object.")
NO_ANNOTATIONS = _(
    "The task has no annotations[] list: export from Label Studio as JSON "
    "(not JSON-MIN or CSV)."
)
BAD_ANNOTATOR = _("completed_by must be a user id or an object with id or email.")
BAD_RESULT = _("result must be a list of regions.")
BAD_TIMESTAMP = _("%(value)s is not a date and time (ISO 8601).")
NO_TIMESTAMP = _("The annotation has neither created_at nor updated_at.")
NO_ID = _("The entry has no id.")
NO_REPORTS = _("The file holds no quality report.")
BAD_CVAT_ACCURACY = _(
    "summary.accuracy must be a fraction from 0 to 1, such as 0.975; got %(value)s."
)
NO_CVAT_RECORDS = _(
    "No work record of project %(project)s has external id %(id)s (or "
    "%(id)s/…): import the job's work first."
)
CVAT_OTHER_WORKER = _(
    "Assignee %(user)s is %(assignee)s, but the records of job %(job)s belong "
    "to %(workers)s."
)
CVAT_LOCKED = _(
    "The records of job %(job)s are in the %(status)s period %(month)s and "
    "were left unchanged (R13.4)."
)
ENCODING_USED = _("Read as GB18030 (Excel's Chinese encoding), not UTF-8.")

# CSV columns: the canonical name and the other header names accepted.
CSV_COLUMNS = {
    "employee_no": (
        "employee_no",
        "employee_number",
        "employee",
        "工号",
        "员工编号",
        "员工号",
    ),
    "project": ("project", "project_code", "项目", "项目编号", "项目代码"),
    "task_type": ("task_type", "task", "任务类型", "任务", "作业类型"),
    "work_date": ("work_date", "date", "日期", "工作日期", "作业日期"),
    "units": ("units", "quantity", "数量", "件数", "工作量"),
    "accuracy": ("accuracy", "准确率", "正确率", "质检准确率"),
    "external_id": (
        "external_id",
        "id",
        "record_id",
        "外部编号",
        "外部id",
        "记录编号",
    ),
}
CSV_REQUIRED = ("employee_no", "task_type", "work_date", "units", "external_id")
_HEADER_ALIASES = {
    alias: column for column, aliases in CSV_COLUMNS.items() for alias in aliases
}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_ACCURACY = re.compile(r"^\d{1,3}(\.\d{1,2})?$")
CVAT_PREFIX = "cvat-job-"


class ImportFileError(Exception):
    """The file as a whole cannot be read; the report says why."""


@dataclass
class Problem:
    row: int | None
    field: str
    message: str
    ref: str = ""


@dataclass
class ImportReport:
    """What an import did or, with errors or ``dry_run``, would have done."""

    format: str
    park: str = ""
    project: str = ""
    dry_run: bool = False
    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    error_count: int = 0
    warning_count: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, row, field_name, message, ref="") -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(Problem(row, field_name, str(message), str(ref)))

    def warn(self, row, field_name, message, ref="") -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append(Problem(row, field_name, str(message), str(ref)))

    def as_dict(self) -> dict:
        data = asdict(self)
        data["ok"] = self.ok
        return data


# The import target


def resolve_project(
    *, code: str, park_code: str | None = None, projects=None
) -> Project:
    """The project named ``code`` among ``projects`` (by default all): raises
    ``ValidationError`` on ``project`` or ``park`` when unknown or ambiguous."""
    qs = (projects if projects is not None else Project.objects.all()).select_related(
        "park"
    )
    if park_code:
        qs = qs.filter(park__code=park_code)
    found = list(qs.filter(code=code)[:10])
    if not found:
        if park_code and not Park.objects.filter(code=park_code).exists():
            raise ValidationError({"park": UNKNOWN_PARK % {"park": park_code}})
        raise ValidationError({"project": UNKNOWN_PROJECT_ANY % {"project": code}})
    if len(found) > 1:
        parks = ", ".join(sorted(p.park.code for p in found))
        raise ValidationError(
            {"park": AMBIGUOUS_PROJECT % {"project": code, "parks": parks}}
        )
    return found[0]


def human_size(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:.1f} MB".replace(".0 MB", " MB")
    return f"{max(1, round(size / 1024))} KB"


def too_large_message(size: int, limit: int) -> str:
    return str(FILE_TOO_LARGE % {"size": human_size(size), "limit": human_size(limit)})


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
) -> ImportReport:
    """Import ``file`` (a binary file object) into ``project``'s park.

    ``project`` is the project of records that name none; CSV rows may name
    another project of the same park. Returns the report; nothing is written
    unless ``report.ok`` and not ``dry_run``. The actor must be the park's
    director, payroll officer or integration (``None``: the command line).
    """
    if fmt not in FORMATS:
        raise ValidationError(
            {"format": UNKNOWN_FORMAT % {"format": fmt, "formats": ", ".join(FORMATS)}}
        )
    require_park_role(actor, project.park_id, IMPORTERS, IMPORT_FORBIDDEN)
    park = project.park
    report = ImportReport(
        format=fmt, park=park.code, project=project.code, dry_run=dry_run
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
            _import_cvat(file, project, report, dry_run=dry_run)
        else:
            _import_records(
                file,
                fmt,
                project,
                task_type,
                report,
                dry_run=dry_run,
                progress=progress,
            )
    except ImportFileError as exc:
        report.error(None, "file", str(exc))
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
            },
        )
        # Workers see imported work on their earnings page at once.
        transaction.on_commit(lambda: earnings_changed_in_park(park_id=park.id))
    return report


# Reading text


def _detect_encoding(file) -> tuple[str, bool]:
    """``utf-8-sig`` (a BOM is dropped) unless the start of the file is not
    UTF-8 but GB18030, what Excel writes on a Chinese Windows."""
    head = file.read(1 << 16)
    file.seek(0)
    if not head:
        raise ImportFileError(FILE_EMPTY)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8-sig", False
    except UnicodeDecodeError as exc:
        try:
            codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        except UnicodeDecodeError:
            raise ImportFileError(NOT_TEXT % {"position": exc.start}) from exc
        return "gb18030", True


class _Text:
    """A text view of a binary upload that leaves the upload open."""

    def __init__(self, file, encoding: str):
        self.wrapper = io.TextIOWrapper(file, encoding=encoding, newline="")

    def __enter__(self):
        return self.wrapper

    def __exit__(self, *exc):
        self.wrapper.detach()


def _cell(value: str) -> str:
    value = value.strip()
    if not value.isascii():
        # Full-width digits, ％ and spaces from Chinese input methods.
        value = unicodedata.normalize("NFKC", value).strip()
    return value


def _header_key(value: str) -> str:
    key = _cell(value).lower()
    return re.sub(r"[\s\-]+", "_", key)


# Writing


class _Writer:
    """Writes the checked records of one import in batches, inside the
    import's transaction: each into a temporary staging table, which the
    checks at the end read, and (unless a dry run) into the work records.

    On PostgreSQL a batch is staged with ``COPY``, and its insert into the
    work records goes out in pipeline mode: the database inserts one batch
    while Python reads the next. Records already there are
    skipped (``ON CONFLICT DO NOTHING``) and sorted out at the end: the ones
    this import wrote carry its ``created_at``, to the microsecond.
    """

    NAME = "payroll_import_stage"
    COLUMNS = (
        "seq",
        "row_no",
        "ref",
        "worker_id",
        "project_id",
        "task_type_id",
        "work_date",
        "units",
        "accuracy",
        "external_id",
    )

    def __init__(self, *, source: str, dry_run: bool):
        self.source, self.dry_run = source, dry_run
        self.now = timezone.now()
        self.pg = connection.vendor == "postgresql"
        self.count = 0
        self.record = connection.ops.quote_name(WorkRecord._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.NAME}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.NAME} ("
                "seq integer NOT NULL, row_no integer, ref varchar(200) NOT NULL, "
                "worker_id bigint NOT NULL, project_id bigint NOT NULL, "
                "task_type_id bigint NOT NULL, work_date date NOT NULL, "
                "units integer NOT NULL, accuracy numeric(5, 2), "
                "external_id varchar(100) NOT NULL)"
            )
            # Each batch is read back by its seq range: cheap to keep, as seq
            # only grows.
            cursor.execute(f"CREATE INDEX {self.NAME}_seq ON {self.NAME} (seq)")
        if self.pg:
            import psycopg

            self.raw = connection.connection
            # Server-side binding (Django's cursors bind on the client).
            self.cursor = psycopg.Cursor(self.raw)
        insert = (
            f"INSERT INTO {self.record} (worker_id, project_id, task_type_id, "
            f"work_date, units, accuracy, source, external_id, created_at) "
            f"SELECT worker_id, project_id, task_type_id, work_date, units, "
            f"accuracy, %s, external_id, %s FROM {self.NAME} "
            f"WHERE seq BETWEEN %s AND %s ORDER BY seq"
        )
        self.insert_sql = (
            f"{insert} ON CONFLICT (source, external_id) DO NOTHING"
            if self.pg
            else insert.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
        )
        self.span = (0, 0)

    def stage(self, rows: list[tuple]) -> None:
        """Add a batch (``seq`` first) to the staging table."""
        self.count += len(rows)
        self.span = (rows[0][0], rows[-1][0])
        if self.pg:
            names = ", ".join(self.COLUMNS)
            with self.cursor.copy(f"COPY {self.NAME} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(self.COLUMNS))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.NAME} ({', '.join(self.COLUMNS)}) VALUES ({marks})",
                [
                    (
                        *row[:6],
                        row[6].isoformat(),
                        row[7],
                        None if row[8] is None else str(row[8]),
                        row[9],
                    )
                    for row in rows
                ],
            )

    def write(self) -> None:
        """Insert the last batch into the work records, unless a dry run. On
        PostgreSQL, inside :meth:`meanwhile`, this returns at once and the
        database works while Python goes on."""
        if self.dry_run:
            return
        params = [self.source, self.now, *self.span]
        if self.pg:
            self.cursor.execute(self.insert_sql, params)
        else:
            with connection.cursor() as cursor:
                cursor.execute(self.insert_sql, params)

    def meanwhile(self):
        """PostgreSQL's pipeline mode: statements go out without waiting for
        their end; leaving the context waits for them."""
        return self.raw.pipeline() if self.pg else contextlib.nullcontext()

    def finish(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE INDEX {self.NAME}_ext ON {self.NAME} (external_id, seq)"
            )
            if self.pg:
                # Temporary tables are never analysed by autovacuum.
                cursor.execute(f"ANALYZE {self.NAME}")

    def created(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {self.record} "
                f"WHERE created_at = %s AND source = %s",
                [self.now, self.source],
            )
            return cursor.fetchone()[0]

    def duplicates(self) -> tuple[int, list[tuple]]:
        """How many records repeat an external id met earlier in the file, and
        the first of them: (row, ref, external id, first row, its ref)."""
        repeats = (
            f"FROM {self.NAME} s JOIN ("
            f"  SELECT external_id, MIN(seq) AS first_seq FROM {self.NAME} "
            f"  GROUP BY external_id HAVING COUNT(*) > 1"
            f") d ON d.external_id = s.external_id AND s.seq > d.first_seq "
        )
        count = self._one(f"SELECT COUNT(*) {repeats}", [])[0]
        listed = self._all(
            f"SELECT s.row_no, s.ref, s.external_id, t.row_no, t.ref {repeats}"
            f"JOIN {self.NAME} t ON t.seq = d.first_seq ORDER BY s.seq LIMIT %s",
            [MAX_LISTED],
        )
        return count, listed

    def existing(self) -> tuple[int, int, int, list[tuple], list[tuple]]:
        """Staged records whose (source, external id) was stored before this
        import: how many are the same worker's work on the same project (they
        are skipped), how many of those differ otherwise, how many belong to
        someone else; and the first of the last two kinds."""
        join = (
            f"FROM {self.NAME} s JOIN {self.record} w "
            f"ON w.source = %s AND w.external_id = s.external_id "
            f"WHERE w.created_at <> %s "
        )
        params = [self.source, self.now]
        same = "(w.worker_id = s.worker_id AND w.project_id = s.project_id)"
        changed = (
            f"{same} AND (w.task_type_id <> s.task_type_id "
            f"OR w.work_date <> s.work_date OR w.units <> s.units)"
        )
        counts = self._one(
            f"SELECT COALESCE(SUM(CASE WHEN {same} THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN {changed} THEN 1 ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN {same} THEN 0 ELSE 1 END), 0) {join}",
            params,
        )
        columns = (
            "SELECT s.row_no, s.ref, s.external_id, s.task_type_id, s.work_date, "
            "s.units, w.worker_id, w.project_id, w.task_type_id, w.work_date, "
            "w.units "
        )
        clashes = self._all(
            f"{columns}{join}AND NOT {same} ORDER BY s.seq LIMIT %s",
            [*params, MAX_LISTED],
        )
        changes = self._all(
            f"{columns}{join}AND {changed} ORDER BY s.seq LIMIT %s",
            [*params, MAX_LISTED],
        )
        return (*counts, clashes, changes)

    def drop(self) -> None:
        if self.pg:
            self.cursor.close()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.NAME}")

    def _one(self, sql: str, params: list) -> tuple:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def _all(self, sql: str, params: list) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


# Work records: CSV and Label Studio


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


def _import_records(file, fmt, project, task_type, report, *, dry_run, progress):
    source = SOURCES[fmt]
    if fmt == "labelstudio" and task_type is None:
        task_type = _only_task_type(project)
    lookups = _Lookups(project, task_type)
    encoding, is_gb = _detect_encoding(file)
    if is_gb:
        report.warn(None, "file", ENCODING_USED)
    reader = _csv_rows if fmt == "csv" else _labelstudio_rows
    # All or nothing: on a bad row (or an exception) the transaction, the
    # staging table included, is rolled back.
    with transaction.atomic():
        writer = _Writer(source=source, dry_run=dry_run)
        shown = 0
        with _Text(file, encoding) as text:
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
        writer.finish()
        _check_stage(writer, report)
        if report.ok:
            report.created = (
                writer.count - report.unchanged if dry_run else writer.created()
            )
        writer.drop()
        if not report.ok or dry_run:
            transaction.set_rollback(True)


def _only_task_type(project: Project) -> TaskType | None:
    ids = list(
        RateCard.objects.filter(project=project)
        .order_by()
        .values_list("task_type_id", flat=True)
        .distinct()
    )
    if len(ids) != 1:
        raise ImportFileError(
            TASK_TYPE_NEEDED % {"project": project.code, "count": len(ids)}
        )
    return TaskType.objects.get(pk=ids[0])


def _check_stage(writer: _Writer, report: ImportReport) -> None:
    """The checks that need the whole file: ids repeated in it, and records
    imported before (skipped when the same, errors when someone else's)."""
    count, listed = writer.duplicates()
    for row, ref, external_id, first_row, first_ref in listed:
        first = f"{first_row} ({first_ref})" if first_ref else first_row
        report.error(
            row,
            "external_id",
            DUPLICATE_IN_FILE % {"id": external_id, "first": first},
            ref,
        )
    report.error_count += count - len(listed)
    unchanged, changed, clashing, clashes, changes = writer.existing()
    report.unchanged = unchanged
    for row, ref, external_id, *pair in changes:
        what = ", ".join(
            name
            for name, new, old in zip(
                ("task type", "work date", "units"), pair[:3], pair[5:], strict=True
            )
            if str(new) != str(old)
        )
        report.warn(
            row, "external_id", CHANGED_SINCE % {"id": external_id, "what": what}, ref
        )
    report.warning_count += changed - len(changes)
    workers = dict(
        Worker.objects.filter(pk__in={c[6] for c in clashes}).values_list(
            "pk", "employee_no"
        )
    )
    projects = dict(
        Project.objects.filter(pk__in={c[7] for c in clashes}).values_list("pk", "code")
    )
    for row, ref, external_id, *pair in clashes:
        report.error(
            row,
            "external_id",
            CLASH
            % {
                "id": external_id,
                "worker": workers.get(pair[3], "?"),
                "project": projects.get(pair[4], "?"),
            },
            ref,
        )
    report.error_count += clashing - len(clashes)
    report.errors.sort(key=lambda p: (p.row is not None, p.row or 0))


# Checking values


class _Lookups:
    """The park's reference data, loaded once before the file is read: while
    it streams, no query waits for an answer (the database is writing)."""

    def __init__(self, project: Project, default_task_type: TaskType | None):
        self.project = project
        self.park = project.park
        self.default = (project.pk, project.park_id)
        self.projects: dict[str, tuple[int, int]] = {}
        for pk, park_id, code, name in Project.objects.filter(
            park=self.park
        ).values_list("pk", "park_id", "code", "name"):
            for key in (code, code.lower(), _cell(name)):
                self.projects.setdefault(key, (pk, park_id))
        self.task_types: dict[str, int] = {}
        for pk, code, name in TaskType.objects.values_list("pk", "code", "name"):
            for key in (code, code.lower(), _cell(name)):
                self.task_types.setdefault(key, pk)
        self.default_task_type = default_task_type
        self.workers: dict[str, tuple[int, int]] = {
            no: (pk, park_id)
            for no, pk, park_id in Worker.objects.filter(park=self.park).values_list(
                "employee_no", "pk", "park_id"
            )
        }
        # Employee numbers not of this park, with the rows naming them: looked
        # up once the file is read (unknown, or of another park).
        self.elsewhere: dict[str, list[int]] = {}
        self.elsewhere_count: dict[str, int] = {}
        self.dates: dict[str, date | None] = {}
        self.accuracies: dict[str, Decimal | None] = {}

    def defer_worker(self, employee_no: str, row: int) -> None:
        if len(self.elsewhere) >= MAX_LISTED and employee_no not in self.elsewhere:
            employee_no = ""  # past the list: counted under the last name
        rows = self.elsewhere.setdefault(employee_no, [])
        self.elsewhere_count[employee_no] = self.elsewhere_count.get(employee_no, 0) + 1
        if len(rows) < MAX_LISTED:
            rows.append(row)

    def report_elsewhere(self, report: ImportReport) -> None:
        """Report the rows naming workers of no park or of another park."""
        # A number with a NUL character is no one's (the database holds none).
        numbers = [no for no in self.elsewhere if no and "\x00" not in no]
        found = dict(
            (no, park_id)
            for no, park_id in Worker.objects.filter(
                employee_no__in=numbers
            ).values_list("employee_no", "park_id")
        )
        for no, rows in self.elsewhere.items():
            if no in found:
                field_name = "project"
                message = work_record_errors(
                    worker_park_id=found[no],
                    project_park_id=self.park.pk,
                    units=None,
                    accuracy=None,
                )["project"]
            else:
                field_name = "employee_no"
                message = UNKNOWN_WORKER % {"value": no or "…"}
            for row in rows:
                report.error(row, field_name, message)
            report.error_count += self.elsewhere_count[no] - len(rows)

    def project_of(self, value: str):
        if not value:
            return self.default
        return self.projects.get(value) or self.projects.get(value.lower())

    def task_type_of(self, value: str):
        if not value:
            return self.default_task_type.pk if self.default_task_type else None
        return self.task_types.get(value) or self.task_types.get(value.lower())

    def date_of(self, value: str):
        try:
            return self.dates[value]
        except KeyError:
            parsed = _parse_date(value)
            if len(self.dates) < 100_000:
                self.dates[value] = parsed
            return parsed

    def accuracy_of(self, value: str):
        try:
            return self.accuracies[value]
        except KeyError:
            parsed = _parse_accuracy(value)
            if len(self.accuracies) < 100_000:
                self.accuracies[value] = parsed
            return parsed


def _parse_date(value: str) -> date | None:
    match = _DATE.match(value)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _parse_accuracy(value: str) -> Decimal | None:
    """A number with at most 2 decimal places (R2.1); ``%`` allowed. Its range
    is the shared rule's (``work_record_errors``)."""
    value = value.removesuffix("%").strip()
    if not _ACCURACY.match(value):
        return None
    return Decimal(value)


def _check_record(
    lookups: _Lookups,
    report: ImportReport,
    row: int,
    ref: str,
    bad: bool,
    worker: tuple[int, int] | None,
    project_value: str,
    task_type_value: str,
    work_date: date | None,
    units: int | None,
    accuracy: Decimal | None,
    external_id: str,
) -> tuple | None:
    """Apply the record rules, report each problem, and return the staged
    record when it is good. ``bad``: a problem of the row was reported (or
    will be: its worker) already."""
    project = lookups.project_of(project_value)
    if project is None:
        report.error(
            row,
            "project",
            UNKNOWN_PROJECT % {"project": project_value, "park": lookups.park.code},
            ref,
        )
        bad = True
    task_type_id = lookups.task_type_of(task_type_value)
    if task_type_id is None:
        message = (
            UNKNOWN_TASK_TYPE % {"value": task_type_value}
            if task_type_value
            else REQUIRED
        )
        report.error(row, "task_type", message, ref)
        bad = True
    if not external_id:
        report.error(row, "external_id", REQUIRED, ref)
        bad = True
    elif len(external_id) > 100:
        report.error(row, "external_id", TOO_LONG % {"max": 100}, ref)
        bad = True
    elif "\x00" in external_id:  # the database refuses it in text
        report.error(row, "external_id", NUL_CHARACTER, ref)
        bad = True
    # The rules of work_record_create; the park rule once both are known.
    both = worker is not None and project is not None
    problems = work_record_errors(
        worker_park_id=worker[1] if both else 0,
        project_park_id=project[1] if both else 0,
        units=units,
        accuracy=accuracy,
    )
    if problems:
        for name, message in problems.items():
            report.error(row, name, message, ref)
        return None
    if bad or work_date is None or units is None:
        return None
    return (
        row,
        ref.replace("\x00", "\ufffd"),  # a record's name in messages only
        worker[0],
        project[0],
        task_type_id,
        work_date,
        units,
        accuracy,
        external_id,
    )


def _csv_rows(text, lookups: _Lookups, report: ImportReport) -> Iterator[tuple]:
    """The ParkPay CSV; row numbers as a spreadsheet shows them (header = 1)."""
    first_line = text.readline()
    if not first_line.strip():
        raise ImportFileError(FILE_EMPTY)
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    header = next(csv.reader([first_line], delimiter=delimiter))
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        column = _HEADER_ALIASES.get(_header_key(name))
        if column is None:
            report.warn(1, name, _gettext("Unknown column, ignored."))
            continue
        if column in columns:
            raise ImportFileError(DUPLICATE_COLUMN % {"column": name})
        columns[column] = index
    missing = [c for c in CSV_REQUIRED if c not in columns]
    if missing:
        raise ImportFileError(
            MISSING_COLUMNS
            % {"columns": ", ".join(missing), "header": ", ".join(header)}
        )
    width = len(header)
    # Where each column is; a missing optional column reads as empty cells.
    spots = [columns.get(name, width) for name in CSV_COLUMNS]
    workers, blank = lookups.workers, [""]
    row = 1
    reader = csv.reader(text, delimiter=delimiter)
    while True:
        try:
            cells = next(reader, None)
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                NOT_TEXT % {"position": f"{exc.start} (row {row + 1})"}
            ) from exc
        except csv.Error as exc:
            raise ImportFileError(f"row {row + 1}: {exc}") from exc
        if cells is None:
            return
        row += 1
        if len(cells) != width:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > width:
                report.records += 1
                report.error(
                    row, "", TOO_MANY_CELLS % {"cells": len(cells), "columns": width}
                )
                continue
        report.records += 1
        padded = cells + blank * (width + 1 - len(cells))
        no, project, task_type, day, units, accuracy, external_id = (
            _cell(padded[i]) for i in spots
        )
        if not (no or task_type or day or units or external_id or project):
            report.records -= 1  # an empty line of commas
            continue
        bad = False
        worker = workers.get(no)
        if worker is None:
            if no:
                lookups.defer_worker(no, row)
            else:
                report.error(row, "employee_no", REQUIRED)
            bad = True
        work_date = None
        if not day:
            report.error(row, "work_date", REQUIRED)
            bad = True
        else:
            work_date = lookups.date_of(day)
            if work_date is None:
                report.error(row, "work_date", BAD_DATE % {"value": day})
                bad = True
        count = None
        if units.isdecimal() or (units[:1] == "-" and units[1:].isdecimal()):
            count = int(units)
        else:
            report.error(
                row, "units", BAD_UNITS % {"value": units} if units else REQUIRED
            )
            bad = True
        value = None
        if accuracy:
            value = lookups.accuracy_of(accuracy)
            if value is None:
                report.error(row, "accuracy", BAD_ACCURACY % {"value": accuracy})
                bad = True
        staged = _check_record(
            lookups,
            report,
            row,
            "",
            bad,
            worker,
            project,
            task_type,
            work_date,
            count,
            value,
            external_id,
        )
        if staged is not None:
            yield staged


def iter_json_array(text, *, max_item: int = MAX_JSON_ITEM_CHARS) -> Iterator:
    """Yield the items of a top-level JSON list one at a time, holding about
    one item of text at once (``json.JSONDecoder.raw_decode`` over a window
    that moves along the file). Errors name the line and column."""
    decoder = json.JSONDecoder()
    state = {"buf": "", "pos": 0, "eof": False, "lines": 0, "col0": 0}

    def more() -> bool:
        # Drop what was read, remembering its lines for error positions.
        if state["eof"]:
            return False
        chunk = text.read(1 << 16)
        if not chunk:
            state["eof"] = True
            return False
        buf, pos = state["buf"], state["pos"]
        dropped = buf[:pos]
        newlines = dropped.count("\n")
        if newlines:
            state["lines"] += newlines
            state["col0"] = len(dropped) - dropped.rfind("\n") - 1
        else:
            state["col0"] += len(dropped)
        state["buf"], state["pos"] = buf[pos:] + chunk, 0
        return True

    def fail(at: int, message: str):
        before = state["buf"][:at]
        newlines = before.count("\n")
        column = at - before.rfind("\n") if newlines else state["col0"] + at + 1
        raise ImportFileError(
            MALFORMED_JSON
            % {
                "line": state["lines"] + newlines + 1,
                "column": column,
                "error": message,
            }
        )

    def next_char() -> str | None:
        """Skip whitespace; the next character, or None at the end."""
        while True:
            buf, pos = state["buf"], state["pos"]
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            state["pos"] = pos
            if pos < len(buf):
                return buf[pos]
            if not more():
                return None

    first = next_char()
    if first is None:
        raise ImportFileError(FILE_EMPTY)
    if first != "[":
        start = state["buf"][state["pos"] : state["pos"] + 20]
        raise ImportFileError(NOT_A_LIST % {"start": repr(start)})
    state["pos"] += 1
    expect_item = True
    if next_char() == "]":
        expect_item = False
    while True:
        char = next_char()
        if char is None:
            fail(state["pos"], "the list is not closed with ]")
        if not expect_item:
            if char == "]":
                state["pos"] += 1
                if next_char() is not None:
                    fail(state["pos"], "extra data after the list")
                return
            if char != ",":
                fail(state["pos"], "expected , or ]")
            state["pos"] += 1
            if next_char() is None:
                fail(state["pos"], "the list is not closed with ]")
        while True:
            try:
                item, end = decoder.raw_decode(state["buf"], state["pos"])
            except json.JSONDecodeError as exc:
                if len(state["buf"]) - state["pos"] > max_item:
                    fail(state["pos"], "an entry is too large")
                if more():
                    continue
                fail(exc.pos, exc.msg)
            if end == len(state["buf"]) and more():
                continue  # a number may go on in the next chunk
            break
        state["pos"] = end
        expect_item = False
        yield item


def _labelstudio_rows(text, lookups: _Lookups, report) -> Iterator[tuple]:
    """One record per annotation of a Label Studio JSON export (docs/imports.md).

    The record number is the task's position in the file."""
    identities = _identities(IdentityTool.LABEL_STUDIO)
    tz = ZoneInfo(lookups.park.time_zone)
    park_code = lookups.park.code
    task_type_code = lookups.default_task_type.code if lookups.default_task_type else ""
    for number, task in enumerate(iter_json_array(text), start=1):
        if not isinstance(task, dict):
            report.records += 1
            report.error(number, "", NOT_AN_OBJECT)
            continue
        task_ref = f"task {task.get('id', '?')}"
        annotations = task.get("annotations")
        if not isinstance(annotations, list):
            report.records += 1
            report.error(number, "annotations", NO_ANNOTATIONS, task_ref)
            continue
        for annotation in annotations:
            report.records += 1
            if not isinstance(annotation, dict):
                report.error(number, "annotations", NOT_AN_OBJECT, task_ref)
                continue
            ref = f"{task_ref}, annotation {annotation.get('id', '?')}"
            if annotation.get("was_cancelled"):
                report.cancelled += 1
                continue
            staged = _labelstudio_record(
                lookups,
                report,
                identities,
                tz,
                number=number,
                ref=ref,
                annotation=annotation,
                park_code=park_code,
                task_type_code=task_type_code,
            )
            if staged is not None:
                yield staged


def _labelstudio_record(
    lookups,
    report,
    identities,
    tz,
    *,
    number,
    ref,
    annotation,
    park_code,
    task_type_code,
):
    annotation_id = annotation.get("id")
    if annotation_id is None or isinstance(annotation_id, dict | list):
        report.error(number, "id", NO_ID, ref)
        return None
    worker, who = _annotator(annotation.get("completed_by"), identities)
    if who is None:
        report.error(number, "completed_by", BAD_ANNOTATOR, ref)
        return None
    bad = False
    if worker is None:
        report.error(
            number,
            "completed_by",
            UNKNOWN_ANNOTATOR % {"tool": "Label Studio", "user": who},
            ref,
        )
        bad = True
    result = annotation.get("result") or []
    if not isinstance(result, list):
        report.error(number, "result", BAD_RESULT, ref)
        return None
    work_date = None
    stamp = annotation.get("created_at") or annotation.get("updated_at")
    if not stamp:
        report.error(number, "created_at", NO_TIMESTAMP, ref)
        bad = True
    else:
        moment = _parse_timestamp(stamp)
        if moment is None:
            report.error(number, "created_at", BAD_TIMESTAMP % {"value": stamp}, ref)
            bad = True
        else:
            work_date = moment.astimezone(tz).date()
    return _check_record(
        lookups,
        report,
        number,
        ref,
        bad,
        worker,
        "",
        task_type_code,
        work_date,
        region_count(result),
        None,
        f"{park_code}:{annotation_id}",
    )


def region_count(result: list) -> int:
    """Units of a Label Studio annotation: its regions, at least 1.

    Result items of one region share an ``id`` (a box and its label, or its
    transcription); relations between regions are not regions."""
    regions = set()
    loose = 0
    for item in result:
        if not isinstance(item, dict) or item.get("type") == "relation":
            continue
        region = item.get("id")
        if region is None:
            loose += 1
        else:
            regions.add(str(region))
    return max(1, len(regions) + loose)


def _identities(tool: str) -> dict[str, tuple[int, int]]:
    return {
        user: (worker_id, park_id)
        for user, worker_id, park_id in WorkerIdentity.objects.filter(
            tool=tool
        ).values_list("external_user", "worker_id", "worker__park_id")
    }


def _annotator(value, identities) -> tuple[tuple[int, int] | None, str | None]:
    """The worker of a tool user given as an id, a name, or an object with
    ``email``/``id``/``username``; and how to name that user in a message."""
    if isinstance(value, bool) or value is None:
        return None, None
    if isinstance(value, int | str):
        key = normalise_external_user(value)
        return identities.get(key), key
    if isinstance(value, dict):
        keys = [
            normalise_external_user(value[k])
            for k in ("email", "id", "username")
            if isinstance(value.get(k), int | str)
            and not isinstance(value.get(k), bool)
            and str(value[k]).strip()
        ]
        if not keys:
            return None, None
        for key in keys:
            if key in identities:
                return identities[key], key
        return None, " / ".join(keys)
    return None, None


def _parse_timestamp(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:  # Label Studio writes UTC
        moment = moment.replace(tzinfo=UTC)
    return moment


# CVAT quality reports


def _import_cvat(file, project: Project, report: ImportReport, *, dry_run: bool):
    encoding, _is_gb = _detect_encoding(file)
    with _Text(file, encoding) as text:
        try:
            data = json.load(text)
        except json.JSONDecodeError as exc:
            raise ImportFileError(
                MALFORMED_JSON
                % {"line": exc.lineno, "column": exc.colno, "error": exc.msg}
            ) from exc
        except UnicodeDecodeError as exc:
            raise ImportFileError(NOT_TEXT % {"position": exc.start}) from exc
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]  # a page of CVAT's report list
    reports = data if isinstance(data, list) else [data]
    if not reports:
        raise ImportFileError(NO_REPORTS)
    identities = _identities(IdentityTool.CVAT)
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
    job = entry.get("job_id")
    ref = f"job {job}"
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
            number, "summary.accuracy", BAD_CVAT_ACCURACY % {"value": raw}, ref
        )
        return None
    assignee, who = _annotator(entry.get("assignee"), identities)
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
