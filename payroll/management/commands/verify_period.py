import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from payroll.backup import NOT_AN_EXPORT, period_export_verify


class Command(BaseCommand):
    help = (
        "Check an export_period file: its checksum, and every payslip recomputed "
        "from the file's inputs alone, to the fen. Exits non-zero on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a file written by export_period")

    def handle(self, *args, file, **options):
        try:
            document = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(NOT_AN_EXPORT.format(reason=exc)) from exc
        result = period_export_verify(document=document)
        for problem in result.problems:
            self.stdout.write(problem)
        if result.checksum_ok:
            self.stdout.write("checksum OK")
        for mismatch in result.mismatches:
            self.stdout.write(f"MISMATCH {mismatch}")
        summary = (
            f"{result.park} {result.month}: {result.payslips} payslips, "
            f"{len(result.mismatches)} mismatches"
        )
        if not result.ok:
            raise CommandError(f"verification failed: {summary}")
        self.stdout.write(f"OK: {summary}; every payslip recomputed to the fen")
