"""R17.1: a worker enters her resident ID number and bank account herself; the
park's director or payroll officer confirms or rejects the entry.

Until confirmed, the entry stays in ``IdentityChange`` (encrypted like the
worker's own fields) and nothing reads it but the confirmation page: the
exports read only the worker's confirmed data. It is checked as the worker's
own fields are (GB 11643 check digit, birth date in the birth year on record,
account number of digits) both when entered and when confirmed. The audit
trail records who entered, confirmed or rejected which fields, never a value.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from workforce import identity
from workforce.identity import IDENTITY_FIELDS
from workforce.models import IdentityChange, IdentityChangeStatus, Worker
from workforce.selectors import user_park_ids, user_roles
from workforce.services import worker_set_identity

CONFIRM_ROLES = {"director", "payroll_officer"}

NOTHING_ENTERED = _("Enter at least one of the fields.")
ONLY_YOURSELF = _("You can only enter your own data.")
CONFIRM_STAFF_ONLY = _(
    "Only the park's director or payroll officer can confirm or reject."
)
NOT_PENDING = _("This entry has already been decided.")
REJECT_REASON = _("Give the reason for rejecting the entry.")


def _may_decide(actor, worker: Worker) -> bool:
    if actor is None:
        return True
    if not actor.is_authenticated:
        return False
    if actor.is_superuser:
        return True
    return bool(user_roles(actor) & CONFIRM_ROLES) and worker.park_id in (
        user_park_ids(actor)
    )


def _checked(worker: Worker, values: dict) -> dict:
    """The entered values normalised, or a ValidationError by field."""
    cleaned = {
        # Typed in groups on a phone: the spaces go.
        "resident_id": identity.normalize_resident_id(
            re.sub(r"\s", "", values.get("resident_id") or "")
        ),
        "bank_name": (values.get("bank_name") or "").strip(),
        "bank_account": identity.normalize_account(values.get("bank_account")),
        "account_holder": (values.get("account_holder") or "").strip(),
    }
    errors = {}
    if cleaned["resident_id"]:
        try:
            identity.validate_resident_id(cleaned["resident_id"], worker.birth_year)
        except ValidationError as exc:
            errors["resident_id"] = exc
    if cleaned["bank_account"]:
        try:
            identity.validate_account(cleaned["bank_account"])
        except ValidationError as exc:
            errors["bank_account"] = exc
    if errors:
        raise ValidationError(errors)
    if not any(cleaned.values()):
        raise ValidationError(NOTHING_ENTERED)
    return cleaned


@transaction.atomic
def identity_change_submit(*, worker: Worker, actor, **values) -> IdentityChange:
    """The worker's own entry, waiting for confirmation; an earlier entry
    still waiting is replaced. Audited with the fields entered."""
    unknown = set(values) - set(IDENTITY_FIELDS)
    if unknown:
        raise TypeError(f"not identity fields: {sorted(unknown)}")
    if actor is not None and worker.user_id != getattr(actor, "pk", None):
        raise PermissionDenied(ONLY_YOURSELF)
    cleaned = _checked(worker, values)
    worker = Worker.objects.select_for_update().get(pk=worker.pk)
    replaced = IdentityChange.objects.filter(
        worker=worker, status=IdentityChangeStatus.PENDING
    ).update(status=IdentityChangeStatus.REPLACED, decided_at=timezone.now())
    change = IdentityChange(worker=worker, submitted_at=timezone.now(), **cleaned)
    change.full_clean()
    change.save()
    audit_record(
        actor=actor,
        park=worker.park,
        action="identity_change.submit",
        obj=change,
        after={"fields": change.fields_given(), "replaced": replaced},
    )
    return change


def _pending(change: IdentityChange) -> IdentityChange:
    change = (
        IdentityChange.objects.select_for_update()
        .select_related("worker__park")
        .get(pk=change.pk)
    )
    if change.status != IdentityChangeStatus.PENDING:
        raise ValidationError(NOT_PENDING)
    return change


@transaction.atomic
def identity_change_confirm(*, change: IdentityChange, actor) -> list[str]:
    """Copy the entry to the worker (checked again, as any change of her
    data is); returns the fields that changed. Audited without values."""
    change = _pending(change)
    if not _may_decide(actor, change.worker):
        raise PermissionDenied(CONFIRM_STAFF_ONLY)
    values = {name: getattr(change, name) for name in change.fields_given()}
    changed = worker_set_identity(worker=change.worker, actor=actor, **values)
    change.status = IdentityChangeStatus.CONFIRMED
    change.decided_at = timezone.now()
    change.decided_by = actor if getattr(actor, "pk", None) else None
    change.save(update_fields=["status", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        park=change.worker.park,
        action="identity_change.confirm",
        obj=change,
        after={"fields": change.fields_given(), "changed": changed},
    )
    return changed


@transaction.atomic
def identity_change_reject(
    *, change: IdentityChange, actor, reason: str
) -> IdentityChange:
    change = _pending(change)
    if not _may_decide(actor, change.worker):
        raise PermissionDenied(CONFIRM_STAFF_ONLY)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REJECT_REASON})
    change.status = IdentityChangeStatus.REJECTED
    change.decided_at = timezone.now()
    change.decided_by = actor if getattr(actor, "pk", None) else None
    change.reason = reason[:200]
    change.save(update_fields=["status", "decided_at", "decided_by", "reason"])
    audit_record(
        actor=actor,
        park=change.worker.park,
        action="identity_change.reject",
        obj=change,
        after={"fields": change.fields_given(), "reason": change.reason},
    )
    return change
