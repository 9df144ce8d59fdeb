import sys
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from payroll import periods
from payroll.models import RunStatus
from workforce.models import Park


def parse_month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise CommandError(f"month must look like 2026-03, got {value!r}") from exc


def progress_bar(run, *, width: int = 30, stream=sys.stdout) -> None:
    done, total = run.workers_done, run.workers_total or 1
    filled = int(width * done / total)
    stream.write(
        f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{run.workers_total} "
        f"workers  {run.status:<8}"
    )
    stream.flush()


class Command(BaseCommand):
    help = "Calculate a month's payroll (R1–R14) for one park or all parks."

    def add_arguments(self, parser):
        parser.add_argument("month", help="YYYY-MM")
        parser.add_argument("--park", help="park code (default: every park)")
        parser.add_argument("--approve", action="store_true", help="approve afterwards")

    def handle(self, *args, month, park=None, approve=False, **options):
        first = parse_month(month)
        parks = Park.objects.all()
        if park:
            parks = parks.filter(code=park)
            if not parks:
                raise CommandError(f"no park with code {park!r}")
        failed = False
        for p in parks:
            period = periods.period_get_or_create(park=p, month=first)
            self.stdout.write(f"{p.code} {first:%Y-%m}: calculating")
            try:
                run = periods.payroll_run_start(period=period)
            except ValidationError as exc:
                raise CommandError(exc.messages[0]) from exc
            via = "in-process" if settings.CELERY_TASK_ALWAYS_EAGER else "broker"
            run = periods.wait_for_run(
                run, progress=lambda r: progress_bar(r, stream=self.stdout)
            )
            self.stdout.write("\n")
            self.print_summary(run, via)
            if run.status != RunStatus.DONE:
                failed = True
                continue
            if approve and not run.error_count:
                periods.period_approve(period=period, actor=None)
                self.stdout.write(f"  approved {period}")
        if failed:
            raise CommandError("some runs did not finish")

    def print_summary(self, run, via: str) -> None:
        s = run.summary or {}
        self.stdout.write(
            f"  run #{run.pk} {run.status} ({via}): workers {s.get('workers', 0)}, "
            f"payslips {s.get('payslips', 0)}, gross {s.get('gross', '0.00')}, "
            f"top-ups {s.get('topups', '0.00')}, tax {s.get('tax', '0.00')}, "
            f"net {s.get('net', '0.00')}, errors {run.error_count}"
        )
        for error in run.errors[:20]:
            self.stdout.write(
                f"    {error['code']}: {error['employee_no']} {error['project']}/"
                f"{error['task_type']} on {error['date']}"
            )
        if run.message:
            self.stdout.write(f"  {run.message}")
