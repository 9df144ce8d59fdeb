from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from payroll import certificates, periods
from payroll.calculation import month_bounds
from payroll.models import IncomeCertificate, PayPeriod, PeriodStatus, WorkRecord
from workforce.models import Park, Worker


class Command(BaseCommand):
    help = (
        "Calculate and approve every completed month of the demo data, mark "
        "all but the latest approved month paid, calculate the current month, "
        "and issue the demo worker a certificate of income over her paid "
        "months, so the pages have payslips and a certificate to show."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--leave-last-month",
            action="store_true",
            help="Calculate last month but leave it for a director to approve.",
        )

    def handle(self, *args, **options):
        this_month = timezone.localdate().replace(day=1)
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        keep = last_month if options["leave_last_month"] else None
        for park in Park.objects.all():
            first = (
                WorkRecord.objects.filter(worker__park=park)
                .order_by("work_date")
                .values_list("work_date", flat=True)
                .first()
            )
            if first is None:
                continue
            month = first.replace(day=1)
            while month <= this_month:
                period = periods.period_get_or_create(park=park, month=month)
                if not period.locked:
                    run = periods.payroll_run_start(period=period)
                    run = periods.wait_for_run(run)
                    period.refresh_from_db()
                    count = run.summary.get("payslips")
                    line = f"{park.code} {month:%Y-%m}: {count} payslips"
                    if month < this_month and month != keep and not run.error_count:
                        periods.period_approve(period=period, actor=None)
                        line += ", approved"
                    elif run.error_count:
                        line += f", {run.error_count} errors"
                    self.stdout.write(line)
                else:
                    self.stdout.write(f"{park.code} {month:%Y-%m}: {period.status}")
                month = month_bounds(month)[1]
            self._pay_earlier_months(park)
        self._certificate()
        self.stdout.write(self.style.SUCCESS("Demo payroll ready."))

    def _pay_earlier_months(self, park):
        """The months before the latest approved one have been paid."""
        approved = list(
            PayPeriod.objects.filter(park=park, status=PeriodStatus.APPROVED).order_by(
                "month"
            )
        )
        for period in approved[:-1]:
            periods.period_mark_paid(period=period, actor=None)
            self.stdout.write(f"{park.code} {period.month:%Y-%m}: paid")

    def _certificate(self):
        """One certificate of income for the demo worker, once."""
        worker = Worker.objects.filter(user__username="worker").first()
        if worker is None or IncomeCertificate.objects.filter(worker=worker).exists():
            return
        months = list(
            worker.payslips.filter(period__status=PeriodStatus.PAID)
            .order_by("period__month")
            .values_list("period__month", flat=True)
        )
        if not months:
            return
        cert = certificates.certificate_issue(
            worker=worker, span_start=months[0], span_end=months[-1], actor=None
        )
        self.stdout.write(
            f"Income certificate of {worker.employee_no}: "
            f"/verify/{cert.code}/ ({cert.span_start:%Y-%m} to {cert.span_end:%Y-%m})"
        )
