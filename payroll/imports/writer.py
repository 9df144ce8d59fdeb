"""The batch writer: staged records into work records, in one transaction,
and the checks that need the whole file."""

from __future__ import annotations

import contextlib

from django.db import connection, transaction
from django.utils import timezone

from payroll.imports.report import (
    CHANGED_SINCE,
    CLASH,
    DUPLICATE_IN_FILE,
    MAX_LISTED,
    ImportReport,
)
from payroll.models import (
    Project,
    WorkRecord,
)
from workforce.models import Worker


class Writer:
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

    def __init__(self, *, park_id: int, source: str, dry_run: bool):
        self.park_id, self.source, self.dry_run = park_id, source, dry_run
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
            f"INSERT INTO {self.record} (park_id, worker_id, project_id, "
            f"task_type_id, work_date, units, accuracy, source, external_id, "
            f"created_at) "
            f"SELECT %s, worker_id, project_id, task_type_id, work_date, units, "
            f"accuracy, %s, external_id, %s FROM {self.NAME} "
            f"WHERE seq BETWEEN %s AND %s ORDER BY seq"
        )
        self.insert_sql = (
            f"{insert} ON CONFLICT (park_id, source, external_id) DO NOTHING"
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
        params = [self.park_id, self.source, self.now, *self.span]
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
                f"WHERE created_at = %s AND park_id = %s AND source = %s",
                [self.now, self.park_id, self.source],
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
        """Staged records whose (source, external id) was stored in the park
        before this import: how many are the same worker's work on the same
        project (they are skipped), how many of those differ otherwise, how
        many belong to someone else; and the first of the last two kinds."""
        join = (
            f"FROM {self.NAME} s JOIN {self.record} w "
            f"ON w.park_id = %s AND w.source = %s AND w.external_id = s.external_id "
            f"WHERE w.created_at <> %s "
        )
        params = [self.park_id, self.source, self.now]
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


def check_stage(writer: Writer, report: ImportReport) -> None:
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


def finish_import(writer: Writer, report: ImportReport, *, dry_run: bool) -> None:
    """The end of every file's import, inside its transaction: the whole-file
    checks, the count of new records, and all or nothing (a report with an
    error, or a dry run, rolls the transaction back)."""
    writer.finish()
    check_stage(writer, report)
    if report.ok:
        report.created = (
            writer.count - report.unchanged if dry_run else writer.created()
        )
    writer.drop()
    if not report.ok or dry_run:
        transaction.set_rollback(True)
