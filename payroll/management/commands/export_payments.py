"""R17.2: write an export of an approved or paid period to a file.

    manage.py export_payments PERIOD_ID --kind bank|iit|si|personnel \
        --format xlsx|csv [--output FILE]

Exits non-zero, listing the workers at fault, when identity or bank data is
missing or invalid."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from payroll import exports
from payroll.models import PayPeriod


class Command(BaseCommand):
    help = "Export an approved period's bank, tax, social insurance or personnel file."

    def add_arguments(self, parser):
        parser.add_argument("period_id", type=int)
        parser.add_argument("--kind", choices=exports.KINDS, required=True)
        parser.add_argument("--format", choices=exports.FORMATS, default="xlsx")
        parser.add_argument("--output", help="the file to write (default: its name)")

    def handle(self, *args, period_id, kind, format, output, **options):
        period = PayPeriod.objects.select_related("park").filter(pk=period_id).first()
        if period is None:
            raise CommandError(f"no pay period {period_id}")
        try:
            filename, content, _type = exports.period_export(
                period=period, kind=kind, fmt=format, actor=None
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        path = Path(output or filename)
        path.write_bytes(content)
        self.stdout.write(str(path))
