"""Write a month's payslip PDFs (R14) to a folder."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from payroll import pdf
from payroll.management.commands.run_payroll import parse_month
from payroll.models import Payslip
from payroll.payslip_files import payslips_with_lines
from workforce.models import Park, Worker

NO_PAYSLIPS = (
    "No payslips for {month}{where}: calculate the month first "
    "(manage.py run_payroll {month})."
)


def file_progress(done: int, total: int, *, width: int = 30, stream=sys.stdout):
    """A one-line progress bar, redrawn in place."""
    filled = int(width * done / total) if total else width
    stream.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
    stream.flush()


class Command(BaseCommand):
    help = (
        "Write the payslip PDFs of a month (all parks, one park or one worker) "
        "to a folder, and optionally each park's bundle of all its payslips."
    )

    def add_arguments(self, parser):
        parser.add_argument("month", help="YYYY-MM")
        parser.add_argument("--park", help="park code (default: every park)")
        parser.add_argument("--worker", help="employee number of one worker")
        parser.add_argument(
            "--out", default="out", help="folder to write to (default: ./out/)"
        )
        parser.add_argument(
            "--bundle",
            action="store_true",
            help="also write one PDF per park with all its payslips",
        )

    def handle(self, *args, month, park=None, worker=None, out, bundle, **options):
        first = parse_month(month)
        payslips = Payslip.objects.filter(period__month=first)
        where = ""
        if park:
            if not Park.objects.filter(code=park).exists():
                raise CommandError(f"no park with code {park!r}")
            payslips = payslips.filter(period__park__code=park)
            where += f" in park {park}"
        if worker:
            if not Worker.objects.filter(employee_no=worker).exists():
                raise CommandError(f"no worker with employee number {worker!r}")
            payslips = payslips.filter(worker__employee_no=worker)
            where += f" for worker {worker}"
        payslips = payslips.order_by("period__park__code", "worker__employee_no")
        total = payslips.count()
        if not total:
            raise CommandError(NO_PAYSLIPS.format(month=f"{first:%Y-%m}", where=where))

        folder = Path(out).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        show_bar = total > 1
        written = 0
        for payslip, lines in payslips_with_lines(payslips):
            (folder / f"{payslip.number}.pdf").write_bytes(
                pdf.render_payslip(payslip, lines)
            )
            written += 1
            if show_bar and (written % 10 == 0 or written == total):
                file_progress(written, total, stream=self.stdout)
        if show_bar:
            self.stdout.write("\n")
        self.stdout.write(f"{written} payslip PDF(s) written to {folder}")

        if bundle:
            for code in sorted(
                set(payslips.values_list("period__park__code", flat=True))
            ):
                target = folder / f"payslips-{code}-{first:%Y-%m}.pdf"
                with target.open("wb") as stream:
                    pages = pdf.render_bundle(
                        payslips_with_lines(payslips.filter(period__park__code=code)),
                        stream,
                        title=f"工资条 Payslips {code} {first:%Y-%m}",
                    )
                self.stdout.write(f"bundle of {pages} page(s): {target}")
