"""The audit trail: who changed what, when.

The bottom layer of ParkPay: every other app records here, this app imports
none of them. The park is referred to by its app label only.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Who changed what, when: rates, adjustments, periods, payslips (DESIGN)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    park = models.ForeignKey(
        "workforce.Park", on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=50)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        # The table payroll created: the model moved, its rows stayed.
        db_table = "payroll_auditevent"
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_id}"
