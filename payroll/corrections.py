"""Voiding and correcting work records (R13.5).

A record of an open month is changed (or deleted, when voided) and the change
audited. A record of an approved or paid month is never touched: a
``WorkCorrection`` is made instead, booked in the first open month, whose
calculation pays the difference on a line "correction of YYYY-MM", priced at
the record's own date, tier and skill level like late work (R13.3).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from payroll.models import ACCURACY_RANGE, CorrectionKind, WorkCorrection, WorkRecord
from payroll.periods import STAFF_ONLY, _require_park_role
from workforce import bounds
from workforce.closing import closed_through

REASON_REQUIRED = _("Give a reason for the correction.")
ALREADY_VOIDED = _("This work record has been voided already.")
NOTHING_TO_CORRECT = _(
    "Give new units or a new accuracy that differ from the record's."
)
PAY_STAFF = {"director", "payroll_officer"}


def record_figures(record: WorkRecord) -> tuple[int, Decimal | None, bool]:
    """The record's (units, accuracy, voided) after its corrections."""
    # all(): a page listing many records prefetches their corrections.
    found = sorted(record.corrections.all(), key=lambda c: (c.created_at, c.id))
    last = found[-1] if found else None
    if last is None:
        return record.units, record.accuracy, False
    return last.new_units, last.new_accuracy, last.kind == CorrectionKind.VOID


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    return reason


def _frozen_month(record: WorkRecord):
    """The first open month when the record's month is closed, else None
    (the park row stays locked until the transaction ends)."""
    last = closed_through(record.worker.park, lock=True)
    if last is None or record.work_date > last:
        return None
    return (last + timedelta(days=1)).replace(day=1)


def _before(record: WorkRecord) -> dict:
    return {
        "worker": record.worker.employee_no,
        "work_date": record.work_date,
        "units": record.units,
        "accuracy": record.accuracy,
        "external_id": record.external_id,
    }


def _book(
    *, record, kind, units, accuracy, new_units, new_accuracy, reason, actor, month
) -> WorkCorrection:
    correction = WorkCorrection(
        record=record,
        kind=kind,
        old_units=units,
        new_units=new_units,
        old_accuracy=accuracy,
        new_accuracy=new_accuracy,
        reason=reason,
        booked_month=month,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    correction.full_clean()
    correction.save()
    audit_record(
        actor=actor,
        park=record.worker.park,
        action=f"work_record.correction.{kind}",
        obj=record,
        before={"units": units, "accuracy": accuracy},
        after={
            "units": new_units,
            "accuracy": new_accuracy,
            "reason": reason,
            "booked_month": f"{month:%Y-%m}",
            "correction": correction.pk,
        },
    )
    return correction


@transaction.atomic
def work_record_void(*, record: WorkRecord, reason: str, actor):
    """Void a wrong record. In an open month it is deleted (audited, with the
    reason); in a closed one a void correction is booked (R13.5). Returns the
    correction, or None when the record was deleted."""
    record = WorkRecord.objects.select_related("worker__park").get(pk=record.pk)
    park = record.worker.park
    _require_park_role(actor, park, PAY_STAFF, STAFF_ONLY)
    reason = _check_reason(reason)
    month = _frozen_month(record)
    if month is None:
        audit_record(
            actor=actor,
            park=park,
            action="work_record.void",
            obj=record,
            before=_before(record),
            after={"reason": reason},
        )
        record.delete()
        return None
    units, accuracy, voided = record_figures(record)
    if voided:
        raise ValidationError(ALREADY_VOIDED)
    return _book(
        record=record,
        kind=CorrectionKind.VOID,
        units=units,
        accuracy=accuracy,
        new_units=0,
        new_accuracy=accuracy,
        reason=reason,
        actor=actor,
        month=month,
    )


@transaction.atomic
def work_record_correct(
    *,
    record: WorkRecord,
    reason: str,
    actor,
    units: int | None = None,
    accuracy: Decimal | None = None,
) -> list[WorkCorrection]:
    """Correct a record's units and/or accuracy (``None``: unchanged).

    In an open month the record is changed (audited: before → after, with the
    reason) and ``[]`` returned. In a closed month one correction per changed
    figure is booked (R13.5): units first, at the old accuracy, then accuracy,
    at the new units.
    """
    record = WorkRecord.objects.select_related("worker__park").get(pk=record.pk)
    park = record.worker.park
    _require_park_role(actor, park, PAY_STAFF, STAFF_ONLY)
    reason = _check_reason(reason)
    problems = {}
    if units is not None and bounds.units_error(units):
        problems["units"] = bounds.units_error(units)
    if accuracy is not None and not Decimal(0) <= accuracy <= Decimal(100):
        problems["accuracy"] = ACCURACY_RANGE
    if problems:
        raise ValidationError(problems)
    month = _frozen_month(record)
    old_units, old_accuracy, voided = record_figures(record)
    if voided:
        raise ValidationError(ALREADY_VOIDED)
    new_units = old_units if units is None else units
    new_accuracy = old_accuracy if accuracy is None else accuracy
    if (new_units, new_accuracy) == (old_units, old_accuracy):
        raise ValidationError(NOTHING_TO_CORRECT)
    if month is None:
        before = _before(record)
        record.units, record.accuracy = new_units, new_accuracy
        record.full_clean(validate_constraints=False)
        record.save(update_fields=["units", "accuracy"])
        audit_record(
            actor=actor,
            park=park,
            action="work_record.correct",
            obj=record,
            before=before,
            after={"units": new_units, "accuracy": new_accuracy, "reason": reason},
        )
        return []
    made = []
    if new_units != old_units:
        made.append(
            _book(
                record=record,
                kind=CorrectionKind.UNITS,
                units=old_units,
                accuracy=old_accuracy,
                new_units=new_units,
                new_accuracy=old_accuracy,
                reason=reason,
                actor=actor,
                month=month,
            )
        )
    if new_accuracy != old_accuracy:
        made.append(
            _book(
                record=record,
                kind=CorrectionKind.ACCURACY,
                units=new_units,
                accuracy=old_accuracy,
                new_units=new_units,
                new_accuracy=new_accuracy,
                reason=reason,
                actor=actor,
                month=month,
            )
        )
    return made
