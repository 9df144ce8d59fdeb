"""python manage.py import_work FILE --format FORMAT --project CODE [--dry-run]"""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from payroll import imports
from payroll.models import TaskType


class Command(BaseCommand):
    help = (
        "Import completed work from a file, all-or-nothing (docs/imports.md): "
        "a ParkPay CSV, a Label Studio JSON export or a CVAT quality report."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the file to import.")
        parser.add_argument("--format", required=True, choices=imports.FORMATS)
        parser.add_argument(
            "--project",
            required=True,
            help="Code of the project (of rows that name none, for CSV).",
        )
        parser.add_argument(
            "--park", help="Code of the park, when the project code is not unique."
        )
        parser.add_argument(
            "--task-type",
            help="Code of the task type of Label Studio annotations (default: "
            "the project's only task type) or of CSV rows that name none.",
        )
        parser.add_argument(
            "--skip-unmatched",
            action="store_true",
            help="Import the rest when a record names no worker of the park "
            "(an unmapped or deleted annotator, an unknown employee number); "
            "the skipped records are listed. By default nothing is imported.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report; write nothing.",
        )

    def handle(self, *args, file, format, project, park, task_type, dry_run, **options):
        try:
            target = imports.resolve_project(code=project, park_code=park)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        kind = None
        if task_type:
            kind = TaskType.objects.filter(code=task_type).first()
            if kind is None:
                raise CommandError(
                    str(imports.UNKNOWN_TASK_TYPE % {"value": task_type})
                )
        try:
            handle = open(file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from exc
        with handle:
            report = imports.import_work(
                file=handle,
                fmt=format,
                project=target,
                task_type=kind,
                dry_run=dry_run,
                progress=self._progress,
                skip_unmatched=options.get("skip_unmatched", False),
            )
        if self._shown:
            sys.stderr.write("\n")
        self._print(report)
        if not report.ok:
            raise CommandError(
                f"{report.error_count} problem(s): nothing was imported."
            )

    _shown = False

    def _progress(self, records: int) -> None:
        if records:
            self._shown = True
            sys.stderr.write(f"\rread {records:,} records…")
            sys.stderr.flush()

    def _print(self, report: imports.ImportReport) -> None:
        for problem in report.errors:
            self.stderr.write(self._line(problem, report.format))
        if report.error_count > len(report.errors):
            self.stderr.write(
                f"… and {report.error_count - len(report.errors)} more problem(s)"
            )
        for problem in report.warnings:
            self.stdout.write("warning: " + self._line(problem, report.format))
        for problem in report.skipped:
            self.stdout.write("skipped: " + self._line(problem, report.format))
        verb = "would create" if report.dry_run else "created"
        summary = (
            f"{report.format} into {report.park}/{report.project}: "
            f"{report.records} record(s) read, {verb} {report.created}, "
            f"already imported {report.unchanged}"
        )
        if report.format == "cvat-quality":
            verb = "would update" if report.dry_run else "updated"
            summary = (
                f"{report.format} into {report.park}/{report.project}: "
                f"{report.records} report(s) read, {verb} the accuracy of "
                f"{report.updated} record(s), {report.unchanged} unchanged"
            )
        if report.cancelled:
            summary += f", {report.cancelled} cancelled annotation(s) skipped"
        if report.ground_truth:
            summary += f", {report.ground_truth} ground-truth annotation(s) not paid"
        if report.rejected:
            summary += f", {report.rejected} rejected in review (paid x0.00)"
        if report.predicted_units:
            summary += (
                f", {report.predicted_units} pre-annotated unit(s) accepted unchanged"
            )
        if report.skipped_count:
            summary += f", {report.skipped_count} record(s) skipped"
        if not report.ok:
            summary += ". Nothing was written."
        elif report.dry_run:
            summary += " (dry run: nothing was written)."
        self.stdout.write(summary)

    @staticmethod
    def _line(problem, fmt: str) -> str:
        unit = "row" if fmt == "csv" else "record"
        where = "file" if problem.row is None else f"{unit} {problem.row}"
        if problem.ref:
            where += f" ({problem.ref})"
        if problem.field:
            where += f", {problem.field}"
        return f"{where}: {problem.message}"
