from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from payroll.backup import export_dumps, period_export
from payroll.management.commands.run_payroll import parse_month
from payroll.models import PayPeriod


class Command(BaseCommand):
    help = (
        "Write a calculated period's payslips, lines and every input of their "
        "calculation as JSON with a SHA-256 checksum (check it with verify_period)."
    )

    def add_arguments(self, parser):
        parser.add_argument("month", help="YYYY-MM")
        parser.add_argument(
            "--park", help="park code (needed when several parks have the month)"
        )
        parser.add_argument("--out", help="file to write (default: standard output)")

    def handle(self, *args, month, park=None, out=None, **options):
        first = parse_month(month)
        candidates = PayPeriod.objects.filter(month=first).select_related("park")
        if park:
            candidates = candidates.filter(park__code=park)
        found = list(candidates.order_by("park__code"))
        if not found:
            where = f" of park {park!r}" if park else ""
            raise CommandError(f"no pay period {first:%Y-%m}{where}")
        if len(found) > 1:
            codes = ", ".join(p.park.code for p in found)
            raise CommandError(
                f"several parks have {first:%Y-%m} ({codes}); choose one with --park"
            )
        period = found[0]
        try:
            document = period_export(period=period)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        text = export_dumps(document)
        count = len(document["content"]["payslips"])
        checksum = document["checksum"]["value"]
        if out is None:
            self.stdout.write(text, ending="")
            return
        Path(out).write_text(text, encoding="utf-8")
        self.stdout.write(
            f"{period}: {count} payslips written to {out} (sha256 {checksum})"
        )
