from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayrollConfig(AppConfig):
    name = "payroll"
    verbose_name = _("Payroll")

    def ready(self) -> None:
        # The task modules register the tasks that services queue by name
        # (payroll.queue); the signals connect payroll to workforce's models.
        from payroll import signals, tasks  # noqa: F401

        signals.connect()
