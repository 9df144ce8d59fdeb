"""Reads of the audit trail: the director's audit page."""

from collections.abc import Iterable

from django.db.models import QuerySet

from audit.models import AuditEvent


def audit_list(
    *, user, roles: Iterable[str], park_ids: Iterable[int]
) -> QuerySet[AuditEvent]:
    """The events a reader may see: everything for a superuser, their parks'
    events for a director (``roles`` and ``park_ids`` are the reader's, as the
    workforce knows them), nothing for anyone else."""
    if not (user.is_superuser or "director" in roles):
        return AuditEvent.objects.none()
    qs = AuditEvent.objects.select_related("actor", "park")
    if user.is_superuser:
        return qs
    return qs.filter(park_id__in=list(park_ids))


def object_events(*, obj, actions: Iterable[str]) -> QuerySet[AuditEvent]:
    """The events of ``actions`` about one object, newest first. The caller
    has checked that the reader may see the object."""
    return (
        AuditEvent.objects.filter(
            object_type=obj._meta.model_name,
            object_id=str(obj.pk),
            action__in=list(actions),
        )
        .select_related("actor")
        .order_by("-at", "-id")
    )
