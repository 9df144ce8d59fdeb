"""Writes of payroll reference data: projects, tiers, rate cards, work records."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from payroll.bank_layouts import DEFAULT_LAYOUT, LAYOUTS, BankLayout
from payroll.integrations import has_park_role
from payroll.models import (
    ACCURACY_RANGE,
    UNITS_POSITIVE,
    Client,
    ParkPaymentSettings,
    Project,
    QualityTier,
    RateCard,
    TaskType,
    WorkRecord,
)
from workforce import bounds
from workforce.closing import check_open
from workforce.models import Park, PayPolicy, Worker

RATE_CARD_OVERLAP = _(
    "A rate card for this project, task type and skill level is already valid "
    "from %(start)s to %(end)s."
)
DUPLICATE_EXTERNAL_ID = _(
    "A work record from %(source)s with id %(id)s exists already."
)
PROJECT_OTHER_PARK = _("The worker and the project belong to different parks.")

DEFAULT_TIERS = (
    (Decimal("98.00"), Decimal("1.10"), "excellent"),
    (Decimal("95.00"), Decimal("1.00"), "standard"),
    (Decimal("90.00"), Decimal("0.80"), "below_standard"),
    (Decimal("0.00"), Decimal("0.00"), "rejected"),
)


def client_create(*, code: str, name: str) -> Client:
    client = Client(code=code, name=name)
    client.full_clean()
    client.save()
    return client


def task_type_create(*, code: str, name: str, unit: str) -> TaskType:
    task_type = TaskType(code=code, name=name, unit=unit)
    task_type.full_clean()
    task_type.save()
    return task_type


@transaction.atomic
def project_create(
    *, client: Client, park: Park, code: str, name: str, tiers=DEFAULT_TIERS
) -> Project:
    """A project with the quality tiers of R4.2 (policy defaults unless given)."""
    project = Project(client=client, park=park, code=code, name=name)
    project.full_clean()
    project.save()
    for min_accuracy, multiplier, label in tiers:
        tier = QualityTier(
            project=project,
            min_accuracy=min_accuracy,
            multiplier=multiplier,
            label=label,
        )
        tier.full_clean()
        tier.save()
    return project


@transaction.atomic
def rate_card_create(
    *,
    project: Project,
    task_type: TaskType,
    skill_level: str,
    rate: Decimal,
    effective_from: date,
    effective_to: date | None = None,
    actor=None,
) -> RateCard:
    """R3.1: a new price is a new card; cards for one key never overlap.

    An open-ended card that the new one starts after is closed at the new
    card's start, so a price change is one call.
    """
    card = RateCard(
        project=project,
        task_type=task_type,
        skill_level=skill_level,
        rate=rate,
        effective_from=effective_from,
        effective_to=effective_to,
        created_by=actor,
    )
    card.full_clean()
    problems = rate_card_problems(
        project=project, rate=rate, effective_from=effective_from
    )
    if problems:
        raise ValidationError(problems)
    same_key = RateCard.objects.select_for_update().filter(
        project=project, task_type=task_type, skill_level=skill_level
    )
    # Only an open-ended new price closes the open-ended card before it; a card
    # with an end date must fit in a gap, or prices after it would be lost.
    open_before = None
    if effective_to is None:
        open_before = same_key.filter(
            effective_to__isnull=True, effective_from__lt=effective_from
        ).first()
    if open_before is not None:
        open_before.effective_to = effective_from
        open_before.save(update_fields=["effective_to"])
    overlap = same_key.filter(
        Q(effective_to__isnull=True) | Q(effective_to__gt=effective_from)
    )
    if effective_to is not None:
        overlap = overlap.filter(effective_from__lt=effective_to)
    clash = overlap.exclude(pk=getattr(open_before, "pk", None)).first()
    if clash is not None:
        raise ValidationError(
            {
                "effective_from": RATE_CARD_OVERLAP
                % {"start": clash.effective_from, "end": clash.effective_to or "…"}
            }
        )
    card.save()
    audit_record(
        actor=actor,
        park=project.park,
        action="rate_card.create",
        obj=card,
        after={
            "project": project.code,
            "task_type": task_type.code,
            "skill_level": skill_level,
            "rate": rate,
            "effective_from": effective_from,
            "effective_to": effective_to,
        },
    )
    return card


def rate_card_problems(
    *, project: Project, rate: Decimal | None, effective_from: date | None
) -> dict[str, str]:
    """The bounds of a new rate card (``workforce.bounds``): a rate above 0 and
    at most the park's policy maximum, a start from the park's opening to a
    year ahead. The page's form, the API's serializer and
    :func:`rate_card_create` all ask this, so they refuse the same values with
    the same messages."""
    problems = {}
    if rate is not None:
        max_rate = _max_rate(
            project.park, effective_from or bounds.park_today(project.park)
        )
        problem = bounds.rate_error(rate, max_rate)
        if problem:
            problems["rate"] = problem
    if effective_from is not None:
        problem = bounds.effective_from_error(project.park, effective_from)
        if problem:
            problems["effective_from"] = problem
    return problems


def _max_rate(park: Park, day: date) -> Decimal | None:
    """The park's policy maximum of a rate on ``day`` (the latest policy when
    the day is before all of them)."""
    policies = PayPolicy.objects.filter(park=park).order_by("-effective_from")
    policy = policies.filter(effective_from__lte=day).first() or policies.first()
    return policy.max_rate if policy else None


def work_record_create(
    *,
    worker: Worker,
    project: Project,
    task_type: TaskType,
    work_date: date,
    units: int,
    accuracy: Decimal | None,
    source: str,
    external_id: str,
) -> WorkRecord:
    record = WorkRecord(
        worker=worker,
        project=project,
        task_type=task_type,
        work_date=work_date,
        units=units,
        accuracy=accuracy,
        source=source,
        external_id=external_id,
    )
    errors = work_record_errors(
        worker_park_id=worker.park_id,
        project_park_id=project.park_id,
        units=units,
        accuracy=accuracy,
        work_date=work_date,
        park=project.park,
    )
    if errors:
        raise ValidationError(errors)
    record.full_clean(validate_constraints=False)
    if WorkRecord.objects.filter(
        park_id=project.park_id, source=source, external_id=external_id
    ).exists():
        raise ValidationError(
            {
                "external_id": DUPLICATE_EXTERNAL_ID
                % {"source": source, "id": external_id}
            }
        )
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:  # a concurrent import won the race
        raise ValidationError(
            {
                "external_id": DUPLICATE_EXTERNAL_ID
                % {"source": source, "id": external_id}
            }
        ) from exc
    return record


def work_record_errors(
    *,
    worker_park_id: int,
    project_park_id: int,
    units: int | None,
    accuracy: Decimal | None,
    work_date: date | None = None,
    park: Park | None = None,
) -> dict[str, str]:
    """The rules of a work record that need no database (R4.1 and the park
    rule), as ``{field: message}``: shared by :func:`work_record_create` and the
    bulk imports of ``payroll.imports``, which cannot afford a ``full_clean()``
    per row. Values of the wrong type are left to ``full_clean()``."""
    errors = {}
    if worker_park_id != project_park_id:
        errors["project"] = PROJECT_OTHER_PARK
    if isinstance(units, int) and units < 1:
        errors["units"] = UNITS_POSITIVE
    elif bounds.units_error(units):
        errors["units"] = bounds.units_error(units)
    if isinstance(work_date, date) and park is not None:
        problem = bounds.day_error(park, work_date)
        if problem:
            errors["work_date"] = problem
    if isinstance(accuracy, Decimal) and not (
        Decimal("0") <= accuracy <= Decimal("100")
    ):
        errors["accuracy"] = ACCURACY_RANGE
    return errors


@transaction.atomic
def work_record_delete(*, record: WorkRecord, actor) -> None:
    """Remove a work record entered by mistake; never one of a closed month
    (R13.5: a wrong record there is corrected in the next open period)."""
    park = record.worker.park
    check_open(park=park, day=record.work_date, lock=True)
    audit_record(
        actor=actor,
        park=park,
        action="work_record.delete",
        obj=record,
        before={
            "worker": record.worker.employee_no,
            "work_date": record.work_date,
            "units": record.units,
            "accuracy": record.accuracy,
            "external_id": record.external_id,
        },
    )
    record.delete()


BANK_LAYOUT_DIRECTOR_ONLY = _("Only the park's director can choose the bank layout.")
UNKNOWN_BANK_LAYOUT = _("Choose one of the bank file layouts.")


def bank_layout_of(park: Park) -> BankLayout:
    """R17.2: the park's bank batch layout, the standard one unless chosen."""
    code = (
        ParkPaymentSettings.objects.filter(park=park)
        .values_list("bank_layout", flat=True)
        .first()
    )
    return LAYOUTS.get(code or DEFAULT_LAYOUT, LAYOUTS[DEFAULT_LAYOUT])


@transaction.atomic
def bank_layout_set(*, park: Park, layout: str, actor) -> ParkPaymentSettings:
    """The director chooses the park's bank batch layout; audited."""
    if actor is not None and not has_park_role(actor, park.id, {"director"}):
        raise PermissionDenied(BANK_LAYOUT_DIRECTOR_ONLY)
    if layout not in LAYOUTS:
        raise ValidationError({"bank_layout": UNKNOWN_BANK_LAYOUT})
    current, _created = ParkPaymentSettings.objects.select_for_update().get_or_create(
        park=park
    )
    before = current.bank_layout
    current.bank_layout = layout
    current.updated_by = actor if getattr(actor, "pk", None) else None
    current.full_clean()
    current.save()
    if before != layout or _created:
        audit_record(
            actor=actor,
            park=park,
            action="park.bank_layout",
            obj=current,
            before={"bank_layout": before},
            after={"bank_layout": layout},
        )
    return current
