"""The one place payroll's services queue Celery work.

Services name a task and its arguments; the task is queued when the current
transaction commits, looked up by name in the Celery app. The tasks
(``payroll.tasks``) call the services, never the other way round: the task
modules are imported when the app is ready (``payroll.apps``), so an eager
Celery (no Redis) runs them in-process.
"""

from celery import current_app
from django.db import transaction

CALCULATE_PERIOD = "payroll.calculate_period"
RENDER_PERIOD_PAYSLIPS = "payroll.render_period_payslips"
RENDER_PAYSLIP_BUNDLE = "payroll.render_payslip_bundle"


def enqueue_on_commit(name: str, *args) -> None:
    """Queue the task ``name`` with ``args`` once the transaction commits."""
    signature = current_app.signature(name, args=args)
    transaction.on_commit(signature.delay)
