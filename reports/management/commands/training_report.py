"""Write training progress reports (R15.3) as PDFs to a folder."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from payroll.management.commands.payslips import file_progress
from reports import training, training_pdf
from workforce.models import Park


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"date must look like 2026-03-31, got {value!r}") from exc


def parse_cohort(value: str) -> str:
    try:
        year, month = value.split("-")
        return f"{date(int(year), int(month), 1):%Y-%m}"
    except ValueError as exc:
        raise CommandError(f"cohort must look like 2026-03, got {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Write the training progress report (cohorts, who is close, every "
        "trainee's weekly curves) of each park, or one park, as PDF."
    )

    def add_arguments(self, parser):
        parser.add_argument("--park", help="park code (default: every park)")
        parser.add_argument("--cohort", help="only trainees hired in YYYY-MM")
        parser.add_argument(
            "--date", help="report as of YYYY-MM-DD (default: today in the park)"
        )
        parser.add_argument(
            "--out", default="out", help="folder to write to (default: ./out/)"
        )

    def handle(self, *args, park=None, cohort=None, date=None, out, **options):
        parks = Park.objects.all()
        if park:
            parks = parks.filter(code=park)
            if not parks:
                raise CommandError(f"no park with code {park!r}")
        cohort = parse_cohort(cohort) if cohort else None
        as_of = parse_day(date) if date else None
        folder = Path(out).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        parks = list(parks)
        written = []
        for index, p in enumerate(parks, start=1):
            report = training.training_report(park=p, as_of=as_of, cohort=cohort)
            suffix = f"-{cohort}" if cohort else ""
            target = folder / f"{p.code}-training-{report.as_of:%Y-%m-%d}{suffix}.pdf"
            target.write_bytes(training_pdf.render_training_report(report))
            written.append((target, report))
            if len(parks) > 1:
                file_progress(index, len(parks), stream=self.stdout)
        if len(parks) > 1:
            self.stdout.write("\n")
        for target, report in written:
            self.stdout.write(
                f"{report.park_code}: {len(report.trainees)} trainees, "
                f"{len(report.in_training)} in training, {len(report.close)} close "
                f"→ {target}"
            )
