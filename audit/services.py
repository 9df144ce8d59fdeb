"""The one write of the audit trail."""

from datetime import date
from decimal import Decimal

from audit.models import AuditEvent


def _jsonable(value):
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def audit_record(
    *, actor, park, action: str, obj, before=None, after=None
) -> AuditEvent:
    """Keep who changed what and when (DESIGN: roles and data protection)."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        park=park,
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        before={k: _jsonable(v) for k, v in before.items()} if before else None,
        after={k: _jsonable(v) for k, v in after.items()} if after else None,
    )
